"""Running sweeps: same results on every executor, streaming, failures, resume after a crash."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from sweep_fixtures import InterruptAfter, tiny_spec, write_spec

from simulation.cli.main import main
from simulation.runs.executors import ProcessExecutor, SerialExecutor
from simulation.sweeps.report import render_sweep_html
from simulation.sweeps.run import run_sweep, run_task
from simulation.sweeps.spec import load_spec
from simulation.sweeps.store import StoreError, read_failures, read_manifest, read_table

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The tiny sweep run serially, start to finish: (spec path, output folder)."""
    folder = tmp_path_factory.mktemp("reference")
    spec = write_spec(folder)
    out = folder / "out"
    outcome = run_sweep(load_spec(spec), out, SerialExecutor())
    assert (outcome.completed, outcome.failed, outcome.interrupted) == (8, 0, False)
    return spec, out


def _same_dataset(out: Path, ref: Path) -> None:
    for table in ("results", "departments"):
        got, want = read_table(out, table), read_table(ref, table)
        pd.testing.assert_frame_equal(got, want)
    res = read_table(out)
    assert not res.duplicated(["point", "replication"]).any()


def test_rows_are_one_per_point_and_replication_with_parameter_columns(reference):
    _, out = reference
    res = read_table(out)
    assert len(res) == 8
    assert list(res.columns[:4]) == ["point", "online_share", "calls_per_day", "replication"]
    assert res.groupby("point").replication.apply(list).tolist() == [[0, 1]] * 4
    assert set(res.calls_per_day) == {20, 40} and res.calls_per_day.dtype == "int64"
    assert "department" not in res.columns and res.pickup_rate.notna().all()
    dept = read_table(out, "departments")
    assert set(dept.department) == {"clinic"} and len(dept) == 8
    manifest = read_manifest(out)
    assert manifest["status"] == "complete" and manifest["points"] == 4


def test_process_pool_gives_identical_results(reference, tmp_path):
    spec, ref = reference
    run_sweep(load_spec(spec), tmp_path / "out", ProcessExecutor(2))
    _same_dataset(tmp_path / "out", ref)


def test_same_rows_as_a_plain_run_of_the_point(reference):
    """Replication k of a point is exactly runner.replicate(scenario, seed, k)."""
    spec, ref = reference
    plan = load_spec(spec)
    row = run_task(plan.scenario(plan.points[3]), plan.spec.seed, 1)
    want = row[row.department == "ALL"].iloc[0]
    got = read_table(ref).query("point == 3 and replication == 1").iloc[0]
    kpis = [c for c in want.index if c not in ("department", "replication")]
    assert len(kpis) > 30
    for kpi in kpis:  # every KPI, bit for bit (NaN where undefined in both)
        assert got[kpi] == want[kpi] or (pd.isna(got[kpi]) and pd.isna(want[kpi])), kpi


def test_interrupt_then_resume_gives_the_uninterrupted_dataset(reference, tmp_path):
    spec, ref = reference
    out = tmp_path / "out"
    first = run_sweep(load_spec(spec), out, InterruptAfter(3))
    assert first.interrupted and first.completed == 3
    assert read_manifest(out)["status"] == "interrupted"
    assert len(read_table(out)) == 3
    with pytest.raises(StoreError, match="--resume"):
        run_sweep(load_spec(spec), out, SerialExecutor())
    second = run_sweep(load_spec(spec), out, SerialExecutor(), resume=True)
    assert (second.skipped, second.completed) == (3, 5)
    _same_dataset(out, ref)
    assert read_manifest(out)["status"] == "complete"


