"""Results already computed are never lost: a failure mid-run leaves readable Parquet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import simulation
from simulation.runs.output import RunWriter
from simulation.scenario.composition import load_composed

ROOT = Path(__file__).resolve().parents[2]


def test_a_write_failure_keeps_the_replications_already_written(tmp_path, monkeypatch):
    """The second replication cannot be written (disk full): the first stays readable."""
    scenario = load_composed(ROOT / "scenarios" / "baseline.yaml",
                             ["calendar.horizon_days=5", "calendar.warmup_days=1"])
    original = RunWriter.__call__
    calls = []

    def flaky(self, rep):
        calls.append(rep.replication)
        if len(calls) == 2:
            raise OSError("No space left on device")
        original(self, rep)

    monkeypatch.setattr(RunWriter, "__call__", flaky)
    with pytest.raises(OSError):
        simulation.run(scenario, replications=3, seed=1, out=tmp_path / "run")
    kpis = pd.read_parquet(tmp_path / "run" / "kpis.parquet")
    assert set(kpis.replication) == {0}
    calls_table = pd.read_parquet(tmp_path / "run" / "calls.parquet")
    assert set(calls_table.replication) == {0} and len(calls_table) > 0


def test_a_failing_replication_is_reported_and_the_others_count(monkeypatch):
    """A replication that raises is listed in failures; the summary uses the others."""
    from simulation.runs import runner

    scenario = load_composed(ROOT / "scenarios" / "baseline.yaml",
                             ["calendar.horizon_days=5", "calendar.warmup_days=1"])
    real = runner.replicate

    def sometimes(sc, seed, replication, events=True):
        if replication == 1:
            raise RuntimeError("boom")
        return real(sc, seed, replication, events)

    monkeypatch.setattr(runner, "replicate", sometimes)
    result = runner.run(scenario, replications=3, seed=2, events=False)
    assert result.failures == [(1, "RuntimeError: boom")]
    assert sorted(result.kpis.replication.unique()) == [0, 2]
    assert (result.summary.n <= 2).all()
