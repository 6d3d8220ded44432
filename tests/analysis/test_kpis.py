"""KPI definitions (README "KPI definitions") on small hand-made event tables.

Each test builds the few rows a definition needs and checks the figure computed by hand,
including the warm-up exclusion and the clipping of time to [warm-up end, horizon).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from simulation.analysis.kpis import (
    call_kpis,
    department_rows,
    hourly_pickup,
    report_kpis,
    staff_rows,
    visit_kpis,
    work_kpis,
)
from simulation.engine.records import SCHEMAS

NAN = math.nan
WARMUP, HORIZON = 1440.0, 3 * 1440.0
CATEGORIES = ["booking", "patient_file", "reception", "doctor_assistance", "other"]


def table(name: str, rows: list[dict]) -> pd.DataFrame:
    """An event table with the engine's schema; columns not given get neutral values."""
    defaults = {"str": "", "float64": NAN, "int64": 0, "bool": False}
    schema = SCHEMAS[name]
    data = [{col: row.get(col, defaults[kind]) for col, kind in schema.items()} for row in rows]
    return pd.DataFrame(data, columns=list(schema)).astype(schema)


def call(caller, attempt, arrival, outcome, answered=NAN, leg="first", dept="cardiology"):
    return {"call_id": caller * 10 + attempt, "caller_id": caller, "attempt": attempt,
            "leg": leg, "department": dept, "arrival": arrival, "outcome": outcome,
            "answered": answered, "ended": answered}


CALLS = table("calls", [
    call(1, 1, 100.0, "answered", 101.0),  # warm-up: excluded everywhere
    call(2, 1, 1500.0, "answered", 1500.5),  # wait 0.5 min
    call(3, 1, 1600.0, "answered", 1603.0),  # wait 3 min
    call(4, 1, 1700.0, "abandoned"),
    call(4, 2, 1730.0, "answered", 1731.0),  # the same caller gets through: wait 1 min
    call(5, 1, 1800.0, "closed"),
    call(6, 1, 1900.0, "abandoned"),
    call(7, 1, 4300.0, "in_system"),
    call(3, 1, 1603.5, "answered", 1604.0, leg="transfer"),
])


def test_call_kpis_by_hand():
    """Pickup = answered / (answered + abandoned), first legs arriving after the warm-up."""
    k = call_kpis(CALLS, WARMUP, sl_minutes=1.0)
    assert k["calls_attempted"] == 7
    assert (k["calls_answered"], k["calls_abandoned"], k["calls_offered"]) == (3, 2, 5)
    assert (k["calls_closed"], k["calls_in_system"]) == (1, 1)
    assert k["pickup_rate"] == pytest.approx(3 / 5)
    assert k["abandonment_rate"] == pytest.approx(2 / 5)
    assert k["closed_share"] == pytest.approx(1 / 7)
    assert k["service_level"] == pytest.approx(2 / 5)  # waits 0.5 and 1 are <= 1 min
    assert k["wait_mean_min"] == pytest.approx((0.5 + 3 + 1) / 3)
    # Callers 2, 3, 4 got through; 5 (closed) and 6 did not; 7 is still waiting (excluded).
    assert k["pickup_rate_callers"] == pytest.approx(3 / 5)
    assert k["transfers"] == 1


def test_caller_with_a_redial_pending_at_the_horizon_is_still_in_the_system():
    """A caller who hung up and will call back after the horizon is not done: he is
    neither answered nor unanswered (README, pickup_rate_callers)."""
    calls = table("calls", [
        call(1, 1, 1500.0, "answered", 1500.5),
        call(2, 1, 1600.0, "abandoned") | {"redial_at": 1650.0},  # redialled...
        call(2, 2, 1650.0, "abandoned"),  # ...and gave up: not answered
        call(3, 1, 4300.0, "abandoned") | {"redial_at": HORIZON + 20},  # calls back later
    ])
    k = call_kpis(calls, WARMUP, sl_minutes=1.0)
    assert k["pickup_rate_callers"] == pytest.approx(1 / 2)
    assert k["calls_abandoned"] == 3  # attempts are counted as before


