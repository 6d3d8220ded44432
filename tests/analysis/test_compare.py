"""Paired comparison, the pooling effect against Erlang-A, and the compare command + report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from simulation.analysis.compare import compare, welch_interval
from simulation.analysis.theory import erlang_a
from simulation.runs.executors import ProcessExecutor
from simulation.runs.runner import run, run_many
from simulation.scenario.composition import load_composed, load_scenario

ROOT = Path(__file__).resolve().parents[2]
WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def call_centre(n_departments: int, lam: float, mean_service: float, mean_patience: float,
                pooled: bool, days: int = 6) -> dict:
    """n departments with one secretary each: dedicated lines, or one phone pool."""
    flat = {h: 1 for h in range(24)}
    departments = {
        f"d{i}": {"streams": {"calls": {
            "type": "call", "arrivals": {"per_day": lam * 1440, "hourly_shape": flat},
            "service": {"dist": "exponential", "mean": mean_service},
            "patience": {"dist": "exponential", "mean": mean_patience}}}}
        for i in range(n_departments)}
    secretary = {"shift": {"start": "00:00", "end": "24:00"}}
    if pooled:
        teams = {"pool": {"departments": list(departments),
                          "secretaries": {f"s{i}": dict(secretary) for i in range(n_departments)}}}
    else:
        teams = {f"t{i}": {"departments": [f"d{i}"], "secretaries": {f"s{i}": dict(secretary)}}
                 for i in range(n_departments)}
    return {"name": "pooled" if pooled else "dedicated",
            "calendar": {"horizon_days": days, "warmup_days": 1,
                         "opening_hours": {d: ["00:00", "24:00"] for d in WEEK}},
            "departments": departments, "teams": teams}


def test_pooling_single_secretary_lines_matches_erlang_a_and_raises_pickup():
    """c dedicated M/M/1+M lines vs one M/M/c+M pool: both match Erlang-A; the pool answers more.

    20 replications each; theory must lie in the 99.9% t-interval of the replication means
    (4 checks: family-wise false alarm <= 0.4%).
    """
    c, lam, service, patience = 3, 0.3, 2.5, 2.0
    dedicated = load_scenario(call_centre(c, lam, service, patience, pooled=False))
    pooled = load_scenario(call_centre(c, lam, service, patience, pooled=True))
    res_d, res_p = run_many([dedicated, pooled], replications=20, seed=4,
                            executor=ProcessExecutor(2), events=False)
    expected = {"dedicated": erlang_a(lam, 1 / service, 1 / patience, 1).pickup_rate,
                "pooled": erlang_a(c * lam, 1 / service, 1 / patience, c).pickup_rate}
    t999 = stats.t.ppf(0.9995, 19)
    for res in (res_d, res_p):
        x = res.kpis[res.kpis.department == "ALL"].pickup_rate.to_numpy()
        half = t999 * x.std(ddof=1) / np.sqrt(len(x))
        assert abs(x.mean() - expected[res.scenario.name]) <= half, res.scenario.name
    # Paired difference: the pooled line answers more callers, significantly.
    comp = compare({"dedicated": res_d.kpis, "pooled": res_p.kpis}, "dedicated")
    row = comp[(comp.scenario == "pooled") & (comp.department == "ALL") &
               (comp.kpi == "pickup_rate")].iloc[0]
    assert row["diff"] > 0 and row.diff_significant
    assert expected["pooled"] > expected["dedicated"]


def test_pairing_narrows_intervals_on_a_bundled_case():
    """Common random numbers: the paired CI of a difference is narrower than the unpaired one."""
    short = ["calendar.horizon_days=21", "calendar.warmup_days=7"]
    base = load_composed(ROOT / "scenarios" / "baseline.yaml", short)
    alt = load_composed(ROOT / "scenarios" / "online_booking_11.yaml", short)
    res = run_many([base, alt], replications=6, seed=1, executor=ProcessExecutor(2),
                   events=False)
    comp = compare({"baseline": res[0].kpis, "online_booking_11": res[1].kpis}, "baseline")
    rows = comp[(comp.scenario == "online_booking_11") & (comp.department == "ALL") &
                comp.kpi.isin(["pickup_rate", "utilisation", "report_delay_mean_days",
                               "interruptions_per_hour", "share_booking", "wait_mean_min"])]
    assert len(rows) == 6
    paired = rows.diff_ci_high - rows.diff_ci_low
    unpaired = rows.unpaired_ci_high - rows.unpaired_ci_low
    assert (paired < unpaired).all(), rows[["kpi", "diff_ci_low", "diff_ci_high",
                                            "unpaired_ci_low", "unpaired_ci_high"]]


def test_compare_reports_paired_differences_exactly():
    """compare() on hand-made tables: the paired difference is the t-interval of x_k - y_k."""
    base = pd.DataFrame({"department": "ALL", "replication": range(5),
                         "kpi_a": [1.0, 2.0, 3.0, 4.0, 5.0]})
    alt = base.assign(kpi_a=base.kpi_a + [0.5, 0.4, 0.6, 0.5, 0.5])
    comp = compare({"b": base, "a": alt}, "b")
    row = comp[(comp.scenario == "a") & (comp.kpi == "kpi_a")].iloc[0]
    d = np.array([0.5, 0.4, 0.6, 0.5, 0.5])
    half = stats.t.ppf(0.975, 4) * d.std(ddof=1) / np.sqrt(5)
    assert row["diff"] == pytest.approx(d.mean())
    assert row.diff_ci_high - row.diff_ci_low == pytest.approx(2 * half)
    assert row.diff_significant
    low, high = welch_interval(alt.kpi_a.to_numpy(), base.kpi_a.to_numpy())
    assert row.unpaired_ci_low == pytest.approx(low) and low < 0 < high
    b = comp[(comp.scenario == "b") & (comp.kpi == "kpi_a")].iloc[0]
    assert b["diff"] == 0 and not b.diff_significant


def test_pairs_are_the_replications_both_ran_with_a_value_in_both():
    """Replications missing on either side, or NaN there, are left out of the pair (as an
    inner join on the replication then dropna), whatever the order of the rows."""
    base = pd.DataFrame({"department": "ALL", "replication": [0, 1, 2, 3, 4],
                         "kpi_a": [1.0, 2.0, np.nan, 4.0, 5.0], "kpi_b": [1, 2, 3, 4, 5]})
    alt = pd.DataFrame({"department": "ALL", "replication": [5, 4, 3, 2, 1],
                        "kpi_a": [9.0, 5.5, np.nan, 3.5, 2.5], "kpi_b": [7, 8, 6, 5, 4]})
    comp = compare({"b": base, "a": alt}, "b").set_index(["scenario", "kpi"])
    a, b = comp.loc[("a", "kpi_a")], comp.loc[("a", "kpi_b")]
    assert a.n_pairs == 2 and a["diff"] == pytest.approx(np.mean([0.5, 0.5]))  # reps 4, 1
    assert b.n_pairs == 4 and b["diff"] == pytest.approx(np.mean([3, 2, 2, 2]))  # 4, 3, 2, 1
    assert a["mean"] == pytest.approx(np.mean([9.0, 5.5, 3.5, 2.5]))  # its own NaN left out


def test_compare_command_writes_tables_and_a_self_contained_report(tmp_path):
    """secsim compare on two bundled scenarios: tables, per-scenario folders and report.html."""
    out = tmp_path / "cmp"
    cmd = [sys.executable, "-m", "simulation", "compare",
           str(ROOT / "scenarios" / "baseline.yaml"), str(ROOT / "scenarios" / "pooled_phones.yaml"),
           "--replications", "3", "--seed", "2", "--workers", "2", "--out", str(out),
           "--set", "calendar.horizon_days=10", "--set", "calendar.warmup_days=2"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(out / "comparison.csv")
    assert set(table.scenario) == {"baseline", "pooled_phones"}
    assert {"diff", "diff_ci_low", "diff_ci_high", "unpaired_ci_low"} <= set(table.columns)
    for name in ("baseline", "pooled_phones"):
        assert (out / name / "kpis.parquet").exists() and (out / name / "scenario.yaml").exists()
    html = (out / "report.html").read_text()
    for needle in ("baseline", "pooled_phones", "Call pickup rate", "Interruptions per on-duty hour",
                   "Report delay", "Time share", "Utilisation per team", "Levers applied",
                   "pooling", "<svg"):
        assert needle in html, needle
    assert "<script src" not in html and "<link" not in html  # nothing fetched from the network
    # The report can be rebuilt from the folder alone.
    again = subprocess.run([sys.executable, "-m", "simulation", "report", str(out)],
                           capture_output=True, text=True)
    assert again.returncode == 0 and (out / "report.html").read_text() == html


def test_run_report_renders_every_kpi_of_a_single_run(tmp_path):
    from simulation.reporting.html import write_run_report
    from simulation.reporting.terminal import HEADLINE
    from simulation.runs.output import RunWriter

    sc = load_composed(ROOT / "scenarios" / "baseline.yaml",
                       ["calendar.horizon_days=8", "calendar.warmup_days=1"])
    writer = RunWriter(tmp_path / "run", sc)
    res = run(sc, replications=2, seed=3, events=False, on_replication=writer)
    writer.close(res)
    html = write_run_report(tmp_path / "run").read_text()
    for _kpi, label, _unit in HEADLINE:
        assert label in html, label
    for dept in sc.departments:
        assert dept in html


def test_compare_refuses_invalid_scenarios_before_running(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ncalendar: {horizon_days: 3}\n")
    proc = subprocess.run([sys.executable, "-m", "simulation", "compare",
                           str(ROOT / "scenarios" / "baseline.yaml"), str(bad),
                           "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "departments" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "o" / "comparison.csv").exists()
