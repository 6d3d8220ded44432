"""Bad scenario input: one clear sentence naming the field, exit status 2, no traceback.

CLI cases run ``secsim validate`` in a subprocess; a few more rules are checked in
process through ``load_scenario`` / ``ScenarioError.problems``.
"""

from __future__ import annotations

import copy

import pytest
import yaml
from conftest import build, call_stream, scenario_dict, secsim

from simulation import ScenarioError, load_scenario


def valid() -> dict:
    """A small valid scenario: one department with calls, one secretary on 08:00-16:00."""
    data = scenario_dict({"calls": call_stream(0.05, 3, 2)},
                         secretary_fields={"shift": {"start": "08:00", "end": "16:00"}})
    data["calendar"] = {"horizon_days": 5,
                        "opening_hours": {d: ["08:00", "18:00"] for d in
                                          ("mon", "tue", "wed", "thu", "fri")}}
    return data


def unknown_field(d):
    d["calendar"]["horizon_dayz"] = 10


def negative_rate(d):
    d["departments"]["cardiology"]["streams"]["calls"]["arrivals"]["per_day"] = -5


def team_of_missing_department(d):
    d["teams"]["secretariat"]["departments"] = ["cardiologie"]


def shift_outside_opening_hours(d):
    d["teams"]["secretariat"]["secretaries"]["ama_0"]["shift"] = {"start": "07:00",
                                                                 "end": "15:00"}


def wrong_dist_name(d):
    d["departments"]["cardiology"]["streams"]["calls"]["service"] = {"dist": "lognormol",
                                                                     "mean": 3, "cv": 0.5}


# (case, edit, dotted path expected in the message, words expected in the message)
EDIT_CASES = [
    ("unknown_field", unknown_field, "calendar.horizon_dayz", ["did you mean 'horizon_days'"]),
    ("negative_rate", negative_rate, "departments.cardiology.streams.calls.arrivals.per_day",
     [">= 0", "-5"]),
    ("missing_department", team_of_missing_department, "teams.secretariat.departments",
     ["unknown department 'cardiologie'", "cardiology"]),
    ("shift_outside_hours", shift_outside_opening_hours,
     "teams.secretariat.secretaries.ama_0.shift", ["outside the opening hours"]),
    ("wrong_dist", wrong_dist_name, "departments.cardiology.streams.calls.service",
     ["'lognormol'", "lognormal"]),
]


def assert_one_clear_error(result, *needles: str) -> None:
    """Exit 2, nothing on stdout, one line on stderr containing every needle, no traceback."""
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def test_valid_scenario_passes(tmp_path):
    """Positive control: the unedited scenario validates (exit 0, 'OK')."""
    path = tmp_path / "ok.yaml"
    path.write_text(yaml.safe_dump(valid()))
    result = secsim("validate", path)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


@pytest.mark.parametrize("case, edit, field, words", EDIT_CASES, ids=[c[0] for c in EDIT_CASES])
def test_bad_field_gives_one_message_with_its_path(tmp_path, case, edit, field, words):
    """Each mistake is reported once, at its dotted field path, with the fix."""
    data = copy.deepcopy(valid())
    edit(data)
    path = tmp_path / f"{case}.yaml"
    path.write_text(yaml.safe_dump(data))
    assert_one_clear_error(secsim("validate", path), str(path), f"{field}:", *words)


def test_missing_file(tmp_path):
    """A path that does not exist: 'file not found' naming it."""
    path = tmp_path / "nowhere.yaml"
    assert_one_clear_error(secsim("validate", path), "file not found", str(path))


def test_invalid_yaml_names_the_line(tmp_path):
    """A YAML syntax error is reported with its line, not as a parser traceback."""
    path = tmp_path / "broken.yaml"
    path.write_text("name: broken\ncalendar:\n  horizon_days: [5\n  warmup_days: 1\n")
    assert_one_clear_error(secsim("validate", path), "not valid YAML", "line")


