"""Command-line mistakes and interruptions: clear messages, results already written kept."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
BASELINE = str(ROOT / "scenarios" / "baseline.yaml")
SHORT = ["--set", "calendar.horizon_days=6", "--set", "calendar.warmup_days=1"]


def secsim(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simulation", *args], capture_output=True,
                          text=True, cwd=cwd)


def assert_user_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)


def test_negative_seed_is_refused_before_running(tmp_path):
    assert_user_error(secsim("run", BASELINE, "--seed", "-3", "--out", str(tmp_path / "o")),
                      "--seed", "negative")
    assert not (tmp_path / "o").exists()


def test_output_path_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "taken"
    target.write_text("not a folder")
    assert_user_error(secsim("run", BASELINE, *SHORT, "--out", str(target)), "is a file")
    assert_user_error(secsim("compare", BASELINE, "-r", "2", *SHORT, "--out", str(target)),
                      "is a file")


def test_misspelt_name_in_an_override_is_named_with_a_suggestion():
    result = secsim("validate", BASELINE, "--set",
                    "departments.cardio.streams.booking_calls.arrivals.per_day=30")
    assert_user_error(result, "departments.cardio", "did you mean 'cardiology'")


def test_reused_output_folder_holds_only_the_new_run(tmp_path):
    out = tmp_path / "run"
    assert secsim("run", BASELINE, "-r", "2", *SHORT, "--out", str(out)).returncode == 0
    assert (out / "calls.parquet").exists()
    assert secsim("run", BASELINE, "-r", "1", "--seed", "7", "--no-events", *SHORT,
                  "--out", str(out)).returncode == 0
    assert not (out / "calls.parquet").exists()  # the old events are gone, not mixed in
    assert set(pd.read_parquet(out / "kpis.parquet").replication) == {0}
    assert (out / "report.html").exists()


def test_report_on_damaged_results_is_a_clear_message(tmp_path):
    out = tmp_path / "run"
    assert secsim("run", BASELINE, "-r", "1", *SHORT, "--out", str(out)).returncode == 0
    data = (out / "kpis.parquet").read_bytes()
    (out / "kpis.parquet").write_bytes(data[: len(data) // 2])  # as if killed mid-write
    assert_user_error(secsim("report", str(out)), "cannot read", "rerun")


def test_sigterm_stops_a_run_and_keeps_what_was_written(tmp_path):
    """A scheduler's SIGTERM behaves like Ctrl-C: the Parquet written so far stays readable."""
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "simulation", "run", BASELINE, "-r", "200",
                             "--no-events", "--set", "calendar.horizon_days=10",
                             "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    kpis = out / "kpis.parquet"
    deadline = time.monotonic() + 120
    while not kpis.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert kpis.exists(), "no replication was written"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    done = pd.read_parquet(kpis)
    assert 1 <= done.replication.nunique() < 200
