"""Plausibility limits of a fit: the operating point a calibrated secretariat must keep.

Each limit is an upper bound on a simulated figure of ``measure`` (utilisation, growth of
the deferrable backlog, report backlog). Inside the objective a limit is a one-sided
residual, ``weight * max(0, (value - bound) / scale + MARGIN)``: zero well within the
limit, so it never bends a plausible fit, and steep from half a scale inside it, so the
optimiser cannot buy a better match of the audit with a secretariat that does not keep up
(the penalised optimum lands on the safe side of the limit, not a little beyond it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MARGIN = 0.5  # the penalty starts this many scales inside the limit
DEFAULTS = {"max_utilisation": 0.90, "max_backlog_growth": 0.02,
            "max_report_backlog_days": 15.0, "weight": 10.0}


@dataclass(frozen=True)
class Limit:
    """An upper bound on a simulated figure, and the scale of a breach."""

    key: str      # the figure of ``measure``: utilisation, backlog_growth, report_backlog_days
    option: str   # the audit field / CLI flag that sets it, e.g. 'max_utilisation'
    label: str
    bound: float
    scale: float  # a breach of one scale costs ``weight`` in the residual
    unit: str     # '%' (fraction shown x100) or 'days'

    def describe(self) -> str:
        """e.g. 'utilisation <= 90%'."""
        return f"{self.label} <= {fmt(self, self.bound)}"


def fmt(limit: Limit, x: float) -> str:
    """A value of the limit's figure, as the report prints it."""
    if x is None or not math.isfinite(x):
        return "-"
    return f"{100 * x:.1f}%" if limit.unit == "%" else f"{x:.1f} {limit.unit}"


def build(max_utilisation: float, max_backlog_growth: float,
          max_report_backlog_days: float) -> list[Limit]:
    """The three limits (an infinite bound drops one)."""
    out = [Limit("utilisation", "max_utilisation", "utilisation", max_utilisation, 0.01, "%"),
           Limit("backlog_growth", "max_backlog_growth",
                 "deferrable backlog growth (share of on-duty time)", max_backlog_growth,
                 0.005, "%"),
           Limit("report_backlog_days", "max_report_backlog_days",
                 "reports waiting for secretaries at the horizon (days of dictation)", max_report_backlog_days,
                 1.0, "days")]
    return [lim for lim in out if math.isfinite(lim.bound)]


def penalties(limits: list[Limit], values: list[float], weight: float) -> np.ndarray:
    """One-sided residuals: ``weight`` per scale beyond ``MARGIN`` scales inside each bound."""
    excess = np.array([(v - lim.bound) / lim.scale + MARGIN if math.isfinite(v) else 1e3
                       for lim, v in zip(limits, values)], dtype=float)
    return weight * np.clip(excess, 0.0, None)


def breached(limit: Limit, value: float) -> bool:
    """The figure is beyond its bound (or could not be measured)."""
    return not math.isfinite(value) or value > limit.bound


def reached(limit: Limit, value: float) -> bool:
    """The figure is within one scale of its bound, or beyond it: the limit binds."""
    return breached(limit, value) or value >= limit.bound - limit.scale
