"""The scenario: a typed, validated description of a hospital's secretariats.

A ``Scenario`` is the only input of the model. Field-level rules live here (pydantic);
rules that span fields (a team naming a department that does not exist, a shift outside
opening hours) live in ``consistency.py``; YAML loading and error wording in
``scenario_io.py``. All times are minutes; clock times are 'HH:MM' strings.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from .calendar import WEEKDAYS, parse_clock
from .distributions import Deterministic, Dist, Exponential, coerce_dist
from .lever_specs import Lever

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DistField = Annotated[Dist, BeforeValidator(coerce_dist)]

URGENT_KINDS = ("call", "transferred_call", "walk_in", "doctor_request")
REPORT_KINDS = ("typing", "sending")
ONLINE_CHECK = "online_check"
BUILTIN_KINDS = URGENT_KINDS + REPORT_KINDS + (ONLINE_CHECK,)
AUDIT_CATEGORIES = ("booking", "patient_file", "reception", "doctor_assistance", "other")


class Strict(BaseModel):
    """Base for scenario parts: unknown fields are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def _check_clock(value: str) -> str:
    parse_clock(value)
    return value


def _clock(value) -> str:
    return _check_clock(str(value))


Clock = Annotated[str, BeforeValidator(_clock)]


def _check_range(value: tuple[str, str]) -> tuple[str, str]:
    start, end = parse_clock(value[0]), parse_clock(value[1])
    if end <= start:
        raise ValueError(f"ends ({value[1]}) before it starts ({value[0]}); write [start, end]")
    return value


ClockRange = Annotated[tuple[Clock, Clock], BeforeValidator(lambda v: tuple(v) if isinstance(v, list) else v)]


# ----------------------------------------------------------------------------- calendar
class Calendar(Strict):
    """Horizon, warm-up and opening hours of the phone lines and desks."""

    horizon_days: int = Field(ge=1, description="Calendar days simulated, warm-up included.")
    warmup_days: int = Field(0, ge=0, description="First days excluded from KPIs.")
    start_weekday: Weekday = Field("mon", description="Weekday of day 0.")
    opening_hours: dict[Weekday, ClockRange] = Field(
        default_factory=lambda: {d: ("08:30", "17:00") for d in WEEKDAYS[:5]},
        description="Per weekday [open, close]; days not listed are closed.",
    )
    lunch_closure: ClockRange | None = Field(
        None, description="Lines and desks closed in this window (calls get 'closed')."
    )
    closed_days: list[int] = Field(
        default_factory=list, description="Day numbers (0 = first day) closed, e.g. holidays."
    )

    @field_validator("opening_hours")
    @classmethod
    def _ranges(cls, v):
        for day, rng in v.items():
            try:
                _check_range(rng)
            except ValueError as exc:
                raise ValueError(f"{day}: {exc}") from None
        return v

    @field_validator("lunch_closure")
    @classmethod
    def _lunch(cls, v):
        return None if v is None else _check_range(v)

    @model_validator(mode="after")
    def _warmup(self):
        if self.warmup_days >= self.horizon_days:
            raise ValueError(
                f"warmup_days ({self.warmup_days}) must be smaller than horizon_days "
                f"({self.horizon_days}); lengthen the horizon or shorten the warm-up"
            )
        return self


# ----------------------------------------------------------------------------- arrivals
class ArrivalProfile(Strict):
    """Non-homogeneous Poisson arrivals: a daily volume spread over hours and weekdays.

    rate(weekday, hour) = per_day * weekday_factors[weekday] * hourly_shape[hour] / sum(shape).
    """

    per_day: float = Field(ge=0, description="Mean arrivals on a day with weekday factor 1.")
    hourly_shape: dict[int, float] | None = Field(
        None,
        description="Relative weight per hour of day (0-23), arrivals uniform within each "
        "hour. Default: each hour weighted by its open share (so a few arrivals in a "
        "partly open hour come before opening and meet a closed line).",
    )
    weekday_factors: dict[Weekday, float] | None = Field(
        None, description="Multiplier per weekday. Default: 1 on open weekdays, 0 otherwise."
    )

    @field_validator("hourly_shape")
    @classmethod
    def _shape(cls, v):
        if v is None:
            return v
        for hour, w in v.items():
            if not 0 <= hour <= 23:
                raise ValueError(f"hour {hour} is not between 0 and 23")
            if w < 0:
                raise ValueError(f"weight of hour {hour} is negative ({w}); weights must be >= 0")
        if sum(v.values()) <= 0:
            raise ValueError("all weights are zero; give at least one hour a positive weight")
        return dict(sorted(v.items()))

    @field_validator("weekday_factors")
    @classmethod
    def _factors(cls, v):
        if v is not None and any(f < 0 for f in v.values()):
            raise ValueError("weekday factors must be >= 0")
        return v


