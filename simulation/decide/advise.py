"""How many replications and how much warm-up a scenario needs, from its own output.

Replications: sequential — run a few, estimate the spread of the KPI across replications,
run up to the number whose 95% half-width meets the precision asked, check, repeat (up to
a maximum). Warm-up: the scenario run from empty (no warm-up), the daily series of the
KPIs whose start-up transient matters, averaged over the replications, truncated by
MSER-5 (``analysis.warmup``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simulation.analysis.warmup import (
    WARMUP_KPIS,
    daily_series,
    half_width,
    mser,
    replications_needed,
)
from simulation.runs.executors import Executor
from simulation.runs.runner import run
from simulation.scenario.schema import Scenario


@dataclass
class WarmupAdvice:
    """MSER-5 on one KPI's daily series (mean over replications) from an empty start."""

    kpi: str
    series: np.ndarray  # per calendar day of the horizon (NaN: no such work that day)
    truncate_days: int  # calendar days to discard
    statistic: np.ndarray


@dataclass
class Advice:
    """Replications needed for the precision asked, and the warm-up the data suggest."""

    kpi: str
    precision: float
    relative: bool
    level: float
    replications_run: int
    replications_needed: int
    mean: float
    half_width: float
    met: bool
    scenario_warmup_days: int
    warmup: list[WarmupAdvice] = field(default_factory=list)

    @property
    def warmup_needed_days(self) -> int:
        return max((w.truncate_days for w in self.warmup), default=0)

    def as_dict(self) -> dict:
        return {"kpi": self.kpi, "precision": self.precision, "relative": self.relative,
                "level": self.level, "mean": self.mean, "half_width": self.half_width,
                "replications_run": self.replications_run,
                "replications_needed": self.replications_needed, "precision_met": self.met,
                "scenario_warmup_days": self.scenario_warmup_days,
                "warmup_needed_days": self.warmup_needed_days,
                "warmup": {w.kpi: w.truncate_days for w in self.warmup}}


def _values(result, kpi: str) -> np.ndarray:
    k = result.kpis
    if kpi not in k.columns:
        import difflib

        known = [c for c in k.columns if c not in ("replication", "department")]
        close = difflib.get_close_matches(kpi, known, n=3)
        raise KeyError(f"there is no KPI '{kpi}'" + (f"; did you mean {', '.join(close)}?"
                                                     if close else ""))
    return k[k.department == "ALL"].sort_values("replication")[kpi].to_numpy(dtype=float)


def advise_replications(scenario: Scenario, kpi: str, precision: float, seed: int,
                        executor: Executor | None = None, relative: bool = False,
                        level: float = 0.95, initial: int = 5, most: int = 100,
                        notify: Callable[[str], None] = lambda _m: None) -> Advice:
    """Run replications until the KPI's half-width meets ``precision`` (or ``most``)."""
    frames: list[pd.DataFrame] = []
    n = 0
    want = max(2, initial)
    while True:
        result = run(scenario, want - n, seed, executor=executor, events=False,
                     first_replication=n)
        if result.failures or result.interrupted:
            raise RuntimeError("; ".join(f"replication {r}: {e}" for r, e in result.failures)
                               or "interrupted")
        frames.append(result.kpis)
        n = want
        result.kpis = pd.concat(frames, ignore_index=True)
        values = _values(result, kpi)
        hw = half_width(values, level)
        goal = precision * abs(np.nanmean(values)) if relative else precision
        needed = replications_needed(values, precision, level, relative)
        notify(f"{n} replications: {kpi} {np.nanmean(values):.4g} ± {hw:.3g} "
               f"(goal ± {goal:.3g}); about {needed} needed")
        if hw <= goal or n >= most:
            return Advice(kpi, precision, relative, level, n, needed, float(np.nanmean(values)),
                          hw, hw <= goal, scenario.calendar.warmup_days)
        want = int(min(most, max(n + 1, needed)))


def advise_warmup(scenario: Scenario, seed: int, replications: int,
                  executor: Executor | None = None,
                  kpis: tuple[str, ...] = tuple(WARMUP_KPIS)) -> list[WarmupAdvice]:
    """MSER-5 truncation of each KPI's daily series, the scenario run from empty."""
    cal = scenario.calendar
    empty = scenario.model_copy(update={"calendar": cal.model_copy(update={"warmup_days": 0})})
    result = run(empty, replications, seed, executor=executor, events=True)
    if result.failures or result.interrupted or not result.events:
        raise RuntimeError("the warm-up replications did not complete")
    days = cal.horizon_days
    out = []
    for kpi in kpis:
        per_rep = []
        for _rep, tables in _by_replication(result.events):
            per_rep.append(daily_series(tables, kpi, days))
        stacked = np.vstack(per_rep)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN days: closed
            series = np.nanmean(stacked, axis=0)
        observed = np.flatnonzero(~np.isnan(series))
        if len(observed) < 20:
            continue  # too few days with this work to judge
        cut, stat = mser(series)
        out.append(WarmupAdvice(kpi, series, int(observed[cut]) if cut else 0, stat))
    return out


def _by_replication(events: dict[str, pd.DataFrame]):
    reps = sorted(events["calls"].replication.unique()) if "calls" in events else []
    for rep in reps:
        yield rep, {name: df[df.replication == rep] for name, df in events.items()}

