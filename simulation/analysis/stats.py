"""Confidence intervals over replications (Student t), as pure functions."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats


def t_interval(values, level: float = 0.95) -> tuple[float, float, float, int]:
    """(mean, low, high, n) of the t confidence interval of the mean; NaNs are dropped."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return (math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n == 1:
        return (mean, math.nan, math.nan, 1)
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return (mean, mean - half, mean + half, n)


def summarise(table: pd.DataFrame, by: list[str], level: float = 0.95) -> pd.DataFrame:
    """Long table: one row per group and KPI with mean, CI bounds and n (replications)."""
    kpi_cols = [c for c in table.columns
                if c not in by and c != "replication" and pd.api.types.is_numeric_dtype(table[c])]
    rows = []
    for key, grp in table.groupby(by, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        for col in kpi_cols:
            mean, low, high, n = t_interval(grp[col], level)
            rows.append((*key, col, mean, low, high, n))
    return pd.DataFrame(rows, columns=[*by, "kpi", "mean", "ci_low", "ci_high", "n"])