class Batch(Strict):
    """Dictations arriving together, e.g. at the end of a clinic session (Poisson count)."""

    at: Clock = Field(description="Clock time the batch arrives.")
    mean_size: float = Field(gt=0, description="Mean number of dictations in the batch.")
    weekdays: list[Weekday] | None = Field(None, description="Default: every open weekday.")


class Redial(Strict):
    """What a caller does after hanging up unanswered (or hitting a closed line)."""

    probability: float = Field(0.0, ge=0, le=1, description="Chance the caller tries again.")
    delay: DistField = Field(default_factory=lambda: Exponential(mean=30.0),
                             description="Minutes before calling again.")
    max_attempts: int = Field(3, ge=1, description="Attempts per caller, the first included.")


class Transfer(Strict):
    """A first-line desk hands a share of the calls it answers to the department."""

    share: float = Field(ge=0, le=1, description="Share of answered calls transferred.")
    handling: DistField = Field(
        default_factory=lambda: Deterministic(value=1.0),
        description="Time the first-line secretary spends before transferring.",
    )
    by_teams: list[str] = Field(min_length=1, description="Teams acting as first line.")


class OnlineBooking(Strict):
    """Part of a stream diverted to online booking, each leaving a short check task."""

    share: float = Field(0.0, ge=0, le=1, description="Share of arrivals booked online instead.")
    averted_share: float = Field(
        0.0, ge=0, le=1, description="Further share that no longer happens (e.g. SMS reminders)."
    )
    check: DistField = Field(
        default_factory=lambda: Deterministic(value=2.0),
        description="Secretary time to check one online booking.",
    )
    check_category: str = Field("booking", description="Audit family of the checks.")

    @model_validator(mode="after")
    def _total(self):
        if self.share + self.averted_share > 1:
            raise ValueError("share + averted_share must not exceed 1")
        return self


class VoiceRecognition(Strict):
    """Voice recognition for the reports of a dictation stream."""

    mode: Literal["none", "back_end", "front_end"] = Field(
        "none", description="back_end: secretary proofreads; front_end: doctor sends.")
    adoption: float = Field(1.0, ge=0, le=1, description="Share of dictations using it.")
    proofreading_factor: float = Field(
        0.5, gt=0, le=1, description="Back-end: proofreading time as a share of typing time."
    )
    validation_factor: float = Field(
        1.0, gt=0, description="Front-end: multiplier on the doctor's validation delay."
    )


# ----------------------------------------------------------------------------- streams
class _Stream(Strict):
    description: str = Field("", description="Free text.")
    audit_category: str = Field(description="Audit family its time counts in (booking...).")


class CallStream(_Stream):
    """Phone calls to a department's line: callers hang up after their patience."""

    type: Literal["call"]
    audit_category: str = Field("reception", description="Audit family of the call time.")
    arrivals: ArrivalProfile = Field(description="When callers first call.")
    service: DistField = Field(description="Minutes on the phone once picked up.")
    patience: DistField | None = Field(None, description="None: callers never hang up.")
    redial: Redial = Field(default_factory=Redial, description="Callback behaviour.")
    online: OnlineBooking | None = Field(None, description="Share booked online instead.")
    transfer: Transfer | None = Field(None, description="First-line desk transfers.")
    answered_by: list[str] | None = Field(
        None, description="If set, only these teams answer these calls first (a booking desk)."
    )


class WalkInStream(_Stream):
    """Patients at the desk; they wait in line (and leave only if a patience is given)."""

    type: Literal["walk_in"]
    audit_category: str = Field("reception", description="Audit family of desk time.")
    arrivals: ArrivalProfile = Field(description="When patients come to the desk.")
    service: DistField = Field(description="Minutes at the desk once served.")
    patience: DistField | None = Field(None, description="None: patients wait until served.")
    online: OnlineBooking | None = Field(None, description="Share booked online instead.")


