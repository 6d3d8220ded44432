"""Reports typed in several sittings: the split, and 'typed' when the last sitting ends."""

from __future__ import annotations

import numpy as np

from simulation.engine.model import simulate
from simulation.scenario.composition import load_scenario

WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def clinic(typing_session: float | None) -> dict:
    """One secretary, reports of exactly 30 min typing, and calls interrupting her."""
    flat = {h: 1 for h in range(24)}
    return {
        "name": "sittings",
        "calendar": {"horizon_days": 4, "opening_hours": {d: ["00:00", "24:00"] for d in WEEK}},
        "departments": {"clinic": {"streams": {
            "reports": {"type": "dictation", "arrivals": {"per_day": 12, "hourly_shape": flat},
                        "typing": 30, "validation_delay": 60, "sending": 2,
                        "typing_session": typing_session},
            "calls": {"type": "call", "arrivals": {"per_day": 100, "hourly_shape": flat},
                      "service": {"dist": "exponential", "mean": 3}}}}},
        "teams": {"t": {"departments": ["clinic"],
                        "secretaries": {"s": {"shift": {"start": "00:00", "end": "24:00"}}}}},
        "interruptions": {"resumption_cost": 0},
    }


def test_each_report_is_typed_in_round_work_over_session_sittings():
    tables = simulate(load_scenario(clinic(typing_session=10)), seed=3)
    typing = tables["tasks"][tables["tasks"].kind == "typing"]
    per_report = typing.groupby("report_id").work.agg(["size", "sum"])
    assert (per_report["size"] == 3).all() and np.allclose(per_report["sum"], 30)
    done = typing.groupby("report_id").finished.agg(lambda f: f.max() if f.notna().all() else np.nan)
    reports = tables["reports"].set_index("report_id")
    typed = reports.typed.dropna()
    assert len(typed) > 0
    assert np.allclose(typed, done[typed.index])
    assert reports.loc[done[done.isna()].index].typed.isna().all()


def test_sittings_leave_the_arrivals_and_the_total_work_unchanged():
    """Same seed: same dictations, same total typing minutes; only the pieces differ."""
    one = simulate(load_scenario(clinic(typing_session=None)), seed=5)
    three = simulate(load_scenario(clinic(typing_session=10)), seed=5)
    assert np.array_equal(one["reports"].dictated, three["reports"].dictated)
    work = lambda t: t["tasks"][t["tasks"].kind == "typing"].work.sum()  # noqa: E731
    assert np.isclose(work(one), work(three))
    # Shorter pieces are interrupted less often each.
    share = lambda t: (t["tasks"][t["tasks"].kind == "typing"].n_interruptions > 0).mean()  # noqa: E731
    assert share(three) < share(one)
