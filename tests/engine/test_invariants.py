"""Conservation laws and bookkeeping identities on random valid scenarios (hypothesis).

Each example is a small random scenario (1-3 days, a few streams of every type, random
teams, shifts, breaks, absences and policies) run for one replication. The identities
below hold exactly (up to float rounding) for every run, so any counter-example is a bug.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import (
    EPS,
    MINUTES_PER_DAY,
    back_office_stream,
    build,
    call_stream,
    clock,
    line_open,
    merge,
    overlap,
    scenario_dict,
    scenario_strategy,
    secretaries,
    specialty_factor,
    subtract,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulation.runs.runner import replicate
from simulation.scenario.composition import load_composed
from simulation.scenario.consistency import team_serves
from simulation.scenario.schema import URGENT_KINDS

# derandomize: hypothesis draws its examples from a fixed seed (project rule: fixed seeds),
# so every run checks the same examples; database=None: nothing written outside tests/.
QUIET = dict(deadline=None, derandomize=True, database=None,
             suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SETTINGS = settings(max_examples=50, **QUIET)
SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
CALL_OUTCOMES = {"answered", "abandoned", "cut_off", "closed", "in_system"}


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=EPS)


# ----------------------------------------------------------------------------- checks
def check_calls(scenario, calls: pd.DataFrame, horizon: float) -> None:
    """Each attempt ends in exactly one outcome; answered within patience; redial rules."""
    assert set(calls.outcome) <= CALL_OUTCOMES
    assert calls.call_id.is_unique
    ans = calls[calls.outcome == "answered"]
    assert (ans.answered >= ans.arrival).all()
    assert (ans.answered - ans.arrival <= ans.patience + EPS).all(), "answered after hanging up"
    assert ((ans.ended >= ans.answered) | ans.ended.isna()).all()
    ab = calls[calls.outcome == "abandoned"]
    assert ab.answered.isna().all()
    assert np.allclose(ab.ended - ab.arrival, ab.patience), "hang-up is not at the patience"
    cut = calls[calls.outcome == "cut_off"]
    assert cut.answered.isna().all()
    assert (cut.ended - cut.arrival <= cut.patience + EPS).all(), "cut off after hanging up"
    assert not line_open(scenario, cut.ended).any(), "cut off while the line is open"
    closed = calls[calls.outcome == "closed"]
    assert (closed.ended == closed.arrival).all() and closed.answered.isna().all()
    opened = line_open(scenario, calls.arrival)
    assert (opened == (calls.outcome != "closed").to_numpy()).all(), "closed iff line closed"
    waiting = calls[calls.outcome == "in_system"]
    assert waiting.ended.isna().all()
    assert (waiting.arrival + waiting.patience >= horizon - EPS).all(), "should have hung up"

    first = calls[calls.leg == "first"].sort_values(["caller_id", "attempt"])
    transfers = calls[calls.leg == "transfer"]
    # Attempts of a caller are numbered 1, 2, ... up to the stream's max_attempts.
    assert (first.groupby("caller_id").cumcount() + 1 == first.attempt).all()
    max_attempts = {(d, s): st_.redial.max_attempts for d, dept in scenario.departments.items()
                    for s, st_ in dept.streams.items() if st_.type == "call"}
    assert (first.attempt <= [max_attempts[k] for k in zip(first.department, first.stream)]).all()
    # A caller redials only after her previous attempt failed: hung up or closed, on the
    # first leg or, if she was transferred, on the transfer leg.
    final = pd.concat([first, transfers]).drop_duplicates(["caller_id", "attempt"], keep="last")
    redials = first[first.attempt > 1].merge(
        final[["caller_id", "attempt", "outcome", "ended"]].assign(attempt=final.attempt + 1),
        on=["caller_id", "attempt"], suffixes=("", "_before"), how="left", validate="1:1")
    assert redials.outcome_before.isin(["abandoned", "cut_off", "closed"]).all(), \
        "redial after an answer"
    assert (redials.arrival >= redials.ended_before).all()
    # A redial is recorded on the attempt it follows: it happened iff it was due before the
    # horizon, and then at that very minute.
    planned = calls[calls.redial_at.notna()]
    assert planned.outcome.isin(["abandoned", "cut_off", "closed"]).all()
    assert (planned.redial_at >= planned.ended).all()
    nxt = planned.merge(first[["caller_id", "attempt", "arrival"]].assign(
        attempt=first.attempt - 1), on=["caller_id", "attempt"], how="left",
        suffixes=("", "_next"), validate="1:1")
    assert (nxt.arrival_next.notna() == (nxt.redial_at < horizon)).all(), "redial lost"
    assert np.allclose(nxt.arrival_next.dropna(), nxt.redial_at[nxt.arrival_next.notna()])
    assert len(redials) == len(planned[planned.redial_at < horizon])
    done_transferred = first[first.transferred & first.ended.notna()]
    assert len(transfers) == len(done_transferred)
    assert (calls.transferred <= (calls.outcome == "answered")).all()


def check_tasks_and_segments(scenario, tables: dict[str, pd.DataFrame]) -> None:
    """Tasks end done or backlog; segment minutes = work x specialty factor + resumption."""
    tasks, segs = tables["tasks"], tables["segments"]
    assert set(tasks.status) <= {"done", "backlog"}
    done = tasks[tasks.status == "done"]
    assert ((done.created <= done.first_start) & (done.first_start <= done.finished)).all()
    assert (done.remaining.abs() <= EPS).all()
    assert tasks[tasks.status == "backlog"].finished.isna().all()
    assert (tasks.resumption >= 0).all() and (tasks.remaining >= -EPS).all()

    # Segment minutes = work x the secretary's specialty factor + resumption costs (not
    # stretched). An item worked by secretaries with different factors gets the bounds.
    factor = {k: specialty_factor(scenario, *k) for k in
              set(zip(segs.secretary, segs.department, segs.kind, segs.category))}
    segs = segs.assign(minutes=segs.end - segs.start, factor=[
        factor[k] for k in zip(segs.secretary, segs.department, segs.kind, segs.category)])
    per_item = segs.groupby("item_id").agg(minutes=("minutes", "sum"), f_min=("factor", "min"),
                                           f_max=("factor", "max"))
    for t in tasks.itertuples():
        got, f_min, f_max = (per_item.loc[t.task_id] if t.task_id in per_item.index
                             else (0.0, 1.0, 1.0))
        if t.status == "done":
            low, high = f_min * t.work + t.resumption, f_max * t.work + t.resumption
        elif not t.urgent:  # deferrable backlog: progress = work + resumption - remaining
            progress = t.work + t.resumption - t.remaining
            low, high = progress, f_max * progress
        else:
            continue
        assert low - EPS <= got <= high + EPS * (1 + f_max), (t, got)
        if f_min == f_max == 1.0 or (t.status == "done" and f_min == f_max):
            assert close(got, low), (t, got)
    worked = segs.assign(nominal=segs.minutes / segs.factor).groupby("item_id").nominal.sum()
    calls = tables["calls"]
    plain = calls[(calls.outcome == "answered") & calls.ended.notna() & ~calls.transferred]
    for c in plain.itertuples():
        assert close(worked.get(c.call_id, 0.0), c.service), c
    assert (segs.urgent == segs.kind.isin(URGENT_KINDS)).all()


def check_secretary_timelines(tables: dict[str, pd.DataFrame]) -> None:
    """A secretary does one thing at a time, only while on duty; no item is shared."""
    segs, pres = tables["segments"], tables["presence"]
    assert (segs.end > segs.start).all()
    for name, s in segs.groupby("secretary"):
        s = s.sort_values("start")
        assert (s.start.to_numpy()[1:] >= s.end.to_numpy()[:-1] - EPS).all(), f"{name} overlaps"
        p = pres[pres.secretary == name].sort_values("start")
        assert (p.start.to_numpy()[1:] >= p.end.to_numpy()[:-1]).all(), f"{name} presence"
        i = np.searchsorted(p.start.to_numpy(), s.start.to_numpy() + EPS, side="right") - 1
        assert (i >= 0).all(), f"{name} works before coming in"
        assert (s.end.to_numpy() <= p.end.to_numpy()[i] + EPS).all(), f"{name} works off duty"
    by_item = segs.sort_values(["item_id", "start"])
    same = by_item.item_id.to_numpy()[1:] == by_item.item_id.to_numpy()[:-1]
    gaps = by_item.start.to_numpy()[1:] - by_item.end.to_numpy()[:-1]
    assert (gaps[same] >= -EPS).all(), "two secretaries on one item at once"


def check_interruptions(scenario, tables: dict[str, pd.DataFrame]) -> None:
    """Only urgent work interrupts, only deferrable work is interrupted, counts agree."""
    ints, tasks, segs = tables["interruptions"], tables["tasks"], tables["segments"]
    if not scenario.interruptions.enabled:
        assert ints.empty
    assert not ints.task_kind.isin(URGENT_KINDS).any()
    assert ints.by_kind.isin(URGENT_KINDS).all()
    counted = ints.groupby("task_id").size()
    for t in tasks.itertuples():
        assert t.n_interruptions == counted.get(t.task_id, 0)
    cut = segs[segs.reason == "interrupted"]
    assert sorted(zip(cut.item_id, cut.end)) == sorted(zip(ints.task_id, ints.time))


def check_reports(tables: dict[str, pd.DataFrame]) -> None:
    """dictated <= typed <= validated <= sent, and each date matches its task's finish."""
    r = tables["reports"]
    chain = r[["dictated", "typed", "validated", "sent"]].to_numpy()
    for row in chain:
        known = row[~np.isnan(row)]
        assert (np.diff(known) >= 0).all(), row
    front = r["mode"] == "front_end"
    assert r[front].typed.isna().all()
    # Without doctors the doctor sends a front-end report himself; with doctors a secretary.
    self_sent = front & r.doctor.isna()
    assert (r[self_sent].sent.isna() | (r[self_sent].sent == r[self_sent].validated)).all()
    assert (r.sent.isna() | r.validated.notna()).all()
    assert (r[~front].validated.isna() | r[~front].typed.notna()).all()
    assert set(r.status) <= {"sent", "awaiting_sending", "awaiting_validation", "awaiting_typing",
                             "in_rework"}
    tasks = tables["tasks"]
    # A report may be typed in several sittings: it is typed when the last one is done.
    report_tasks = tasks[tasks.report_id.notna()].groupby(["report_id", "kind"]).finished
    last, unfinished = report_tasks.max(), report_tasks.apply(lambda f: f.isna().any())
    for rep in r[~front & (r.reworks == 0)].itertuples():
        if not math.isnan(rep.typed):
            assert not unfinished[(rep.report_id, "typing")]
            assert last[(rep.report_id, "typing")] == rep.typed
        if not math.isnan(rep.sent):
            assert last[(rep.report_id, "sending")] == rep.sent


