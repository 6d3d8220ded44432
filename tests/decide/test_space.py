"""Parsing of --vary and --target, the candidate grid and the FTE cost."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulation.decide.space import Target, candidates, fte, parse_target, parse_vary
from simulation.errors import UsageError
from simulation.scenario.composition import load_composed

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("text, values", [
    ("teams.a.size=1..5", (1, 2, 3, 4, 5)),
    ("teams.a.size=1..2:0.5", (1.0, 1.5, 2.0)),
    ("teams.a.size=3..3", (3,)),
    ("levers.0.scope=phones,all", ("phones", "all")),
    ("levers.0.departments=[cardiology, rheumatology],all", (["cardiology", "rheumatology"], "all")),
    ("x.share=0,0.11,0.38", (0, 0.11, 0.38)),
])
def test_vary_reads_ranges_and_lists(text, values):
    v = parse_vary(text)
    assert v.path == text.split("=")[0] and v.values == values


@pytest.mark.parametrize("text, says", [
    ("teams.a.size", "is not PATH=VALUES"), ("=1..3", "give a path"),
    ("a=5..1", "empty or its step"), ("a=1..3:0", "empty or its step"),
    ("a=1,1", "listed twice"), ("a=1..1000000", "coarser step"),
])
def test_bad_vary_says_what_to_write(text, says):
    with pytest.raises(UsageError, match=says):
        parse_vary(text)


def test_targets_read_both_directions_departments_and_percentages():
    assert parse_target("pickup_rate>=0.9") == Target("pickup_rate", ">=", 0.9)
    assert parse_target("report_delay_mean_days <= 10") == Target("report_delay_mean_days", "<=", 10)
    assert parse_target("pickup_rate@cardiology>=90%") == Target("pickup_rate", ">=", 0.9, "cardiology")
    assert str(parse_target("pickup_rate@cardiology>=0.9")) == "pickup_rate@cardiology>=0.9"
    for bad in ("pickup_rate>0.9", "pickup_rate>=abc", "pickup_rate>=nan", ">=0.9"):
        with pytest.raises(UsageError):
            parse_target(bad)


def test_the_grid_is_every_combination_in_order_and_refuses_repeats():
    grid = candidates([parse_vary("a=1..2"), parse_vary("b=x,y")])
    assert grid == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"}, {"a": 2, "b": "y"}]
    with pytest.raises(UsageError, match="twice"):
        candidates([parse_vary("a=1..2"), parse_vary("a=3..4")])
    with pytest.raises(UsageError, match="combinations"):
        candidates([parse_vary(f"p{i}=1..10") for i in range(5)])


def test_fte_counts_working_open_days():
    base = ROOT / "scenarios" / "baseline.yaml"
    n = len(load_composed(base).secretaries())
    assert fte(load_composed(base)) == n  # everyone works every open day
    half = load_composed(base, ["teams.cardiology_secretariat.size=1.4"])
    assert fte(half) == pytest.approx(n - 2 + 1.4)  # 0.4 x 5 days = 2 days