def test_call_lost_after_a_transfer_is_not_an_answered_caller():
    """Answered by the first-line desk, transferred, then lost in the second wait: counted
    in calls_lost_after_transfer, and the caller is not answered."""
    calls = table("calls", [
        call(1, 1, 1500.0, "answered", 1500.5) | {"transferred": True},
        call(1, 1, 1501.0, "abandoned", leg="transfer"),  # lost after the transfer
        call(2, 1, 1600.0, "answered", 1600.5) | {"transferred": True},
        call(2, 1, 1601.0, "answered", 1602.0, leg="transfer"),  # served by the department
        call(3, 1, 1700.0, "answered", 1700.5) | {"transferred": True},
        call(3, 1, 1701.0, "cut_off", leg="transfer") | {"redial_at": 1750.0},
        call(3, 2, 1750.0, "answered", 1751.0),  # got through on his redial, no transfer
        call(4, 1, 4300.0, "answered", 4300.5) | {"transferred": True, "ended": NAN},
    ])
    k = call_kpis(calls, WARMUP, sl_minutes=1.0)
    assert k["calls_lost_after_transfer"] == 2
    assert k["transfers"] == 3
    # Callers 2 and 3 were served in the end, 1 was not; 4 is still being transferred.
    assert k["pickup_rate_callers"] == pytest.approx(2 / 3)
    assert k["pickup_rate"] == pytest.approx(1.0)  # first-line pickup of attempts, as before


def test_hourly_pickup_counts_offered_and_answered_per_hour():
    """Offered = answered + abandoned first legs per hour of day; ALL = sum of departments."""
    h = hourly_pickup(CALLS, WARMUP)
    all_rows = h[h.department == "ALL"].set_index("hour")
    # Arrival hours (minute of day // 60): 1500->1, 1600->2, 1700->4, 1730->4, 1900->7.
    assert all_rows.offered.to_dict() == {1: 1, 2: 1, 4: 2, 7: 1}
    assert all_rows.answered.to_dict() == {1: 1, 2: 1, 4: 1, 7: 0}
    dept = h[h.department == "cardiology"]
    assert dept.offered.sum() == all_rows.offered.sum()


def test_visit_kpis_by_hand():
    """Walk-in wait = started - arrival of served visits; left share among served + left."""
    visits = table("visits", [
        {"visit_id": 1, "arrival": 2000.0, "outcome": "served", "started": 2002.0},
        {"visit_id": 2, "arrival": 2100.0, "outcome": "served", "started": 2106.0},
        {"visit_id": 3, "arrival": 2200.0, "outcome": "left"},
        {"visit_id": 4, "arrival": 10.0, "outcome": "left"},  # warm-up
        {"visit_id": 5, "arrival": 2300.0, "outcome": "closed"},
    ])
    k = visit_kpis(visits, WARMUP)
    assert k["walkins"] == 4
    assert k["walkin_wait_mean_min"] == pytest.approx(4.0)
    assert k["walkins_left_share"] == pytest.approx(1 / 3)
    assert k["walkins_closed"] == 1


