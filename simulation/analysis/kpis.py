"""KPIs of one replication, as pure functions over its record tables.

Every KPI is defined once here and documented in the README ("KPI definitions"). Work
arriving during the warm-up is excluded; time-based figures are clipped to the window
[warm-up end, horizon end]. Per-department rows use the department of the work; staff
figures (utilisation, interruptions per on-duty hour) are in ``staff_kpis``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation.scenario.calendar import MINUTES_PER_DAY, working_days_between

ALL = "ALL"


def _clip(df: pd.DataFrame, start: float, end: float, a: str = "start", b: str = "end") -> pd.Series:
    """Minutes of each [a, b) interval inside the window [start, end)."""
    return (df[b].clip(upper=end) - df[a].clip(lower=start)).clip(lower=0.0)


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den > 0 else float("nan")


def _p90(x: pd.Series) -> float:
    return float(np.percentile(x, 90)) if len(x) else float("nan")


def call_kpis(calls: pd.DataFrame, warmup: float, sl_minutes: float) -> dict[str, float]:
    """Pickup, waits and abandonment of first-leg calls arriving after the warm-up."""
    c = calls[(calls.arrival >= warmup)]
    first = c[c.leg == "first"]
    answered = first[first.outcome == "answered"]
    abandoned = first[first.outcome == "abandoned"]
    cut_off = first[first.outcome == "cut_off"]  # still waiting when the line closed
    resolved = len(answered) + len(abandoned) + len(cut_off)
    wait = answered.answered - answered.arrival
    transfers = c[c.leg == "transfer"]
    t_res = transfers[transfers.outcome.isin(["answered", "abandoned", "cut_off"])]
    served, done = _callers(c[c.caller_id.isin(first.caller_id[first.attempt == 1])])
    return {
        "calls_attempted": float(len(first)),
        "calls_offered": float(resolved),
        "calls_answered": float(len(answered)),
        "calls_abandoned": float(len(abandoned)),
        "calls_cut_off": float(len(cut_off)),
        "calls_closed": float((first.outcome == "closed").sum()),
        "calls_in_system": float((first.outcome == "in_system").sum()),
        "closed_share": _ratio((first.outcome == "closed").sum(), len(first)),
        "pickup_rate": _ratio(len(answered), resolved),
        "pickup_rate_callers": _ratio((served & done).sum(), done.sum()),
        "service_level": _ratio((wait <= sl_minutes).sum(), resolved),
        "abandonment_rate": _ratio(len(abandoned) + len(cut_off), resolved),
        "wait_mean_min": float(wait.mean()) if len(wait) else float("nan"),
        "wait_p90_min": _p90(wait),
        "transfers": float(len(transfers)),
        "transfer_abandonment_rate": _ratio((t_res.outcome != "answered").sum(), len(t_res)),
        "calls_lost_after_transfer": float(
            transfers.outcome.isin(["abandoned", "cut_off"]).sum()),
    }


def _callers(own: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per caller (all attempts, both legs): served at last, and no longer in the system.

    Served: answered and not transferred, or answered after a transfer. Still in the
    system: an attempt waiting at the horizon, a redial scheduled after the horizon (on
    the caller's last attempt), or a transfer not yet handed over.
    """
    served = own.outcome.eq("answered") & ~own.transferred
    last = own.attempt.eq(own.groupby("caller_id").attempt.transform("max"))
    pending = (own.outcome.eq("in_system") | (own.redial_at.notna() & last)
               | (own.transferred & own.ended.isna()))
    by_caller = own.caller_id
    return served.groupby(by_caller).any(), ~pending.groupby(by_caller).any()


def visit_kpis(visits: pd.DataFrame, warmup: float) -> dict[str, float]:
    """Waiting at the desk for walk-ins arriving after the warm-up."""
    v = visits[visits.arrival >= warmup]
    served = v[v.outcome == "served"]
    wait = served.started - served.arrival
    left = (v.outcome == "left").sum()
    sent_away = (v.outcome == "sent_away").sum()  # still waiting when the desk closed
    return {
        "walkins": float(len(v)),
        "walkin_wait_mean_min": float(wait.mean()) if len(wait) else float("nan"),
        "walkin_wait_p90_min": _p90(wait),
        "walkins_left_share": _ratio(left + sent_away, len(served) + left + sent_away),
        "walkins_sent_away": float(sent_away),
        "walkins_closed": float((v.outcome == "closed").sum()),
    }


