"""Paired comparison of scenarios against a baseline, with confidence intervals (pure).

Scenarios run with the same seed share their random streams replication by replication
(common random numbers), so the difference to the baseline is computed per replication
and its t-interval is usually much narrower than the unpaired (Welch) interval, which is
reported beside it for reference.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from simulation.analysis.stats import t_interval

COLUMNS = ["scenario", "department", "kpi", "mean", "ci_low", "ci_high", "n", "baseline",
           "baseline_mean", "diff", "diff_ci_low", "diff_ci_high", "diff_significant",
           "unpaired_ci_low", "unpaired_ci_high", "n_pairs"]


def welch_interval(x: np.ndarray, y: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """CI of mean(x) - mean(y) treating the samples as independent (Welch)."""
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    if len(x) < 2 or len(y) < 2:
        return (math.nan, math.nan)
    vx, vy = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    diff = x.mean() - y.mean()
    se = math.sqrt(vx + vy)
    if se == 0:
        return (diff, diff)
    df = (vx + vy) ** 2 / (vx**2 / (len(x) - 1) + vy**2 / (len(y) - 1))
    half = stats.t.ppf(0.5 + level / 2, df) * se
    return (diff - half, diff + half)


def compare(kpis: dict[str, pd.DataFrame], baseline: str, level: float = 0.95) -> pd.DataFrame:
    """Every KPI of every scenario with its CI and its paired difference to ``baseline``.

    ``kpis`` maps scenario name to its KPI table (one row per replication and department).
    """
    if baseline not in kpis:
        raise ValueError(f"baseline '{baseline}' is not among the scenarios {sorted(kpis)}")
    base = kpis[baseline].set_index(["department", "replication"])
    base_departments = set(base.index.get_level_values(0))
    rows = []
    for name, table in kpis.items():
        t = table.set_index(["department", "replication"])
        cols = [c for c in t.columns if pd.api.types.is_numeric_dtype(t[c])]
        for dept in t.index.get_level_values(0).unique():
            mine = t.loc[dept]
            theirs = base.loc[dept] if dept in base_departments else None
            if theirs is not None:
                # The replications both ran, in this scenario's order (as an inner concat):
                # found once per department, not once per KPI (a group has 80 of them).
                common = mine.index.intersection(theirs.index)
                at_x, at_y = mine.index.get_indexer(common), theirs.index.get_indexer(common)
            for kpi in cols:
                x = mine[kpi]
                mean, low, high, n = t_interval(x.to_numpy(), level)
                row = [name, dept, kpi, mean, low, high, n, baseline]
                if theirs is None or kpi not in theirs.columns:
                    rows.append(row + [math.nan, math.nan, math.nan, math.nan, False,
                                       math.nan, math.nan, 0])
                    continue
                y = theirs[kpi]
                a, b = x.to_numpy(dtype=float)[at_x], y.to_numpy(dtype=float)[at_y]
                paired = ~(np.isnan(a) | np.isnan(b))
                dmean, dlow, dhigh, npairs = t_interval(a[paired] - b[paired], level)
                ulow, uhigh = welch_interval(x.to_numpy(dtype=float), y.to_numpy(dtype=float),
                                             level)
                significant = bool(npairs > 1 and not math.isnan(dlow) and (dlow > 0 or dhigh < 0))
                rows.append(row + [float(y.mean()), dmean, dlow, dhigh, significant,
                                   ulow, uhigh, npairs])
    return pd.DataFrame(rows, columns=COLUMNS)
