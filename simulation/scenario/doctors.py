"""Doctors who sign a department's reports: how many, when they sit, what a report costs them.

Declaring ``doctors`` on a department turns its reports' sign-off from a pure delay
(``validation_delay``, no capacity) into a queue served in sittings of limited time. The
figures that motivate it are in docs/model.md ("Doctors' sign-off").
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from simulation.scenario.bounds import DOCTORS
from simulation.scenario.calendar import WEEKDAYS, parse_clock
from simulation.scenario.distributions import Deterministic
from simulation.scenario.fields import (
    Clock,
    DailyRate,
    DayNumber,
    DoctorCount,
    LeaveWeeks,
    PerWeek,
    Probability,
    SafeName,
    SittingMinutes,
    Strict,
    TaskDist,
    Weekday,
)

MAX_DOCTORS = int(DOCTORS.high)  # per department: a whole hospital's medical staff is below this
DAY_MINUTES = 24 * 60


class Sitting(Strict):
    """A sign-off sitting: on these weekdays, at this time, for this many minutes."""

    days: list[Weekday] | None = Field(
        None, min_length=1, description="Weekdays of the sitting. Default: every day lines "
        "are open (or spread over them with per_week).")
    per_week: PerWeek | None = Field(
        None, description="Instead of days: this many sittings a week, spread "
        "evenly over the days lines are open.")
    start: Clock = Field("17:00", description="Clock time the sitting starts.")
    minutes: SittingMinutes = Field(
                           description="Minutes available for reports in the sitting.")

    @field_validator("days")
    @classmethod
    def _unique_days(cls, v):
        if v is not None and len(set(v)) != len(v):
            raise ValueError("lists a weekday twice; give each day once (or a longer sitting)")
        return v

    @model_validator(mode="after")
    def _within_day(self):
        if self.days is not None and self.per_week is not None:
            raise ValueError("gives both 'days' and 'per_week'; keep one of them")
        if parse_clock(self.start) + self.minutes > DAY_MINUTES:
            raise ValueError(f"starts at {self.start} and lasts {self.minutes:g} min, past "
                             "midnight; start earlier or shorten it")
        return self

    def weekdays(self, open_weekdays: list[str]) -> list[int]:
        """Weekday numbers (0 = Monday) of this sitting, given the open weekdays."""
        if self.days is not None:
            return sorted(WEEKDAYS.index(d) for d in self.days)
        days = sorted(WEEKDAYS.index(d) for d in open_weekdays) or list(range(5))
        if self.per_week is None:
            return days
        n = min(self.per_week, len(days))
        return sorted({days[(k * len(days)) // n] for k in range(n)})


class FrontEndCost(Strict):
    """What front-end voice recognition costs the doctor: he corrects his own draft."""

    extra_minutes: TaskDist = Field(
        default_factory=lambda: Deterministic(value=2.0),
        description="Doctor minutes per report to correct the recognised draft (Trumm 2006: "
        "+41% of doctor time per word; Borowitz: +16% per document).")
    when: Literal["next_sitting", "at_dictation"] = Field(
        "next_sitting", description="Corrected in his next sign-off sitting (uses its time) "
        "or right after dictating (outside sittings).")


class Rework(Strict):
    """A share of signed-off drafts goes back to the secretary once for corrections."""

    share: Probability = Field(0.0,
                         description="Share of reports sent back once.")
    typing: TaskDist = Field(default_factory=lambda: Deterministic(value=5.0),
                              description="Secretary minutes to make the corrections.")


class Doctors(Strict):
    """The doctors who sign a department's reports, and their sign-off pattern."""

    count: DoctorCount | None = Field(None,
                              description="Number of doctors (named <department>_dr1, ...).")
    names: list[SafeName] | None = Field(None, min_length=1, max_length=MAX_DOCTORS,
                                    description="Named doctors instead of a count.")
    sittings: list[Sitting] = Field(min_length=1, description="Each doctor's sign-off sittings.")
    time_per_report: TaskDist = Field(
        description="Doctor minutes to read, correct and sign one report.")
    queue: Literal["own", "department"] = Field(
        "own", description="own: a doctor signs the reports he dictated; department: any "
        "doctor signs any report of the department.")
    order: Literal["fifo", "oldest_first"] = Field(
        "fifo", description="fifo: in the order reports reach the sign-off queue; "
        "oldest_first: by dictation time (matters with rework).")
    front_end: FrontEndCost = Field(default_factory=FrontEndCost,
                                    description="Extra doctor time with front-end recognition.")
    rework: Rework = Field(default_factory=Rework, description="Drafts sent back for corrections.")
    absence_rate: DailyRate = Field(0.0,
                                description="Daily probability that a doctor misses his sittings.")
    leave_weeks: LeaveWeeks = Field(0.0, description="Weeks a year each doctor is away in whole weeks "
                               "(holidays, conferences), drawn week by week.")
    away: dict[str, list[DayNumber]] = Field(
        default_factory=dict, description="Per doctor, day numbers away (holidays, "
        "conferences): no sitting those days.")

    @field_validator("names")
    @classmethod
    def _unique(cls, v):
        if v is not None and len(set(v)) != len(v):
            raise ValueError("names must be unique")
        return v

    @model_validator(mode="after")
    def _who(self):
        if (self.count is None) == (self.names is None):
            raise ValueError("give either 'count' or 'names' (not both, not neither)")
        return self

    def doctor_names(self, department: str) -> list[str]:
        """Every doctor's name, in order."""
        if self.names is not None:
            return list(self.names)
        return [f"{department}_dr{k + 1}" for k in range(self.count or 0)]