def check_line_areas(scenario, tables: dict[str, pd.DataFrame], horizon: float) -> None:
    """Little's law as bookkeeping: queue area of a line = sum of its callers' waits.

    A caller waits from arrival to pickup, hang-up, or the end of his line's part of the
    run if still waiting (``lines.horizon``: the end of the run for that line, ``horizon``
    at the latest: independent parts stop at their own end, ``engine.partition``).
    """
    calls, lines = tables["calls"], tables["lines"]
    line_end = lines.set_index(["department", "stream"]).horizon
    assert (line_end <= horizon).all()
    ends = line_end.reindex(pd.MultiIndex.from_arrays([calls.department, calls.stream]))
    left_queue = np.select(
        [calls.answered.notna(), calls.outcome.isin(["abandoned", "cut_off"]),
         calls.outcome == "in_system"],
        [calls.answered, calls.ended, ends.to_numpy()], default=calls.arrival)
    assert (left_queue <= ends.to_numpy()).all()
    waits = calls.assign(wait=left_queue - calls.arrival).groupby(["department", "stream"]).wait
    expected = waits.sum()
    call_streams = {(d, s) for d, dept in scenario.departments.items()
                    for s, st_ in dept.streams.items() if st_.type == "call"}
    assert set(zip(lines.department, lines.stream)) == call_streams
    for row in lines.itertuples():
        assert close(row.waiting_area, expected.get((row.department, row.stream), 0.0)), row


