"""Run-length advice: MSER-5 on series with a known transient, replications for a precision."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from simulation.analysis.warmup import daily_series, mser, replications_needed

WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def transient(n: int, length: float, seed: int) -> np.ndarray:
    """A start-up bias of 10 decaying with time constant ``length``, plus N(0, 1) noise."""
    t = np.arange(n)
    return 10 * np.exp(-t / length) + np.random.default_rng(seed).normal(0, 1, n)


@pytest.mark.parametrize("seed", range(5))
def test_mser5_cuts_a_known_transient_and_leaves_a_stationary_series_alone(seed):
    # The bias falls below a tenth of the noise sd after 5 ln(100) = 23 observations; MSER
    # trades bias against variance, so the cut lands between 2 and 8 time constants.
    cut, stat = mser(transient(300, 5.0, seed))
    assert 10 <= cut <= 40, cut
    assert cut % 5 == 0 and np.isfinite(stat[: len(stat) // 2]).all()
    flat, _ = mser(np.random.default_rng(seed).normal(0, 1, 300))
    assert flat <= 15, flat


def test_mser_refuses_a_series_too_short_and_skips_closed_days():
    with pytest.raises(ValueError, match="at least 20"):
        mser(np.arange(19.0))
    y = transient(100, 3.0, 1)
    holes = y.copy()
    holes[5::7] = np.nan  # closed days do not count as observations
    assert mser(holes)[0] == mser(y[~np.isnan(holes)])[0]


@pytest.mark.parametrize("sd, precision", [(1.0, 0.5), (0.02, 0.005), (3.0, 0.4)])
def test_replications_needed_is_the_smallest_n_meeting_the_t_half_width(sd, precision):
    values = np.random.default_rng(0).normal(0, 1, 10)
    values = values / values.std(ddof=1) * sd  # sample sd exactly sd
    n = replications_needed(values, precision)
    half = lambda m: stats.t.ppf(0.975, m - 1) * sd / math.sqrt(m)  # noqa: E731
    assert half(n) <= precision < half(n - 1)


def test_relative_precision_scales_with_the_mean():
    values = np.array([9.0, 10.0, 11.0])
    assert replications_needed(values, 0.1, relative=True) == replications_needed(values, 1.0)


def test_daily_series_of_pickup_counts_resolved_first_attempts_by_arrival_day():
    calls = pd.DataFrame({"leg": ["first"] * 5 + ["transfer"],
                          "outcome": ["answered", "abandoned", "answered", "closed",
                                      "answered", "abandoned"],
                          "arrival": [10.0, 20.0, 1500.0, 1600.0, 1700.0, 30.0]})
    series = daily_series({"calls": calls}, "pickup_rate", 3)
    assert series[0] == 0.5 and series[1] == 1.0 and math.isnan(series[2])


def test_command_reports_replications_and_warm_up(tmp_path):
    line = {"name": "line",
            "calendar": {"horizon_days": 30, "warmup_days": 1, "follow_up_days": 0,
                         "opening_hours": {d: ["08:00", "18:00"] for d in WEEK[:5]}},
            "departments": {"line": {"streams": {
                "calls": {"type": "call", "arrivals": {"per_day": 200},
                          "service": {"dist": "exponential", "mean": 4.0},
                          "patience": {"dist": "exponential", "mean": 4.0}},
                "files": {"type": "back_office", "kind": "filing",
                          "arrivals": {"per_day": 40},
                          "duration": {"dist": "exponential", "mean": 10.0}}}}},
            "teams": {"t": {"departments": ["line"], "size": 2,
                            "shift": {"start": "08:00", "end": "18:00"}}}}
    path = tmp_path / "line.yaml"
    path.write_text(yaml.safe_dump(line))
    r = subprocess.run([sys.executable, "-m", "simulation", "advise", str(path), "--precision",
                        "0.02", "--initial", "3", "--json", "--out", str(tmp_path / "a"), "-q"],
                       capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    advice = json.loads(r.stdout)
    assert advice["kpi"] == "pickup_rate" and advice["precision_met"]
    assert advice["half_width"] <= 0.02 and advice["replications_run"] >= 3
    assert set(advice["warmup"]) == {"pickup_rate", "deferrable_turnaround_mean_min"}
    assert all(0 <= d < 30 for d in advice["warmup"].values())
    assert "<svg" in (tmp_path / "a" / "advise.html").read_text()
    bad = subprocess.run([sys.executable, "-m", "simulation", "advise", str(path),
                          "--precision", "0.02", "--kpi", "pickup", "-q"],
                         capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert bad.returncode == 2 and "no KPI 'pickup'" in bad.stderr
