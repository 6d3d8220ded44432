"""KPIs of one replication, as pure functions over its record tables.

Every KPI is defined once here and documented in the README ("KPI definitions"). Work
arriving during the warm-up is excluded; time-based figures are clipped to the window
[warm-up end, horizon end]. Per-department rows use the department of the work; staff
figures (utilisation, interruptions per on-duty hour) are in ``staff_kpis``.

Each KPI group is computed in two steps: ``*_parts`` reduces rows to mergeable pieces
(counts, correctly rounded sums as ``ExactSum``, the values a quantile needs), ``*_finish``
turns pieces into figures. A whole table is one piece; ``analysis.streaming`` merges the
pieces of the chunks the engine hands over during the run (``merge_parts``), which gives
the same figures to the last bit: every sum and mean is correctly rounded (``math.fsum``),
so it does not depend on the order or the chunking of the rows.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from simulation.analysis.exact import ExactSum, finite_values
from simulation.analysis.grouping import ByDepartment
from simulation.scenario.calendar import MINUTES_PER_DAY, working_days_between

ALL = "ALL"


def _clip(df: pd.DataFrame, start: float, end: float, a: str = "start", b: str = "end") -> pd.Series:
    """Minutes of each [a, b) interval inside the window [start, end)."""
    return (df[b].clip(upper=end) - df[a].clip(lower=start)).clip(lower=0.0)


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den > 0 else float("nan")


def _has_doctor(reports: pd.DataFrame) -> np.ndarray:
    """Reports signed by a modelled doctor (null, or '' in hand-made tables, when none)."""
    return (reports.doctor.fillna("").astype(str) != "").to_numpy(dtype=bool)


def _p90(x: np.ndarray) -> float:
    """The 90th percentile of ``x``, which it reorders (no copy of a year's waits)."""
    return float(np.percentile(x, 90, overwrite_input=True)) if len(x) else float("nan")


def _median(x: np.ndarray) -> float:
    return float(pd.Series(x, dtype=float).median()) if len(x) else float("nan")


class Kept:
    """Values kept for a mean and quantiles, fed chunk by chunk: how many are exactly +0.0,
    and the others as the chunks' arrays.

    Most waits are zero (a call answered at once: 91% of a year's calls in the group of 80
    secretariats, 77% of walk-ins; a front-end report's typing stages), so counting them
    keeps memory from growing with the horizon by a float each. Every figure read from
    them (correctly rounded mean, median, percentile) depends on the values, not on their
    order, so ``array`` gives the zeros first.
    """

    __slots__ = ("zeros", "others")

    def __init__(self, values=()):
        x = np.asarray(values, dtype=float).ravel()
        zero = (x == 0.0) & ~np.signbit(x)  # -0.0 is kept as a value: its sign is kept too
        self.zeros = int(np.count_nonzero(zero))
        rest = x[~zero] if self.zeros else x
        self.others: list[np.ndarray] = [rest] if len(rest) else []

    def merge(self, other: Kept) -> Kept:
        """Add another chunk's values (its arrays are shared, not copied)."""
        self.zeros += other.zeros
        self.others.extend(other.others)
        return self

    def copy(self) -> Kept:
        out = Kept()
        return out.merge(self)

    def __len__(self) -> int:
        return self.zeros + sum(len(x) for x in self.others)

    def mean(self) -> float:
        """``exact.fmean_values`` of every value, without making the zeros: they add nothing to
        the correctly rounded sum (one +0.0 stands for them all, for the sign of a zero
        sum), only to the count."""
        x = finite_values(np.concatenate(self.others)) if self.others else np.empty(0)
        n = len(x) + self.zeros
        total = math.fsum(x.tolist() + [0.0] * bool(self.zeros))
        return total / n if n else float("nan")

    def array(self) -> np.ndarray:
        """Every value, as a new array (the zeros first): the caller may reorder it."""
        return np.concatenate([np.zeros(self.zeros), *self.others])


def _kept(values: list[np.ndarray]) -> list[Kept]:
    """The values of each department kept for quantiles (``ByDepartment.values``)."""
    return [Kept(x) for x in values]


def merge_parts(into: dict, more: dict) -> dict:
    """Merge the pieces ``more`` into ``into``: counts add, sums merge exactly, kept values
    and frames are appended, sets united, nested dicts merged key by key, labels kept."""
    for key, value in more.items():
        if key not in into:
            into[key] = _copy(value)
            continue
        have = into[key]
        if isinstance(have, (ExactSum, Kept)):
            have.merge(value)
        elif isinstance(have, list):
            have.extend(value)
        elif isinstance(have, set):
            have |= value
        elif isinstance(have, dict):
            merge_parts(have, value)
        elif isinstance(have, str):  # a label (a secretary's team): the first one stays
            continue
        else:
            into[key] = have + value
    return into


def _copy(value):
    if isinstance(value, ExactSum):
        return ExactSum().merge(value)
    if isinstance(value, Kept):
        return value.copy()
    if isinstance(value, (list, set)):
        return type(value)(value)
    if isinstance(value, dict):
        return merge_parts({}, value)
    return value


def call_parts(calls: pd.DataFrame, warmup: float, sl_minutes: float,
               horizon: float = np.inf) -> dict:
    """Pieces of ``call_kpis`` (the rows must hold every attempt of their callers)."""
    return call_parts_by(calls, ByDepartment.whole(len(calls)), warmup, sl_minutes, horizon)[0]


def call_parts_by(calls: pd.DataFrame, g: ByDepartment, warmup: float, sl_minutes: float,
                  horizon: float = np.inf) -> list[dict]:
    """``call_parts`` of each department of ``g`` in one pass over the rows."""
    arrival = calls.arrival.to_numpy(dtype=float)
    window = (arrival >= warmup) & (arrival < horizon)
    outcome = calls.outcome
    first = window & calls.leg.eq("first").to_numpy(dtype=bool)
    is_answered = outcome.eq("answered").to_numpy(dtype=bool)
    answered = first & is_answered
    wait = calls.answered.to_numpy(dtype=float) - arrival
    transfers = window & calls.leg.eq("transfer").to_numpy(dtype=bool)
    lost = outcome.isin(["abandoned", "cut_off"]).to_numpy(dtype=bool)
    t_res = transfers & (is_answered | lost)
    # Callers whose first attempt is in the window, followed over all their attempts (the
    # follow-up after the horizon resolves most pending redials).
    served, done = _callers_by(calls, g, first & calls.attempt.eq(1).to_numpy(dtype=bool))
    count = g.count
    columns = {
        "attempted": count(first),
        "answered": count(answered),
        "abandoned": count(first & outcome.eq("abandoned").to_numpy(dtype=bool)),
        "cut_off": count(first & outcome.eq("cut_off").to_numpy(dtype=bool)),  # line closed
        "closed": count(first & outcome.eq("closed").to_numpy(dtype=bool)),
        "in_system": count(first & outcome.eq("in_system").to_numpy(dtype=bool)),
        "callers_served": served,
        "callers_done": done,
        "wait": _kept(g.values(wait, answered)),
        "wait_sl": count(answered & (wait <= sl_minutes)),
        "transfers": count(transfers),
        "transfers_resolved": count(t_res),
        "transfers_lost": count(t_res & ~is_answered),
        "lost_after_transfer": count(transfers & lost),
    }
    return _rows_of(columns, g.n)


def _rows_of(columns: dict[str, list], n: int) -> list[dict]:
    """Per-department dicts from per-department columns."""
    return [{key: col[i] for key, col in columns.items()} for i in range(n)]


def call_finish(p: dict) -> dict[str, float]:
    """``call_kpis`` from its pieces."""
    wait = p["wait"].array()
    resolved = p["answered"] + p["abandoned"] + p["cut_off"]
    return {
        "calls_attempted": float(p["attempted"]),
        "calls_offered": float(resolved),
        "calls_answered": float(p["answered"]),
        "calls_abandoned": float(p["abandoned"]),
        "calls_cut_off": float(p["cut_off"]),
        "calls_closed": float(p["closed"]),
        "calls_in_system": float(p["in_system"]),
        "closed_share": _ratio(p["closed"], p["attempted"]),
        "pickup_rate": _ratio(p["answered"], resolved),
        "pickup_rate_callers": _ratio(p["callers_served"], p["callers_done"]),
        "service_level": _ratio(p["wait_sl"], resolved),
        "abandonment_rate": _ratio(p["abandoned"] + p["cut_off"], resolved),
        "wait_mean_min": p["wait"].mean(),
        "wait_p90_min": _p90(wait),
        "transfers": float(p["transfers"]),
        "transfer_abandonment_rate": _ratio(p["transfers_lost"], p["transfers_resolved"]),
        "calls_lost_after_transfer": float(p["lost_after_transfer"]),
    }


def call_kpis(calls: pd.DataFrame, warmup: float, sl_minutes: float,
              horizon: float = np.inf) -> dict[str, float]:
    """Pickup, waits and abandonment of first-leg calls arriving in [warm-up, horizon)."""
    return call_finish(call_parts(calls, warmup, sl_minutes, horizon))


def _callers_by(calls: pd.DataFrame, g: ByDepartment, starts: np.ndarray
                ) -> tuple[list[int], list[int]]:
    """Per department: callers served at last and no longer in the system, and callers no
    longer in the system, among those with a row in ``starts`` (all their attempts, both
    legs, in that department).

    Served: answered and not transferred, or answered after a transfer. Still in the
    system: an attempt waiting at the horizon, a redial scheduled after the horizon (on
    the caller's last attempt), or a transfer not yet handed over.
    """
    caller = calls.caller_id.to_numpy(dtype=np.int64)
    span = int(caller.max()) + 1 if len(caller) else 1
    key = g.codes.astype(np.int64) * span + caller  # (department, caller)
    own = np.isin(key, key[starts])
    if not own.any():
        return [0] * g.n, [0] * g.n
    order = np.flatnonzero(own)[np.argsort(key[own], kind="stable")]
    k = key[order]
    new = np.r_[True, k[1:] != k[:-1]]
    heads = np.flatnonzero(new)
    group = np.cumsum(new) - 1
    attempt = calls.attempt.to_numpy()[order]
    last = attempt == np.maximum.reduceat(attempt, heads)[group]
    transferred = calls.transferred.to_numpy(dtype=bool)[order]
    answered = calls.outcome.eq("answered").to_numpy(dtype=bool)[order]
    pending = (calls.outcome.eq("in_system").to_numpy(dtype=bool)[order]
               | (~np.isnan(calls.redial_at.to_numpy(dtype=float)[order]) & last)
               | (transferred & np.isnan(calls.ended.to_numpy(dtype=float)[order])))
    done = ~np.logical_or.reduceat(pending, heads)
    served = np.logical_or.reduceat(answered & ~transferred, heads)
    who = ByDepartment(g.codes[order][heads], g.n)
    return who.count(served & done), who.count(done)


def visit_parts(visits: pd.DataFrame, warmup: float, horizon: float = np.inf) -> dict:
    """Pieces of ``visit_kpis``."""
    return visit_parts_by(visits, ByDepartment.whole(len(visits)), warmup, horizon)[0]


def visit_parts_by(visits: pd.DataFrame, g: ByDepartment, warmup: float,
                   horizon: float = np.inf) -> list[dict]:
    """``visit_parts`` of each department of ``g`` in one pass over the rows."""
    arrival = visits.arrival.to_numpy(dtype=float)
    window = (arrival >= warmup) & (arrival < horizon)
    served = window & visits.outcome.eq("served").to_numpy(dtype=bool)
    wait = visits.started.to_numpy(dtype=float) - arrival
    return _rows_of({
        "walkins": g.count(window), "served": g.count(served),
        "wait": _kept(g.values(wait, served)),
        "left": g.count(window & visits.outcome.eq("left").to_numpy(dtype=bool)),
        # still waiting at closing time
        "sent_away": g.count(window & visits.outcome.eq("sent_away").to_numpy(dtype=bool)),
        "closed": g.count(window & visits.outcome.eq("closed").to_numpy(dtype=bool)),
    }, g.n)


def visit_finish(p: dict) -> dict[str, float]:
    """``visit_kpis`` from its pieces."""
    wait = p["wait"].array()
    lost = p["left"] + p["sent_away"]
    return {
        "walkins": float(p["walkins"]),
        "walkin_wait_mean_min": p["wait"].mean(),
        "walkin_wait_p90_min": _p90(wait),
        "walkins_left_share": _ratio(lost, p["served"] + lost),
        "walkins_sent_away": float(p["sent_away"]),
        "walkins_closed": float(p["closed"]),
    }


def visit_kpis(visits: pd.DataFrame, warmup: float, horizon: float = np.inf) -> dict[str, float]:
    """Waiting at the desk for walk-ins arriving in [warm-up, horizon)."""
    return visit_finish(visit_parts(visits, warmup, horizon))


STAGES = ("wait_typing", "typing", "wait_signoff", "sending")


def stage_lengths(sent: pd.DataFrame) -> pd.DataFrame:
    """Calendar days each sent report spent in each stage; the four add up to its delay
    (``stage_days`` of the table's columns)."""
    times = (sent[col].to_numpy(dtype=float) for col in STAGE_TIMES)
    return pd.DataFrame(stage_days(*times), index=sent.index)


STAGE_TIMES = ("dictated", "typing_started", "typed", "validated", "sent")


def stage_days(dictated: np.ndarray, typing_started: np.ndarray, typed: np.ndarray,
               validated: np.ndarray, sent: np.ndarray) -> dict[str, np.ndarray]:
    """Calendar days in each stage (``STAGES``) of reports with these times (minutes).

    dictated -> typing starts -> typed -> signed (rework included) -> sent. Front-end
    reports are never typed: their typing stages are zero and sign-off counts from dictation.
    """
    started = np.where(np.isnan(typing_started), dictated, typing_started)
    typed = np.where(np.isnan(typed), dictated, typed)
    return {"wait_typing": (started - dictated) / MINUTES_PER_DAY,
            "typing": (typed - started) / MINUTES_PER_DAY,
            "wait_signoff": (validated - typed) / MINUTES_PER_DAY,
            "sending": (sent - validated) / MINUTES_PER_DAY}


WITHIN_DAYS = 8  # the share sent within 8 days is what hospitals publish (CHUV 2013-2019)


def report_parts(reports: pd.DataFrame, warmup: float, horizon: float,
                 open_days: np.ndarray, end: float | None = None,
                 within_days: float = WITHIN_DAYS) -> dict:
    """Pieces of ``report_kpis``: counts, and per sent report the values of its delays.
    ``within_days``: the days of the share sent within them (a calibration audit may
    publish another number than the KPI's 8)."""
    return report_parts_by(reports, ByDepartment.whole(len(reports)), warmup, horizon,
                           open_days, end, within_days)[0]


def within_share(p: dict) -> float:
    """Share of the window's reports sent within the pieces' days; one still unsent that
    long after its dictation when the run stopped counts as late."""
    return _ratio(p["within"], p["sent"] + p["unsent_past_within"])


def report_parts_by(reports: pd.DataFrame, g: ByDepartment, warmup: float, horizon: float,
                    open_days: np.ndarray, end: float | None = None,
                    within_days: float = WITHIN_DAYS) -> list[dict]:
    """``report_parts`` of each department of ``g`` in one pass over the rows."""
    end = horizon if end is None else end
    dictated = reports.dictated.to_numpy(dtype=float)
    sent_at = reports.sent.to_numpy(dtype=float)
    window = (dictated >= warmup) & (dictated < horizon)
    is_sent = reports.status.eq("sent").to_numpy(dtype=bool)
    sent, unsent = window & is_sent, window & ~is_sent
    delay_days = (sent_at - dictated) / MINUTES_PER_DAY
    day_gap = np.floor(sent_at / MINUTES_PER_DAY) - np.floor(dictated / MINUTES_PER_DAY)
    target = reports.target_days.to_numpy()
    # An unsent report counts as late only once its deadline has passed before the run ended.
    deadline = (np.floor(dictated / MINUTES_PER_DAY) + target + 1) * MINUTES_PER_DAY
    late_unsent = unsent & (deadline <= end)
    wdays = np.full(len(reports), np.nan)
    wdays[sent] = working_days_between(dictated[sent], sent_at[sent], open_days)
    on_time = sent & (day_gap <= target)
    by_target: list[dict] = [{} for _ in range(g.n)]
    for t in sorted(set(target[window].tolist())):
        this = target == t
        seen, on, n_sent, late = (g.count(window & this), g.count(on_time & this),
                                  g.count(sent & this), g.count(late_unsent & this))
        for i in range(g.n):
            if seen[i]:
                by_target[i][int(t)] = {"on_time": on[i], "sent": n_sent[i],
                                        "late_unsent": late[i]}
    stages = stage_days(*(reports[col].to_numpy(dtype=float) for col in STAGE_TIMES))
    # Reports signed by modelled doctors.
    signed = window & reports.validated.notna().to_numpy(dtype=bool) & _has_doctor(reports)
    backlog = ((reports.status_at_horizon != "sent").to_numpy(dtype=bool)
               & (dictated < horizon))
    return _rows_of({
        "dictated": g.count(window), "sent": g.count(sent), "unsent": g.count(unsent),
        "delay": _kept(g.values(delay_days, sent)),
        "working_days": g.sums(wdays, sent),  # only their mean is read
        "on_time": g.count(on_time), "late_unsent": g.count(late_unsent),
        "within": g.count(sent & (delay_days <= within_days)),
        "unsent_past_within": g.count(unsent & (dictated + within_days * MINUTES_PER_DAY <= end)),
        "backlog": g.count(backlog),
        "targets_seen": [set(by_target[i]) for i in range(g.n)],
        "by_target": by_target,
        **{f"stage_{stage}": _kept(g.values(stages[stage], sent))
           for stage in STAGES},
        "doctor_minutes": g.sums(reports.doctor_minutes.to_numpy(dtype=float), signed),
    }, g.n)


def report_finish(p: dict, targets: list[int] | None = None) -> dict[str, float]:
    """``report_kpis`` from its pieces."""
    delay = p["delay"].array()
    out = {
        "reports_dictated": float(p["dictated"]),
        "reports_sent": float(p["sent"]),
        "reports_unfinished": float(p["unsent"]),
        "report_delay_mean_days": p["delay"].mean(),
        "report_delay_median_days": _median(delay),
        "report_delay_p90_days": _p90(delay),
        "report_delay_mean_working_days": p["working_days"].mean(),
        "report_on_time_share": _ratio(p["on_time"], p["sent"] + p["late_unsent"]),
        f"report_within_{WITHIN_DAYS}d_share": within_share(p),
        "report_backlog": float(p["backlog"]),
    }
    for target in sorted(set(targets if targets is not None else p["targets_seen"])):
        t = p["by_target"].get(int(target), {"on_time": 0, "sent": 0, "late_unsent": 0})
        out[f"report_on_time_share_j{target}"] = _ratio(t["on_time"], t["sent"] + t["late_unsent"])
    for stage in STAGES:
        length = p[f"stage_{stage}"].array()
        out[f"stage_{stage}_mean_days"] = p[f"stage_{stage}"].mean()
        out[f"stage_{stage}_median_days"] = _median(length)
        out[f"stage_{stage}_p90_days"] = _p90(length)
    out["doctor_minutes_per_report"] = p["doctor_minutes"].mean()
    return out


def report_kpis(reports: pd.DataFrame, warmup: float, horizon: float,
                open_days: np.ndarray, targets: list[int] | None = None,
                end: float | None = None) -> dict[str, float]:
    """Delay from dictation to sending, stage delays, on-time shares, backlog at the horizon.

    Reports dictated in [warm-up, horizon) are followed to the end of the run (the model
    keeps running after the horizon, see ``Calendar.follow_up_days``), so their delays are
    not cut at the horizon; those still unsent when the run stops are counted in
    ``reports_unfinished``. ``end`` is when the run stopped (default: the horizon).
    """
    return report_finish(report_parts(reports, warmup, horizon, open_days, end), targets)


def doctor_parts(signoffs: pd.DataFrame, sittings: pd.DataFrame, reports: pd.DataFrame,
                 warmup: float, horizon: float) -> dict:
    """Pieces of ``doctor_kpis``."""
    return doctor_parts_by(signoffs, sittings, reports, ByDepartment.whole(len(signoffs)),
                           ByDepartment.whole(len(sittings)), ByDepartment.whole(len(reports)),
                           warmup, horizon)[0]


def doctor_parts_by(signoffs: pd.DataFrame, sittings: pd.DataFrame, reports: pd.DataFrame,
                    g_signoffs: ByDepartment, g_sittings: ByDepartment, g_reports: ByDepartment,
                    warmup: float, horizon: float) -> list[dict]:
    """``doctor_parts`` of each department in one pass over the rows."""
    start = sittings.start.to_numpy(dtype=float)
    sit = (start >= warmup) & (start < horizon)
    rows = np.add(g_sittings.count(np.ones(len(sittings), dtype=bool)),
                  g_signoffs.count(np.ones(len(signoffs), dtype=bool))).tolist()
    backlog = (reports.status_at_horizon.eq("awaiting_validation").to_numpy(dtype=bool)
               & (reports.dictated.to_numpy(dtype=float) < horizon) & _has_doctor(reports))
    return _rows_of({
        "minutes": g_signoffs.sums(_clip(signoffs, warmup, horizon).to_numpy(dtype=float)),
        "used": g_sittings.sums(sittings.used.to_numpy(dtype=float), sit),
        "available": g_sittings.sums(sittings.available.to_numpy(dtype=float), sit),
        "rows": rows,
        "signoff_backlog": g_reports.count(backlog),
    }, g_reports.n)


def doctor_finish(p: dict, warmup: float, horizon: float) -> dict[str, float]:
    """``doctor_kpis`` from its pieces."""
    weeks = (horizon - warmup) / (7 * MINUTES_PER_DAY)
    modelled = p["rows"] > 0
    return {
        "doctor_hours_per_week": float(p["minutes"].value / 60 / weeks)
        if modelled and weeks > 0 else float("nan"),
        "sitting_use": _ratio(p["used"].value, p["available"].value),
        "signoff_backlog": float(p["signoff_backlog"]) if modelled else float("nan"),
    }


def doctor_kpis(signoffs: pd.DataFrame, sittings: pd.DataFrame, reports: pd.DataFrame,
                warmup: float, horizon: float) -> dict[str, float]:
    """Doctor time on reports in the window: hours a week, sitting use, sign-off backlog."""
    return doctor_finish(doctor_parts(signoffs, sittings, reports, warmup, horizon),
                         warmup, horizon)


def work_parts(tasks: pd.DataFrame, segments: pd.DataFrame, interruptions: pd.DataFrame,
               warmup: float, horizon: float, categories: list[str],
               pending: dict[int, list[float]] | None = None) -> dict:
    """Pieces of ``work_kpis``.

    ``interrupted_time_share`` needs, for each deferrable segment, whether its task was ever
    interrupted, known once the task is final. ``pending`` carries the minutes of segments
    whose task row has not been seen yet from one chunk to the next (the segments of a task
    come in the same chunk as its row or earlier); without it the rows are complete.
    """
    return work_parts_by(tasks, segments, interruptions, ByDepartment.whole(len(tasks)),
                         ByDepartment.whole(len(segments)),
                         ByDepartment.whole(len(interruptions)), warmup, horizon,
                         [{} if pending is None else pending])[0]


def work_parts_by(tasks: pd.DataFrame, segments: pd.DataFrame, interruptions: pd.DataFrame,
                  g_tasks: ByDepartment, g_segments: ByDepartment,
                  g_interruptions: ByDepartment, warmup: float, horizon: float,
                  pending: list[dict[int, list[float]]]) -> list[dict]:
    """``work_parts`` of each department in one pass over the rows (``pending``: one per
    department)."""
    n = g_tasks.n
    minutes = _clip(segments, warmup, horizon).to_numpy(dtype=float)
    deferrable = ~segments.urgent.to_numpy(dtype=bool)
    span_ids = [segments.item_id.to_numpy(dtype=np.int64), tasks.task_id.to_numpy(dtype=np.int64)]
    span = int(max((x.max() for x in span_ids if len(x)), default=0)) + 1
    item = g_segments.codes.astype(np.int64) * span + span_ids[0]  # (department, task)
    task = g_tasks.codes.astype(np.int64) * span + span_ids[1]
    interrupted = tasks.n_interruptions.to_numpy() > 0
    hit_mask = deferrable & np.isin(item, task[interrupted])
    hit = g_segments.sums(minutes, hit_mask)
    if any(pending):  # segments seen earlier whose task row is here: one look-up set
        known, hits = set(task.tolist()), set(task[interrupted].tolist())
        for i, waiting in enumerate(pending):
            for key in [k for k in waiting if k < span and i * span + k in known]:
                values = waiting.pop(key)
                if i * span + key in hits:
                    hit[i].add(values)
    wait = deferrable & ~np.isin(item, task)
    for code, key, value in zip(g_segments.codes[wait].tolist(), span_ids[0][wait].tolist(),
                                minutes[wait].tolist()):
        if code < n:
            pending[code].setdefault(key, []).append(value)
    when = interruptions.time.to_numpy(dtype=float)
    created = tasks.created.to_numpy(dtype=float)
    urgent = tasks.urgent.to_numpy(dtype=bool)
    t = ~urgent & (created >= warmup) & (created < horizon)
    done = t & tasks.status.eq("done").to_numpy(dtype=bool)
    # The backlog is the deferrable work still open at the horizon (remaining work then).
    remaining = tasks.remaining_at_horizon.to_numpy(dtype=float)
    backlog = ~np.isnan(remaining) & ~urgent
    by_category: list[dict] = [{} for _ in range(n)]
    for (code, cat), total in _group_sums([pd.Series(g_segments.codes), segments.category],
                                          minutes).items():
        if code < n:
            by_category[code][cat] = total
    return _rows_of({
        "interruptions": g_interruptions.count((when >= warmup) & (when < horizon)),
        "busy": g_segments.sums(minutes),
        "deferrable": g_segments.sums(minutes, deferrable),
        "hit": hit,
        "done": g_tasks.count(done),
        "done_interrupted": g_tasks.count(done & interrupted),
        "tasks": g_tasks.count(t),
        "resumption": g_tasks.sums(tasks.resumption.to_numpy(dtype=float), t),
        "turnaround": g_tasks.sums(tasks.finished.to_numpy(dtype=float) - created, done),
        "backlog": g_tasks.count(backlog),
        "backlog_remaining": g_tasks.sums(remaining, backlog),
        "by_category": by_category,
    }, n)


def work_finish(p: dict, categories: list[str]) -> dict[str, float]:
    """``work_kpis`` from its pieces."""
    n_int, busy = p["interruptions"], p["busy"].value
    out = {
        "interruptions": float(n_int),
        "interruptions_per_deferrable_hour": _ratio(n_int, p["deferrable"].value / 60),
        "interruptions_per_worked_hour": _ratio(n_int, busy / 60),
        "interrupted_task_share": _ratio(p["done_interrupted"], p["done"]),
        "interrupted_time_share": _ratio(p["hit"].value, busy),
        "resumption_hours": float(p["resumption"].value / 60),
        "deferrable_turnaround_mean_min": p["turnaround"].mean(),
        "tasks_unfinished": float(p["tasks"] - p["done"]),
        "backlog_tasks": float(p["backlog"]),
        "backlog_hours": float(p["backlog_remaining"].value / 60),
        "busy_hours": float(busy / 60),
    }
    for cat in categories:
        total = p["by_category"].get(cat)
        out[f"share_{cat}"] = _ratio(total.value if total is not None else 0.0, busy)
    return out


def work_kpis(tasks: pd.DataFrame, segments: pd.DataFrame, interruptions: pd.DataFrame,
              warmup: float, horizon: float, categories: list[str]) -> dict[str, float]:
    """Interruptions, backlog and time shares per audit category."""
    return work_finish(work_parts(tasks, segments, interruptions, warmup, horizon, categories),
                       categories)


def staff_parts(presence: pd.DataFrame, segments: pd.DataFrame, interruptions: pd.DataFrame,
                warmup: float, horizon: float) -> dict:
    """Pieces of ``staff_rows``: per level and name, minutes on duty, busy (per category)
    and interruptions; each secretary's team. Rows that start at or after the horizon
    are left out: how long the run went on after it (the follow-up, which stops with the
    window's work) must not add a secretary's row.

    The rows are chosen by masks on their names' codes (``_factorized``), never by
    filtering the tables: a filtered copy of a batch's text columns lives in Arrow's
    pool and was the largest step of a reduction (docs/performance.md).
    """
    p_in = presence.start.to_numpy(dtype=float) < horizon
    s_in = segments.start.to_numpy(dtype=float) < horizon
    pres = _clip(presence, warmup, horizon).to_numpy(dtype=float)[p_in]
    seg = _clip(segments, warmup, horizon).to_numpy(dtype=float)[s_in]
    when = interruptions.time.to_numpy(dtype=float)
    i_in = (when >= warmup) & (when < horizon)
    category = _factorized(segments.category, s_in)
    out: dict = {"team_of": _team_of(presence, p_in, segments, s_in)}
    for level, key in (("secretary", "secretary"), ("team", "team"), ("all", None)):
        if key is None:
            on_duty, busy = {ALL: ExactSum(pres)}, {ALL: ExactSum(seg)}
            by_cat = {ALL: _group_sums([category], seg)}
            n_int = {ALL: int(np.count_nonzero(i_in))}
        else:
            by_name = _factorized(segments[key], s_in)
            on_duty = _group_sums([_factorized(presence[key], p_in)], pres)
            busy = _group_sums([by_name], seg)
            by_cat: dict = {}
            for (name, cat), total in _group_sums([by_name, category], seg).items():
                by_cat.setdefault(name, {})[cat] = total
            codes, labels = _factorized(interruptions[key], i_in)
            counts = np.bincount(codes[codes >= 0], minlength=len(labels))
            n_int = {name: int(n) for name, n in zip(labels, counts.tolist())}
        out[level] = {"on_duty": on_duty, "busy": busy, "by_category": by_cat,
                      "interruptions": n_int}
    return out


def _factorized(column: pd.Series, mask: np.ndarray | None = None) -> tuple[np.ndarray, list]:
    """Codes and labels of ``column``'s rows where ``mask`` holds, as ``pd.factorize`` of
    those rows gives them (labels in order of first appearance, -1 for a missing value),
    without copying the rows' text."""
    codes, labels = pd.factorize(column)
    names = labels.tolist()
    if mask is None or mask.all():
        return codes, names
    local, used = pd.factorize(codes[mask])  # the kept codes, in order of first appearance
    present = used >= 0
    renumber = np.full(len(used), -1, dtype=np.intp)  # a missing name's code (-1) stays -1
    renumber[present] = np.arange(np.count_nonzero(present))
    return renumber[local], [names[u] for u in used[present].tolist()]


def _team_of(presence: pd.DataFrame, p_in: np.ndarray, segments: pd.DataFrame,
             s_in: np.ndarray) -> dict[str, str]:
    """Each secretary's team, from her first kept row (presence rows first, then segments),
    as ``drop_duplicates`` of both tables' kept (secretary, team) pairs would give it."""
    out: dict[str, str] = {}
    for rows, mask in ((presence, p_in), (segments, s_in)):
        codes, _ = _factorized(rows.secretary, mask)
        firsts = np.flatnonzero(mask)[np.sort(np.unique(codes, return_index=True)[1])]
        teams = rows.team.iloc[firsts].tolist()
        for name, team in zip(rows.secretary.iloc[firsts].tolist(), teams):
            out.setdefault(name, team)
    return out


def _group_sums(keys: list[pd.Series | tuple[np.ndarray, list]], values: np.ndarray) -> dict:
    """``ExactSum`` of ``values`` per key (a tuple when there are several key columns);
    rows with a missing key are left out, as ``groupby`` does. A key is a column, or its
    rows' ``_factorized`` codes and labels."""
    if not len(values):
        return {}
    combined = np.zeros(len(values), dtype=np.int64)
    missing = np.zeros(len(values), dtype=bool)
    uniques = []
    for k in keys:
        codes, labels = k if isinstance(k, tuple) else _factorized(k)
        missing |= codes < 0
        combined = combined * max(len(labels), 1) + codes
        uniques.append(labels)
    order = np.argsort(combined[~missing], kind="stable")
    ordered = combined[~missing][order]
    grouped = values[~missing][order]
    cuts = np.flatnonzero(np.diff(ordered)) + 1
    out = {}
    for start, stop in zip([0, *cuts.tolist()], [*cuts.tolist(), len(ordered)]):
        if start == stop:
            continue
        code, key = int(ordered[start]), []
        for labels in reversed(uniques):
            code, i = divmod(code, max(len(labels), 1))
            key.append(labels[i])
        out[key[0] if len(keys) == 1 else tuple(reversed(key))] = ExactSum(grouped[start:stop])
    return out


def staff_finish(p: dict, categories: list[str]) -> pd.DataFrame:
    """``staff_rows`` from its pieces."""
    frames = []
    for level in ("secretary", "team", "all"):
        q = p[level]
        names = sorted(set(q["on_duty"]) | set(q["busy"]))
        on_duty = pd.Series([q["on_duty"][n].value if n in q["on_duty"] else 0.0 for n in names],
                            index=names, dtype=float)
        busy = pd.Series([q["busy"][n].value if n in q["busy"] else 0.0 for n in names],
                         index=names, dtype=float)
        n_int = pd.Series([float(q["interruptions"].get(n, 0)) for n in names], index=names,
                          dtype=float)
        out = pd.DataFrame({"level": level, "name": names, "on_duty_hours": on_duty.to_numpy() / 60,
                            "busy_hours": busy.to_numpy() / 60,
                            "utilisation": (busy / on_duty.where(on_duty > 0)).to_numpy(),
                            "interruptions": n_int.to_numpy(),
                            "interruptions_per_hour":
                                (n_int / (on_duty.where(on_duty > 0) / 60)).to_numpy(),
                            "interruptions_per_worked_hour":
                                (n_int / (busy.where(busy > 0) / 60)).to_numpy()})
        for cat in categories:
            minutes = pd.Series([q["by_category"].get(n, {}).get(cat, ExactSum()).value
                                 for n in names], index=names, dtype=float)
            out[f"share_{cat}"] = (minutes / busy.where(busy > 0)).to_numpy()
        frames.append(out)
    rows = pd.concat(frames, ignore_index=True)
    team_of = p["team_of"]
    rows.insert(2, "team", [team_of.get(n, n) if lvl == "secretary" else n
                            for lvl, n in zip(rows.level, rows.name)])
    return rows


def staff_rows(presence: pd.DataFrame, segments: pd.DataFrame, interruptions: pd.DataFrame,
               warmup: float, horizon: float, categories: list[str]) -> pd.DataFrame:
    """Utilisation, interruptions per on-duty hour and time shares per secretary, team, ALL."""
    return staff_finish(staff_parts(presence, segments, interruptions, warmup, horizon),
                        categories)


DEPARTMENT_TABLES = ("calls", "visits", "reports", "signoffs", "sittings", "tasks", "segments",
                     "interruptions")


def department_parts(tables: dict[str, pd.DataFrame], warmup: float, horizon: float,
                     sl_minutes: float, open_days: np.ndarray, categories: list[str],
                     departments: list[str], end: float | None = None,
                     pending: dict[str, dict[int, list[float]]] | None = None,
                     all_from_departments: bool = False, only_present: bool = False) -> dict:
    """Pieces of ``department_rows``, per department and ``ALL`` (``pending``: see
    ``work_parts``, one per department).

    Every department's pieces come from one pass over each table (``ByDepartment``), so the
    cost does not grow with the number of departments. ``all_from_departments``: the
    pieces of ``ALL`` merged from those of every department present (the same figures,
    every piece being additive; one pass fewer over the rows). ``only_present`` (with
    it): pieces only for the departments with rows in ``tables`` (those of the others
    would be empty: merging them changes nothing), so a chunk of one part of a big
    group costs what its departments cost.
    """
    pending = {} if pending is None else pending
    if all_from_departments:
        present = set() if only_present else set(departments)
        for name in DEPARTMENT_TABLES:
            present |= set(tables[name].department.unique().tolist())
        names = sorted(present)
    else:
        names = list(departments)
    index = {dept: i for i, dept in enumerate(names)}
    groups = {name: ByDepartment.of(tables[name].department, index)
              for name in DEPARTMENT_TABLES}
    out = dict(zip(names, _parts_by(tables, groups, warmup, horizon, sl_minutes, open_days,
                                    end, [pending.setdefault(d, {}) for d in names])))
    if all_from_departments:
        every: dict = {}
        for dept in names:
            merge_parts(every, out[dept])
        return {ALL: every, **{d: out[d] for d in departments if d in out}}
    whole = {name: ByDepartment.whole(len(tables[name])) for name in DEPARTMENT_TABLES}
    (every,) = _parts_by(tables, whole, warmup, horizon, sl_minutes, open_days, end,
                         [pending.setdefault(ALL, {})])
    return {ALL: every, **out}


def _parts_by(t: dict[str, pd.DataFrame], g: dict[str, ByDepartment], warmup: float,
              horizon: float, sl_minutes: float, open_days: np.ndarray, end: float | None,
              pending: list[dict[int, list[float]]]) -> list[dict]:
    """The KPI pieces of each group of ``g`` (one ``ByDepartment`` per table)."""
    columns = {
        "calls": call_parts_by(t["calls"], g["calls"], warmup, sl_minutes, horizon),
        "visits": visit_parts_by(t["visits"], g["visits"], warmup, horizon),
        "reports": report_parts_by(t["reports"], g["reports"], warmup, horizon, open_days, end),
        "doctors": doctor_parts_by(t["signoffs"], t["sittings"], t["reports"], g["signoffs"],
                                   g["sittings"], g["reports"], warmup, horizon),
        "work": work_parts_by(t["tasks"], t["segments"], t["interruptions"], g["tasks"],
                              g["segments"], g["interruptions"], warmup, horizon, pending),
    }
    return _rows_of(columns, len(pending))


def department_finish(parts: dict, staff: pd.DataFrame, warmup: float, horizon: float,
                      categories: list[str], departments: list[str],
                      targets: list[int] | None) -> pd.DataFrame:
    """``department_rows`` from its pieces and the staff rows."""
    all_row = staff[staff.level == "all"].iloc[0]
    rows = []
    for dept in [ALL, *departments]:
        p = parts[dept]
        row: dict[str, object] = {"department": dept}
        row.update(call_finish(p["calls"]))
        row.update(visit_finish(p["visits"]))
        row.update(report_finish(p["reports"], targets))
        row.update(doctor_finish(p["doctors"], warmup, horizon))
        row.update(work_finish(p["work"], categories))
        # Staff belong to teams, not departments: on-duty figures only for the whole group.
        row["utilisation"] = all_row.utilisation if dept == ALL else float("nan")
        row["interruptions_per_hour"] = (all_row.interruptions_per_hour if dept == ALL
                                         else float("nan"))
        row["on_duty_hours"] = all_row.on_duty_hours if dept == ALL else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def department_rows(tables: dict[str, pd.DataFrame], warmup: float, horizon: float,
                    sl_minutes: float, open_days: np.ndarray, categories: list[str],
                    departments: list[str], staff: pd.DataFrame | None = None,
                    targets: list[int] | None = None, end: float | None = None) -> pd.DataFrame:
    """One KPI row per department plus an ``ALL`` row.

    ``staff`` is ``staff_rows`` of the same tables, when the caller has it already;
    ``targets`` the report targets (days) declared by the streams; ``end`` when the run
    stopped (after the follow-up).
    """
    if targets is None:
        targets = sorted(int(x) for x in tables["reports"].target_days.unique())
    if staff is None:
        staff = staff_rows(tables["presence"], tables["segments"], tables["interruptions"],
                           warmup, horizon, categories)
    parts = department_parts(tables, warmup, horizon, sl_minutes, open_days, categories,
                             departments, end)
    return department_finish(parts, staff, warmup, horizon, categories, departments, targets)


def hourly_parts(calls: pd.DataFrame, warmup: float, horizon: float = np.inf) -> dict:
    """Pieces of ``hourly_pickup``: offered and answered first-leg calls per department and
    hour, as ``groupby(["department", "hour"])`` gives them (sorted by both), counted on
    the rows' codes rather than on a filtered copy of the calls' text."""
    arrival = calls.arrival.to_numpy(dtype=float)
    keep = ((arrival >= warmup) & (arrival < horizon) & calls.leg.eq("first").to_numpy(dtype=bool)
            & calls.outcome.isin(["answered", "abandoned", "cut_off"]).to_numpy(dtype=bool))
    codes, names = _factorized(calls.department, keep)
    answered = calls.outcome.eq("answered").to_numpy(dtype=bool)[keep]
    hour = ((arrival[keep] % MINUTES_PER_DAY) // 60).astype(np.int64)
    known = codes >= 0  # a missing department is no group (as groupby's dropna)
    by_name = sorted(range(len(names)), key=names.__getitem__)
    rank = np.empty(len(names), dtype=np.int64)
    rank[by_name] = np.arange(len(names))
    # 24 hours a department, more if a clock ever rounded to 24:00 (no cell may spill over).
    hours = max(24, int(hour.max()) + 1 if len(hour) else 0)
    key = rank[codes[known]] * hours + hour[known]
    offered = np.bincount(key, minlength=hours * len(names))
    picked = np.bincount(key[answered[known]], minlength=hours * len(names))
    cells = np.flatnonzero(offered)
    return {"counts": [pd.DataFrame({
        "department": pd.array([names[by_name[i]] for i in (cells // hours).tolist()],
                               dtype=calls.department.dtype),
        "hour": cells % hours, "offered": offered[cells], "answered": picked[cells]})]}


def hourly_finish(p: dict) -> pd.DataFrame:
    """``hourly_pickup`` from its pieces."""
    counts = [c for c in p["counts"] if len(c)] or p["counts"][:1]
    out = counts[0] if len(counts) == 1 else (
        pd.concat(counts, ignore_index=True).groupby(["department", "hour"])
        .agg(offered=("offered", "sum"), answered=("answered", "sum")).reset_index())
    tot = out.groupby("hour")[["offered", "answered"]].sum().reset_index().assign(department=ALL)
    return pd.concat([tot, out], ignore_index=True)[["department", "hour", "offered", "answered"]]


def hourly_pickup(calls: pd.DataFrame, warmup: float, horizon: float = np.inf) -> pd.DataFrame:
    """Offered and answered first-leg calls per department and hour of day."""
    return hourly_finish(hourly_parts(calls, warmup, horizon))


def delay_parts(reports: pd.DataFrame, warmup: float, horizon: float = np.inf) -> dict:
    """Pieces of ``report_delays``: the columns it is made of for the chunk's sent reports,
    with their ids, as ``_packed`` columns (kept until the end of the run: the fewest bytes)."""
    r = reports[(reports.dictated >= warmup) & (reports.dictated < horizon)
                & (reports.status == "sent")]
    return {"rows": [{col: _packed(r[col].to_numpy()) for col in DELAY_COLUMNS}]}


# What ``report_delays`` is made of: its delays and stage lengths are computed at the end.
DELAY_COLUMNS = ("report_id", "dictated", "department", "stream", "mode", "target_days",
                 "typing_started", "typed", "validated", "sent", "doctor_minutes")


def _packed(values: np.ndarray) -> tuple:
    """A column in few bytes, given back by ``_unpacked`` as it was: text as codes into its
    distinct values (a string a row would stay in Arrow's pool until the end), integers
    at the smallest type that holds them."""
    if values.dtype == object:
        codes, labels = pd.factorize(values, use_na_sentinel=False)
        return _packed(codes), np.asarray(labels, dtype=object)
    if values.dtype.kind in "iu" and len(values):
        small = np.result_type(np.min_scalar_type(values.min()), np.min_scalar_type(values.max()))
        return values.astype(small), values.dtype
    return values, values.dtype


def _unpacked(packed: tuple) -> np.ndarray:
    values, how = packed
    if isinstance(values, tuple):  # codes into the labels ``how``
        return how[_unpacked(values)]
    return values.astype(how, copy=False)


def delay_finish(p: dict) -> pd.DataFrame:
    """``report_delays`` from its pieces, in dictation order (ties: by department, stream,
    then id, which is the order within a stream): the same order however the run was cut
    into parts (``engine.partition``) or chunks.

    Made column by column, each put in that order as soon as it is unpacked, the text ones
    from their few names (read back from Arrow, a text column would make a Python string a
    row), so the end of a long run holds little more than the table itself
    (docs/performance.md)."""
    rows = [r for r in p["rows"] if len(r["report_id"][0])] or p["rows"][:1]  # ids: integers

    def column(col: str) -> np.ndarray:
        if len(rows) == 1:
            return _unpacked(rows[0][col])
        return np.concatenate([_unpacked(chunk[col]) for chunk in rows])

    # Text sorts by its rank among the sorted names (a stable sort, as sort_values).
    ranks = [pd.factorize(column(col), sort=True)[0] for col in ("stream", "department")]
    order = np.lexsort((column("report_id"), *ranks, np.asarray(column("dictated"), dtype=float)))
    del ranks
    out = {col: pd.array(column(col)[order], dtype="str")  # text even when there is none
           for col in ("department", "stream", "mode")}
    out["target_days"] = column("target_days")[order]
    # Times as floats even when a hand-made column is all None.
    times = {col: np.asarray(column(col), dtype=float)[order] for col in STAGE_TIMES}
    out["delay_days"] = (times["sent"] - times["dictated"]) / MINUTES_PER_DAY
    out.update({f"{stage}_days": days for stage, days in stage_days(**times).items()})
    del times
    out["doctor_minutes"] = column("doctor_minutes")[order]
    return pd.DataFrame(out, copy=False)


# The report pieces that ``report_delays`` holds too (``without_delay_values``).
DELAY_VALUES = {"delay": "delay_days", **{f"stage_{s}": f"{s}_days" for s in STAGES}}


def without_delay_values(parts: dict) -> dict:
    """Department pieces without the values of the delays and stage lengths of their sent
    reports, which the ``report_delays`` rows hold as well (``with_delay_values`` puts them
    back from those): a run keeps them once."""
    for piece in parts.values():
        for key in DELAY_VALUES:
            piece["reports"].pop(key, None)
    return parts


def with_delay_values(parts: dict, delays: pd.DataFrame) -> dict:
    """The department pieces (every department and ``ALL``) with the delay and stage
    values of their sent reports taken from ``report_delays``: the same values as
    ``report_parts`` keeps (in another order, which no figure read from them depends on)."""
    names = [d for d in parts if d != ALL]
    g = ByDepartment.of(delays.department, {d: i for i, d in enumerate(names)})
    for key, col in DELAY_VALUES.items():
        every = Kept()  # shares the departments' arrays
        for dept, x in zip(names, g.values(delays[col].to_numpy(dtype=float))):
            parts[dept]["reports"][key] = Kept(x)
            every.merge(parts[dept]["reports"][key])
        parts[ALL]["reports"][key] = every
    return parts


def report_delays(reports: pd.DataFrame, warmup: float, horizon: float = np.inf) -> pd.DataFrame:
    """Delay and stage lengths in calendar days of each report of the window that was sent."""
    return delay_finish(delay_parts(reports, warmup, horizon))