def check_kpis(rep) -> None:
    """Time shares sum to 1; ALL = sum of departments for counts; utilisation <= 1."""
    k = rep.kpis
    shares = [c for c in k.columns if c.startswith("share_")]
    busy = k[k.busy_hours > 0]
    assert np.allclose(busy[shares].sum(axis=1), 1.0)
    staff = rep.staff[rep.staff.busy_hours > 0]
    assert np.allclose(staff[shares].sum(axis=1), 1.0)
    s = rep.staff[rep.staff.on_duty_hours > 0]
    assert (s.utilisation <= 1 + 1e-9).all()
    all_row, depts = k[k.department == "ALL"].iloc[0], k[k.department != "ALL"]
    for col in ["calls_attempted", "calls_offered", "calls_answered", "calls_abandoned",
                "calls_cut_off", "walkins_sent_away", "calls_closed", "calls_in_system", "walkins", "reports_dictated",
                "reports_sent", "report_backlog", "interruptions", "backlog_tasks",
                "busy_hours", "transfers"]:
        assert close(all_row[col], depts[col].sum()), col
    defined = k.pickup_rate.notna()
    assert np.allclose(k.pickup_rate[defined] + k.abandonment_rate[defined], 1.0)


def check_closed_days(scenario, tables: dict[str, pd.DataFrame]) -> None:
    """Nothing arrives and nobody comes in on a closed day; nobody comes in when absent."""
    closed = set(scenario.calendar.closed_days)
    day = lambda t: set((np.asarray(t, dtype=float) // MINUTES_PER_DAY).astype(int))  # noqa: E731
    c = tables["calls"]
    assert not day(c.arrival[(c.attempt == 1) & (c.leg == "first")]) & closed
    assert not day(tables["visits"].arrival) & closed
    assert not day(tables["reports"].dictated) & closed
    t = tables["tasks"]
    assert not day(t.created[t.kind != "sending"]) & closed
    assert not day(tables["presence"].start) & closed
    pres, absences = tables["presence"], tables["absences"]
    started = set(zip(pres.secretary, (pres.start // MINUTES_PER_DAY).astype(int)))
    assert not started & set(zip(absences.secretary, absences.day)), "at work while absent"


# ----------------------------------------------------------------------------- properties
def check_all(scenario, seed: int) -> None:
    """Run one replication and check every identity above."""
    rep = replicate(scenario, seed, 0, events=True)
    tables = rep.events
    # The bookkeeping identities hold up to the end of the run (horizon + follow-up).
    horizon = float(tables["period"].end.iloc[0])
    check_calls(scenario, tables["calls"], horizon)
    check_tasks_and_segments(scenario, tables)
    check_secretary_timelines(tables)
    check_interruptions(scenario, tables)
    check_reports(tables)
    check_line_areas(scenario, tables, horizon)
    check_kpis(rep)
    check_closed_days(scenario, tables)
    assert_work_conserving(scenario, tables)


@SETTINGS
@given(data=scenario_strategy(), seed=st.integers(0, 2**32 - 1))
def test_conservation_laws_on_random_scenarios(data, seed):
    """Every call, task and report is accounted for; timelines and KPIs are consistent."""
    check_all(build(data), seed)


def test_conservation_laws_on_a_booking_desk_with_transfers():
    """A busy booking desk transferring most calls to a one-secretary department: callers
    hang up during the transfer and redial; every identity still holds."""
    data = scenario_dict({"calls": call_stream(
        0.5, 2, 1.0, redial={"probability": 1.0, "max_attempts": 3}, answered_by=["desk"],
        transfer={"share": 0.8, "handling": 0.5, "by_teams": ["desk"]})}, horizon_days=1)
    data["teams"]["desk"] = {"departments": ["cardiology"], "kinds": ["call"],
                             "secretaries": secretaries(2, prefix="desk")}
    data["teams"]["secretariat"]["kinds"] = ["transferred_call"]
    check_all(build(data), seed=3)


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_conservation_laws_on_bundled_scenarios(path):
    """Every bundled scenario (levers applied) over ten days: all identities hold."""
    scenario = load_composed(path, ["calendar.horizon_days=10", "calendar.warmup_days=2"])
    check_all(scenario, seed=1)


def waiting_spans(tables, horizon: float) -> list[tuple[str, str, str, str, list]]:
    """(department, stream, kind, category, queue-waiting intervals) of all work."""
    out = []
    calls = tables["calls"][tables["calls"].outcome != "closed"]
    for c in calls.itertuples():
        end = c.answered if not math.isnan(c.answered) else (
            c.ended if not math.isnan(c.ended) else horizon)
        kind = "call" if c.leg == "first" else "transferred_call"
        out.append((c.department, c.stream, kind, c.category, [(c.arrival, end)]))
    visits = tables["visits"][tables["visits"].outcome != "closed"]
    for v in visits.itertuples():
        end = v.started if not math.isnan(v.started) else (
            v.ended if not math.isnan(v.ended) else horizon)
        out.append((v.department, v.stream, "walk_in", v.category, [(v.arrival, end)]))
    segs = tables["segments"]
    worked = defaultdict(list)
    for item, a, b in zip(segs.item_id.to_numpy(), segs.start.to_numpy(), segs.end.to_numpy()):
        worked[item].append((a, b))
    for t in tables["tasks"].itertuples():
        end = t.finished if not math.isnan(t.finished) else horizon
        out.append((t.department, t.stream, t.kind, t.category,
                    subtract([(t.created, end)], worked[t.task_id])))
    return out


def assert_work_conserving(scenario, tables) -> None:
    """No queued work waits while a secretary allowed to take it is free.

    Without preemption: no work waits while an eligible secretary is idle (a task not
    being worked on before it is finished is then always in a queue). With preemption:
    no urgent work waits while an eligible secretary is idle or on deferrable work
    (deferrable work may be paused with a busy secretary, so it is not checked).
    Idle = on duty (presence) and not in any segment.
    """
    horizon = scenario.calendar.horizon_days * MINUTES_PER_DAY
    preemptive = scenario.interruptions.enabled
    segs, pres = tables["segments"], tables["presence"]
    waiting = [w for w in waiting_spans(tables, horizon)
               if not (preemptive and w[2] not in URGENT_KINDS)]
    serves = {}
    for team, name, _ in scenario.secretaries():
        mine = segs[segs.secretary == name]
        on = list(zip(pres.start[pres.secretary == name], pres.end[pres.secretary == name]))
        busy = list(zip(mine.start, mine.end))
        deferrable = list(zip(mine.start[~mine.urgent], mine.end[~mine.urgent]))
        free = merge(subtract(on, busy) + (deferrable if preemptive else []))
        queued = []
        for dept, stream, kind, cat, spans in waiting:
            key = (team, dept, stream, kind, cat)
            if key not in serves:
                serves[key] = team_serves(scenario, team, dept, kind, cat, stream)
            if serves[key]:
                queued.extend(spans)
        lost = overlap(merge(queued), free)
        assert lost <= EPS, f"{name} free for {lost:.3f} min while work she may take waited"


@settings(max_examples=30, **QUIET)
@given(data=scenario_strategy(interruptions=False, min_staff=2), seed=st.integers(0, 2**32 - 1))
def test_no_secretary_idles_while_work_she_may_take_waits(data, seed):
    """Work conservation on random scenarios with interruptions off (all work kinds)."""
    scenario = build(data)
    assert_work_conserving(scenario, replicate(scenario, seed, 0, events=True).events)


@st.composite
def staggered_back_office(draw):
    """2-3 secretaries on random staggered shifts sharing long deferrable tasks (24/7 lines)."""
    shifts = {}
    for i in range(draw(st.integers(2, 3))):
        start = draw(st.integers(0, 88)) * 15
        end = draw(st.integers(start // 15 + 4, 96)) * 15
        shifts[f"ama_{i}"] = {"shift": {"start": clock(start), "end": clock(end)}}
    streams = {f"files_{j}": back_office_stream(draw(st.floats(0.002, 0.03)),
                                                draw(st.floats(5, 120)))
               for j in range(draw(st.integers(1, 2)))}
    data = scenario_dict(streams, horizon_days=draw(st.integers(1, 3)),
                         interruptions={"enabled": False})
    data["teams"]["secretariat"]["secretaries"] = shifts
    return data


@settings(max_examples=30, **QUIET)
@given(data=staggered_back_office(), seed=st.integers(0, 2**32 - 1))
def test_unfinished_work_is_handed_over_at_shift_changes(data, seed):
    """Work conservation at shift changes: a task left at the end of a shift is taken by an
    idle colleague at once, not when she next gets new work."""
    scenario = build(data)
    assert_work_conserving(scenario, replicate(scenario, seed, 0, events=True).events)
