"""Staffing as a number: a team's ``size`` in FTE expands to named secretaries."""

from __future__ import annotations

import copy
import functools
import math
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.runs.runner import replicate
from simulation.scenario.composition import deep_merge, load_composed, load_scenario, read_composed
from simulation.scenario.errors import ScenarioError
from simulation.scenario.io import dump_yaml

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
CARDIO = "teams.cardiology_secretariat"


@functools.cache
def baseline_data() -> dict:
    return read_composed(BASELINE)


def with_team(team: dict) -> dict:
    """The baseline's plain data plus a team named 'pool'."""
    return deep_merge(copy.deepcopy(baseline_data()), {"name": "sized", "teams": {"pool": team}})


def pool(size, **template) -> dict:
    """The baseline plus a call pool staffed by number."""
    return with_team({"departments": "all", "kinds": ["call"], "size": size,
                      "shift": template.pop("shift", "early"), **template})


def fte(secretaries, open_days: int = 5) -> float:
    return sum(len(s.days) / open_days for s in secretaries.values())


def test_size_on_a_named_team_keeps_the_named_first_then_copies_them_in_turn():
    named = list(load_composed(BASELINE).teams["cardiology_secretariat"].secretaries)
    assert len(named) == 2
    sc = load_composed(BASELINE, [f"{CARDIO}.size=4"])
    team = sc.teams["cardiology_secretariat"].secretaries
    assert list(team)[:2] == named
    assert list(team)[2:] == ["cardiology_secretariat_3", "cardiology_secretariat_4"]
    assert team["cardiology_secretariat_3"].shift == team[named[0]].shift
    assert team["cardiology_secretariat_4"].shift == team[named[1]].shift
    assert list(load_composed(BASELINE, [f"{CARDIO}.size=1"])
                .teams["cardiology_secretariat"].secretaries) == named[:1]


def test_a_fraction_is_a_part_time_secretary_on_the_first_days_of_her_week():
    team = load_scenario(pool(2.5, shift=["early", "late"])).teams["pool"].secretaries
    assert [s.shift for s in team.values()] == ["early", "late", "early"]
    assert [len(s.days) for s in team.values()] == [5, 5, 3]  # 0.5 x 5 days, rounded up
    assert team["pool_3"].days == ["mon", "tue", "wed"]
    small = load_scenario(pool(0.1)).teams["pool"].secretaries
    assert [s.days for s in small.values()] == [["mon"]]  # at least one day


@settings(max_examples=15, deadline=None, derandomize=True, database=None)
@given(size=st.floats(0.05, 12.0))
def test_staffed_fte_is_the_size_to_the_nearest_working_day(size):
    team = load_scenario(pool(size)).teams["pool"].secretaries
    assert len(team) in (math.floor(size), math.ceil(size))
    # To the nearest of the 5 open days; a team is never empty (one day at least).
    assert abs(fte(team) - size) <= 0.5 / 5 + 1e-9 or (size < 0.1 and fte(team) == 0.2)


def test_the_resolved_scenario_lists_the_secretaries_and_reads_back_the_same(tmp_path):
    sc = load_scenario(pool(2.5, days=["mon", "tue", "thu", "fri"], absence_rate=0.1))
    dumped = yaml.safe_load(dump_yaml(sc))
    assert dumped["teams"]["pool"]["size"] is None
    assert set(dumped["teams"]["pool"]["secretaries"]) == {"pool_1", "pool_2", "pool_3"}
    assert dumped["teams"]["pool"]["secretaries"]["pool_3"]["days"] == ["mon", "tue"]
    again = load_scenario(dumped)
    assert again.teams == sc.teams


@pytest.mark.parametrize("team, fix", [
    ({"departments": "all", "size": 2}, "needs a 'shift'"),
    ({"departments": "all", "shift": "early", "secretaries": {"a": {"shift": "early"}}},
     "give 'size' too"),
    ({"departments": "all", "size": 2, "shift": "early",
      "secretaries": {"a": {"shift": "early"}}}, "only for a team without named"),
    ({"departments": "all"}, "list them under 'secretaries' or give the team a 'size'"),
    ({"departments": "all", "size": 0, "shift": "early"}, "size: must be > 0"),
    ({"departments": "all", "size": float("nan"), "shift": "early"}, "finite"),
])
def test_bad_sizes_name_the_field_and_the_fix(team, fix):
    with pytest.raises(ScenarioError) as err:
        load_scenario(with_team(team))
    assert "teams.pool" in str(err.value) and fix in str(err.value)


def test_a_part_time_secretary_is_on_duty_only_on_her_days():
    sc = load_composed(BASELINE, [f"{CARDIO}.size=2.4", "calendar.horizon_days=7",
                                  "calendar.warmup_days=0", "calendar.follow_up_days=0"])
    part = sc.teams["cardiology_secretariat"].secretaries
    name = list(part)[-1]
    assert part[name].days == ["mon", "tue"]  # 0.4 x 5 days
    presence = replicate(sc, seed=1, replication=0).events["presence"]
    worked = presence[presence.secretary == name]
    assert len(worked) and set(worked.start_weekday) <= {"mon", "tue"}


def test_a_sweep_varies_a_team_size_like_any_number(tmp_path):
    from simulation.sweeps.spec import generate_points, load_spec

    spec = tmp_path / "sizes.yaml"
    spec.write_text(yaml.safe_dump({
        "name": "sizes", "base": str(BASELINE), "design": "grid", "replications": 1,
        "parameters": {"cardio": {"path": f"{CARDIO}.size", "values": [1, 2.5, 4]}}}))
    plan = load_spec(spec)
    sizes = [fte(plan.scenario(p).teams["cardiology_secretariat"].secretaries)
             for p in generate_points(plan.spec)]
    assert sizes == [1.0, 2.6, 4.0]  # 2.5 FTE: the half-timer works 3 of 5 days
