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


def _has_doctor(reports: pd.DataFrame) -> pd.Series:
    """Reports signed by a modelled doctor (null, or '' in hand-made tables, when none)."""
    return reports.doctor.fillna("").astype(str) != ""


def _p90(x: pd.Series) -> float:
    return float(np.percentile(x, 90)) if len(x) else float("nan")


def call_kpis(calls: pd.DataFrame, warmup: float, sl_minutes: float,
              horizon: float = np.inf) -> dict[str, float]:
    """Pickup, waits and abandonment of first-leg calls arriving in [warm-up, horizon)."""
    c = calls[(calls.arrival >= warmup) & (calls.arrival < horizon)]
    first = c[c.leg == "first"]
    answered = first[first.outcome == "answered"]
    abandoned = first[first.outcome == "abandoned"]
    cut_off = first[first.outcome == "cut_off"]  # still waiting when the line closed
    resolved = len(answered) + len(abandoned) + len(cut_off)
    wait = answered.answered - answered.arrival
    transfers = c[c.leg == "transfer"]
    t_res = transfers[transfers.outcome.isin(["answered", "abandoned", "cut_off"])]
    # Callers whose first attempt is in the window, followed over all their attempts (the
    # follow-up after the horizon resolves most pending redials).
    served, done = _callers(calls[calls.caller_id.isin(first.caller_id[first.attempt == 1])])
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


def visit_kpis(visits: pd.DataFrame, warmup: float, horizon: float = np.inf) -> dict[str, float]:
    """Waiting at the desk for walk-ins arriving in [warm-up, horizon)."""
    v = visits[(visits.arrival >= warmup) & (visits.arrival < horizon)]
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


STAGES = ("wait_typing", "typing", "wait_signoff", "sending")


def stage_lengths(sent: pd.DataFrame) -> pd.DataFrame:
    """Calendar days each sent report spent in each stage; the four add up to its delay.

    dictated -> typing starts -> typed -> signed (rework included) -> sent. Front-end
    reports are never typed: their typing stages are zero and sign-off counts from dictation.
    """
    typed = sent.typed.fillna(sent.dictated)
    started = sent.typing_started.fillna(sent.dictated)
    return pd.DataFrame({"wait_typing": started - sent.dictated, "typing": typed - started,
                         "wait_signoff": sent.validated - typed,
                         "sending": sent.sent - sent.validated}) / MINUTES_PER_DAY
WITHIN_DAYS = 8  # the share sent within 8 days is what hospitals publish (CHUV 2013-2019)


