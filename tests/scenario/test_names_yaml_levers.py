"""Names that are safe file names, duplicate YAML keys, and levers that undo each other."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from simulation.scenario.composition import compose, load_composed, read_composed
from simulation.scenario.errors import ScenarioError
from simulation.scenario.io import read_yaml

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
UNSAFE = ["..", ".", "a/b", "/abs", "a\\b", "con", "NUL", "com1.txt", ".hidden", "tab\there",
          "end.", ""]


def _baseline() -> dict:
    return read_composed(BASELINE)


def _problems(data: dict) -> list[tuple[str, str]]:
    with pytest.raises(ScenarioError) as err:
        compose(data)
    return err.value.problems


@pytest.mark.parametrize("name", UNSAFE)
def test_an_unsafe_scenario_name_is_refused(name):
    data = _baseline()
    data["name"] = name
    [(path, message)] = _problems(data)
    assert path == "name" and "name" in message and "use letters, digits" in message


def _rename(mapping: dict, old: str, new: str) -> dict:
    return {(new if k == old else k): v for k, v in mapping.items()}


@pytest.mark.parametrize("name", ["..", ".", "a/b", "/abs", "con"])
@pytest.mark.parametrize("where", ["department", "stream", "team", "secretary"])
def test_an_unsafe_department_stream_team_or_secretary_name_is_refused(name, where):
    data = _baseline()
    if where == "department":
        data["departments"] = _rename(data["departments"], "rheumatology", name)
        prefix = f"departments.{name}"
    elif where == "stream":
        dept = data["departments"]["cardiology"]
        dept["streams"] = _rename(dept["streams"], "service_life", name)
        prefix = f"departments.cardiology.streams.{name}"
    elif where == "team":
        data["teams"] = _rename(data["teams"], "ortho_secretariat", name)
        prefix = f"teams.{name}"
    else:
        team = data["teams"]["ortho_secretariat"]
        team["secretaries"] = _rename(team["secretaries"], "ortho_ama_3", name)
        prefix = f"teams.ortho_secretariat.secretaries.{name}"
    problems = _problems(data)
    assert any(p == prefix and "file and folder names" in m for p, m in problems), problems


def test_names_with_inner_dots_hyphens_and_accents_are_fine():
    data = _baseline()
    data["name"] = "v1.2-pooled"
    data["departments"] = _rename(data["departments"], "rheumatology", "rhumatologie-été")
    data["teams"]["rheumato_secretariat"]["departments"] = ["rhumatologie-été"]
    assert compose(data).name == "v1.2-pooled"


# ----------------------------------------------------------------------------- YAML
def test_a_duplicate_key_names_the_key_and_both_lines(tmp_path):
    f = tmp_path / "dup.yaml"
    f.write_text("name: dup\ncalendar:\n  horizon_days: 20\n  warmup_days: 2\n"
                 "  horizon_days: 30\n")
    with pytest.raises(ScenarioError) as err:
        read_yaml(f)
    [(path, message)] = err.value.problems
    assert path == "calendar.horizon_days"
    assert "'horizon_days'" in message and "lines 3 and 5" in message


def test_a_duplicate_key_in_a_flow_mapping_or_an_override_is_refused(tmp_path):
    f = tmp_path / "dup.yaml"
    f.write_text("x-shape: &s {8: 1, 9: 2, 8: 3}\nname: x\n")
    with pytest.raises(ScenarioError, match="'8' is written twice"):
        read_yaml(f)
    with pytest.raises(ScenarioError, match="'a' is written twice"):
        load_composed(BASELINE, ["calendar={a: 1, a: 2}"])


def test_merge_keys_may_override_merged_keys(tmp_path):
    f = tmp_path / "merge.yaml"
    f.write_text("a: &a {x: 1, y: 2}\nb: {<<: *a, x: 3}\n")
    assert read_yaml(f) == {"a": {"x": 1, "y": 2}, "b": {"x": 3, "y": 2}}


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")), ids=lambda p: p.name)
def test_bundled_scenarios_load_exactly_as_plain_yaml_loads_them(path):
    assert read_yaml(path) == yaml.safe_load(path.read_text(encoding="utf-8"))


def test_an_override_changes_one_use_of_an_anchor_not_all():
    key = "departments.cardiology.streams.booking_calls.service.mean"
    s = load_composed(BASELINE, [f"{key}=4.5"])
    assert s.departments["cardiology"].streams["booking_calls"].service.mean == 4.5
    assert s.departments["orthopaedics"].streams["booking_calls"].service.mean == 3.5


# ----------------------------------------------------------------------------- levers
SPLIT = {"lever": "front_back_split",
         "back_office": {"cardiology_secretariat": 1, "gastro_secretariat": 1}}


@pytest.mark.parametrize("scope", ["all", "phones", "phones_and_desk"])
def test_pooling_after_a_split_is_an_error_naming_both_levers(scope):
    data = _baseline()
    data["levers"] = [SPLIT, {"lever": "pooling", "scope": scope,
                              "departments": ["cardiology", "gastroenterology"]}]
    [(path, message)] = _problems(data)
    assert path == "levers[1]"
    assert "levers[0] (front_back_split)" in message and "pooling" in message
    assert "pool first" in message


def test_pooling_before_a_split_has_a_meaning_and_loads():
    data = _baseline()
    data["levers"] = [{"lever": "pooling", "scope": "phones_and_desk",
                       "departments": ["cardiology", "gastroenterology"]}, SPLIT]
    assert "cardiology_secretariat_back" in compose(data).teams


def test_pooling_after_a_booking_desk_is_an_error_naming_both():
    data = _baseline()
    data["levers"] = [{"lever": "booking_desk", "staff": {"ortho_secretariat": 1}},
                      {"lever": "pooling", "scope": "phones"}]
    [(path, message)] = _problems(data)
    assert path == "levers[1]" and "levers[0] (booking_desk)" in message


@pytest.mark.parametrize("lever", [
    {"lever": "online_booking", "share": 0.1},
    {"lever": "voice_recognition", "mode": "back_end"},
    {"lever": "absences", "rate": 0.05},
])
def test_the_same_lever_twice_on_the_same_target_is_an_error_naming_both(lever):
    data = _baseline()
    data["levers"] = [lever, {**lever, "departments": ["cardiology"]} if "rate" not in lever
                      else {**lever, "teams": ["cardiology_secretariat"]}]
    [(path, message)] = _problems(data)
    assert path == "levers[1]"
    assert f"levers[1] ({lever['lever']}) and levers[0] ({lever['lever']})" in message
    assert "cardiology" in message


def test_the_same_lever_on_different_departments_is_fine():
    data = _baseline()
    data["levers"] = [{"lever": "voice_recognition", "mode": "back_end",
                       "departments": ["cardiology"]},
                      {"lever": "voice_recognition", "mode": "front_end",
                       "departments": ["orthopaedics"]}]
    s = compose(data)
    assert s.departments["orthopaedics"].streams["operative_reports"].voice_recognition.mode \
        == "front_end"
