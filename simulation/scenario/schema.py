"""The scenario: a typed, validated description of a hospital's secretariats.

A ``Scenario`` is the only input of the model. Field-level rules live here (pydantic);
rules that span fields (a team naming a department that does not exist, a shift outside
opening hours) live in ``consistency.py``; YAML loading and error wording in
``scenario.io``. All times are minutes; clock times are 'HH:MM' strings.
"""

from __future__ import annotations

import math
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from simulation.scenario.bounds import HEADCOUNT, name_problem
from simulation.scenario.calendar import WEEKDAYS, parse_clock
from simulation.scenario.distributions import Exponential
from simulation.scenario.doctors import Doctors
from simulation.scenario.fields import (  # noqa: F401 - re-exported: the scenario's vocabulary in one place
    AUDIT_CATEGORIES,
    BUILTIN_KINDS,
    ONLINE_CHECK,
    REPORT_KINDS,
    URGENT_KINDS,
    Clock,
    ClockRange,
    DailyRate,
    DayNumber,
    Days,
    DistField,
    HorizonDays,
    Penalty,
    SafeName,
    Seconds,
    Strict,
    TaskDist,
    TeamSize,
    Weekday,
    _check_range,
    _clock,
)
from simulation.scenario.lever_specs import Lever
from simulation.scenario.streams import (  # noqa: F401 - re-exported for users of simulation.scenario
    ArrivalProfile,
    BackOfficeStream,
    Batch,
    CallStream,
    DictationStream,
    DoctorRequestStream,
    OnlineBooking,
    Redial,
    Stream,
    Transfer,
    VoiceRecognition,
    WalkInStream,
)


class Calendar(Strict):
    """Horizon, warm-up and opening hours of the phone lines and desks."""

    horizon_days: HorizonDays = Field(description="Calendar days simulated, warm-up included.")
    warmup_days: Days = Field(0, description="First days excluded from KPIs.")
    start_weekday: Weekday = Field("mon", description="Weekday of day 0.")
    opening_hours: dict[Weekday, ClockRange] = Field(
        default_factory=lambda: {d: ("08:30", "17:00") for d in WEEKDAYS[:5]},
        description="Per weekday [open, close]; days not listed are closed.",
    )
    lunch_closure: ClockRange | None = Field(
        None, description="Lines and desks closed in this window (calls get 'closed')."
    )
    closed_days: list[DayNumber] = Field(
        default_factory=list, description="Day numbers (0 = first day) closed, e.g. holidays."
    )
    follow_up_days: Days = Field(
        60,
        description="After the horizon the model keeps running (arrivals and staff go on) "
        "until every report and deferrable task that arrived in the measured window is "
        "finished, for at most this many days; delays are then never cut at the horizon. "
        "0: stop at the horizon (delays of unfinished work are censored).")

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