def report_kpis(reports: pd.DataFrame, warmup: float, horizon: float,
                open_days: np.ndarray, targets: list[int] | None = None,
                end: float | None = None) -> dict[str, float]:
    """Delay from dictation to sending, stage delays, on-time shares, backlog at the horizon.

    Reports dictated in [warm-up, horizon) are followed to the end of the run (the model
    keeps running after the horizon, see ``Calendar.follow_up_days``), so their delays are
    not cut at the horizon; those still unsent when the run stops are counted in
    ``reports_unfinished``. ``end`` is when the run stopped (default: the horizon).
    """
    end = horizon if end is None else end
    r = reports[(reports.dictated >= warmup) & (reports.dictated < horizon)]
    sent = r[r.status == "sent"]
    delay_days = (sent.sent - sent.dictated) / MINUTES_PER_DAY
    day_gap = np.floor(sent.sent / MINUTES_PER_DAY) - np.floor(sent.dictated / MINUTES_PER_DAY)
    # An unsent report counts as late only once its deadline has passed before the run ended.
    unsent = r[r.status != "sent"]
    deadline = (np.floor(unsent.dictated / MINUTES_PER_DAY) + unsent.target_days + 1) * MINUTES_PER_DAY
    late_unsent = deadline <= end
    wdays = working_days_between(sent.dictated.to_numpy(), sent.sent.to_numpy(), open_days)
    out = {
        "reports_dictated": float(len(r)),
        "reports_sent": float(len(sent)),
        "reports_unfinished": float(len(unsent)),
        "report_delay_mean_days": _mean(delay_days),
        "report_delay_median_days": float(delay_days.median()) if len(sent) else float("nan"),
        "report_delay_p90_days": _p90(delay_days),
        "report_delay_mean_working_days": _mean(pd.Series(wdays)),
        "report_on_time_share": _ratio((day_gap <= sent.target_days).sum(),
                                       len(sent) + late_unsent.sum()),
        f"report_within_{WITHIN_DAYS}d_share": _ratio((delay_days <= WITHIN_DAYS).sum(),
                                                   len(sent) + (unsent.dictated + WITHIN_DAYS
                                                                * MINUTES_PER_DAY <= end).sum()),
        "report_backlog": float((reports.status_at_horizon[reports.dictated < horizon]
                                 != "sent").sum()),
    }
    for target in sorted(set(targets if targets is not None else r.target_days.unique())):
        s, u = sent.target_days == target, unsent.target_days == target
        out[f"report_on_time_share_j{target}"] = _ratio(
            (day_gap[s] <= target).sum(), s.sum() + late_unsent[u].sum())
    stages = stage_lengths(sent)
    for stage in STAGES:
        length = stages[stage]
        out[f"stage_{stage}_mean_days"] = _mean(length)
        out[f"stage_{stage}_median_days"] = float(length.median()) if len(length) else float("nan")
        out[f"stage_{stage}_p90_days"] = _p90(length)
    signed = r[r.validated.notna() & _has_doctor(r)]  # reports signed by modelled doctors
    out["doctor_minutes_per_report"] = _mean(signed.doctor_minutes)
    return out


def doctor_kpis(signoffs: pd.DataFrame, sittings: pd.DataFrame, reports: pd.DataFrame,
                warmup: float, horizon: float) -> dict[str, float]:
    """Doctor time on reports in the window: hours a week, sitting use, sign-off backlog."""
    weeks = (horizon - warmup) / (7 * MINUTES_PER_DAY)
    minutes = _clip(signoffs, warmup, horizon).sum()
    sit = sittings[(sittings.start >= warmup) & (sittings.start < horizon)]
    modelled = len(sittings) > 0 or len(signoffs) > 0
    return {
        "doctor_hours_per_week": float(minutes / 60 / weeks) if modelled and weeks > 0
        else float("nan"),
        "sitting_use": _ratio(sit.used.sum(), sit.available.sum()),
        "signoff_backlog": float(((reports.status_at_horizon == "awaiting_validation")
                                  & (reports.dictated < horizon) & _has_doctor(reports)).sum())
        if modelled else float("nan"),
    }


def _mean(x: pd.Series) -> float:
    return float(x.mean()) if len(x) else float("nan")


