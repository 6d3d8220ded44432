"""Phone and desk cover: the split keeps someone on every open line, gaps are warned of.

Checked from shifts and presence plans, without running the simulation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import call_stream, scenario_dict, secsim

from simulation.engine.staff import line_open_intervals, presence_plan
from simulation.scenario.calendar import subtract_intervals
from simulation.scenario.composition import load_composed, load_scenario
from simulation.scenario.consistency import team_serves
from simulation.scenario.cover import cover_gaps, cover_warnings, lines
from simulation.scenario.errors import ScenarioError

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
RHEUMATOLOGY_GAP = "nobody on duty mon-fri 12:00-12:45, 16:51-17:00"


def with_split(tmp_path: Path, back_office: dict, *before: dict) -> Path:
    path = tmp_path / "split.yaml"
    path.write_text(yaml.safe_dump({"extends": str(SCENARIOS / "baseline.yaml"), "name": "split",
                                    "levers": [*before, {"lever": "front_back_split",
                                                         "back_office": back_office}]}))
    return path


def uncovered_departments(scenario) -> set[str]:
    """Departments with an open line minute nobody answers, from the engine's presence plans."""
    no_absence = np.zeros(scenario.calendar.horizon_days, dtype=bool)
    plans = {t: [s for n, sec in team.secretaries.items()
                 for s in presence_plan(scenario, sec, no_absence)]
             for t, team in scenario.teams.items()}
    out = set()
    for dept, stream, kind, cat in lines(scenario):
        on_duty = [s for t in scenario.teams if team_serves(scenario, t, dept, kind, cat, stream)
                   for s in plans[t]]
        if subtract_intervals(line_open_intervals(scenario), on_duty):
            out.add(dept)
    return out


@pytest.mark.parametrize("name", ["front_back_split", "front_back_split_pooled"])
def test_bundled_splits_leave_no_open_minute_without_cover(name):
    """Every split department keeps someone on its lines and desk at every open minute;
    only rheumatology (one secretary, not split) has the baseline's lunch and end-of-day gaps."""
    baseline = load_composed(SCENARIOS / "baseline.yaml")
    split = load_composed(SCENARIOS / f"{name}.yaml")
    assert any(t.endswith("_back") for t in split.teams)
    assert uncovered_departments(split) == uncovered_departments(baseline) == {"rheumatology"}
    assert cover_gaps(split) == cover_gaps(baseline)


def test_split_picks_who_moves_to_keep_cover(tmp_path):
    """The last-listed ortho secretary is the only late shift here: she stays in front."""
    swap = ["teams.ortho_secretariat.secretaries.ortho_ama_2.shift=early",
            "teams.ortho_secretariat.secretaries.ortho_ama_3.shift=late"]
    sc = load_composed(with_split(tmp_path, {"ortho_secretariat": 1}), swap)
    assert list(sc.teams["ortho_secretariat_back"].secretaries) == ["ortho_ama_2"]
    assert "orthopaedics" not in uncovered_departments(sc)


def test_split_of_pooled_departments_keeps_one_early_and_one_late_in_front(tmp_path):
    """Cardiology and gastroenterology share lines: the two who move must have different shifts."""
    pool = {"lever": "pooling", "departments": ["cardiology", "gastroenterology"],
            "scope": "phones_and_desk"}
    sc = load_composed(with_split(tmp_path, {"cardiology_secretariat": 1,
                                             "gastro_secretariat": 1}, pool))
    front = [s.shift for t in ("cardiology_secretariat", "gastro_secretariat")
             for s in sc.teams[t].secretaries.values()]
    assert sorted(front) == ["early", "late"]
    assert uncovered_departments(sc) == {"rheumatology"}


def test_split_that_cannot_keep_cover_keeps_the_best_choice_and_warns(tmp_path):
    """Two staggered secretaries: whoever moves, the other's lunch is uncovered; it is said."""
    sc = load_composed(with_split(tmp_path, {"cardiology_secretariat": 1}))
    assert list(sc.teams["cardiology_secretariat_back"].secretaries) == ["cardio_ama_2"]
    warned = dict(cover_warnings(sc))
    assert warned["departments.cardiology.streams"].startswith(
        "cardiology phone lines (booking_calls, info_calls) and walk-in desk (walk_ins): "
        + RHEUMATOLOGY_GAP)


