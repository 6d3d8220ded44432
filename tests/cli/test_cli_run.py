"""``secsim run``: the files it writes, their shape, and a resolved scenario that replays.

One run of the bundled baseline (2 replications of 14 days) is shared by the tests.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import BASELINE, secsim

from simulation import load_scenario
from simulation.runs.executors import SerialExecutor
from simulation.runs.runner import run

ARGS = ["--replications", "2", "--seed", "1", "--set", "calendar.horizon_days=14",
        "--set", "calendar.warmup_days=2"]
EVENT_TABLES = ["calls", "visits", "tasks", "interruptions", "reports", "segments", "presence"]
DEPARTMENTS = ["cardiology", "gastroenterology", "rheumatology", "orthopaedics"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    result = secsim("run", BASELINE, *ARGS, "--out", out)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return out


def test_kpis_one_row_per_replication_and_department_plus_all(run_dir):
    """kpis.parquet: for each replication, one row per department and one ALL row."""
    kpis = pd.read_parquet(run_dir / "kpis.parquet")
    assert len(kpis) == 2 * (len(DEPARTMENTS) + 1)
    for rep in (0, 1):
        assert sorted(kpis.department[kpis.replication == rep]) == sorted(["ALL", *DEPARTMENTS])
    assert kpis.pickup_rate.between(0, 1).all()


def test_staff_and_summary_written(run_dir):
    """staff.parquet has secretary, team and ALL rows per replication; summary.csv has CIs."""
    staff = pd.read_parquet(run_dir / "staff.parquet")
    assert set(staff.replication) == {0, 1}
    assert {"secretary", "team", "all"} <= set(staff.level)
    assert (staff[staff.level == "secretary"].groupby("replication").size() == 8).all()
    summary = pd.read_csv(run_dir / "summary.csv")
    assert {"department", "kpi", "mean", "ci_low", "ci_high", "n"} <= set(summary.columns)
    assert (summary.n.dropna() <= 2).all()
    pickup = summary[(summary.department == "ALL") & (summary.kpi == "pickup_rate")].iloc[0]
    assert pickup.ci_low <= pickup["mean"] <= pickup.ci_high


@pytest.mark.parametrize("table", EVENT_TABLES)
def test_event_tables_written_for_every_replication(run_dir, table):
    """Each event table is a Parquet file holding rows of both replications."""
    df = pd.read_parquet(run_dir / f"{table}.parquet")
    assert set(df.replication) == {0, 1}


def test_resolved_scenario_replays_identically(run_dir):
    """scenario.yaml is the resolved scenario: loading and running it gives the same KPIs."""
    scenario = load_scenario(run_dir / "scenario.yaml")
    assert scenario.calendar.horizon_days == 14 and scenario.calendar.warmup_days == 2
    replay = run(scenario, replications=2, seed=1, executor=SerialExecutor(), events=False)
    written = pd.read_parquet(run_dir / "kpis.parquet")
    pd.testing.assert_frame_equal(written.reset_index(drop=True),
                                  replay.kpis.reset_index(drop=True),
                                  check_dtype=False, check_exact=True)


def test_json_output_is_parseable(tmp_path):
    """--json prints one JSON document on stdout: scenario, seed, replications, KPIs."""
    result = secsim("run", BASELINE, *ARGS, "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert (doc["scenario"], doc["seed"], doc["replications"]) == ("baseline", 1, 2)
    pickup = doc["kpis"]["ALL"]["pickup_rate"]
    assert 0 <= pickup["mean"] <= 1 and pickup["n"] == 2
