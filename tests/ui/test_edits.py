"""The workbench's edits are plain-data edits: the downloaded YAML is the scenario run."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulation.scenario.composition import load_composed, load_scenario
from simulation.scenario.errors import ScenarioError
from simulation.scenario.io import to_plain
from simulation.ui import edits, jobs, results

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"


def baseline() -> dict:
    return edits.load_file(SCENARIOS / "baseline.yaml")


def test_settings_read_from_the_files():
    s = edits.settings(baseline())
    assert s["team_sizes"] == {"cardiology_secretariat": 2, "gastro_secretariat": 2,
                               "rheumato_secretariat": 1, "ortho_secretariat": 3}
    assert s["pooled"] == [] and s["voice_mode"] == "none" and s["online_share"] == 0
    assert s["signoff"]["cardiology"] == {"per_week": 1, "minutes": 90, "start": "17:30"}
    assert edits.settings(edits.load_file(SCENARIOS / "pooled_phones.yaml"))["pooled"] == [
        "cardiology", "gastroenterology", "rheumatology", "orthopaedics"]
    assert edits.settings(edits.load_file(SCENARIOS / "online_booking_11.yaml"))[
        "online_share"] == 0.11
    vr = edits.settings(edits.load_file(SCENARIOS / "voice_recognition_front_end.yaml"))
    assert vr["voice_mode"] == "front_end"
    assert edits.settings(edits.load_file(SCENARIOS / "front_back_split.yaml"))[
        "back_office"] == {"ortho_secretariat": 1}


def test_no_change_no_edit():
    data = baseline()
    out, sets = edits.edited(data, edits.settings(data))
    assert sets == [] and out == data


def test_downloaded_yaml_is_the_scenario_that_runs(tmp_path):
    """Pool cardiology and gastro phones, 20% online booking, one more cardiology secretary,
    two sittings a week in rheumatology: the YAML written reads back (as `secsim run` reads
    it) to the scenario validated in the page, and to the same scenario as the baseline
    file with the same --set and levers."""
    data = baseline()
    new = edits.settings(data)
    new.update(pooled=["gastroenterology", "cardiology"], online_share=0.2,
               team_sizes={**new["team_sizes"], "cardiology_secretariat": 3.0},
               signoff={**new["signoff"], "rheumatology": {"per_week": 2, "minutes": 60,
                                                           "start": "17:30"}})
    variant, sets = edits.edited(data, new, "pool_online")
    assert sets == ["teams.cardiology_secretariat.size=3",
                    "departments.rheumatology.doctors.sittings=[{per_week: 2, start: '17:30', "
                    "minutes: 60}]"]
    path = tmp_path / "pool_online.yaml"
    path.write_text(edits.to_yaml(variant, "edited in secsim ui"), encoding="utf-8")
    in_page = to_plain(edits.validate_data(variant))
    assert to_plain(load_composed(path)) == in_page
    by_hand = tmp_path / "by_hand.yaml"
    by_hand.write_text(f"extends: {SCENARIOS / 'baseline.yaml'}\nname: pool_online\nlevers:\n"
                       "  - {lever: pooling, departments: [cardiology, gastroenterology], "
                       "scope: phones, specialty_penalty: 0.1}\n"
                       "  - {lever: online_booking, share: 0.2}\n", encoding="utf-8")
    hand = to_plain(load_scenario(by_hand, sets))
    assert {**hand, "description": ""} == {**in_page, "description": ""}  # extends drops it
    resolved = load_scenario(path)
    team = resolved.teams["cardiology_secretariat"]
    assert list(team.secretaries)[:2] == ["cardio_ama_1", "cardio_ama_2"]
    assert len(team.secretaries) == 3


def test_lever_replaced_or_removed_in_place():
    data = edits.load_file(SCENARIOS / "transformed.yaml")
    kinds = [lv["lever"] for lv in data["levers"]]
    new = {**edits.settings(data), "online_share": 0.0, "voice_mode": "back_end",
           "voice_adoption": 0.5}
    out, _ = edits.edited(data, new)
    assert [lv["lever"] for lv in out["levers"]] == [k for k in kinds if k != "online_booking"]
    vr = next(lv for lv in out["levers"] if lv["lever"] == "voice_recognition")
    assert vr["mode"] == "back_end" and vr["adoption"] == 0.5
    edits.validate_data(out)


def test_horizon_applies_as_an_override():
    data = edits.with_horizon(baseline(), 28)  # beyond the baseline's 21 days of warm-up
    assert load_scenario(data).calendar.horizon_days == 28
    assert edits.with_horizon(data, 28) == data


@pytest.mark.parametrize("text, field, words", [
    ("name: x\ncalendar: [1, 2\n", "scenario", "not valid YAML (line"),
    ("- just\n- a list\n", "scenario", "not a mapping"),
    ("name: a\nname: b\n", "name", "twice"),
    ("extends: baseline.yaml\nname: x\n", "extends", "cannot extend"),
])
def test_upload_errors_name_the_field(text, field, words):
    with pytest.raises(ScenarioError) as err:
        edits.parse_upload(text, "up.yaml")
    [(where, message)] = edits.problems_by_field(err.value)
    assert where == field and words in message


def test_nan_in_an_upload_is_named():
    text = (SCENARIOS / "baseline.yaml").read_text(encoding="utf-8").replace(
        "per_day: 22,", "per_day: .nan,", 1)
    with pytest.raises(ScenarioError) as err:
        edits.validate_data(edits.parse_upload(text))
    [(where, message)] = edits.problems_by_field(err.value)
    assert where == "departments.cardiology.streams.booking_calls.arrivals.per_day"
    assert "finite number" in message


def test_a_huge_run_is_refused_with_what_to_lower():
    scenario = load_scenario(edits.with_horizon(baseline(), 3650))
    with pytest.raises(ScenarioError) as err:
        jobs.check_size([scenario], 20)
    assert "lower the replications or the horizon" in str(err.value)
    assert jobs.check_size([load_scenario(baseline())], 5) > 0


def test_kpi_cards_and_side_by_side_from_a_comparison_table():
    import pandas as pd

    rows = []
    for s, base in (("baseline", "baseline"), ("v", "baseline")):
        for kpi, mean in (("pickup_rate", 0.87), ("interruptions_per_hour", 3.2),
                          ("report_delay_mean_days", 7.5)):
            rows.append({"scenario": s, "department": "ALL", "kpi": kpi, "mean": mean,
                         "ci_low": mean - 0.01, "ci_high": mean + 0.01, "baseline": base,
                         "diff": 0.0 if s == base else 0.05, "diff_ci_low": 0.04,
                         "diff_ci_high": 0.06, "diff_significant": s != base})
    comp = pd.DataFrame(rows)
    base_cards = results.kpi_cards(comp, "baseline")
    assert [c["value"] for c in base_cards] == ["87.0%", "3.20", "7.50"]
    assert base_cards[0]["ci"] == "95% CI [86.0%, 88.0%]" and base_cards[0]["diff"] is None
    assert results.kpi_cards(comp, "v")[0]["diff"] == "+5.0 pt* vs baseline [+4.0 pt, +6.0 pt]"
    table = results.kpi_table(comp, ["baseline", "v"])
    assert list(table.KPI) == ["Call pickup rate", "Interruptions per on-duty hour",
                               "Report delay, mean (days)"]
    assert table.v[0] == "87.0% [86.0%, 88.0%] (+5.0 pt*)"


def test_a_job_is_cancelled(tmp_path):
    data = baseline()
    job = jobs.start(tmp_path / "job", [data], "baseline", 50, 1)
    assert job.state() == "running"
    job.cancel()
    assert job.state() == "cancelled" and not job.process.is_alive()
