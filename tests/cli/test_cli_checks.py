"""Checks before a run: the event budget (--max-events), the utilisation warning, and a
scenario name that would write outside --out."""

from __future__ import annotations

import contextlib
import io
import time
from pathlib import Path

import pytest

from simulation.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
BASELINE = str(ROOT / "scenarios" / "baseline.yaml")
CALL_STREAMS = [f"departments.{d}.streams.{s}.arrivals.per_day=100000"
                for d in ("cardiology", "gastroenterology", "rheumatology", "orthopaedics")
                for s in ("booking_calls", "info_calls")]
HUGE = [a for s in CALL_STREAMS for a in ("--set", s)]


def secsim(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def test_a_huge_volume_is_refused_at_once_with_the_max_events_hint():
    t0 = time.process_time()
    code, _, err = secsim("validate", BASELINE, *HUGE)
    seconds = time.process_time() - t0
    assert code == 2, err
    assert "--max-events" in err and "events" in err
    assert "departments." in err and "booking_calls" in err  # the biggest contributors
    assert seconds < 0.5, seconds


@pytest.mark.parametrize("command", ["run", "compare"])
def test_run_and_compare_refuse_it_before_running(command, tmp_path):
    t0 = time.process_time()
    extra = ["-r", "2"] if command == "compare" else []
    code, _, err = secsim(command, BASELINE, *HUGE, *extra, "--out", str(tmp_path / "o"))
    assert code == 2 and "--max-events" in err, err
    assert time.process_time() - t0 < 0.5
    assert not (tmp_path / "o").exists()


def test_the_override_lets_it_validate_with_a_utilisation_warning():
    code, out, err = secsim("validate", BASELINE, *HUGE, "--max-events", "2000000000")
    assert code == 0, err
    assert "OK" in out
    assert "utilisation" in err and ">= 1" in err


def test_max_events_must_be_positive():
    with pytest.raises(SystemExit) as exit_:
        secsim("validate", BASELINE, "--max-events", "0")
    assert exit_.value.code == 2


def test_a_scenario_that_fits_gives_no_utilisation_warning():
    code, _, err = secsim("validate", BASELINE)
    assert code == 0 and "utilisation" not in err


def test_a_scenario_named_dotdot_cannot_make_compare_write_outside_out(tmp_path):
    parent = tmp_path / "parent"
    parent.mkdir()
    f = tmp_path / "up.yaml"
    f.write_text(f"extends: {BASELINE}\nname: '..'\n")
    code, _, err = secsim("compare", BASELINE, str(f), "-r", "2", "--out",
                          str(parent / "out"))
    assert code == 2 and "name" in err and "'..'" in err
    assert list(parent.iterdir()) == []


@pytest.mark.parametrize("command", ["run", "compare"])
def test_a_raised_max_events_is_honoured_all_the_way_to_the_run(command, tmp_path, monkeypatch):
    """--max-events above the default lets the run happen: the budget is checked with the
    user's figure at loading *and* when the run starts (not with the default there)."""
    from simulation.scenario import volumes

    monkeypatch.setattr(volumes, "DEFAULT_MAX_EVENTS", 1000)  # the baseline needs far more
    short = ["--set", "calendar.horizon_days=3", "--set", "calendar.warmup_days=1"]
    code, _, err = secsim(command, BASELINE, *short, "-r", "2", "-q", "--no-report"
                          if command == "compare" else "--no-events",
                          "--out", str(tmp_path / "o"))
    assert code == 2 and "--max-events" in err, "the lowered default must refuse it"
    code, _, err = secsim(command, BASELINE, *short, "-r", "2", "-q", "--no-report"
                          if command == "compare" else "--no-events",
                          "--max-events", "1000000000", "--out", str(tmp_path / "p"))
    assert code == 0, err
