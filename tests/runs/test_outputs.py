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


class LosesAWorker:
    """Serial executor that reports a lost worker (replication 1 ran again) after the first
    replication, then stops like a Dask cluster left without workers."""

    name = "lossy"

    def __init__(self, stop_after: int | None = None):
        self.stop_after = stop_after
        self.incidents: list[dict] = []

    def run(self, tasks):
        from simulation.runs.executors import ExecutorStopped, SerialExecutor

        for k, item in enumerate(SerialExecutor().run(tasks)):
            if k == self.stop_after:
                raise ExecutorStopped("no Dask worker alive at tcp://x:8786 for 2 s")
            yield item
            if k == 0:
                self.incidents.append({"worker": "tcp://10.0.0.2:4000", "expected": False,
                                       "time": "2026-01-01T10:00:00", "tasks": [1]})


def test_a_run_records_lost_workers_and_a_stopped_executor_in_run_json(tmp_path):
    import json

    from sweep_fixtures import write_spec

    write_spec(tmp_path)
    scenario = load_composed(tmp_path / "tiny.yaml", [])
    result = simulation.run(scenario, replications=2, seed=1, executor=LosesAWorker(),
                            out=tmp_path / "a", events=False)
    info = json.loads((tmp_path / "a" / "run.json").read_text())
    assert info["lost_workers"] == [{"worker": "tcp://10.0.0.2:4000", "expected": False,
                                     "time": "2026-01-01T10:00:00", "rerun_replications": [1]}]
    assert info["rerun_tasks"] == 1 and not result.interrupted and "stopped" not in info
    stopped = simulation.run(scenario, replications=2, seed=1,
                             executor=LosesAWorker(stop_after=1), out=tmp_path / "b",
                             events=False)
    info = json.loads((tmp_path / "b" / "run.json").read_text())
    assert stopped.interrupted and info["interrupted"] and "tcp://x:8786" in info["stopped"]
    assert info["replications_completed"] == [0]