class DoctorRequestStream(_Stream):
    """Short urgent requests from doctors (a form, a call to make, a file to find)."""

    type: Literal["doctor_request"]
    audit_category: str = Field("doctor_assistance", description="Audit family of this time.")
    arrivals: ArrivalProfile = Field(description="When doctors ask.")
    service: DistField = Field(description="Minutes to handle one request.")


class DictationStream(_Stream):
    """Reports dictated by doctors: typed, validated by the doctor, then sent."""

    type: Literal["dictation"]
    audit_category: str = Field("patient_file", description="Audit family of typing/sending.")
    arrivals: ArrivalProfile | None = Field(None, description="Dictations arriving one by one.")
    batches: list[Batch] = Field(default_factory=list, description="Dictations after sessions.")
    typing: DistField = Field(description="Minutes to type and format one report.")
    typing_session: float | None = Field(
        None, gt=0, description="Longest typing sitting (min): a longer report is typed in "
        "round(typing / this) equal sittings, each a separate deferrable task. None: one.")
    validation_delay: DistField = Field(
        description="Minutes from typed to validated by the doctor (calendar time)."
    )
    sending: DistField = Field(default_factory=lambda: Deterministic(value=3.0),
                               description="Minutes to send it (post, MSSante, DMP).")
    target_days: int = Field(0, ge=0, description="On time if sent within this many days (0 = J0).")
    voice_recognition: VoiceRecognition = Field(default_factory=VoiceRecognition,
                                                description="Recognition mode and adoption.")

    @model_validator(mode="after")
    def _some_arrivals(self):
        if self.arrivals is None and not self.batches:
            raise ValueError("gives neither 'arrivals' nor 'batches'; add one of them")
        return self


class BackOfficeStream(_Stream):
    """Deferrable work: patient files, booking requests by mail, coding, scanning..."""

    type: Literal["back_office"]
    kind: str = Field("patient_file", pattern=r"^[a-z][a-z0-9_]*$",
                      description="Task kind, named in teams' kinds (e.g. booking_request).")
    audit_category: str = Field("patient_file", description="Audit family of this work.")
    arrivals: ArrivalProfile = Field(description="When the work comes in.")
    duration: DistField = Field(description="Minutes of work per task.")

    @field_validator("kind")
    @classmethod
    def _not_builtin(cls, v):
        if v in URGENT_KINDS + REPORT_KINDS + (ONLINE_CHECK,):
            raise ValueError(f"'{v}' is a built-in kind; choose another name for back-office work")
        return v


Stream = Annotated[
    Union[CallStream, WalkInStream, DoctorRequestStream, DictationStream, BackOfficeStream],
    Field(discriminator="type"),
]


class Department(Strict):
    """One secretariat's demand: its arrival streams, keyed by name."""

    description: str = Field("", description="Free text.")
    streams: dict[str, Stream] = Field(min_length=1, description="Arrival streams by name.")


# ----------------------------------------------------------------------------- staff
class Shift(Strict):
    """A working day: start, end and breaks (off the phone and the desk)."""

    start: Clock = Field(description="Arrival time.")
    end: Clock = Field(description="Leaving time.")
    breaks: list[ClockRange] = Field(default_factory=list, description="[start, end] pauses.")

    @model_validator(mode="after")
    def _ordered(self):
        _check_range((self.start, self.end))
        s, e = parse_clock(self.start), parse_clock(self.end)
        for b in self.breaks:
            _check_range(b)
            if parse_clock(b[0]) < s or parse_clock(b[1]) > e:
                raise ValueError(f"break {list(b)} is not inside the shift {self.start}-{self.end}")
        return self


class Secretary(Strict):
    """One secretary (AMA): her shift, working days and home department."""

    shift: str | Shift = Field(description="A name from 'shifts' or an inline shift.")
    days: list[Weekday] | None = Field(None, description="Working weekdays. Default: open days.")
    absence_rate: float = Field(0.0, ge=0, lt=1, description="Daily probability of absence.")
    home_department: str | None = Field(
        None, description="Her specialty; other departments' work pays the team's penalty."
    )


class ServiceRule(Strict):
    """Work a team takes: these departments' tasks of these kinds (and categories)."""

    departments: list[str] | Literal["all"] = Field(description="Departments served, or 'all'.")
    kinds: list[str] | Literal["all"] = Field("all", description="Task kinds served, or 'all'.")
    categories: list[str] | None = Field(
        None, description="If set, only work of these audit categories."
    )
    specialty_penalty: float = Field(
        0.0, ge=0, description="Extra share of handling time for this work outside the home "
        "department (e.g. another department's calls in a phone pool)."
    )