def test_named_secretaries_move_whatever_the_cover(tmp_path):
    sc = load_composed(with_split(tmp_path, {"cardiology_secretariat": ["cardio_ama_1"]}))
    assert list(sc.teams["cardiology_secretariat_back"].secretaries) == ["cardio_ama_1"]
    assert list(sc.teams["cardiology_secretariat"].secretaries) == ["cardio_ama_2"]
    # The late shift alone: nobody before 8:39 nor during her 12:45-13:30 lunch.
    assert "nobody on duty mon-fri 08:30-08:39, 12:45-13:30" in \
        dict(cover_warnings(sc))["departments.cardiology.streams"]


@pytest.mark.parametrize("names, words", [
    (["cardio_ama_9"], ["unknown secretary 'cardio_ama_9'", "cardio_ama_1, cardio_ama_2"]),
    (["cardio_ama_1", "cardio_ama_2"], ["moves 2 of the 2", "someone stays"]),
    ([], ["moves 0 of the 2"]),
    (["cardio_ama_1", "cardio_ama_1"], ["twice"]),
])
def test_named_back_office_rejects_bad_names_naming_the_field(tmp_path, names, words):
    with pytest.raises(ScenarioError) as err:
        load_composed(with_split(tmp_path, {"cardiology_secretariat": names}))
    (path, message), = err.value.problems
    assert path == "levers[0].back_office.cardiology_secretariat"
    for w in words:
        assert w in message, message


def gap_scenario(**calendar) -> dict:
    """Lines open 8:00-18:00 mon-fri; one secretary 8:00-16:00 (lunch 12:00-12:30) mon-thu."""
    data = scenario_dict({"calls": call_stream(0.05, 3, 2, audit_category="booking"),
                          "desk": {"type": "walk_in", "arrivals": {"per_day": 10},
                                   "service": {"dist": "exponential", "mean": 4}}},
                         secretary_fields={"shift": {"start": "08:00", "end": "16:00",
                                                     "breaks": [["12:00", "12:30"]]},
                                           "days": ["mon", "tue", "wed", "thu"]})
    data["calendar"] = {"horizon_days": 7, "opening_hours": {
        d: ["08:00", "18:00"] for d in ("mon", "tue", "wed", "thu", "fri")}, **calendar}
    return data


def test_cover_warning_names_the_lines_and_the_hours():
    (path, message), = cover_warnings(load_scenario(gap_scenario()))
    assert path == "departments.cardiology.streams"
    assert message.startswith("cardiology phone line (calls) and walk-in desk (desk): nobody on "
                              "duty mon-thu 12:00-12:30, 16:00-18:00; fri 08:00-18:00")


def test_lunch_closure_and_breaks_inside_it_are_no_gap():
    sc = load_scenario(gap_scenario(lunch_closure=["12:00", "13:00"]))
    assert "mon-thu 16:00-18:00; fri 08:00-12:00, 13:00-18:00," in cover_warnings(sc)[0][1]


def test_full_cover_gives_no_warning():
    data = gap_scenario()
    data["teams"]["secretariat"]["secretaries"]["ama_0"] = {
        "shift": {"start": "08:00", "end": "18:00"}}
    assert cover_warnings(load_scenario(data)) == []


def test_baseline_warns_only_of_its_single_secretary_department():
    """Rheumatology's one secretary (below the continuity minimum) has lunch and leaves at
    16:51: a real gap of the baseline, said once; the other departments are covered."""
    (path, message), = cover_warnings(load_composed(SCENARIOS / "baseline.yaml"))
    assert path == "departments.rheumatology.streams"
    assert RHEUMATOLOGY_GAP in message


def test_validate_prints_cover_warnings_and_succeeds(tmp_path):
    path = tmp_path / "gap.yaml"
    path.write_text(yaml.safe_dump(gap_scenario()))
    result = secsim("validate", path)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout
    assert "warning: departments.cardiology.streams: cardiology phone line (calls)" \
        in result.stderr