def test_failing_tasks_are_recorded_the_sweep_goes_on_and_resume_retries(reference, tmp_path):
    spec, ref = reference
    out = tmp_path / "out"

    def flaky(scenario, seed, replication):
        calls = scenario.departments["clinic"].streams["booking_calls"].arrivals.per_day
        if calls == 40 and replication == 1:
            raise RuntimeError("worker lost")
        return run_task(scenario, seed, replication)

    first = run_sweep(load_spec(spec), out, SerialExecutor(), task=flaky)
    assert (first.completed, first.failed) == (6, 2)
    failures = read_failures(out)
    assert [(f["point"], f["replication"]) for f in failures] == [(1, 1), (3, 1)]
    assert failures[0]["error"] == "RuntimeError: worker lost"
    assert failures[0]["parameters"] == {"online_share": 0.0, "calls_per_day": 40}
    assert read_manifest(out)["status"] == "failures"
    second = run_sweep(load_spec(spec), out, SerialExecutor(), resume=True)
    assert (second.skipped, second.completed, second.failed) == (6, 2, 0)
    assert read_failures(out) == []
    _same_dataset(out, ref)


def test_resume_refuses_a_changed_spec(reference, tmp_path):
    spec, _ = reference
    out = tmp_path / "out"
    run_sweep(load_spec(spec), out, InterruptAfter(1))
    changed = tiny_spec()
    changed["parameters"]["calls_per_day"]["values"] = [20, 45]
    other = write_spec(tmp_path / "changed", changed)
    with pytest.raises(StoreError, match="point 1 .* is not the same scenario"):
        run_sweep(load_spec(other), out, SerialExecutor(), resume=True)
    with pytest.raises(StoreError, match="seed"):
        run_sweep(load_spec(spec, seed=99), out, SerialExecutor(), resume=True)


def test_resume_may_add_replications(reference, tmp_path):
    spec, ref = reference
    out = tmp_path / "out"
    run_sweep(load_spec(spec), out, SerialExecutor())
    more = run_sweep(load_spec(spec, replications=3), out, SerialExecutor(), resume=True)
    assert (more.skipped, more.completed) == (8, 4)
    res = read_table(out)
    assert len(res) == 12 and not res.duplicated(["point", "replication"]).any()
    pd.testing.assert_frame_equal(res[res.replication < 2].reset_index(drop=True),
                                  read_table(ref))
    with pytest.raises(StoreError, match="not remove"):
        run_sweep(load_spec(spec, replications=2), out, SerialExecutor(), resume=True)


def test_killed_sweep_resumes_to_the_same_dataset(tmp_path, capsys):
    """A hard crash (SIGKILL) mid-sweep: no corrupt file, and --resume completes it. While
    the sweep runs, a second run on its folder is refused; once it is killed, its lock is
    taken over and its manifest (left 'running') is read as interrupted."""
    spec_data = tiny_spec(fixed={"calendar.horizon_days": 8}, replications=4)
    spec = write_spec(tmp_path, spec_data)
    ref, out = tmp_path / "ref", tmp_path / "out"
    run_sweep(load_spec(spec), ref, SerialExecutor())
    cmd = [sys.executable, "-m", "simulation", "sweep", str(spec), "--serial", "-q",
           "--out", str(out)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(list(out.glob("results/*/rep-*.parquet"))) < 3:
            assert proc.poll() is None and time.monotonic() < deadline, "sweep ended early"
            time.sleep(0.01)
        assert main(["sweep", str(spec), "--serial", "-q", "--resume", "--out", str(out)]) == 2
        assert f"being written by another sweep (pid {proc.pid}" in capsys.readouterr().err
        assert proc.poll() is None, "sweep ended early"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert len(read_table(out)) < 16
    assert read_manifest(out)["status"] == "running"
    assert main(["sweep", str(spec), "--serial", "-q", "--resume", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"took over the lock of an earlier sweep that is no longer running (pid {proc.pid}" \
        in err and "read as interrupted" in err, err
    _same_dataset(out, ref)
    assert not [p for p in out.rglob(".*") if p.is_file()]


def test_cli_run_writes_summary_and_report_page(reference, tmp_path, capsys):
    spec, ref = reference
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--serial", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "pickup_rate" in text and "8/8 tasks done" in text
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary.point) == {0, 1, 2, 3} and (summary.n[summary.kpi == "pickup_rate"] == 2).all()
    assert json.loads((out / "sweep.json").read_text())["status"] == "complete"
    page = render_sweep_html(out)
    assert page.count("<svg") >= 5 and "<script" not in page and "<link" not in page
    assert "online_share" in page and "calls_per_day" in page