class Team(Strict):
    """Secretaries sharing a set of work: dedicated (one department) or pooled (several)."""

    description: str = Field("", description="Free text.")
    departments: list[str] | Literal["all"] = Field(description="Departments served, or 'all'.")
    kinds: list[str] | Literal["all"] = Field("all", description="Task kinds served, or 'all'.")
    categories: list[str] | None = Field(
        None, description="If set, only work of these audit categories."
    )
    also_serves: list[ServiceRule] = Field(
        default_factory=list,
        description="Further work taken, e.g. other departments' calls in a phone pool.",
    )
    specialty_penalty: float = Field(
        0.0, ge=0, description="Extra share of handling time, outside the home department, "
        "for the work of the rule above (also_serves rules carry their own)."
    )
    secretaries: dict[str, Secretary] = Field(min_length=1, description="Members by name.")


class InterruptionPolicy(Strict):
    """Which work interrupts which, and what an interruption costs."""

    enabled: bool = Field(True, description="Urgent work preempts deferrable work.")
    urgent_order: list[Literal["call", "transferred_call", "walk_in", "doctor_request"]] = Field(
        default_factory=lambda: ["walk_in", "doctor_request", "transferred_call", "call"],
        description="Priority among waiting urgent work, first = served first.",
    )
    deferrable_first: list[str] = Field(
        default_factory=lambda: ["sending"],
        description="Deferrable kinds taken before others; the rest oldest first.",
    )
    resumption_cost: DistField = Field(
        default_factory=lambda: Exponential(mean=1.0),
        description="Extra minutes to get back into an interrupted task.",
    )
    idle_colleague_answers: bool = Field(
        True, description="An idle colleague takes urgent work before anyone is interrupted."
    )

    @field_validator("urgent_order")
    @classmethod
    def _complete(cls, v):
        missing = [k for k in URGENT_KINDS if k not in v]
        if missing or len(set(v)) != len(v):
            raise ValueError(f"must list each of {list(URGENT_KINDS)} once (missing: {missing})")
        return v


class KpiSettings(Strict):
    """Thresholds used by the KPIs."""

    service_level_seconds: float = Field(60.0, gt=0, description="Answered within this = in SL.")


# ----------------------------------------------------------------------------- scenario
class Scenario(Strict):
    """A whole hospital group's secretariats: calendar, demand, staff and policies."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$",
                      description="Identifier used in outputs (letters, digits, _ . -).")
    description: str = Field("", description="What this scenario represents, its sources.")
    calendar: Calendar = Field(description="Horizon and opening hours.")
    departments: dict[str, Department] = Field(min_length=1, description="Secretariats' demand.")
    shifts: dict[str, Shift] = Field(default_factory=dict, description="Named shift templates.")
    teams: dict[str, Team] = Field(min_length=1, description="Who serves what.")
    interruptions: InterruptionPolicy = Field(default_factory=InterruptionPolicy,
                                              description="Preemption rules and costs.")
    kpis: KpiSettings = Field(default_factory=KpiSettings, description="KPI thresholds.")
    levers: list[Lever] = Field(
        default_factory=list, description="Reorganisations to apply, in order (see levers)."
    )
    applied_levers: list[Lever] = Field(
        default_factory=list,
        description="Levers already applied to this (resolved) scenario; kept as a record.",
    )

    def shift_of(self, secretary: Secretary) -> Shift:
        """The secretary's shift, resolving a named shift."""
        return self.shifts[secretary.shift] if isinstance(secretary.shift, str) else secretary.shift

    def all_kinds(self) -> list[str]:
        """Every task kind this scenario can generate or name."""
        kinds = list(BUILTIN_KINDS)
        for dept in self.departments.values():
            for s in dept.streams.values():
                if isinstance(s, BackOfficeStream) and s.kind not in kinds:
                    kinds.append(s.kind)
        return kinds

    def secretaries(self) -> list[tuple[str, str, Secretary]]:
        """(team, name, secretary) for every secretary, in file order."""
        return [(t, n, s) for t, team in self.teams.items() for n, s in team.secretaries.items()]