class Department(Strict):
    """One secretariat's demand: its arrival streams, keyed by name."""

    description: str = Field("", description="Free text.")
    streams: dict[SafeName, Stream] = Field(min_length=1, description="Arrival streams by name.")
    doctors: Doctors | None = Field(
        None, description="Doctors who sign the reports, in sittings of limited time. None: "
        "sign-off is a pure delay (each dictation stream's validation_delay), no capacity.")


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
    absence_rate: DailyRate = Field(0.0, description="Daily probability of absence.")
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
    specialty_penalty: Penalty = Field(
        0.0, description="Extra share of handling time for this work outside the home "
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
    specialty_penalty: Penalty = Field(
        0.0, description="Extra share of handling time, outside the home department, "
        "for the work of the rule above (also_serves rules carry their own)."
    )
    secretaries: dict[SafeName, Secretary] = Field(
        default_factory=dict, max_length=int(HEADCOUNT.high),
        description="Members by name. With `size`, the first ones are kept and the team is "
        "completed with copies of them in turn (or trimmed) to `size`.")
    size: TeamSize | None = Field(
        None, description="Staffing as a number of full-time equivalents (FTE): the team gets "
        "ceil(size) secretaries, the last one part-time when size has a fraction (0.5 = "
        "half her working days rounded to whole days, the first days of her week; a "
        "fraction under half a day adds nobody, except to a team that would be empty). Members are the named `secretaries` in order, then copies of them in turn "
        "named '<team>_<n>'; with no named member, copies of the template below. The "
        "resolved scenario lists the secretaries by name.")
    shift: str | Shift | list[str | Shift] | None = Field(
        None, description="With `size` and no named secretaries: the members' shift (a name "
        "from 'shifts' or inline), or a list of shifts given to the members in turn.")
    days: list[Weekday] | None = Field(
        None, description="With `size` and no named secretaries: their working weekdays "
        "(default: open days).")
    absence_rate: DailyRate | None = Field(
        None, description="With `size` and no named secretaries: their daily probability of "
        "absence (default 0).")

    @model_validator(mode="after")
    def _members(self):
        template = [f for f in ("shift", "days", "absence_rate") if getattr(self, f) is not None]
        if self.size is None:
            if template:
                raise ValueError(f"'{template[0]}' on a team is the template of the secretaries "
                                 "made by 'size'; give 'size' too, or set it on each secretary")
            if not self.secretaries:
                raise ValueError("the team has no secretaries; list them under 'secretaries' "
                                 "or give the team a 'size' (FTE) and a 'shift'")
        elif self.secretaries and template:
            raise ValueError(f"'{template[0]}' on the team is only for a team without named "
                             "secretaries (with named ones, 'size' copies them); remove one")
        elif not self.secretaries and self.shift is None:
            raise ValueError("a team with a 'size' and no named secretaries needs a 'shift' "
                             "(a name from 'shifts', an inline shift or a list of them)")
        return self


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
    resumption_cost: TaskDist = Field(
        default_factory=lambda: Exponential(mean=1.0),
        description="Extra minutes to get back into a paused task (interrupted, or put back "
        "at the end of an on-duty period); one draw per pause, not stretched by penalties.",
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

    service_level_seconds: Seconds = Field(60.0, description="Answered within this = in SL.")


# ----------------------------------------------------------------------------- scenario
SCENARIO_NAME = r"^[A-Za-z0-9_.\-]+$"


class Scenario(Strict):
    """A whole hospital group's secretariats: calendar, demand, staff and policies."""

    name: str = Field(pattern=SCENARIO_NAME,
                      description="Identifier used in outputs (letters, digits, _ . -), the "
                      "name of its output folder: no leading dot, not '.' or '..'.")
    description: str = Field("", description="What this scenario represents, its sources.")
    calendar: Calendar = Field(description="Horizon and opening hours.")
    departments: dict[SafeName, Department] = Field(min_length=1, description="Secretariats' demand.")
    shifts: dict[SafeName, Shift] = Field(default_factory=dict, description="Named shift templates.")
    teams: dict[SafeName, Team] = Field(min_length=1, description="Who serves what.")
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

    @model_validator(mode="after")
    def _expand_sizes(self):
        """Teams given a ``size`` get their named secretaries (the resolved form)."""
        open_days = [d for d in WEEKDAYS if d in self.calendar.opening_hours]
        for name, team in list(self.teams.items()):
            if team.size is not None:
                self.teams[name] = team.model_copy(update={
                    "secretaries": sized_members(name, team, open_days), "size": None,
                    "shift": None, "days": None, "absence_rate": None})
        return self

    @field_validator("name", mode="before")
    @classmethod
    def _safe_name(cls, v):
        if isinstance(v, str):
            problem = name_problem(v) or (None if re.match(SCENARIO_NAME, v) else
                                          "has characters other than letters, digits, _ . -")
            if problem:
                raise ValueError(f"the scenario name {v!r} {problem}; it names the output "
                                 "folder, so use letters, digits, '_', '-' and inner dots "
                                 "(e.g. 'pooled_phones')")
        return v

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


def sized_members(team_name: str, team: Team, open_days: list[str]) -> dict[str, Secretary]:
    """The secretaries of a team given a ``size`` in FTE (see ``Team.size``).

    The named members come first, in order; then copies of them in turn (or of the team's
    template) named '<team>_<n>'. A fractional size makes the last member part-time: she
    works round(fraction x her days) of them, the first in week order (none: she is left
    out, unless the team would be empty).
    """
    if team.secretaries:
        templates = list(team.secretaries.values())
    else:
        shifts = team.shift if isinstance(team.shift, list) else [team.shift]
        templates = [Secretary(shift=s, days=team.days, absence_rate=team.absence_rate or 0.0)
                     for s in shifts]
    size = float(team.size)
    count = math.ceil(size - 1e-9)
    named = list(team.secretaries.items())
    out: dict[str, Secretary] = {}
    for i in range(count):
        if i < len(named):
            name, sec = named[i]
        else:
            sec, n = templates[i % len(templates)], i + 1
            name = f"{team_name}_{n}"
            while name in team.secretaries or name in out:
                n += 1
                name = f"{team_name}_{n}"
        fraction = size - i
        if fraction < 1:
            days = sec.days if sec.days is not None else open_days
            keep = math.floor(fraction * len(days) + 0.5)
            if keep == 0 and out:
                break  # less than half a working day: nobody more
            sec = sec.model_copy(update={"days": [d for d in WEEKDAYS if d in days][:max(1, keep)]})
        out[name] = sec
    return out
