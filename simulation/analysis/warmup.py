"""Run-length advice as pure functions: MSER-5 warm-up truncation and replications needed.

MSER-5 (White 1997; Hoad, Robinson & Davies 2010): batch the output series into means of 5
observations, and truncate the first d batches where d minimises the marginal standard
error rule MSER(d) = sum_{i>d} (Y_i - mean_{>d})^2 / (n - d)^2, searched over the first
half of the series (a minimum in the second half means the series is too short to judge).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from simulation.analysis.stats import t_interval
from simulation.scenario.calendar import MINUTES_PER_DAY

BATCH = 5
WARMUP_KPIS = {
    "pickup_rate": "answered first-leg calls / resolved ones, by arrival day",
    "report_delay_mean_days": "mean delay of the reports dictated that day",
    "deferrable_turnaround_mean_min": "mean turnaround of the deferrable tasks created that day",
}


def mser(series: np.ndarray, batch: int = BATCH) -> tuple[int, np.ndarray]:
    """(observations to truncate, the MSER statistic per batch truncation point).

    NaN observations (e.g. closed days) are dropped first. The truncation point is a
    multiple of ``batch`` observations."""
    y = np.asarray(series, dtype=float)
    y = y[~np.isnan(y)]
    k = len(y) // batch
    if k < 4:
        raise ValueError(f"{len(y)} observations: MSER-{batch} needs at least {4 * batch}")
    means = y[: k * batch].reshape(k, batch).mean(axis=1)
    stat = np.full(k, np.inf)
    for d in range(k - 1):
        rest = means[d:]
        stat[d] = ((rest - rest.mean()) ** 2).sum() / (len(rest)) ** 2
    d = int(np.argmin(stat[: max(1, k // 2)]))
    return d * batch, stat


def daily_series(tables: dict[str, pd.DataFrame], kpi: str, days: int) -> np.ndarray:
    """The KPI per day 0..days-1 of one replication (NaN on days without such work)."""
    if kpi == "pickup_rate":
        c = tables["calls"]
        c = c[(c.leg == "first") & c.outcome.isin(["answered", "abandoned", "cut_off"])]
        day = (c.arrival // MINUTES_PER_DAY).astype(int)
        g = (c.outcome == "answered").groupby(day)
        value = g.sum() / g.size()
    elif kpi == "report_delay_mean_days":
        r = tables["reports"]
        r = r[r.status == "sent"]
        value = ((r.sent - r.dictated) / MINUTES_PER_DAY).groupby(
            (r.dictated // MINUTES_PER_DAY).astype(int)).mean()
    elif kpi == "deferrable_turnaround_mean_min":
        t = tables["tasks"]
        t = t[(~t.urgent) & (t.status == "done")]
        value = (t.finished - t.created).groupby((t.created // MINUTES_PER_DAY).astype(int)).mean()
    else:
        raise KeyError(f"no daily series for '{kpi}'; warm-up advice covers "
                       f"{', '.join(WARMUP_KPIS)}")
    return value.reindex(range(days)).to_numpy(dtype=float)


def replications_needed(values: np.ndarray, precision: float, level: float = 0.95,
                        relative: bool = False) -> int:
    """Replications whose t-interval half-width would be at most ``precision`` (or
    ``precision`` x |mean| when ``relative``), estimated from the replications so far."""
    from scipy import stats

    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n < 2:
        raise ValueError("at least two replications are needed to estimate the spread")
    target = precision * abs(x.mean()) if relative else precision
    sd = x.std(ddof=1)
    if sd == 0:
        return n
    if target <= 0:
        return math.inf
    def half(m: int) -> float:
        return stats.t.ppf(0.5 + level / 2, m - 1) * sd / math.sqrt(m)

    lo, hi = 2, 2
    while half(hi) > target:  # the half-width falls with m: bracket, then bisect
        lo, hi = hi, hi * 2
        if hi > 10_000_000:
            return hi
    while lo < hi:
        mid = (lo + hi) // 2
        if half(mid) <= target:
            hi = mid
        else:
            lo = mid + 1
    return lo


def half_width(values: np.ndarray, level: float = 0.95) -> float:
    """Half-width of the t-interval of the mean."""
    _mean, low, high, n = t_interval(values, level)
    return math.inf if n < 2 else (high - low) / 2
