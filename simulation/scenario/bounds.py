"""Numeric and name field types with the bounds a hospital could never exceed (one place).

Every number of a scenario file goes through one of these types: it must be a finite
number (not NaN or infinity, not true/false), a whole number where a count is meant, and
inside a physically meaningful range, so a typo is an error naming the field, not a crash
or a run that never ends. Names become file and folder names (outputs/<scenario>/...),
so they must be safe path components. The table in ``BOUNDS_TABLE`` is what
docs/scenario.md shows.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

DAY_MINUTES = 24 * 60
YEAR_MINUTES = 365 * DAY_MINUTES
MAX_DAYS = 3650  # ten years of simulated calendar
MAX_PER_DAY = 100_000  # arrivals a day in one stream: AP-HP's whole switchboard takes ~80,000


@dataclass(frozen=True)
class Bound:
    """A quantity's range, unit and the reason for its limit (shown in errors and docs)."""

    low: float
    high: float
    unit: str
    why: str
    low_open: bool = False
    high_open: bool = False
    integer: bool = False

    def _range(self) -> str:
        lo = f"above {self.low:g}" if self.low_open else f"from {self.low:g}"
        hi = f"below {self.high:g}" if self.high_open else f"to {self.high:g}"
        return f"{lo} {hi}"

    def check(self, value: Any) -> Any:
        """The value if it fits, else a ValueError that says what fits and why."""
        kind = "a whole number" if self.integer else "a number"
        fix = f"give {kind} {self._range()} {self.unit}".rstrip()
        if isinstance(value, bool) or value is None:
            raise ValueError(f"must be {kind} (got {value!r}); {fix}")
        if isinstance(value, str):
            try:
                value = int(value) if self.integer and value.strip().isdigit() else float(value)
            except ValueError:
                raise ValueError(f"must be {kind} (got {value!r}); {fix}") from None
        if not isinstance(value, (int, float)):
            return value  # a list, a mapping...: pydantic's own type error names it
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"must be a finite number (got {value!r}); {fix}")
        if self.integer and isinstance(value, float):
            if not value.is_integer():
                raise ValueError(f"must be a whole number (got {value!r}); {fix}")
        if value <= self.low if self.low_open else value < self.low:
            op = ">" if self.low_open else ">="
            raise ValueError(f"must be {op} {self.low:g} (got {value!r}); {fix}")
        if value >= self.high if self.high_open else value > self.high:
            op = "<" if self.high_open else "<="
            raise ValueError(f"must be {op} {self.high:g} {self.unit} (got {value!r}): "
                             f"{self.why}; {fix}".replace("  ", " "))
        return int(value) if self.integer else value

    def field(self) -> Any:
        """The ``Field`` constraints of this bound (they show in the JSON Schema)."""
        lo = {"gt" if self.low_open else "ge": int(self.low) if self.integer else self.low}
        hi = {"lt" if self.high_open else "le": int(self.high) if self.integer else self.high}
        extra = {} if self.integer else {"allow_inf_nan": False}
        return Field(**lo, **hi, **extra)


def _typed(py_type: type, bound: Bound) -> Any:
    return Annotated[py_type, bound.field(), BeforeValidator(bound.check)]


# name -> (bound, type): what BOUNDS_TABLE documents, in this order.
PER_DAY = Bound(0, MAX_PER_DAY, "arrivals a day",
                "AP-HP's whole switchboard takes about 80,000 calls a day")
BATCH = Bound(0, 1000, "dictations", "no clinic session leaves more", low_open=True)
DURATION = Bound(0, YEAR_MINUTES, "minutes", "one year: any duration parameter")
TASK = Bound(0, DAY_MINUTES, "minutes", "no single call, visit or task lasts a whole day")
DELAY = Bound(0, YEAR_MINUTES, "minutes", "a delay of more than a year is not a delay")
CV = Bound(0.001, 10, "", "a coefficient of variation beyond 10 is not a task time")
PROBABILITY = Bound(0, 1, "", "a probability or share")
DAILY_RATE = Bound(0, 1, "", "a daily probability; 1 would mean never there",
                   high_open=True)
WEIGHT = Bound(0, 1_000_000, "", "relative weights; only their ratios matter")
WEEKDAY_FACTOR = Bound(0, 100, "", "a multiplier of the daily volume")
FACTOR = Bound(0, 100, "", "a multiplier of a time", low_open=True)
PENALTY = Bound(0, 10, "", "extra share of handling time: 10 = eleven times as long")
HORIZON = Bound(1, MAX_DAYS, "days", "more than ten years is a typo", integer=True)
DAYS = Bound(0, MAX_DAYS, "days", "more than ten years is a typo", integer=True)
DAY_NUMBER = Bound(0, 2 * MAX_DAYS, "", "a day of the horizon or its follow-up",
                   integer=True)
TARGET_DAYS = Bound(0, 365, "days", "a report target beyond a year is no target",
                    integer=True)
ATTEMPTS = Bound(1, 20, "attempts", "nobody redials twenty times", integer=True)
HEADCOUNT = Bound(0, 1000, "secretaries", "a hospital group has about 150 AMA FTE",
                  integer=True)
TEAM_SIZE = Bound(0, 1000, "FTE", "a hospital group has about 150 AMA FTE", low_open=True)
SESSION = Bound(0, DAY_MINUTES, "minutes", "a sitting fits in a day; a report is typed in "
                "at most 100 sittings however short", low_open=True)
