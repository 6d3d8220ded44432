"""What a calibration reads from one simulated replication, and its pooling over replications.

Time shares are per *audit* category (model work mapped by the audit's rules), so they
are computed here from the segments rather than taken from the KPI table; the
interruption figures reuse the definitions of ``simulation.analysis.kpis``; letter delays
are those of the window's reports, followed to their sending; utilisation,
backlog growth and report backlog (``operating.keeping_up``) feed the plausibility limits.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from simulation.analysis import kpis
from simulation.analysis.stats import t_interval
from simulation.engine.model import simulate, with_follow_up
from simulation.engine.staff import open_day_mask
from simulation.scenario.calendar import MINUTES_PER_DAY
from simulation.scenario.schema import Scenario

from .audit import frozen
from .operating import keeping_up

# (audit category, kinds, categories, departments); None = any. Plain tuples: picklable.
Rule = tuple[str, frozenset | None, frozenset | None, frozenset | None]
# (within days, departments, targets) of an audit's letters (``Letters.plain``).
LetterSpec = tuple[float | None, frozenset | None, frozenset | None]
LETTERS_MEAN, LETTERS_WITHIN = "letters_mean_days", "letters_within_share"
LETTERS_UNFINISHED = "letters_unfinished"  # still unsent at the follow-up cap


def plain_rules(rules) -> tuple[Rule, ...]:
    """Mapping rules of an audit as picklable tuples."""
    return tuple((r.to, frozen(r.kinds), frozen(r.categories), frozen(r.departments))
                 for r in rules)


def _classify(rules: tuple[Rule, ...], kind: str, category: str, department: str) -> str | None:
    for to, kinds, cats, depts in rules:
        if ((kinds is None or kind in kinds) and (cats is None or category in cats)
                and (depts is None or department in depts)):
            return to
    return None


def measure(scenario: Scenario, seed: int, replication: int,
            rules: tuple[Rule, ...], letters: LetterSpec | None = None) -> dict[str, float]:
    """Audit-comparable figures of one replication (runs in worker processes)."""
    # Time shares are within the window: no need to follow open work after it, unless the
    # audit gives letter delays, which need every letter of the window sent. With the
    # follow-up the interrupted time share is the run's KPI, in which a task open at the
    # horizon counts if it is interrupted after it (baseline: +0.05 point).
    cal = scenario.calendar
    if letters is None:
        cal = cal.model_copy(update={"follow_up_days": 0})
        scenario = scenario.model_copy(update={"calendar": cal})
    t = simulate(scenario, seed, replication)
    warmup, horizon = cal.warmup_days * MINUTES_PER_DAY, cal.horizon_days * MINUTES_PER_DAY
    seg = t["segments"]
    minutes = (seg.end.clip(upper=horizon) - seg.start.clip(lower=warmup)).clip(lower=0.0)
    busy = float(minutes.sum())
    out: dict[str, float] = {"busy_minutes": busy}
    grouped = minutes.groupby([seg.kind, seg.category, seg.department]).sum()
    for (kind, cat, dept), m in grouped.items():
        key = f"share:{_classify(rules, kind, cat, dept)}"
        out[key] = out.get(key, 0.0) + float(m) / busy if busy > 0 else math.nan
    work = kpis.work_kpis(t["tasks"], seg, t["interruptions"], warmup, horizon, [])
    pres = t["presence"]
    on_duty = float((pres.end.clip(upper=horizon) - pres.start.clip(lower=warmup))
                    .clip(lower=0.0).sum())
    ints = t["interruptions"]
    n_int = float(((ints.time >= warmup) & (ints.time < horizon)).sum())
    out["interrupted_time_share"] = work["interrupted_time_share"]
    out["interruptions_per_hour"] = n_int / (on_duty / 60) if on_duty > 0 else math.nan
    out["interruptions_per_deferrable_hour"] = work["interruptions_per_deferrable_hour"]
    out["utilisation"] = busy / on_duty if on_duty > 0 else math.nan
    open_days = int(open_day_mask(scenario)[cal.warmup_days:cal.horizon_days].sum())
    out.update(keeping_up(t, cal.warmup_days, cal.horizon_days, open_days))
    if letters is not None:
        run = with_follow_up(scenario)
        end = run.calendar.horizon_days * MINUTES_PER_DAY
        out.update(letter_figures(t["reports"], warmup, horizon, letters, end,
                                  open_day_mask(run)))
    return out


def letter_figures(reports: pd.DataFrame, warmup: float, horizon: float,
                   letters: LetterSpec, end: float, open_days: np.ndarray) -> dict[str, float]:
    """The window's selected letters as ``kpis.report_kpis`` counts them (the run stopped
    at ``end``): their mean delay in days, the share sent within the audit's days, and how
    many were still unsent (their delay is missing from the mean)."""
    within, departments, targets = letters
    r = reports
    if departments is not None:
        r = r[r.department.isin(departments)]
    if targets is not None:
        r = r[r.target_days.isin(targets)]
    p = kpis.report_parts(r, warmup, horizon, open_days, end,
                          kpis.WITHIN_DAYS if within is None else within)
    out = {LETTERS_MEAN: p["delay"].mean(), LETTERS_UNFINISHED: float(p["unsent"])}
    if within is not None:
        out[LETTERS_WITHIN] = kpis.within_share(p)
    return out


def pool(rows: list[dict[str, float]]) -> pd.DataFrame:
    """Mean, 95% t interval and standard error of each figure over replications."""
    table = pd.DataFrame(rows)
    # A category with no work in one replication has a zero share there, not a missing one.
    table = table.fillna({c: 0.0 for c in table.columns if c.startswith("share:")})
    out = []
    for col in table.columns:
        mean, low, high, n = t_interval(table[col])
        x = table[col].dropna().to_numpy()
        se = float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else math.nan
        out.append((col, mean, low, high, se, n))
    return pd.DataFrame(out, columns=["figure", "mean", "ci_low", "ci_high", "se", "n"]
                        ).set_index("figure")


def values_of(pooled: pd.DataFrame, figure: str) -> tuple[float, float, float, float]:
    """(mean, ci_low, ci_high, se) of a figure; a share never seen is 0 with no spread."""
    if figure not in pooled.index:
        return (0.0, 0.0, 0.0, 0.0) if figure.startswith("share:") else (np.nan,) * 4
    row = pooled.loc[figure]
    return float(row["mean"]), float(row.ci_low), float(row.ci_high), float(row.se)
