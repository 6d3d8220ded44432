"""``simulation.compare``: the Python side of ``secsim compare`` returns the table it writes."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import back_office_stream, build, call_stream, scenario_dict

import simulation
from simulation.analysis.compare import compare as compare_kpis


def _pair():
    streams = {"calls": call_stream(0.05, 4.0, patience_mean=2.0),
               "files": back_office_stream(0.02, 10.0)}
    one = build(scenario_dict(streams, n_secretaries=1, horizon_days=3, name="baseline"))
    two = build(scenario_dict(streams, n_secretaries=2, horizon_days=3, name="two"))
    return one, two


def test_compare_returns_the_paired_table_and_writes_it(tmp_path):
    one, two = _pair()
    cmp = simulation.compare([two, one], replications=3, seed=5, out=tmp_path, workers=1)
    assert cmp.baseline == "baseline" and cmp.scenarios == ["two", "baseline"]
    expected = compare_kpis({n: r.kpis for n, r in cmp.results.items()}, "baseline")
    pd.testing.assert_frame_equal(cmp.table, expected)
    written = pd.read_parquet(tmp_path / "comparison.parquet")
    pd.testing.assert_frame_equal(written, cmp.table, check_dtype=False)
    assert (tmp_path / "two" / "kpis.parquet").exists()
    row = cmp.kpi("pickup_rate").loc["two"]
    # A second secretary cannot lower the pickup rate of the same callers (paired).
    assert row["diff"] >= 0 and row["n_pairs"] == 3


def test_compare_rejects_an_unknown_baseline_and_kpi():
    one, two = _pair()
    with pytest.raises(ValueError, match="baseline 'nope'"):
        simulation.compare([one, two], replications=2, baseline="nope")
    cmp = simulation.compare([one, two], replications=2)
    with pytest.raises(KeyError, match="no KPI 'pickup'"):
        cmp.kpi("pickup")


def test_the_python_api_refuses_a_run_beyond_its_event_budget():
    one, two = _pair()
    from simulation.scenario.errors import ScenarioError

    with pytest.raises(ScenarioError, match="events"):
        simulation.run(one, replications=2, max_events=10)
    with pytest.raises(ScenarioError, match="events"):
        simulation.compare([one, two], replications=2, max_events=10)
