"""The search space of an optimisation: variations, targets and the FTE cost of a staffing.

Pure parsing and bookkeeping, no simulation: ``--vary PATH=1..5`` or ``PATH=a,b,c``,
``--target "pickup_rate>=0.9"`` (optionally ``KPI@department``).
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from typing import Any

import yaml

from simulation.errors import UsageError
from simulation.scenario.calendar import WEEKDAYS

MAX_CANDIDATES = 10_000


@dataclass(frozen=True)
class Variation:
    """A scenario path and the values it takes, in the order given."""

    path: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Target:
    """A KPI bound to meet: ``kpi op value`` on a department's row (default ALL)."""

    kpi: str
    op: str  # ">=" or "<="
    value: float
    department: str = "ALL"

    @property
    def key(self) -> str:
        """The KPI's name in results: ``kpi``, or ``kpi@department`` off the ALL row."""
        return self.kpi if self.department == "ALL" else f"{self.kpi}@{self.department}"

    def __str__(self) -> str:
        return f"{self.key}{self.op}{self.value:g}"


_RANGE = re.compile(r"^\s*(-?[\d.]+)\s*\.\.\s*(-?[\d.]+)\s*(?::\s*([\d.]+))?\s*$")


def parse_vary(text: str) -> Variation:
    """``PATH=LO..HI[:STEP]`` (a range, ends included) or ``PATH=V1,V2,...`` (YAML values)."""
    example = ("e.g. --vary teams.cardiology_secretariat.size=1..5 or "
               "--vary levers.0.scope=phones,all")
    if "=" not in text:
        raise UsageError(f"--vary '{text}' is not PATH=VALUES; {example}")
    path, raw = (s.strip() for s in text.split("=", 1))
    if not path or not raw:
        raise UsageError(f"--vary '{text}': give a path and its values; {example}")
    m = _RANGE.match(raw)
    if m:
        lo, hi, step = m.group(1), m.group(2), m.group(3)
        try:
            a, b, s = float(lo), float(hi), float(step) if step else 1.0
        except ValueError:
            raise UsageError(f"--vary {path}: '{raw}' is not a range LO..HI[:STEP]; {example}") from None
        if s <= 0 or b < a or not all(map(math.isfinite, (a, b, s))):
            raise UsageError(f"--vary {path}: the range {raw} is empty or its step is not "
                             f"positive; write LO..HI with LO <= HI, e.g. 1..5 or 1..3:0.5")
        n = math.floor((b - a) / s + 1e-9) + 1
        if n > MAX_CANDIDATES:
            raise UsageError(f"--vary {path}: {raw} has {n} values; use a coarser step")
        whole = all(x.lstrip("-").isdigit() for x in (lo, hi)) and (step is None or
                                                                   float(step).is_integer())
        values = tuple(int(round(a + i * s)) if whole else round(a + i * s, 10)
                       for i in range(n))
        return Variation(path, values)
    values = []
    for part in _split_top_level(raw):
        try:
            values.append(yaml.safe_load(part))
        except yaml.YAMLError:
            raise UsageError(f"--vary {path}: '{part}' is not a valid value; quote it") from None
    if len(set(map(repr, values))) != len(values):
        raise UsageError(f"--vary {path}: a value is listed twice")
    return Variation(path, tuple(values))


def _split_top_level(raw: str) -> list[str]:
    """Split on commas outside brackets, so ``[a, b],all`` is two values."""
    out, depth, cur = [], 0, ""
    for ch in raw:
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    out.append(cur.strip())
    return [p for p in out if p]


_TARGET = re.compile(r"^\s*([A-Za-z_][\w]*)(?:@([^<>=\s]+))?\s*(>=|<=)\s*(\S+)\s*$")


def parse_target(text: str) -> Target:
    """``KPI>=VALUE`` or ``KPI<=VALUE``, optionally ``KPI@department``."""
    m = _TARGET.match(text)
    example = 'e.g. --target "pickup_rate>=0.9" or --target "report_delay_mean_days<=10"'
    if not m:
        raise UsageError(f"--target '{text}' is not KPI>=VALUE or KPI<=VALUE; {example}")
    kpi, dept, op, raw = m.groups()
    try:
        value = float(raw.rstrip("%")) / (100 if raw.endswith("%") else 1)
    except ValueError:
        raise UsageError(f"--target '{text}': '{raw}' is not a number; {example}") from None
    if not math.isfinite(value):
        raise UsageError(f"--target '{text}': the value must be a finite number")
    return Target(kpi, op, value, dept or "ALL")


def candidates(variations: list[Variation]) -> list[dict[str, Any]]:
    """Every combination of the variations' values (the grid), in the order given."""
    paths = [v.path for v in variations]
    if len(set(paths)) != len(paths):
        raise UsageError("a path is given to --vary twice; give it once with all its values")
    total = math.prod(len(v.values) for v in variations)
    if total > MAX_CANDIDATES:
        raise UsageError(f"--vary gives {total:,} combinations (more than "
                         f"{MAX_CANDIDATES:,}); narrow the ranges or use coarser steps")
    return [dict(zip(paths, combo)) for combo in
            itertools.product(*(v.values for v in variations))]


def fte(scenario) -> float:
    """Secretary full-time equivalents: each secretary's working open days / open days."""
    open_days = [d for d in WEEKDAYS if d in scenario.calendar.opening_hours]
    if not open_days:
        return 0.0
    total = 0.0
    for _team, _name, sec in scenario.secretaries():
        days = open_days if sec.days is None else [d for d in sec.days if d in open_days]
        total += len(days) / len(open_days)
    return total
