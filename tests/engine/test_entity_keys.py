"""The event log links the same arrival across scenarios, and records time as worked."""

from __future__ import annotations

import numpy as np
from conftest import BASELINE, EPS

from simulation.engine.model import simulate
from simulation.scenario.composition import load_composed

SHORT = ["calendar.horizon_days=10", "calendar.warmup_days=1"]


def _runs():
    base = load_composed(BASELINE, SHORT)
    # Only the staffing differs: one more secretary in orthopaedics.
    more = load_composed(BASELINE, [*SHORT, "teams.ortho_secretariat.secretaries.ortho_ama_4={shift: late}"])
    return simulate(base, seed=4), simulate(more, seed=4)


def _first(df):
    """First attempts only, for calls (a caller's redials and transfers share his key)."""
    return df[(df.attempt == 1) & (df.leg == "first")] if "attempt" in df else df


def test_the_same_arrival_has_the_same_key_in_two_staffings():
    a, b = _runs()
    for table, key, cols in (("calls", "caller_key", ["arrival", "service"]),
                             ("visits", "visit_key", ["arrival"]),
                             ("reports", "report_key", ["dictated", "doctor"])):
        x, y = (_first(t[table]).set_index(key) for t in (a, b))
        assert x.index.is_unique and y.index.is_unique
        assert set(x.index) == set(y.index) and len(x) > 50, table
        assert x.loc[y.index, cols].equals(y[cols]), f"{table}: same key, different arrival"
    # Back-office and doctors' tasks: same key, same creation and nominal work.
    ta, tb = (t["tasks"] for t in (a, b))
    assert ta.task_key.is_unique and tb.task_key.is_unique
    own = ~ta.kind.isin(["typing", "sending"])
    x = ta[own].set_index("task_key")
    y = tb.set_index("task_key").loc[x.index]
    assert np.array_equal(x.created, y.created) and np.array_equal(x.work, y.work)
    # Report tasks: the same report's typing has the same nominal work in both.
    typing = ta[ta.task_key.str.endswith(":typing")].set_index("task_key")
    assert len(typing) > 50
    assert np.array_equal(typing.work, tb.set_index("task_key").loc[typing.index].work)


def test_worked_time_is_the_sum_of_segments_and_nominal_plus_resumption_at_home():
    tables = simulate(load_composed(BASELINE, SHORT), seed=2)
    segs = tables["segments"].assign(minutes=lambda s: s.end - s.start)
    per_item = segs.groupby("item_id").minutes.sum()
    t = tables["tasks"]
    assert np.allclose(t.worked, per_item.reindex(t.task_id, fill_value=0.0), atol=EPS)
    done = t[(t.status == "done") & ~t.urgent]
    # Dedicated secretariats: nobody works outside her home department, no penalty.
    assert np.allclose(done.worked, done.work + done.resumption, atol=1e-6)
    calls = tables["calls"]
    answered = calls[calls.outcome == "answered"]
    assert np.allclose(answered.worked, per_item.reindex(answered.call_id).to_numpy(), atol=EPS)
    assert (calls.secretary.isna() == calls.answered.isna()).all()
