"""Command-line mistakes and interruptions: clear messages, results already written kept."""

from __future__ import annotations

import subprocess
import sys
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
    damaged = out / "kpis.parquet" / "rep-0000.parquet"
    data = damaged.read_bytes()
    damaged.write_bytes(data[: len(data) // 2])  # a disk fault (a kill cannot do this)
    assert_user_error(secsim("report", str(out)), "cannot read", "--resume")
