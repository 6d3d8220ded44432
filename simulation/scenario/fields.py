"""Building blocks of the scenario models: strict base, clock and duration fields, kinds.

Shared by scenario.py (the whole file) and streams.py (the demand), so that both read the
same rules for 'HH:MM' times, durations and the built-in kinds of work.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from simulation.scenario.bounds import (  # noqa: F401 - re-exported: the field types in one place
    DELAY,
    TASK,
    Attempts,
    BatchSize,
    Bound,
    DailyRate,
    DayNumber,
    Days,
    DoctorCount,
    Factor,
    Headcount,
    HorizonDays,
    LeaveWeeks,
    Minutes,
    Penalty,
    PerDay,
    PerWeek,
    Probability,
    SafeName,
    Seconds,
    SessionMinutes,
    SittingMinutes,
    TargetDays,
    TeamSize,
    WeekdayFactor,
    Weight,
)
from simulation.scenario.calendar import parse_clock
from simulation.scenario.distributions import Dist, coerce_dist, largest_typical

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DistField = Annotated[Dist, BeforeValidator(coerce_dist)]


def _at_most(bound: Bound, what: str):
    def check(dist):
        value = largest_typical(dist)
        if value > bound.high:
            raise ValueError(f"{what} of {value:g} min is more than {bound.high:g} min "
                             f"({bound.why}); check the unit (minutes) and shorten it")
        return dist
    return check


# A piece of work (call, visit, task, doctor time, patience) lasts at most a day; a delay
# (redial, sign-off) at most a year. The bound applies to the mean, or to the upper end
# of a bounded distribution.
TaskDist = Annotated[Dist, BeforeValidator(coerce_dist),
                     AfterValidator(_at_most(TASK, "a work duration"))]
DelayDist = Annotated[Dist, BeforeValidator(coerce_dist),
                      AfterValidator(_at_most(DELAY, "a delay"))]

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

