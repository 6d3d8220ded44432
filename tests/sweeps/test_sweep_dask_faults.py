"""Dask sweeps under faults: a lost worker is told and recorded and changes no result; a
cluster left without workers stops the sweep with a message, keeps what finished, and the
printed command resumes it to the uninterrupted dataset.

The fault is deterministic: the task of point 1, replication 0 kills its own worker
process the first time it runs (``sweep_fixtures.kill_worker_once``).
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import pandas as pd
import pytest
from sweep_fixtures import kill_worker_once, write_spec

from simulation.cli.main import main
from simulation.runs.executors import SerialExecutor
from simulation.sweeps import run as sweep_run
from simulation.sweeps.report import render_sweep_html
from simulation.sweeps.run import run_sweep
from simulation.sweeps.spec import load_spec
from simulation.sweeps.store import read_manifest, read_table

pytest.importorskip("distributed")

from simulation.runs.dask_executor import DaskExecutor  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 150  # seconds: a test that hangs fails instead of blocking the suite


@pytest.fixture(autouse=True)
def time_limit():
    def expire(_signum, _frame):
        raise TimeoutError(f"this test ran for more than {LIMIT} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(LIMIT)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The tiny sweep (4 points x 2 replications) run serially: (spec, output folder)."""
    folder = tmp_path_factory.mktemp("reference")
    spec = write_spec(folder)
    run_sweep(load_spec(spec), folder / "out", SerialExecutor())
    return spec, folder / "out"


def _same_dataset(out: Path, ref: Path) -> None:
    for table in ("results", "departments"):
        pd.testing.assert_frame_equal(read_table(out, table), read_table(ref, table))


def test_a_lost_worker_is_told_recorded_and_changes_no_result(reference, tmp_path):
    """LocalCluster of 2 worker processes; one dies mid-sweep and its nanny restarts it."""
    spec, ref = reference
    out, marker = tmp_path / "out", tmp_path / "killed"
    said: list[str] = []
    executor = DaskExecutor(workers=2, notify=said.append)
    outcome = run_sweep(load_spec(spec), out, executor, notify=said.append,
                        task=partial(kill_worker_once, str(marker)))
    assert marker.exists(), "the worker was not killed"
    assert (outcome.completed, outcome.failed, outcome.interrupted) == (8, 0, False)
    manifest = read_manifest(out)
    [lost] = manifest["lost_workers"]
    assert lost["worker"].startswith("tcp://") and lost["expected"] is False
    assert [1, 0] in lost["rerun"], lost
    assert manifest["rerun_tasks"] == len(lost["rerun"]) == outcome.rerun_tasks
    assert outcome.lost_workers == 1 and manifest["status"] == "complete"
    assert time.strptime(lost["time"], "%Y-%m-%dT%H:%M:%S")
    told = [line for line in said if lost["worker"] in line]
    assert told and "was lost" in told[0] and "run again" in told[0], said
    _same_dataset(out, ref)
    assert not (out / "sweep.lock").exists()
    assert "status complete; 1 Dask worker(s) lost" in render_sweep_html(out)


def _start_worker(address: str) -> subprocess.Popen:
    """A worker without a nanny: once killed, nobody restarts it."""
    paths = [str(ROOT), str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")]
    return subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", address, "--no-nanny",
         "--nthreads", "1", "--no-dashboard"],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for_worker(cluster, worker: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while not cluster.scheduler.workers:
        assert worker.poll() is None, "the dask worker did not start"
        assert time.monotonic() < deadline, "the dask worker did not join the scheduler"
        time.sleep(0.1)


def _stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.kill()
    worker.wait(timeout=30)


def test_no_worker_left_stops_with_a_message_keeps_results_and_resumes(
        reference, tmp_path, monkeypatch, capsys):
    """``secsim sweep --scheduler``: the only worker dies; after --worker-timeout the
    sweep stops (exit 75) naming the scheduler; the printed command resumes it."""
    from distributed import LocalCluster

    spec, ref = reference
    out, marker = tmp_path / "out", tmp_path / "killed"
    killer = partial(kill_worker_once, str(marker))
    monkeypatch.setattr(sweep_run, "run_sweep", partial(sweep_run.run_sweep, task=killer))
    with LocalCluster(n_workers=0, processes=True, dashboard_address=":0") as cluster:
        address = cluster.scheduler_address
        worker = _start_worker(address)
        try:
            _wait_for_worker(cluster, worker)
            t0 = time.monotonic()
            code = main(["sweep", str(spec), "--scheduler", address, "--worker-timeout", "2",
                         "-q", "--out", str(out)])
            seconds = time.monotonic() - t0
        finally:
            _stop(worker)
        err = capsys.readouterr().err
        assert code == 75, err
        assert seconds < 60
        assert f"no Dask worker alive at {address}" in err and "was lost" in err, err
        manifest = read_manifest(out)
        assert manifest["status"] == "interrupted" and address in manifest["stop_reason"]
        assert len(manifest["lost_workers"]) == 1
        # One worker thread runs the tasks in order: the two before the killer are kept.
        kept = read_table(out)
        assert list(zip(kept.point, kept.replication)) == [(0, 0), (0, 1)]
        pd.testing.assert_frame_equal(kept, read_table(ref).iloc[:2])
        resume = shlex.split(err.split("continue with\n")[1].splitlines()[0])
        assert resume[:4] == ["secsim", "sweep", str(spec), "--resume"]
        assert {"--scheduler", address, "--worker-timeout", "2", "--quiet"} <= set(resume)
        worker = _start_worker(address)
        try:
            _wait_for_worker(cluster, worker)
            assert main(resume[1:]) == 0, capsys.readouterr().err
        finally:
            _stop(worker)
    _same_dataset(out, ref)
    manifest = read_manifest(out)
    assert manifest["status"] == "complete" and len(manifest["lost_workers"]) == 1
    assert manifest["previous_run"]["status"] == "interrupted"
