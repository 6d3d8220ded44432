"""The operating point of a scenario: is the secretariat keeping up with its work?

A fit can reproduce an audit's time shares with volumes no secretariat could absorb. The
figures here say whether it keeps up: utilisation, growth of the deferrable backlog and
the report backlog (pure functions over one replication's tables, used as plausibility
limits during the fit), and the headline KPIs shown before and after a fit.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from simulation.scenario.calendar import MINUTES_PER_DAY

# Headline KPIs of the ALL row shown before and after a fit: (kpi, label, unit).
HEADLINE = (("utilisation", "utilisation", "%"),
            ("backlog_hours", "deferrable backlog at the horizon", "h"),
            ("report_backlog", "reports unsent at the horizon", "n"),
            ("report_on_time_share", "reports sent on time", "%"),
            ("pickup_rate", "call pickup rate", "%"))


def growth_window(warmup_days: int, horizon_days: int) -> tuple[int, int]:
    """(start, end) day of the second half of the measured window, whole weeks when possible.

    Whole weeks compare the backlog on the same weekday, so the weekly rhythm cancels.
    """
    weeks = (horizon_days - warmup_days) // 14
    start = horizon_days - 7 * weeks if weeks >= 1 else warmup_days
    return start, horizon_days


def open_deferrable_minutes(tasks: pd.DataFrame, segments: pd.DataFrame, t: float) -> float:
    """Deferrable work (nominal minutes not yet worked) open at time ``t``."""
    d = tasks[(~tasks.urgent) & (tasks.created < t)
              & (tasks.finished.isna() | (tasks.finished > t))]
    if d.empty:
        return 0.0
    seg = segments[segments.item_id.isin(d.task_id) & (segments.start < t)]
    worked = (seg.end.clip(upper=t) - seg.start).groupby(seg.item_id).sum()
    left = d["work"].to_numpy() - worked.reindex(d.task_id, fill_value=0.0).to_numpy()
    return float(np.clip(left, 0.0, None).sum())


def unsent_reports(reports: pd.DataFrame, t: float) -> float:
    """Reports dictated before ``t`` and waiting for the secretaries then (typing or
    sending): those typed and not yet signed wait for the doctors, whose sign-off is not
    what the limit guards (a letters audit fits it on purpose)."""
    dictated, sent = reports.dictated < t, reports.sent <= t
    at_doctor = (reports.typed <= t) & ~(reports.validated <= t)
    return float((dictated & ~sent & ~at_doctor).sum())


def on_duty_minutes(presence: pd.DataFrame, start: float, end: float) -> float:
    """Staff minutes on duty in [start, end)."""
    return float((presence.end.clip(upper=end) - presence.start.clip(lower=start))
                 .clip(lower=0.0).sum())


def keeping_up(tables: dict[str, pd.DataFrame], warmup_days: int, horizon_days: int,
               open_days: int) -> dict[str, float]:
    """Backlog growth (share of on-duty time) and report backlog (days of dictation).

    ``open_days``: open days in the window, to turn the dictations into a daily rate.
    """
    start_day, end_day = growth_window(warmup_days, horizon_days)
    a, b = start_day * MINUTES_PER_DAY, end_day * MINUTES_PER_DAY
    tasks, seg = tables["tasks"], tables["segments"]
    growth = open_deferrable_minutes(tasks, seg, b) - open_deferrable_minutes(tasks, seg, a)
    duty = on_duty_minutes(tables["presence"], a, b)
    reports = tables["reports"]
    warmup = warmup_days * MINUTES_PER_DAY
    dictated = float(((reports.dictated >= warmup) & (reports.dictated < b)).sum())
    per_day = dictated / open_days if open_days > 0 else math.nan
    return {"backlog_growth": growth / duty if duty > 0 else math.nan,
            "report_backlog_days": unsent_reports(reports, b) / per_day
            if per_day and per_day > 0 else 0.0}


def headline(scenario, seed: int, replication: int) -> dict[str, float]:
    """The ``HEADLINE`` KPIs (ALL row) of one replication, as ``secsim run`` computes them."""
    from simulation.runs.runner import replicate

    row = replicate(scenario, seed, replication, events=False).kpis
    row = row[row.department == "ALL"].iloc[0]
    return {k: float(row[k]) for k, *_ in HEADLINE}


def summarise(rows: list[dict[str, float]]) -> dict[str, tuple[float, float, float]]:
    """Mean and 95% t interval of each headline KPI over replications."""
    from simulation.analysis.stats import t_interval

    table = pd.DataFrame(rows)
    return {k: tuple(t_interval(table[k])[:3]) for k, *_ in HEADLINE}