SECONDS = Bound(0, 86_400, "seconds", "one day", low_open=True)
DOCTORS = Bound(1, 500, "doctors", "a whole hospital's medical staff is below this",
                integer=True)
PER_WEEK = Bound(1, 7, "sittings a week", "one a day at most", integer=True)
SITTING = Bound(0, DAY_MINUTES, "minutes", "a sitting fits in a day", low_open=True)
LEAVE_WEEKS = Bound(0, 52, "weeks a year", "a year has 52 weeks", high_open=True)

PerDay = _typed(float, PER_DAY)
BatchSize = _typed(float, BATCH)
Minutes = _typed(float, DURATION)
Cv = _typed(float, CV)
Probability = _typed(float, PROBABILITY)
DailyRate = _typed(float, DAILY_RATE)
Weight = _typed(float, WEIGHT)
WeekdayFactor = _typed(float, WEEKDAY_FACTOR)
Factor = _typed(float, FACTOR)
Penalty = _typed(float, PENALTY)
HorizonDays = _typed(int, HORIZON)
Days = _typed(int, DAYS)
DayNumber = _typed(int, DAY_NUMBER)
TargetDays = _typed(int, TARGET_DAYS)
Attempts = _typed(int, ATTEMPTS)
Headcount = _typed(int, HEADCOUNT)
TeamSize = _typed(float, TEAM_SIZE)
SessionMinutes = _typed(float, SESSION)
Seconds = _typed(float, SECONDS)
DoctorCount = _typed(int, DOCTORS)
PerWeek = _typed(int, PER_WEEK)
SittingMinutes = _typed(float, SITTING)
LeaveWeeks = _typed(float, LEAVE_WEEKS)

BOUNDS_TABLE: list[tuple[str, Bound, str]] = [
    ("arrivals a day (`per_day`)", PER_DAY, "PerDay"),
    ("dictations in a batch (`mean_size`)", BATCH, "BatchSize"),
    ("work durations: service, typing, sending, tasks, patience, doctor time "
     "(mean, and largest value when bounded)", TASK, "task distributions"),
    ("delays: redial delay, validation delay", DELAY, "delay distributions"),
    ("any distribution parameter (mean, low, mode, high, value, values)", DURATION,
     "Minutes"),
    ("coefficient of variation (`cv`)", CV, "Cv"),
    ("probabilities and shares", PROBABILITY, "Probability"),
    ("daily absence probabilities", DAILY_RATE, "DailyRate"),
    ("hourly shape weights, empirical weights", WEIGHT, "Weight"),
    ("weekday factors", WEEKDAY_FACTOR, "WeekdayFactor"),
    ("time multipliers (validation, complex-call factors)", FACTOR, "Factor"),
    ("specialty penalties", PENALTY, "Penalty"),
    ("horizon", HORIZON, "HorizonDays"),
    ("warm-up, follow-up", DAYS, "Days"),
    ("day numbers (closed days, doctors away)", DAY_NUMBER, "DayNumber"),
    ("report target", TARGET_DAYS, "TargetDays"),
    ("call attempts (`max_attempts`)", ATTEMPTS, "Attempts"),
    ("secretaries in a team or moved/hired by a lever", HEADCOUNT, "Headcount"),
    ("a team's size in FTE (`size`; 2.5 = two full-time and one half-time)", TEAM_SIZE,
     "TeamSize"),
    ("typing sitting (`typing_session`)", SESSION, "SessionMinutes"),
    ("service-level threshold", SECONDS, "Seconds"),
    ("doctors of a department", DOCTORS, "DoctorCount"),
    ("sign-off sittings a week", PER_WEEK, "PerWeek"),
    ("minutes of a sign-off sitting", SITTING, "SittingMinutes"),
    ("doctors' leave", LEAVE_WEEKS, "LeaveWeeks"),
]


# ----------------------------------------------------------------------------- names
_FORBIDDEN_CHARS = set('/\\:*?"<>|')
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
             *(f"lpt{i}" for i in range(10))}
MAX_NAME = 100


def name_problem(name: str) -> str | None:
    """Why ``name`` is not a safe file or folder name, or None if it is."""
    if not name:
        return "is empty"
    if len(name) > MAX_NAME:
        return f"is longer than {MAX_NAME} characters"
    if name in (".", ".."):
        return "means a folder ('.' or '..')"
    bad = sorted({c for c in name if c in _FORBIDDEN_CHARS})
    if bad:
        return f"contains {' '.join(repr(c) for c in bad)} (a path separator or a character " \
               "Windows forbids in file names)"
    if any(unicodedata.category(c).startswith("C") for c in name):
        return "contains a control or invisible character"
    if name.startswith("."):
        return "starts with a dot (a hidden file)"
    if name != name.strip() or name.endswith("."):
        return "starts or ends with a space or ends with a dot"
    if name.split(".")[0].lower() in _RESERVED:
        return f"is a name Windows reserves for a device ({name.split('.')[0]})"
    return None


def _check_name(value: Any) -> Any:
    if not isinstance(value, str):
        return value  # pydantic's own type error names it
    problem = name_problem(value)
    if problem:
        raise ValueError(f"the name {value!r} {problem}; names become file and folder names, "
                         "so use letters, digits, '_' and '-' (e.g. 'cardiology_2')")
    return value


SafeName = Annotated[str, BeforeValidator(_check_name)]
