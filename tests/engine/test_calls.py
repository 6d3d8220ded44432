"""Callers on hand-made timelines: redials due after the horizon, calls lost after a transfer.

Streams have zero arrival rates; callers with hand-made draws (``one_caller``) are
injected at chosen minutes, and the calls table and the caller KPIs are checked exactly.
"""

from __future__ import annotations

import pytest
from conftest import at, build, call_stream, one_caller, scenario_dict, secretaries, source

from simulation.analysis.kpis import call_kpis
from simulation.engine.model import Model

HORIZON = 1440.0


def dial(model: Model, time: float, draws) -> None:
    """Caller ``draws`` dials the line 'calls' at minute ``time`` (first attempt)."""
    line = source(model, "calls")
    at(model, time, lambda: line.offer(draws, 0, model.ctx.next_id(), 1, "first"))


def test_redial_due_after_the_horizon_leaves_the_caller_in_the_system():
    """A caller who hangs up at 1405 and will call back at 1505 (after the horizon) is
    recorded with his redial time and is not counted as an unanswered caller. (Here
    without a follow-up: with one, the run goes on until he has left, see
    tests/engine/test_partition.py.)"""
    data = scenario_dict({"calls": call_stream(0, 5, redial={"probability": 0.5,
                                                               "max_attempts": 2})},
                         horizon_days=1)
    data["calendar"]["follow_up_days"] = 0
    m = Model(build(data), seed=1)
    dial(m, 1390, one_caller(60))  # keeps the only secretary busy past the horizon
    dial(m, 1400, one_caller(5, patience=5, attempts=2, redial_u=0.0, redial_delay=100))
    calls = m.run()["calls"].sort_values("arrival")
    assert list(calls.outcome) == ["answered", "abandoned"]
    assert calls.redial_at.isna().iloc[0] and calls.redial_at.iloc[1] == 1505
    k = call_kpis(calls, 0.0, sl_minutes=1.0)
    assert k["pickup_rate_callers"] == 1.0  # the other caller is still in the system
    assert k["calls_abandoned"] == 1


def test_redial_decision_and_delay_are_the_callers_own():
    """The caller redials only when his own uniform is below the probability, after his
    own delay for that attempt."""
    data = scenario_dict({"calls": call_stream(0, 5, redial={"probability": 0.5,
                                                               "max_attempts": 3})},
                         horizon_days=1)
    m = Model(build(data), seed=1)
    dial(m, 100, one_caller(200))  # busy until 300
    dial(m, 110, one_caller(5, patience=1, attempts=3, redial_u=[0.2, 0.7, 0.0],
                            redial_delay=[30, 1, 1]))
    calls = m.run()["calls"].query("caller_id != 0").sort_values("attempt")
    # 110: hangs up at 111, redials at 141 (u 0.2 < 0.5), hangs up at 142, gives up (0.7).
    assert list(calls.arrival) == [110, 141]
    assert list(calls.redial_at.fillna(-1)) == [141, -1]


def booking_desk(transfer_patience: float) -> Model:
    """A desk secretary answers cardiology's calls and transfers them all to the
    department's secretary, who is busy until minute 300."""
    data = scenario_dict({"calls": call_stream(
        0, 2, redial={"probability": 0.5, "max_attempts": 1}, answered_by=["desk"],
        transfer={"share": 1.0, "handling": 0.5, "by_teams": ["desk"]})}, horizon_days=1)
    data["teams"]["desk"] = {"departments": ["cardiology"], "kinds": ["call"],
                             "secretaries": secretaries(1, prefix="desk")}
    data["teams"]["secretariat"]["kinds"] = ["transferred_call", "doctor_request"]
    data["departments"]["cardiology"]["streams"]["requests"] = {
        "type": "doctor_request", "arrivals": {"per_day": 0}, "service": 5}
    m = Model(build(data), seed=1)
    at(m, 0, lambda: m.ctx.new_task("doctor_request", "cardiology", "requests",
                                    "doctor_assistance", True, 300.0))  # never interrupted
    dial(m, 100, one_caller(2, transfer_u=0.0, handling=0.5,
                            transfer_patience=transfer_patience))
    return m


@pytest.mark.parametrize("transfer_patience, lost", [(10.0, 1), (1000.0, 0)])
def test_call_lost_after_the_transfer_is_not_an_answered_caller(transfer_patience, lost):
    """Answered by the desk at 100, transferred at 100.5, then the caller waits for the busy
    department: lost if his patience ends before 300, served otherwise."""
    calls = booking_desk(transfer_patience).run()["calls"]
    first, second = (calls[calls.leg == leg].iloc[0] for leg in ("first", "transfer"))
    assert (first.outcome, first.transferred, first.ended) == ("answered", True, 100.5)
    assert second.outcome == ("abandoned" if lost else "answered")
    k = call_kpis(calls, 0.0, sl_minutes=1.0)
    assert k["calls_lost_after_transfer"] == lost
    assert k["pickup_rate"] == 1.0  # the desk answered
    assert k["pickup_rate_callers"] == 1.0 - lost
