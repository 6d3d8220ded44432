"""The workbench's numbers are exactly those of ``simulation.run`` and ``simulation.compare``
for the same scenario and seed (the page only formats them)."""

from __future__ import annotations

import time
from pathlib import Path

import simulation
from simulation.ui import edits, jobs, results

ROOT = Path(__file__).resolve().parents[2]


def test_worker_comparison_equals_the_public_api_to_the_last_bit(tmp_path):
    data = edits.load_file(ROOT / "scenarios" / "baseline.yaml")
    data["calendar"] = {**data["calendar"], "horizon_days": 6, "warmup_days": 1}
    job = jobs.start(tmp_path / "job", [data], "baseline", 2, 5)
    deadline = time.monotonic() + 300
    while job.state() == "running" and time.monotonic() < deadline:
        time.sleep(0.5)
    assert job.state() == "done", job.message()
    shown = results.comparison(job.out)
    expected = simulation.run(simulation.load_scenario(data), replications=2, seed=5,
                              events=False).summary
    for kpi in ("pickup_rate", "interruptions_per_hour", "report_delay_mean_days"):
        got = shown[(shown.kpi == kpi) & (shown.department == "ALL")].iloc[0]
        want = expected[(expected.kpi == kpi) & (expected.department == "ALL")].iloc[0]
        assert (got["mean"], got.ci_low, got.ci_high) == (want["mean"], want.ci_low,
                                                          want.ci_high), kpi
    card = next(c for c in results.kpi_cards(shown, "baseline") if c["kpi"] == "pickup_rate")
    assert card["mean"] == expected[(expected.kpi == "pickup_rate")
                                    & (expected.department == "ALL")]["mean"].iloc[0]
