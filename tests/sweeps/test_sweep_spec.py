"""Sweep specs: point generation (grid, list, Latin hypercube) and errors before any work."""

from __future__ import annotations

import numpy as np
import pytest
from sweep_fixtures import CALLS, tiny_spec, write_spec

from simulation.cli.main import main
from simulation.sweeps.spec import SpecError, load_spec


def test_grid_makes_every_combination_last_parameter_fastest(tmp_path):
    plan = load_spec(write_spec(tmp_path))
    assert [p.params for p in plan.points] == [
        {"online_share": 0.0, "calls_per_day": 20}, {"online_share": 0.0, "calls_per_day": 40},
        {"online_share": 0.3, "calls_per_day": 20}, {"online_share": 0.3, "calls_per_day": 40}]
    assert [p.index for p in plan.points] == [0, 1, 2, 3]
    assert len(set(plan.hashes)) == 4
    scenario = plan.scenario(plan.points[3])
    calls = scenario.departments["clinic"].streams["booking_calls"]
    assert calls.online.share == 0.3 and calls.arrivals.per_day == 40


def test_overrides_of_seed_and_replications(tmp_path):
    plan = load_spec(write_spec(tmp_path), seed=11, replications=5)
    assert (plan.spec.seed, plan.spec.replications) == (11, 5)


def test_list_design_and_levels_setting_several_paths(tmp_path):
    spec = tiny_spec(design="list", parameters={
        "staffing": {"levels": {
            "two": {},
            "three": {"teams.clinic_team.secretaries.ama_3": {"shift": "day"}},
            "three_slow": {"teams.clinic_team.secretaries.ama_3": {"shift": "day"},
                           f"{CALLS}.service.mean": 4.0}}},
        "calls_per_day": {"path": f"{CALLS}.arrivals.per_day"}},
        points=[{"staffing": "two", "calls_per_day": 30},
                {"staffing": "three_slow", "calls_per_day": 45}])
    plan = load_spec(write_spec(tmp_path, spec))
    assert [p.params for p in plan.points] == [{"staffing": "two", "calls_per_day": 30},
                                               {"staffing": "three_slow", "calls_per_day": 45}]
    second = plan.scenario(plan.points[1])
    assert len(second.teams["clinic_team"].secretaries) == 3
    assert second.departments["clinic"].streams["booking_calls"].service.mean == 4.0
    assert len(plan.scenario(plan.points[0]).teams["clinic_team"].secretaries) == 2


def test_structured_values_take_their_labels_as_column_values(tmp_path):
    spec = tiny_spec(parameters={"shape": {
        "path": f"{CALLS}.arrivals.hourly_shape",
        "values": [{9: 1, 10: 1}, {9: 3, 14: 1}], "labels": ["flat", "morning"]}})
    plan = load_spec(write_spec(tmp_path, spec))
    assert [p.params["shape"] for p in plan.points] == ["flat", "morning"]
    shape = plan.scenario(plan.points[1]).departments["clinic"].streams["booking_calls"]
    assert shape.arrivals.hourly_shape == {9: 3.0, 14: 1.0}


def test_latin_hypercube_is_stratified_and_seeded(tmp_path):
    spec = tiny_spec(design="lhs", samples=8, design_seed=3, parameters={
        "online_share": {"path": f"{CALLS}.online.share", "low": 0.0, "high": 0.4},
        "calls_per_day": {"path": f"{CALLS}.arrivals.per_day", "low": 10, "high": 49,
                          "integer": True},
        "patience": {"path": f"{CALLS}.patience.mean", "values": [1.0, 2.0]}})
    plan = load_spec(write_spec(tmp_path, spec))
    share = np.array([p.params["online_share"] for p in plan.points])
    calls = [p.params["calls_per_day"] for p in plan.points]
    assert ((share >= 0) & (share < 0.4)).all()
    # One draw in each eighth of the range: the defining property of a Latin hypercube.
    assert sorted(np.floor(share / 0.05).astype(int)) == list(range(8))
    assert all(isinstance(c, int) and 10 <= c <= 49 for c in calls)
    assert sorted(c // 5 for c in calls) == list(range(2, 10))
    assert {p.params["patience"] for p in plan.points} == {1.0, 2.0}
    again = load_spec(write_spec(tmp_path, spec))
    assert [p.params for p in again.points] == [p.params for p in plan.points]
    other = load_spec(write_spec(tmp_path, {**spec, "design_seed": 4}))
    assert [p.params for p in other.points] != [p.params for p in plan.points]


def _error(tmp_path, spec) -> str:
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(tmp_path, spec))
    return str(info.value)


def test_unknown_path_names_the_parameter_and_suggests_a_fix(tmp_path):
    spec = tiny_spec()
    spec["parameters"]["calls_per_day"]["path"] = "departments.clinik.streams.booking_calls.x"
    msg = _error(tmp_path, spec)
    assert "parameters.calls_per_day" in msg and "point 0" in msg
    assert "'departments.clinik' is not in the base scenario" in msg
    assert "did you mean 'departments.clinic'" in msg


def test_unknown_final_field_and_bad_value_name_the_point(tmp_path):
    spec = tiny_spec()
    spec["parameters"]["calls_per_day"]["path"] = f"{CALLS}.arrivals.per_dai"
    msg = _error(tmp_path, spec)
    assert "parameters.calls_per_day" in msg and "per_dai" in msg and "per_day" in msg
    spec = tiny_spec()
    spec["parameters"]["online_share"]["values"] = [0.0, 1.5]
    msg = _error(tmp_path, spec)
    assert "point 2: online_share=1.5, calls_per_day=20" in msg
    assert "parameters.online_share" in msg and "online.share" in msg


