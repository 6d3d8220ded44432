"""Global sensitivity (SALib): indices on a known function, and the command end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from simulation.decide.sensitivity import Factor, analyse, sample

WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
FS = [Factor("a", 0.0, 1.0), Factor("b", 0.0, 1.0), Factor("c", 0.0, 1.0)]


def known(x: np.ndarray) -> np.ndarray:
    """a matters most, b a little (and with a), c not at all."""
    return 10 * x[:, 0] + 2 * x[:, 1] + 3 * x[:, 0] * x[:, 1] + 0 * x[:, 2]


def test_morris_ranks_a_known_function_and_gives_zero_to_a_dead_parameter():
    x = sample(FS, "morris", 20, seed=1)
    idx = analyse(FS, "morris", x, known(x), "y", seed=1).set_index("parameter")
    assert idx.mu_star["a"] > idx.mu_star["b"] > idx.mu_star["c"]
    assert idx.mu_star["c"] == 0.0 and idx.sigma["c"] == 0.0
    assert idx.sigma["a"] > 0  # the interaction shows as spread of a's effects


def test_sobol_shares_add_up_and_the_dead_parameter_is_near_zero():
    x = sample(FS, "sobol", 256, seed=1)
    idx = analyse(FS, "sobol", x, known(x), "y", seed=1).set_index("parameter")
    assert idx.S1["a"] > idx.S1["b"] > abs(idx.S1["c"])
    # ST(c) is zero up to its own confidence half-width (no effect at all).
    assert abs(idx.ST["c"]) <= idx.ST_conf["c"] + 1e-9
    assert 0.9 <= idx.S1.sum() <= 1.0 + idx.S1_conf.sum()  # a small interaction share


def test_a_factor_maps_draws_to_its_choices_and_integers():
    f = Factor("pool", 0.0, 3.0, choices=["none", "pair", "all"])
    assert [f.value(x) for x in (0.0, 0.99, 1.0, 2.5, 3.0)] == ["none", "none", "pair", "all",
                                                              "all"]
    assert Factor("n", 1, 5, integer=True).value(4.6) == 5


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory) -> Path:
    """A call line with a staffing range (moves pickup) and the service-level threshold,
    which no call outcome depends on (moves only the service level)."""
    folder = tmp_path_factory.mktemp("sa")
    line = {"name": "line",
            "calendar": {"horizon_days": 2, "warmup_days": 1, "follow_up_days": 0,
                         "opening_hours": {d: ["00:00", "24:00"] for d in WEEK}},
            "departments": {"line": {"streams": {"calls": {
                "type": "call", "arrivals": {"per_day": 720, "hourly_shape": {h: 1 for h in range(24)}},
                "service": {"dist": "exponential", "mean": 6.0},
                "patience": {"dist": "exponential", "mean": 4.0}}}}},
            "teams": {"phones": {"departments": ["line"], "size": 2,
                                 "shift": {"start": "00:00", "end": "24:00"}}}}
    (folder / "line.yaml").write_text(yaml.safe_dump(line))
    spec = {"name": "line_sa", "base": "line.yaml", "design": "lhs", "samples": 4,
            "replications": 2, "seed": 1,
            "parameters": {"staff": {"path": "teams.phones.size", "low": 1, "high": 5,
                                     "integer": True},
                           "sl": {"path": "kpis.service_level_seconds", "low": 10,
                                  "high": 120}}}
    (folder / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return folder / "spec.yaml"


def secsim(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simulation", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def test_command_finds_what_moves_each_kpi_writes_its_page_and_resumes(spec_file, tmp_path):
    out = tmp_path / "sa"
    args = ["sensitivity", str(spec_file), "--samples", "3", "--kpi", "pickup_rate",
            "--kpi", "service_level", "--serial", "--out", str(out), "--json", "-q"]
    r = secsim(*args, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert all(set(row) == {"kpi", "parameter", "mu_star", "sigma", "mu_star_conf"}
               for row in rows)
    mu = {(row["kpi"], row["parameter"]): row["mu_star"] for row in rows}
    # Same seeds at every point: the threshold cannot change a single call's outcome.
    assert mu[("pickup_rate", "sl")] == 0.0
    assert mu[("pickup_rate", "staff")] > 0.1
    assert mu[("service_level", "sl")] > 0.0
    for name in ("indices.csv", "indices.parquet", "design.yaml", "sensitivity.html"):
        assert (out / name).exists(), name
    assert "<svg" in (out / "sensitivity.html").read_text()
    again = secsim(*args, cwd=tmp_path)  # a rerun continues: nothing left to run
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == rows


@pytest.mark.parametrize("extra, says", [
    (["--method", "sobol", "--samples", "6"], "power of two"),
    (["--kpi", "pickup"], "no KPI 'pickup'"),
    (["--samples", "1"], "--samples must be at least 2"),
    (["--replications", "auto"], "needs --precision"),
    (["--precision", "0.01"], "goes with --replications auto"),
])
def test_command_refuses_bad_input_clearly(spec_file, tmp_path, extra, says):
    r = secsim("sensitivity", str(spec_file), "--serial", "--samples", "2", "--replications",
               "1", "--out", str(tmp_path / "o"), "-q", *extra, cwd=tmp_path)
    assert r.returncode == 2 and says in r.stderr and "Traceback" not in r.stderr, r.stderr
