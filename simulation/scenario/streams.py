"""Demand models: arrival profiles and the five kinds of stream a department can have.

Calls, walk-ins and doctors' requests are urgent; dictations (typing, sending) and
back-office work are deferrable. All durations are minutes.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

import numpy as np
from pydantic import Field, field_validator, model_validator

from simulation.scenario.calendar import WEEKDAYS
from simulation.scenario.distributions import Deterministic, Exponential
from simulation.scenario.fields import (
    ONLINE_CHECK,
    REPORT_KINDS,
    URGENT_KINDS,
    Attempts,
    BatchSize,
    Clock,
    DelayDist,
    Factor,
    PerDay,
    Probability,
    SafeName,
    SessionMinutes,
    Strict,
    TargetDays,
    TaskDist,
    Weekday,
    WeekdayFactor,
    Weight,
)


class ArrivalProfile(Strict):
    """Non-homogeneous Poisson arrivals: a daily volume spread over hours and weekdays.

    rate(weekday, hour) = per_day * weekday_factors[weekday] * hourly_shape[hour] / sum(shape).
    """

    per_day: PerDay = Field(description="Mean arrivals on a day with weekday factor 1.")
    hourly_shape: dict[int, Weight] | None = Field(
        None,
        description="Relative weight per hour of day (0-23), arrivals uniform within each "
        "hour. Default: each hour weighted by its open share (so a few arrivals in a "
        "partly open hour come before opening and meet a closed line).",
    )
    weekday_factors: dict[Weekday, WeekdayFactor] | None = Field(
        None, description="Multiplier per weekday. Default: 1 on open weekdays, 0 otherwise."
    )

    @field_validator("hourly_shape")
    @classmethod
    def _shape(cls, v):
        if v is None:
            return v
        for hour in v:
            if not 0 <= hour <= 23:
                raise ValueError(f"hour {hour} is not between 0 and 23")
        if sum(v.values()) <= 0:
            raise ValueError("all weights are zero; give at least one hour a positive weight")
        return dict(sorted(v.items()))



def hourly_rates(profile: ArrivalProfile) -> np.ndarray:
    """7 x 24 array of mean arrivals per hour (weekday-major, Monday first): the rates the
    engine draws from, and the expected volumes checked before a run."""
    shape = np.zeros(24)
    for hour, weight in (profile.hourly_shape or {}).items():
        shape[hour] = weight
    total = shape.sum()
    if total <= 0:
        return np.zeros((7, 24))
    factors = np.array([(profile.weekday_factors or {}).get(d, 0.0) for d in WEEKDAYS])
    return profile.per_day * factors[:, None] * (shape / total)[None, :]


class Batch(Strict):
    """Dictations arriving together, e.g. at the end of a clinic session (Poisson count)."""

    at: Clock = Field(description="Clock time the batch arrives.")
    mean_size: BatchSize = Field(description="Mean number of dictations in the batch.")
    weekdays: list[Weekday] | None = Field(None, description="Default: every open weekday.")


class Redial(Strict):
    """What a caller does after hanging up unanswered (or hitting a closed line)."""

    probability: Probability = Field(0.0, description="Chance the caller tries again.")
    delay: DelayDist = Field(default_factory=lambda: Exponential(mean=30.0),
                             description="Minutes before calling again.")
    max_attempts: Attempts = Field(3, description="Attempts per caller, the first included.")


class Transfer(Strict):
    """A first-line desk hands a share of the calls it answers to the department."""

    share: Probability = Field(description="Share of answered calls transferred.")
    handling: TaskDist = Field(
        default_factory=lambda: Deterministic(value=1.0),
        description="Time the first-line secretary spends before transferring.",
    )
    by_teams: list[SafeName] = Field(min_length=1, description="Teams acting as first line.")


class OnlineBooking(Strict):
    """Part of a stream diverted to online booking, each leaving a short check task."""

    share: Probability = Field(0.0, description="Share of arrivals booked online instead.")
    averted_share: Probability = Field(
        0.0, description="Further share that no longer happens (e.g. SMS reminders)."
    )
    check: TaskDist = Field(
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
        "none", description="back_end: secretary proofreads a draft; front_end: the doctor "
        "corrects his own draft (with doctors declared, at the cost of doctors.front_end "
        "minutes, and a secretary sends it; without, he also sends it).")
    adoption: Probability = Field(1.0, description="Share of dictations using it.")
    proofreading_factor: Probability = Field(
        0.5, gt=0, description="Back-end: proofreading time as a share of typing time."
    )
    validation_factor: Factor = Field(
        1.0, description="Front-end, sign-off as a pure delay: multiplier on the "
        "validation delay."
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
    service: TaskDist = Field(description="Minutes on the phone once picked up.")
    patience: TaskDist | None = Field(None, description="None: callers never hang up.")
    redial: Redial = Field(default_factory=Redial, description="Callback behaviour.")
    online: OnlineBooking | None = Field(None, description="Share booked online instead.")
    transfer: Transfer | None = Field(None, description="First-line desk transfers.")
    answered_by: list[SafeName] | None = Field(
        None, description="If set, only these teams answer these calls first (a booking desk)."
    )


class WalkInStream(_Stream):
    """Patients at the desk; they wait in line (and leave only if a patience is given)."""

    type: Literal["walk_in"]
    audit_category: str = Field("reception", description="Audit family of desk time.")
    arrivals: ArrivalProfile = Field(description="When patients come to the desk.")
    service: TaskDist = Field(description="Minutes at the desk once served.")
    patience: TaskDist | None = Field(None, description="None: patients wait until served.")
    online: OnlineBooking | None = Field(None, description="Share booked online instead.")


class DoctorRequestStream(_Stream):
    """Short urgent requests from doctors (a form, a call to make, a file to find)."""

    type: Literal["doctor_request"]
    audit_category: str = Field("doctor_assistance", description="Audit family of this time.")
    arrivals: ArrivalProfile = Field(description="When doctors ask.")
    service: TaskDist = Field(description="Minutes to handle one request.")


class DictationStream(_Stream):
    """Reports dictated by doctors: typed, validated by the doctor, then sent."""

    type: Literal["dictation"]
    audit_category: str = Field("patient_file", description="Audit family of typing/sending.")
    arrivals: ArrivalProfile | None = Field(None, description="Dictations arriving one by one.")
    batches: list[Batch] = Field(default_factory=list, description="Dictations after sessions.")
    typing: TaskDist = Field(description="Minutes to type and format one report.")
    typing_session: SessionMinutes | None = Field(
        None, description="Longest typing sitting (min): a longer report is typed in "
        "round(typing / this) equal sittings (at most 100), each a separate deferrable task. "
        "None: one.")
    validation_delay: DelayDist | None = Field(
        None, description="Without doctors declared on the department: minutes from typed "
        "to signed, a pure delay with no capacity. Ignored when the department has doctors.")
    sending: TaskDist = Field(default_factory=lambda: Deterministic(value=3.0),
                               description="Minutes to send it (post, MSSante, DMP).")
    target_days: TargetDays = Field(0, description="On time if sent within this many days (0 = J0).")
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
    duration: TaskDist = Field(description="Minutes of work per task.")

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
