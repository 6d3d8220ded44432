"""The Dask executor: a LocalCluster gives the serial results; failures come back per task."""

from __future__ import annotations

import operator
import sys
from pathlib import Path

import pandas as pd
import pytest
from sweep_fixtures import write_spec

from simulation.cli.main import main
from simulation.runs.executors import SerialExecutor
from simulation.runs.factory import make_executor
from simulation.sweeps.run import run_sweep
from simulation.sweeps.spec import load_spec
from simulation.sweeps.store import read_table

pytest.importorskip("distributed")

from simulation.runs.dask_executor import DaskExecutor, DaskUnavailable  # noqa: E402


def test_existing_cluster_gives_identical_sweep_results(tmp_path, capsys):
    """``secsim sweep --scheduler ADDRESS`` on a LocalCluster of 2 worker processes."""
    from distributed import LocalCluster

    spec = write_spec(tmp_path)
    run_sweep(load_spec(spec), tmp_path / "serial", SerialExecutor())
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster:
        code = main(["sweep", str(spec), "--scheduler", cluster.scheduler_address, "-q",
                     "--out", str(tmp_path / "dask")])
    assert code == 0, capsys.readouterr().err
    assert "8/8 tasks done" in capsys.readouterr().out
    for table in ("results", "departments"):
        pd.testing.assert_frame_equal(read_table(tmp_path / "dask", table),
                                      read_table(tmp_path / "serial", table))


def test_tasks_that_raise_come_back_as_exceptions_and_the_rest_finish():
    """The ``--dask-local N`` path: the executor starts its own LocalCluster. In a session
    (the optimiser's batches) one cluster serves every run and is closed at the end."""
    executor = make_executor("dask", workers=2, in_flight=2)
    tasks = [(operator.add, (i, 1)) if i != 3 else (operator.truediv, (1, 0)) for i in range(7)]
    with executor.session():
        client, cluster = executor._held
        results = dict(executor.run(tasks))
        again = dict(executor.run([(operator.mul, (i, 2)) for i in range(3)]))
        assert executor._held == (client, cluster) and client.status == "running"
    assert executor._held is None and client.status == "closed"
    assert again == {0: 0, 1: 2, 2: 4}
    assert sorted(results) == list(range(7))
    assert isinstance(results[3], ZeroDivisionError)
    assert [results[i] for i in range(7) if i != 3] == [1, 2, 3, 5, 6, 7]


def test_missing_dask_is_a_clear_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(DaskUnavailable, match=r"pip install -e '\.\[dask\]'"):
        DaskExecutor(workers=1)
    assert main(["sweep", str(write_spec(tmp_path)), "--dask-local", "2",
                 "--out", str(tmp_path / "o")]) == 2
    assert "pip install" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_unreachable_scheduler_is_a_clear_error_before_any_work():
    executor = DaskExecutor(scheduler="tcp://127.0.0.1:9", connect_timeout=0.5)
    with pytest.raises(DaskUnavailable, match="cannot reach the Dask scheduler at tcp://127"):
        executor.check()


def test_doctors_and_follow_up_give_the_same_bytes_on_serial_processes_and_dask(tmp_path):
    """Same seed, same Parquet for a scenario with doctors' sign-off (rework, leave) and the
    follow-up after the horizon, whatever executor ran the replications."""
    from simulation.runs.api import run
    from simulation.scenario.composition import load_composed

    scenario = load_composed(Path(__file__).resolve().parents[2] / "scenarios"
                             / "signoff_bottleneck.yaml",
                             ["calendar.horizon_days=8", "calendar.warmup_days=1"])
    executors = {"serial": make_executor("serial"), "processes": make_executor("processes", 2),
                 "dask": make_executor("dask", workers=2)}
    for name, executor in executors.items():
        run(scenario, replications=2, seed=4, executor=executor, out=tmp_path / name)
    for table in ("kpis", "reports", "signoffs", "sittings", "tasks"):
        for rep in range(2):
            serial = (tmp_path / "serial" / f"{table}.parquet" / f"rep-{rep:04d}.parquet")
            for name in ("processes", "dask"):
                mine = tmp_path / name / f"{table}.parquet" / serial.name
                assert mine.read_bytes() == serial.read_bytes(), (name, table, rep)


def test_a_lost_scheduler_stops_the_run_with_a_message_naming_it():
    """The scheduler goes away mid-run: DaskUnavailable (the sweep stops and says how to
    resume) instead of an internal error or a wait without end."""
    import time

    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=":0") as cluster:
        executor = DaskExecutor(scheduler=cluster.scheduler_address, worker_timeout=30)
        results = executor.run([(time.sleep, (0.2,)) for _ in range(6)])
        next(results)
        cluster.close()
        t0 = time.monotonic()
        with pytest.raises(DaskUnavailable, match=f"lost the Dask scheduler "
                                                  f"{cluster.scheduler_address}"):
            list(results)
        assert time.monotonic() - t0 < 30