@pytest.mark.parametrize("change, expected", [
    ({"parameters": {"online_share": {"path": f"{CALLS}.online.share", "values": []}}},
     "parameters.online_share.values: is empty"),
    ({"parameters": {}}, "parameters"),
    ({"parameters": {"a": {"path": "calendar.horizon_days", "low": 1, "high": 3}}},
     "'low'/'high' are for design: lhs"),
    ({"design": "lhs"}, "samples"),
    ({"design": "list"}, "design list needs a non-empty 'points'"),
    ({"parameters": {"x": {"values": [1]}}}, "needs a 'path'"),
    ({"parameters": {"point": {"path": "calendar.horizon_days", "values": [3]}}},
     "cannot name a parameter"),
    ({"parameters": {"a": {"path": "calendar.horizon_days", "values": [[1], [2]]}}},
     "add 'labels'"),
    ({"replications": 0}, "replications"),
    ({"bogus": 1}, "bogus: unknown field"),
    ({"base": "missing.yaml"}, "base: scenario 'missing.yaml' not found"),
])
def test_bad_specs_fail_with_a_clear_message(tmp_path, change, expected):
    assert expected in _error(tmp_path, tiny_spec(**change))


def test_cli_bad_spec_exits_2_before_any_work(tmp_path, capsys):
    spec = tiny_spec()
    spec["parameters"]["online_share"]["path"] = "departments.clinic.streamz.x"
    path = write_spec(tmp_path, spec)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--serial"]) == 2
    err = capsys.readouterr().err
    assert "parameters.online_share" in err and "Traceback" not in err
    assert not out.exists()


def test_cli_dry_run_lists_points_and_runs_nothing(tmp_path, capsys):
    path = write_spec(tmp_path)
    assert main(["sweep", str(path), "--dry-run", "--out", str(tmp_path / "o")]) == 0
    text = capsys.readouterr().out
    assert "4 points x 2 replications = 8 tasks" in text
    assert not (tmp_path / "o").exists()


def test_cli_rejects_bad_options(tmp_path, capsys):
    path = write_spec(tmp_path)
    assert main(["sweep", str(path), "--workers", "0"]) == 2
    assert main(["sweep", str(path), "--resume", "--overwrite"]) == 2
    assert "choose one" in capsys.readouterr().err


def test_a_section_left_to_defaults_can_be_swept(tmp_path):
    spec = tiny_spec(parameters={"resumption": {
        "path": "interruptions.resumption_cost.mean", "values": [0.5, 2.0]}})
    plan = load_spec(write_spec(tmp_path, spec))
    costs = [plan.scenario(p).interruptions.resumption_cost for p in plan.points]
    assert [c.mean for c in costs] == [0.5, 2.0]
    assert all(c.dist == "exponential" for c in costs)


def test_fixed_overrides_apply_to_every_point(tmp_path):
    plan = load_spec(write_spec(tmp_path, tiny_spec(fixed={"calendar.horizon_days": 3})))
    assert {plan.scenario(p).calendar.horizon_days for p in plan.points} == {3}


def test_a_parameter_on_an_anchored_value_changes_only_its_own_path(tmp_path):
    """The baseline shares one call-duration anchor between departments: sweeping
    cardiology's must not change orthopaedics' (YAML anchors are unshared per point)."""
    import shutil

    from conftest import BASELINE

    shutil.copy(BASELINE, tmp_path / "baseline.yaml")
    path = "departments.cardiology.streams.booking_calls.service.mean"
    spec = tiny_spec(base="baseline.yaml", parameters={"call_mean": {"path": path,
                                                                     "values": [5.0, 6.0]}})
    plan = load_spec(write_spec(tmp_path, spec))
    for point, mean in zip(plan.points, (5.0, 6.0)):
        sc = plan.scenario(point)
        assert sc.departments["cardiology"].streams["booking_calls"].service.mean == mean
        assert sc.departments["orthopaedics"].streams["booking_calls"].service.mean == 3.5


def test_a_point_beyond_the_event_budget_is_refused_before_running(tmp_path):
    with pytest.raises(SpecError, match="events"):
        load_spec(write_spec(tmp_path), max_events=100)


@pytest.mark.parametrize("name", ["..", ".", ".hidden", "con"])
def test_a_sweep_name_must_be_a_safe_folder_name(tmp_path, name):
    with pytest.raises(SpecError, match="name"):
        load_spec(write_spec(tmp_path, tiny_spec(name=name)))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1.0, 1e300, 2**63])
def test_a_bad_number_in_a_sweeps_values_is_refused_naming_the_point(tmp_path, bad):
    """Sweep values go through the scenario's field types: NaN, infinity, negatives and
    absurd sizes are errors naming the parameter and the point, before anything runs."""
    spec = tiny_spec(parameters={"calls_per_day": {"path": f"{CALLS}.arrivals.per_day",
                                                   "values": [20, bad]}})
    with pytest.raises(SpecError) as err:
        load_spec(write_spec(tmp_path, spec))
    assert "calls_per_day" in str(err.value) and "point 1" in str(err.value)
