"""The verdict of a fit, from the written scenario's own figures (pure functions).

"converged" means every target of the written (rounded) scenario is within its tolerance
and every plausibility limit holds; anything else lists what was missed and why: a
target beyond its tolerance, a limit that binds, a parameter stuck at a bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .limits import Limit, breached, fmt, reached
from .parameters import Parameter, from_internal
from .targets import Target, Value


@dataclass(frozen=True)
class Miss:
    """A target of the written scenario beyond its tolerance."""

    key: str
    audit: float
    model: float
    tolerance: float
    unit: str

    def sentence(self) -> str:
        show = (lambda x: f"{100 * x:.1f}%") if self.unit == "%" else (lambda x: f"{x:.3g}")
        off = abs(self.model - self.audit) / self.tolerance if math.isfinite(self.model) else math.inf
        return (f"{self.key}: model {show(self.model)} vs audit {show(self.audit)}, tolerance "
                f"{show(self.tolerance)} ({off:.2f} tolerances off)")


@dataclass
class Verdict:
    """Status line, misses and the flags a user must see (shown in red)."""

    converged: bool
    status: str
    misses: list[Miss] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


def misses(targets: list[Target], values: list[Value]) -> list[Miss]:
    """Targets whose model value is more than one tolerance from the audit (or unknown)."""
    return [Miss(t.key, t.value, v.mean, t.tolerance, t.unit) for t, v in zip(targets, values)
            if not math.isfinite(v.mean) or abs(v.mean - t.value) > t.tolerance * (1 + 1e-9)]


def at_bound(parameters: list[Parameter], x: np.ndarray, lower: np.ndarray,
             upper: np.ndarray) -> list[str]:
    """Sentences for the parameters that ended at (within 0.1% of) a bound."""
    out = []
    for p, xi, lo, hi in zip(parameters, x, lower, upper):
        if xi - lo < 1e-3 * max(1, abs(lo)) or hi - xi < 1e-3 * max(1, abs(hi)):
            out.append(f"parameter {p.name} = {from_internal(p, xi):.4g} is at its bound "
                       f"[{p.lower:g}, {p.upper:g}]: the fit wanted to go further; check the "
                       "value is plausible before widening the bounds")
    return out


def limit_flags(limits: list[Limit], values: list[float]) -> list[str]:
    """Sentences for the plausibility limits that bind or are breached."""
    out = []
    for lim, v in zip(limits, values):
        if breached(lim, v):
            out.append(f"plausibility limit breached: {lim.label} {fmt(lim, v)} > "
                       f"{fmt(lim, lim.bound)} ({lim.option})")
        elif reached(lim, v):
            out.append(f"plausibility limit reached: {lim.label} {fmt(lim, v)}, limit "
                       f"{fmt(lim, lim.bound)} ({lim.option})")
    return out


def verdict(targets: list[Target], values: list[Value], limits: list[Limit],
            limit_values: list[float], bound_flags: list[str], stopped: str | None) -> Verdict:
    """The status of the written scenario; ``stopped`` says why the search ended early."""
    missed = misses(targets, values)
    lflags = limit_flags(limits, limit_values)
    broken = [lim for lim, v in zip(limits, limit_values) if breached(lim, v)]
    flags = lflags + bound_flags
    if not missed and not broken:
        return Verdict(True, "converged (every target of the written scenario within its "
                             "tolerance, plausibility limits hold)", [], flags)
    why = []
    if missed:
        why.append(f"{len(missed)} target(s) missed")
    if broken:
        why.append("plausibility limit(s) breached")
    if missed and any(reached(lim, v) for lim, v in zip(limits, limit_values)):
        why.append("the audit conflicts with the plausibility limits "
                   "(" + "; ".join(lim.describe() for lim, v in zip(limits, limit_values)
                                   if reached(lim, v)) + ")")
    if missed and bound_flags:
        why.append("parameter(s) at a bound")
    if stopped:
        why.append(stopped)
    return Verdict(False, "NOT converged: " + ", ".join(why), missed, flags)