def work_kpis(tasks: pd.DataFrame, segments: pd.DataFrame, interruptions: pd.DataFrame,
              warmup: float, horizon: float, categories: list[str]) -> dict[str, float]:
    """Interruptions, backlog and time shares per audit category."""
    seg = segments.assign(minutes=_clip(segments, warmup, horizon))
    busy = seg.minutes.sum()
    deferrable = seg[~seg.urgent]
    t = tasks[(~tasks.urgent) & (tasks.created >= warmup) & (tasks.created < horizon)]
    done = t[t.status == "done"]
    hit = set(tasks.task_id[tasks.n_interruptions > 0])
    hit_time = deferrable.minutes[deferrable.item_id.isin(hit)].sum()
    n_int = ((interruptions.time >= warmup) & (interruptions.time < horizon)).sum()
    # The backlog is the deferrable work still open at the horizon (remaining work then).
    backlog = tasks[tasks.remaining_at_horizon.notna() & (~tasks.urgent)]
    out = {
        "interruptions": float(n_int),
        "interruptions_per_deferrable_hour": _ratio(n_int, deferrable.minutes.sum() / 60),
        "interruptions_per_worked_hour": _ratio(n_int, busy / 60),
        "interrupted_task_share": _ratio((done.n_interruptions > 0).sum(), len(done)),
        "interrupted_time_share": _ratio(hit_time, busy),
        "resumption_hours": float(t.resumption.sum() / 60),
        "deferrable_turnaround_mean_min": float((done.finished - done.created).mean())
        if len(done) else float("nan"),
        "tasks_unfinished": float(len(t) - len(done)),
        "backlog_tasks": float(len(backlog)),
        "backlog_hours": float(backlog.remaining_at_horizon.sum() / 60),
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
    ints = interruptions[(interruptions.time >= warmup) & (interruptions.time < horizon)]
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
                                (n_int / (on_duty.where(on_duty > 0) / 60)).to_numpy(),
                            "interruptions_per_worked_hour":
                                (n_int / (busy.where(busy > 0) / 60)).to_numpy()})
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
    all_row = staff[staff.level == "all"].iloc[0]
    rows = []
    for dept in [ALL, *departments]:
        pick = (lambda df: df) if dept == ALL else (lambda df, d=dept: df[df.department == d])
        row: dict[str, object] = {"department": dept}
        row.update(call_kpis(pick(tables["calls"]), warmup, sl_minutes, horizon))
        row.update(visit_kpis(pick(tables["visits"]), warmup, horizon))
        row.update(report_kpis(pick(tables["reports"]), warmup, horizon, open_days, targets, end))
        row.update(doctor_kpis(pick(tables["signoffs"]), pick(tables["sittings"]),
                               pick(tables["reports"]), warmup, horizon))
        row.update(work_kpis(pick(tables["tasks"]), pick(tables["segments"]),
                             pick(tables["interruptions"]), warmup, horizon, categories))
        # Staff belong to teams, not departments: on-duty figures only for the whole group.
        row["utilisation"] = all_row.utilisation if dept == ALL else float("nan")
        row["interruptions_per_hour"] = (all_row.interruptions_per_hour if dept == ALL
                                         else float("nan"))
        row["on_duty_hours"] = all_row.on_duty_hours if dept == ALL else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def hourly_pickup(calls: pd.DataFrame, warmup: float, horizon: float = np.inf) -> pd.DataFrame:
    """Offered and answered first-leg calls per department and hour of day."""
    c = calls[(calls.arrival >= warmup) & (calls.arrival < horizon) & (calls.leg == "first")]
    c = c[c.outcome.isin(["answered", "abandoned", "cut_off"])]
    hour = ((c.arrival % MINUTES_PER_DAY) // 60).astype(int)
    g = c.assign(hour=hour, answered_flag=(c.outcome == "answered")).groupby(["department", "hour"])
    out = g.agg(offered=("answered_flag", "size"), answered=("answered_flag", "sum")).reset_index()
    tot = out.groupby("hour")[["offered", "answered"]].sum().reset_index().assign(department=ALL)
    return pd.concat([tot, out], ignore_index=True)[["department", "hour", "offered", "answered"]]


def report_delays(reports: pd.DataFrame, warmup: float, horizon: float = np.inf) -> pd.DataFrame:
    """Delay and stage lengths in calendar days of each report of the window that was sent."""
    r = reports[(reports.dictated >= warmup) & (reports.dictated < horizon)
                & (reports.status == "sent")]
    stages = stage_lengths(r)
    return pd.DataFrame({"department": r.department.to_numpy(), "stream": r.stream.to_numpy(),
                         "mode": r["mode"].to_numpy(), "target_days": r.target_days.to_numpy(),
                         "delay_days": ((r.sent - r.dictated) / MINUTES_PER_DAY).to_numpy(),
                         **{f"{s}_days": stages[s].to_numpy() for s in STAGES},
                         "doctor_minutes": r.doctor_minutes.to_numpy()})
