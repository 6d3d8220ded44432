"""The generated hospital group (scenario.group): sizes from the HUPSSD figures, part-time
days, demand like the baseline's, pooling variants, and the bundled files kept in step."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest

from simulation.scenario import group as g
from simulation.scenario.composition import load_composed, load_scenario
from simulation.scenario.cover import on_duty
from simulation.scenario.group_yaml import group_files
from simulation.scenario.io import read_yaml
from simulation.scenario.volumes import on_duty_minutes, work_minutes

ROOT = Path(__file__).resolve().parents[2]
GROUP = ROOT / "scenarios" / "group"
BUNDLED = "scenarios/group/hospital_group.yaml"  # the --out of the bundled files
SEEDS = range(1, 21)


@pytest.fixture(scope="module")
def group():
    return g.hospital_group(80, seed=1)


@pytest.fixture(scope="module")
def scenario():
    return load_composed(GROUP / "hospital_group.yaml")


def test_the_generator_is_deterministic_for_a_seed(group):
    assert g.hospital_group(80, seed=1) == group
    assert group_files(80, 1) == group_files(80, 1)
    assert g.secretariat_sizes(80, 2) != g.secretariat_sizes(80, 1)


@pytest.mark.parametrize("seed", SEEDS)
def test_sizes_honour_the_published_range_median_and_total(seed):
    """[HUPSSD] 80 secretariats, 0.8 to 4.7 FTE, median 2, 148.3 FTE in all. Sizes are
    whole working days (0.2 FTE), so the total can only be within half a day (0.1 FTE) of
    148.3 and the largest size is 4.6; the adjustment never moves a size across 2 FTE, so
    the median stays 2 exactly, and a tolerance of one day (0.2) would already say a
    day moved across it."""
    sizes = g.secretariat_sizes(80, seed)
    assert len(sizes) == 80
    assert min(sizes) == 0.8 and max(sizes) == 4.6
    assert statistics.median(sizes) == pytest.approx(2.0, abs=0.2)
    assert sum(sizes) == pytest.approx(148.3, abs=0.1 + 1e-9)
    assert all(abs(s * 5 - round(s * 5)) < 1e-9 for s in sizes), "whole days"


def test_sizes_of_other_groups_keep_the_mean_and_range():
    for n in (10, 33, 200):
        sizes = g.secretariat_sizes(n, 1)
        assert sum(sizes) / n == pytest.approx(148.3 / 80, abs=0.1 / n + 1e-9)
        assert 0.8 <= min(sizes) and max(sizes) <= 4.7


def test_part_timers_work_fewer_days(scenario, group):
    """A secretariat of 1.4 FTE is one secretary on 5 days and one on 2: the days on duty
    of its secretaries, from the resolved scenario, add up to its size."""
    part_timers = 0
    for tname, team in scenario.teams.items():
        (dept,) = team.departments
        days = [sum(1 for spans in on_duty(scenario, sec).values() if spans)
                for sec in team.secretaries.values()]
        assert sum(days) / 5 == pytest.approx(group["x-sizes"][dept]), tname
        assert all(1 <= d <= 5 for d in days) and days == sorted(days, reverse=True)
        part_timers += sum(d < 5 for d in days)
    assert part_timers >= 40  # most sizes are not whole FTE


def test_each_secretariat_works_about_80_percent_of_its_time(scenario):
    """Volumes are scaled to 80% of time on duty, like the baseline; rates rounded to 0.1 a
    day move it by a few points at most."""
    for tname, team in scenario.teams.items():
        (dept,) = team.departments
        demand = sum(work_minutes(scenario, s, 7, True)
                     for s in scenario.departments[dept].streams.values())
        one_team = scenario.model_copy(update={"teams": {tname: team}})
        assert demand / on_duty_minutes(one_team, 7) == pytest.approx(0.8, abs=0.03), tname


def test_templates_are_the_baseline_departments():
    """The per-FTE volumes come from scenarios/baseline.yaml: they cannot drift apart."""
    baseline = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    fte = {d: len(t.secretaries) for t in baseline.teams.values() for d in t.departments}
    for dept, template in g.TEMPLATES.items():
        streams = baseline.departments[dept].streams
        assert template["fte"] == fte[dept]
        for name in ("booking_calls", "info_calls", "walk_ins", "doctor_requests",
                     "patient_files", "booking_mail", "service_life"):
            assert template[name] == streams[name].arrivals.per_day, (dept, name)
        assert template["batches"] == tuple(
            b.mean_size for b in streams["consultation_reports"].batches)
        same_day = [s for n, s in streams.items()
                    if s.type == "dictation" and n != "consultation_reports"]
        assert template["same_day"] == sum(s.arrivals.per_day for s in same_day)


def test_bundled_files_are_what_the_command_writes_today():
    files = group_files(80, 1, out=BUNDLED)
    assert sorted(files) == sorted(p.name for p in GROUP.glob("*.yaml"))
    for name, text in files.items():
        assert (GROUP / name).read_text(encoding="utf-8") == text, (
            f"{name} is stale: rerun `secsim generate group --secretariats 80 --seed 1 "
            f"--out {BUNDLED}`")


def test_the_written_file_is_the_generated_data(group, scenario):
    data = read_yaml(GROUP / "hospital_group.yaml")
    shared = {"x-shapes", "x-durations"}  # the anchors' home, not scenario data
    assert {k: v for k, v in data.items() if k not in shared} == group
    assert load_scenario(group) == scenario


def test_variants_validate_and_pool_the_phones_of_each_pole(group, scenario):
    pole_of = {d: p for p, depts in group["x-poles"].items() for d in depts}
    assert sorted(pole_of) == sorted(group["departments"]), "every secretariat in one pole"
    assert all(8 <= len(d) <= 12 for d in group["x-poles"].values())
    poles = load_composed(GROUP / "hospital_group_pole_phones.yaml")
    platform = load_composed(GROUP / "hospital_group_call_platform.yaml")
    for variant in (poles, platform):
        assert variant.departments == scenario.departments
        assert [(t, list(x.secretaries)) for t, x in variant.teams.items()] == \
            [(t, list(x.secretaries)) for t, x in scenario.teams.items()]
    for tname, team in poles.teams.items():
        (dept,) = team.departments
        (rule,) = team.also_serves
        assert set(rule.departments) == set(group["x-poles"][pole_of[dept]]), tname
        assert set(rule.kinds) == {"call", "transferred_call"}
    for team in platform.teams.values():
        (rule,) = team.also_serves
        assert set(rule.departments) == set(group["departments"])


def test_poles_by_count_or_size():
    assert len(g.hospital_group(30, 1, poles=4)["x-poles"]) == 4
    assert len(g.hospital_group(30, 1, pole_size=5)["x-poles"]) == 6
    assert len(g.hospital_group(6, 1, poles=3)["x-poles"]) == 3
    with pytest.raises(ValueError, match="at most 1 poles"):
        g.hospital_group(3, 1, poles=2)  # one pole would hold one secretariat
    with pytest.raises(ValueError, match="--pole-size 1"):
        g.hospital_group(3, 1, pole_size=1)


@pytest.mark.parametrize("secretariats", [2, 3, 7, 11, 15, 23])
@pytest.mark.parametrize("pole_size", [2, 3, 10])
def test_poles_by_size_never_leave_a_secretariat_alone(secretariats, pole_size):
    """A pole of one secretariat pools nothing (round(3 / 2) = 2 made one of 2 and one of 1)."""
    poles = g.hospital_group(secretariats, 1, pole_size=pole_size)["x-poles"]
    assert all(len(members) >= 2 for members in poles.values()), poles


def test_doctors_and_calendar_are_the_baseline_ones(scenario):
    """The group's sign-off (calibrated on the baseline) and its warm-up, horizon and
    follow-up are the baseline's: a recalibration of the baseline cannot leave them behind."""
    baseline = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    theirs = baseline.departments["cardiology"].doctors.model_dump(exclude={"count", "names"})
    for dept in scenario.departments.values():
        assert dept.doctors.model_dump(exclude={"count", "names"}) == theirs
    for field in ("horizon_days", "warmup_days", "follow_up_days"):
        assert getattr(scenario.calendar, field) == getattr(baseline.calendar, field), field


def test_the_group_year_is_within_the_default_event_budget_and_a_decade_is_not(scenario):
    """The year a board asks for runs without --max-events; a horizon far beyond it is
    refused, naming the horizon (no stream makes 5% of a group's events)."""
    from simulation.scenario.errors import ScenarioError
    from simulation.scenario.volumes import DEFAULT_MAX_EVENTS, check_event_budget

    def longer(days: int):
        cal = scenario.calendar.model_copy(update={"horizon_days": days})
        return scenario.model_copy(update={"calendar": cal})

    assert check_event_budget(longer(365)) < DEFAULT_MAX_EVENTS
    with pytest.raises(ScenarioError) as refused:
        check_event_budget(longer(3650))
    ((field, message),) = refused.value.problems
    assert field == "calendar.horizon_days"
    assert "spread over" in message and "--max-events" in message