def test_bad_override_names_the_field(tmp_path):
    """--set with a bad value fails like a bad file field."""
    path = tmp_path / "ok.yaml"
    path.write_text(yaml.safe_dump(valid()))
    result = secsim("validate", path, "--set", "calendar.horizon_days=-3")
    assert_one_clear_error(result, "calendar.horizon_days:", ">= 1")


@pytest.mark.parametrize("edit, path", [
    (lambda d: d["calendar"].update(warmup_days=5), "calendar"),
    (lambda d: d["teams"]["secretariat"]["secretaries"]["ama_0"]["shift"].update(
        breaks=[["12:00", "17:00"]]), "teams.secretariat.secretaries.ama_0.shift"),
    (lambda d: d["departments"]["cardiology"]["streams"]["calls"].update(type="fax"),
     "departments.cardiology.streams.calls"),
    (lambda d: d["departments"]["cardiology"]["streams"]["calls"].update(answered_by=["desk"]),
     "departments.cardiology.streams.calls.answered_by"),
    (lambda d: d["interruptions"].update(urgent_order=["call"]), "interruptions.urgent_order"),
    (lambda d: d["teams"]["secretariat"]["secretaries"]["ama_0"]["shift"].update(brakes=[]),
     "teams.secretariat.secretaries.ama_0.shift.brakes"),
], ids=["warmup_not_shorter", "break_outside_shift", "unknown_stream_type",
        "answered_by_unknown_team", "incomplete_urgent_order", "typo_in_inline_shift"])
def test_cross_field_rules_name_the_field(edit, path):
    """Further rules, in process: ScenarioError lists exactly one problem at that path."""
    data = copy.deepcopy(valid())
    data.setdefault("interruptions", {})
    edit(data)
    with pytest.raises(ScenarioError) as err:
        load_scenario(data)
    assert [p for p, _ in err.value.problems] == [path], err.value.problems


def test_every_problem_is_listed_at_once():
    """Several independent mistakes are all reported in one go, each with its path."""
    data = copy.deepcopy(valid())
    unknown_field(data)
    negative_rate(data)
    with pytest.raises(ScenarioError) as err:
        build(data)
    paths = {p for p, _ in err.value.problems}
    assert paths == {"calendar.horizon_dayz",
                     "departments.cardiology.streams.calls.arrivals.per_day"}


def team_departments_misspelt_all(d):
    d["teams"]["secretariat"]["departments"] = "alll"


def shift_is_a_number(d):
    d["teams"]["secretariat"]["secretaries"]["ama_0"]["shift"] = 5


@pytest.mark.parametrize("edit, field, words", [
    (team_departments_misspelt_all, "teams.secretariat.departments", ["list or 'all'", "alll"]),
    (shift_is_a_number, "teams.secretariat.secretaries.ama_0.shift", ["string", "Shift"]),
], ids=["departments_alll", "shift_5"])
def test_a_union_field_gets_one_sentence_listing_what_it_accepts(tmp_path, edit, field, words):
    data = valid()
    edit(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    assert_one_clear_error(secsim("validate", str(path)), field, *words)


@pytest.mark.parametrize("text, words", [("", "empty"), ("- a\n- b\n", "a list")],
                         ids=["empty_file", "yaml_list"])
def test_a_file_that_is_not_a_mapping_is_refused_clearly(tmp_path, text, words):
    path = tmp_path / "odd.yaml"
    path.write_text(text)
    assert_one_clear_error(secsim("validate", str(path)), words, "name, calendar")


def test_default_hourly_shape_needs_the_same_opening_hours_every_day():
    """With Saturday open 09:00-12:00 only, a defaulted profile would misplace arrivals."""
    data = valid()
    data["calendar"]["opening_hours"]["sat"] = ["09:00", "12:00"]
    data["departments"]["cardiology"]["streams"]["calls"]["arrivals"].pop("hourly_shape", None)
    with pytest.raises(ScenarioError) as err:
        load_scenario(data)
    assert "departments.cardiology.streams.calls.arrivals.hourly_shape" in str(err.value)
    assert "differ between weekdays" in str(err.value)
