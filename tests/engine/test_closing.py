"""At closing time lines cut off waiting callers and desks send waiting patients away."""

from __future__ import annotations

import numpy as np

from simulation.engine.model import simulate
from simulation.scenario.composition import load_scenario


def one_secretary_desk(patience: float | None) -> dict:
    """Open 09:00-12:00; one secretary on a long desk queue; callers who may never hang up."""
    shape = {9: 1, 10: 1, 11: 1}
    call = {"type": "call", "arrivals": {"per_day": 60, "hourly_shape": shape},
            "service": {"dist": "exponential", "mean": 4}}
    if patience is not None:
        call["patience"] = {"dist": "exponential", "mean": patience}
    return {
        "name": "closing",
        "calendar": {"horizon_days": 5, "opening_hours": {d: ["09:00", "12:00"] for d in
                                                          ("mon", "tue", "wed", "thu", "fri")}},
        "departments": {"d": {"streams": {
            "calls": call,
            "desk": {"type": "walk_in", "arrivals": {"per_day": 30, "hourly_shape": shape},
                     "service": {"dist": "exponential", "mean": 6}}}}},
        "teams": {"t": {"departments": ["d"],
                        "secretaries": {"s": {"shift": {"start": "09:00", "end": "12:00"}}}}},
    }


def test_nobody_waits_through_the_night():
    """Overloaded and patient callers: every wait ends by the closing time of its day."""
    t = simulate(load_scenario(one_secretary_desk(patience=None)), seed=1)
    calls, visits = t["calls"], t["visits"]
    closing = (calls.arrival // 1440) * 1440 + 12 * 60
    waited_until = calls.answered.fillna(calls.ended)
    opened = calls.outcome != "closed"
    assert (waited_until[opened] <= closing[opened] + 1e-9).all()
    cut = calls[calls.outcome == "cut_off"]
    assert len(cut) > 0 and np.allclose(cut.ended % 1440, 12 * 60)
    sent = visits[visits.outcome == "sent_away"]
    assert len(sent) > 0 and np.allclose(sent.ended % 1440, 12 * 60)
    served = visits[visits.outcome == "served"]
    assert (served.started <= (served.arrival // 1440) * 1440 + 12 * 60 + 1e-9).all()
    assert set(visits.outcome) <= {"served", "sent_away", "closed", "in_system", "left"}


def test_cut_off_callers_count_against_the_pickup_rate():
    from simulation.runs.runner import replicate

    rep = replicate(load_scenario(one_secretary_desk(patience=30)), seed=2, replication=0)
    k = rep.kpis[rep.kpis.department == "ALL"].iloc[0]
    assert k.calls_cut_off > 0
    assert k.calls_offered == k.calls_answered + k.calls_abandoned + k.calls_cut_off
    assert np.isclose(k.pickup_rate, k.calls_answered / k.calls_offered)
    assert np.isclose(k.pickup_rate + k.abandonment_rate, 1.0)
    assert k.walkins_sent_away > 0 and k.walkins_left_share > 0