def test_report_kpis_on_time_by_calendar_day():
    """On time = sent within target_days calendar days; unsent counts late once overdue."""
    day = 1440.0

    def report(rid, dictated, status, target, **times):
        return {"report_id": rid, "dictated": dictated, "target_days": target, "status": status,
                "status_at_horizon": times.pop("at_horizon", status), **times}

    reports = table("reports", [
        # sent the same day, J0 target: on time; delay 0.25 day
        report(1, day + 600, "sent", 0, sent=day + 960, typing_started=day + 610,
               typed=day + 700, validated=day + 900),
        # sent the next day, J0 target: late; delay 1 day (sent during the follow-up)
        report(2, day + 600, "sent", 0, sent=2 * day + 600, typing_started=day + 600,
               typed=day + 660, validated=2 * day + 540, at_horizon="sent"),
        # not sent, J0 target, dictated day 1: deadline end of day 1 < end of run: late
        report(3, day + 700, "awaiting_typing", 0),
        # not sent, 7-day target: deadline after the end of the run: not (yet) late
        report(4, day + 700, "awaiting_typing", 7),
        # dictated in the warm-up: only counts in the backlog
        report(5, 100.0, "awaiting_validation", 0),
        # dictated after the horizon (during the follow-up): counts nowhere
        report(6, HORIZON + 10, "sent", 7, sent=HORIZON + 20, at_horizon=""),
    ])
    open_days = np.ones(3, dtype=bool)
    k = report_kpis(reports, WARMUP, HORIZON, open_days, targets=[0, 7])
    assert (k["reports_dictated"], k["reports_sent"], k["reports_unfinished"]) == (4, 2, 2)
    assert k["report_delay_mean_days"] == pytest.approx((0.25 + 1.0) / 2)
    assert k["report_on_time_share"] == pytest.approx(1 / 3)
    assert k["report_on_time_share_j0"] == pytest.approx(1 / 3)
    assert math.isnan(k["report_on_time_share_j7"])  # report 4 is neither sent nor overdue
    assert k["report_backlog"] == 3
    assert k["report_delay_mean_working_days"] == pytest.approx(0.5)
    # Stages add up to the delay of each report: (10 + 90 + 200 + 60) and (0 + 60 + 1320 + 60).
    assert k["stage_wait_typing_mean_days"] == pytest.approx((10 + 0) / 2 / day)
    assert k["stage_typing_mean_days"] == pytest.approx((90 + 60) / 2 / day)
    assert k["stage_wait_signoff_mean_days"] == pytest.approx((200 + 1320) / 2 / day)
    assert k["stage_sending_mean_days"] == pytest.approx((60 + 60) / 2 / day)
    stages = sum(k[f"stage_{s}_mean_days"] for s in ("wait_typing", "typing", "wait_signoff",
                                                      "sending"))
    assert stages == pytest.approx(k["report_delay_mean_days"])


SEGMENTS = table("segments", [
    {"secretary": "a", "team": "t", "item_id": 1, "kind": "call", "department": "cardiology",
     "category": "booking", "urgent": True, "start": 1400.0, "end": 1460.0},  # 20 in window
    {"secretary": "a", "team": "t", "item_id": 2, "kind": "typing", "department": "cardiology",
     "category": "patient_file", "urgent": False, "start": 1500.0, "end": 1560.0},
    {"secretary": "b", "team": "t", "item_id": 2, "kind": "typing", "department": "cardiology",
     "category": "patient_file", "urgent": False, "start": 1600.0, "end": 1630.0},
    {"secretary": "b", "team": "t", "item_id": 3, "kind": "call", "department": "cardiology",
     "category": "reception", "urgent": True, "start": 4300.0, "end": 4400.0},  # 20 in window
])
TASKS = table("tasks", [
    {"task_id": 2, "kind": "typing", "department": "cardiology", "category": "patient_file",
     "urgent": False, "created": 1490.0, "first_start": 1500.0, "finished": 1630.0,
     "work": 85.0, "resumption": 5.0, "n_interruptions": 1, "status": "done"},
    {"task_id": 4, "kind": "typing", "department": "cardiology", "category": "patient_file",
     "urgent": False, "created": 4000.0, "work": 30.0, "status": "backlog", "remaining": 30.0,
     "remaining_at_horizon": 30.0},
])
INTERRUPTIONS = table("interruptions", [
    {"time": 1560.0, "secretary": "a", "team": "t", "task_id": 2, "task_kind": "typing",
     "department": "cardiology", "by_kind": "call"},
    {"time": 1000.0, "secretary": "a", "team": "t", "task_id": 9, "task_kind": "typing",
     "department": "cardiology", "by_kind": "call"},  # warm-up
])
PRESENCE = table("presence", [
    {"secretary": "a", "team": "t", "start": 1000.0, "end": 2000.0},  # 560 in window
    {"secretary": "b", "team": "t", "start": 1500.0, "end": 1800.0},  # 300
])