def report_kpis(reports: pd.DataFrame, warmup: float, horizon: float,
                open_days: np.ndarray) -> dict[str, float]:
    """Delay from dictation to sending, on-time share and report backlog."""
    r = reports[reports.dictated >= warmup]
    sent = r[r.status == "sent"]
    delay_days = (sent.sent - sent.dictated) / MINUTES_PER_DAY
    day_gap = np.floor(sent.sent / MINUTES_PER_DAY) - np.floor(sent.dictated / MINUTES_PER_DAY)
    on_time = (day_gap <= sent.target_days).sum()
    # An unsent report counts as late only once its deadline has passed within the horizon.
    unsent = r[r.status != "sent"]
    deadline = (np.floor(unsent.dictated / MINUTES_PER_DAY) + unsent.target_days + 1) * MINUTES_PER_DAY
    known_late = (deadline <= horizon).sum()
    wdays = working_days_between(sent.dictated.to_numpy(), sent.sent.to_numpy(), open_days)
    return {
        "reports_dictated": float(len(r)),
        "reports_sent": float(len(sent)),
        "report_delay_mean_days": float(delay_days.mean()) if len(sent) else float("nan"),
        "report_delay_median_days": float(delay_days.median()) if len(sent) else float("nan"),
        "report_delay_p90_days": _p90(delay_days),
        "report_delay_mean_working_days": float(wdays.mean()) if len(sent) else float("nan"),
        "report_on_time_share": _ratio(on_time, len(sent) + known_late),
        "report_backlog": float((reports.status != "sent").sum()),
    }


def work_kpis(tasks: pd.DataFrame, segments: pd.DataFrame, interruptions: pd.DataFrame,
              warmup: float, horizon: float, categories: list[str]) -> dict[str, float]:
    """Interruptions, backlog and time shares per audit category."""
    seg = segments.assign(minutes=_clip(segments, warmup, horizon))
    busy = seg.minutes.sum()
    deferrable = seg[~seg.urgent]
    t = tasks[(~tasks.urgent) & (tasks.created >= warmup)]
    done = t[t.status == "done"]
    hit = set(tasks.task_id[tasks.n_interruptions > 0])
    hit_time = deferrable.minutes[deferrable.item_id.isin(hit)].sum()
    n_int = (interruptions.time >= warmup).sum()
    backlog = tasks[(tasks.status == "backlog") & (~tasks.urgent)]
    out = {
        "interruptions": float(n_int),
        "interruptions_per_deferrable_hour": _ratio(n_int, deferrable.minutes.sum() / 60),
        "interrupted_task_share": _ratio((done.n_interruptions > 0).sum(), len(done)),
        "interrupted_time_share": _ratio(hit_time, busy),
        "resumption_hours": float(t.resumption.sum() / 60),
        "deferrable_turnaround_mean_min": float((done.finished - done.created).mean())
        if len(done) else float("nan"),
        "backlog_tasks": float(len(backlog)),
        "backlog_hours": float(backlog.remaining.sum() / 60),
        "busy_hours": float(busy / 60),
    }
    by_cat = seg.groupby("category").minutes.sum()
    for cat in categories:
        out[f"share_{cat}"] = _ratio(by_cat.get(cat, 0.0), busy)
    return out