def test_work_kpis_by_hand():
    """Busy time clipped to the window; shares of busy time per audit category."""
    k = work_kpis(TASKS, SEGMENTS, INTERRUPTIONS, WARMUP, HORIZON, CATEGORIES)
    busy = 20 + 60 + 30 + 20
    assert k["busy_hours"] == pytest.approx(busy / 60)
    assert k["share_booking"] == pytest.approx(20 / busy)
    assert k["share_patient_file"] == pytest.approx(90 / busy)
    assert k["share_reception"] == pytest.approx(20 / busy)
    assert sum(k[f"share_{c}"] for c in CATEGORIES) == pytest.approx(1.0)
    assert k["interruptions"] == 1
    assert k["interruptions_per_deferrable_hour"] == pytest.approx(1 / (90 / 60))
    assert k["interrupted_task_share"] == 1.0
    assert k["interrupted_time_share"] == pytest.approx(90 / busy)
    assert k["deferrable_turnaround_mean_min"] == pytest.approx(140.0)
    assert k["resumption_hours"] == pytest.approx(5 / 60)
    assert (k["backlog_tasks"], k["backlog_hours"]) == (1, 0.5)
    assert k["tasks_unfinished"] == 1  # task 4 is still open when the run ends


def test_staff_rows_utilisation_and_shares():
    """Utilisation = busy / on-duty time in the window, per secretary, team and ALL."""
    rows = staff_rows(PRESENCE, SEGMENTS, INTERRUPTIONS, WARMUP, HORIZON, CATEGORIES)
    by = rows.set_index(["level", "name"])
    assert by.loc[("secretary", "a"), "utilisation"] == pytest.approx(80 / 560)
    assert by.loc[("secretary", "b"), "utilisation"] == pytest.approx(50 / 300)
    assert by.loc[("all", "ALL"), "utilisation"] == pytest.approx(130 / 860)
    assert by.loc[("team", "t"), "busy_hours"] == pytest.approx(130 / 60)
    assert by.loc[("secretary", "a"), "interruptions_per_hour"] == pytest.approx(1 / (560 / 60))
    shares = rows[[f"share_{c}" for c in CATEGORIES]].sum(axis=1)
    assert np.allclose(shares, 1.0)
    assert by.loc[("secretary", "b"), "team"] == "t"


def test_department_rows_all_row_adds_up():
    """The ALL row sums the departments' counts; staff figures appear only on ALL."""
    tables = {"calls": CALLS, "visits": table("visits", []), "reports": table("reports", []),
              "tasks": TASKS, "segments": SEGMENTS, "interruptions": INTERRUPTIONS,
              "presence": PRESENCE, "signoffs": table("signoffs", []),
              "sittings": table("sittings", [])}
    rows = department_rows(tables, WARMUP, HORIZON, 1.0, np.ones(3, dtype=bool), CATEGORIES,
                           ["cardiology", "rheumatology"]).set_index("department")
    for col in ("calls_attempted", "calls_answered", "busy_hours", "interruptions"):
        assert rows.loc["ALL", col] == rows.loc["cardiology", col] + rows.loc["rheumatology", col]
    assert rows.loc["rheumatology", "calls_attempted"] == 0
    assert math.isnan(rows.loc["rheumatology", "pickup_rate"])
    assert math.isnan(rows.loc["cardiology", "utilisation"])
    assert rows.loc["ALL", "utilisation"] == pytest.approx(130 / 860)


def test_doctor_kpis_are_missing_for_a_department_without_doctors():
    """A department whose sign-off is a pure delay has no doctor minutes (not 0): the
    event log writes a null doctor, which must not count as a modelled doctor."""
    from conftest import BASELINE

    from simulation.runs.runner import replicate
    from simulation.scenario.composition import load_composed

    overrides = ["calendar.horizon_days=10", "calendar.warmup_days=1",
                 "departments.cardiology.doctors=null"]
    for stream in ("consultation_reports", "discharge_letters"):
        overrides.append(f"departments.cardiology.streams.{stream}.validation_delay="
                         "{dist: deterministic, value: 60}")
    rows = replicate(load_composed(BASELINE, overrides), seed=1, replication=0,
                     events=False).kpis.set_index("department")
    assert math.isnan(rows.loc["cardiology", "doctor_minutes_per_report"])
    assert rows.loc["orthopaedics", "doctor_minutes_per_report"] > 0
    assert rows.loc["cardiology", "reports_sent"] > 0