def staff_rows(presence: pd.DataFrame, segments: pd.DataFrame, interruptions: pd.DataFrame,
               warmup: float, horizon: float, categories: list[str]) -> pd.DataFrame:
    """Utilisation, interruptions per on-duty hour and time shares per secretary, team, ALL."""
    pres = presence.assign(minutes=_clip(presence, warmup, horizon))
    seg = segments.assign(minutes=_clip(segments, warmup, horizon))
    ints = interruptions[interruptions.time >= warmup]
    frames = []
    for level, key in (("secretary", "secretary"), ("team", "team"), ("all", None)):
        if key is None:
            on_duty = pd.Series({ALL: pres.minutes.sum()})
            busy = pd.Series({ALL: seg.minutes.sum()})
            n_int = pd.Series({ALL: float(len(ints))})
            by_cat = seg.groupby("category").minutes.sum().to_frame(ALL).T
        else:
            on_duty = pres.groupby(key).minutes.sum()
            busy = seg.groupby(key).minutes.sum()
            n_int = ints.groupby(key).size().astype(float)
            by_cat = seg.pivot_table(index=key, columns="category", values="minutes",
                                     aggfunc="sum", fill_value=0.0)
        names = sorted(set(on_duty.index) | set(busy.index))
        on_duty, busy = on_duty.reindex(names, fill_value=0.0), busy.reindex(names, fill_value=0.0)
        n_int = n_int.reindex(names, fill_value=0.0)
        out = pd.DataFrame({"level": level, "name": names, "on_duty_hours": on_duty.to_numpy() / 60,
                            "busy_hours": busy.to_numpy() / 60,
                            "utilisation": (busy / on_duty.where(on_duty > 0)).to_numpy(),
                            "interruptions": n_int.to_numpy(),
                            "interruptions_per_hour":
                                (n_int / (on_duty.where(on_duty > 0) / 60)).to_numpy()})
        by_cat = by_cat.reindex(index=names, columns=categories, fill_value=0.0)
        for cat in categories:
            out[f"share_{cat}"] = (by_cat[cat] / busy.where(busy > 0)).to_numpy()
        frames.append(out)
    team_of = pd.concat([presence[["secretary", "team"]], segments[["secretary", "team"]]]) \
        .drop_duplicates("secretary").set_index("secretary").team
    rows = pd.concat(frames, ignore_index=True)
    rows.insert(2, "team", [team_of.get(n, n) if lvl == "secretary" else n
                            for lvl, n in zip(rows.level, rows.name)])
    return rows


def department_rows(tables: dict[str, pd.DataFrame], warmup: float, horizon: float,
                    sl_minutes: float, open_days: np.ndarray, categories: list[str],
                    departments: list[str], staff: pd.DataFrame | None = None) -> pd.DataFrame:
    """One KPI row per department plus an ``ALL`` row.

    ``staff`` is ``staff_rows`` of the same tables, when the caller has it already.
    """
    if staff is None:
        staff = staff_rows(tables["presence"], tables["segments"], tables["interruptions"],
                           warmup, horizon, categories)
    all_row = staff[staff.level == "all"].iloc[0]
    rows = []
    for dept in [ALL, *departments]:
        pick = (lambda df: df) if dept == ALL else (lambda df, d=dept: df[df.department == d])
        row: dict[str, object] = {"department": dept}
        row.update(call_kpis(pick(tables["calls"]), warmup, sl_minutes))
        row.update(visit_kpis(pick(tables["visits"]), warmup))
        row.update(report_kpis(pick(tables["reports"]), warmup, horizon, open_days))
        row.update(work_kpis(pick(tables["tasks"]), pick(tables["segments"]),
                             pick(tables["interruptions"]), warmup, horizon, categories))
        # Staff belong to teams, not departments: on-duty figures only for the whole group.
        row["utilisation"] = all_row.utilisation if dept == ALL else float("nan")
        row["interruptions_per_hour"] = (all_row.interruptions_per_hour if dept == ALL
                                         else float("nan"))
        row["on_duty_hours"] = all_row.on_duty_hours if dept == ALL else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def hourly_pickup(calls: pd.DataFrame, warmup: float) -> pd.DataFrame:
    """Offered and answered first-leg calls per department and hour of day."""
    c = calls[(calls.arrival >= warmup) & (calls.leg == "first")]
    c = c[c.outcome.isin(["answered", "abandoned", "cut_off"])]
    hour = ((c.arrival % MINUTES_PER_DAY) // 60).astype(int)
    g = c.assign(hour=hour, answered_flag=(c.outcome == "answered")).groupby(["department", "hour"])
    out = g.agg(offered=("answered_flag", "size"), answered=("answered_flag", "sum")).reset_index()
    tot = out.groupby("hour")[["offered", "answered"]].sum().reset_index().assign(department=ALL)
    return pd.concat([tot, out], ignore_index=True)[["department", "hour", "offered", "answered"]]


def report_delays(reports: pd.DataFrame, warmup: float) -> pd.DataFrame:
    """Delay in calendar days of each report dictated after the warm-up and sent."""
    r = reports[(reports.dictated >= warmup) & (reports.status == "sent")]
    return pd.DataFrame({"department": r.department.to_numpy(), "stream": r.stream.to_numpy(),
                         "mode": r["mode"].to_numpy(),
                         "delay_days": ((r.sent - r.dictated) / MINUTES_PER_DAY).to_numpy()})
