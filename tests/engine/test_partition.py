"""Independent parts of a scenario run one after the other, each to its own end.

``engine.partition.independent_parts`` cuts a scenario where no secretary links two
departments; ``simulate`` (``by_part``, the default) runs each part on its own clock
until its own window's work is done. The KPIs must be those of one run of the whole, to
the last bit: every draw belongs to one part's entities and nothing after a part's work
is done can change them. What changes is how long the parts are simulated.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import pandas as pd
import pytest
from conftest import scenario_strategy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import simulation.runs.runner as runner
from simulation.engine.model import simulate
from simulation.engine.partition import independent_parts
from simulation.scenario.calendar import MINUTES_PER_DAY
from simulation.scenario.composition import compose, load_composed, load_scenario
from simulation.scenario.errors import ScenarioError
from simulation.scenario.group import hospital_group

ROOT = Path(__file__).resolve().parents[2]
KPI_TABLES = ("kpis", "staff", "hourly", "report_delays")


def bundled(name: str, *overrides: str):
    return load_composed(ROOT / "scenarios" / f"{name}.yaml", list(overrides))


def group(n: int, seed: int, days: int, warmup: int):
    data = hospital_group(n, seed=seed)
    data["calendar"].update(horizon_days=days, warmup_days=warmup)
    return compose(data)


def run(scenario, seed: int, by_part: bool, monkeypatch, events: bool = False):
    monkeypatch.setattr(runner, "simulate", functools.partial(simulate, by_part=by_part))
    return runner.replicate(scenario, seed, 0, events=events, flush_rows=500)


def assert_same_kpis(a, b) -> None:
    for name in KPI_TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True,
                                      obj=name)


# ------------------------------------------------------------------------ the parts
def test_dedicated_secretariats_are_parts_and_pooling_joins_them():
    baseline = independent_parts(bundled("baseline"))
    assert [p.departments for p in baseline] == [
        ("cardiology",), ("gastroenterology",), ("rheumatology",), ("orthopaedics",)]
    assert baseline[0].secretaries == ("cardio_ama_1", "cardio_ama_2")
    pooled = independent_parts(bundled("pooled_phones"))
    assert len(pooled) == 1 and len(pooled[0].departments) == 4
    poles = independent_parts(load_composed(
        ROOT / "scenarios" / "group" / "hospital_group_pole_phones.yaml"))
    assert [len(p.departments) for p in poles] == [10] * 8


def test_every_department_and_secretary_is_in_exactly_one_part():
    scenario = bundled("front_back_split_pooled")
    parts = independent_parts(scenario)
    depts = [d for p in parts for d in p.departments]
    names = [n for p in parts for n in p.secretaries]
    assert sorted(depts) == sorted(scenario.departments)
    assert sorted(names) == sorted(n for _t, n, _s in scenario.secretaries())
    assert 1 < len(parts) < len(depts)  # some departments share a team, some do not


# --------------------------------------------------------- the same KPIs, part by part
@pytest.mark.parametrize("name", ["baseline", "signoff_bottleneck", "front_back_split_pooled",
                                  "voice_recognition_front_end"])
def test_bundled_kpis_by_part_equal_one_run_of_the_whole(name, monkeypatch):
    scenario = bundled(name, "calendar.horizon_days=12", "calendar.warmup_days=2")
    assert len(independent_parts(scenario)) > 1
    assert_same_kpis(run(scenario, 3, False, monkeypatch), run(scenario, 3, True, monkeypatch))


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(n=st.integers(2, 5), group_seed=st.integers(0, 1_000), seed=st.integers(0, 10_000),
       days=st.integers(3, 9), warmup=st.integers(0, 2), events=st.booleans())
def test_random_groups_kpis_by_part_equal_one_run_of_the_whole(n, group_seed, seed, days,
                                                                warmup, events, monkeypatch):
    scenario = group(n, group_seed, days, warmup)
    assert len(independent_parts(scenario)) == n
    assert_same_kpis(run(scenario, seed, False, monkeypatch, events),
                     run(scenario, seed, True, monkeypatch, events))


def test_parts_stop_at_their_own_end_and_the_tables_hold_every_record():
    """Each part is simulated only until its window's work is done: fewer on-duty minutes
    after the horizon than when every part runs until the slowest one is done, the same
    window. Ids stay unique; the period's end is the last part's."""
    scenario = group(6, 4, 10, 2)
    whole, parts = simulate(scenario, 2, 0, by_part=False), simulate(scenario, 2, 0)
    horizon = scenario.calendar.horizon_days * MINUTES_PER_DAY

    def minutes_after(presence: pd.DataFrame) -> float:
        return float((presence.end - presence.start.clip(lower=horizon)).clip(lower=0).sum())

    assert minutes_after(parts["presence"]) < minutes_after(whole["presence"])
    assert parts["period"].end.iloc[0] == whole["period"].end.iloc[0]
    assert len(parts["period"]) == 1
    for table, ids in (("calls", "call_id"), ("tasks", "task_id"), ("reports", "report_id")):
        assert parts[table][ids].is_unique
        assert parts[table][ids].is_monotonic_increasing
    before = parts["presence"].start < horizon
    pd.testing.assert_series_equal(
        parts["presence"][before].groupby("secretary").end.sum(),
        whole["presence"][whole["presence"].start < horizon].groupby("secretary").end.sum())


def test_a_caller_of_the_window_is_followed_until_he_has_left():
    """The follow-up waits for every caller of the window: with redials a day later, the
    run goes on past the day the reports and tasks are done, until the redials are over."""
    scenario = bundled("baseline", "calendar.horizon_days=5", "calendar.warmup_days=1",
                       *(f"departments.{d}.streams.{s}.redial.delay.mean=2000"
                         for d in ("cardiology", "gastroenterology", "rheumatology",
                                   "orthopaedics") for s in ("booking_calls", "info_calls")))
    tables = simulate(scenario, 1, 0)
    calls = tables["calls"]
    horizon = 5 * MINUTES_PER_DAY
    end = float(tables["period"].end.iloc[0])
    assert end < (5 + scenario.calendar.follow_up_days) * MINUTES_PER_DAY  # not capped
    window = calls[(calls.arrival >= MINUTES_PER_DAY) & (calls.arrival < horizon)].caller_id
    last = calls.groupby("caller_id").tail(1).set_index("caller_id").loc[window.unique()]
    assert (last.outcome != "in_system").all()
    assert (last.redial_at.isna()).all()


# ------------------------------------------- what a part must not stop before (review)
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A second part whose letters wait ~3 days for a pure-delay sign-off: it keeps a whole run
# going past the horizon while the first part may stop.
SLOW_LETTERS = {"streams": {"rep": {"type": "dictation", "arrivals": {"per_day": 5},
                                    "typing": 10, "sending": 2, "target_days": 7,
                                    "validation_delay": 4000}}}
DAY_SHIFT = {"shift": {"start": "08:00", "end": "16:00"}}


def with_slow_letters(departments: dict, teams: dict, horizon: int = 4,
                      opening: tuple[str, str] = ("00:00", "24:00"), warmup: int = 1):
    return load_scenario({
        "name": "two_parts",
        "calendar": {"horizon_days": horizon, "warmup_days": warmup,
                     "opening_hours": {d: list(opening) for d in WEEK}},
        "departments": {**departments, "letters": SLOW_LETTERS},
        "teams": {**teams, "t_letters": {"departments": ["letters"],
                                          "secretaries": {"l1": DAY_SHIFT}}}})


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_patients_still_at_a_night_desk_are_followed(seed, monkeypatch):
    """A desk open round the clock, staffed by day: the window's night patients still wait
    at the horizon; a part must not stop before they are served."""
    scenario = with_slow_letters(
        {"desk": {"streams": {"walk": {"type": "walk_in", "arrivals": {"per_day": 20},
                                       "service": 5}}}},
        {"t_desk": {"departments": ["desk"], "secretaries": {"d1": DAY_SHIFT}}})
    assert_same_kpis(run(scenario, seed, False, monkeypatch),
                     run(scenario, seed, True, monkeypatch))


def test_a_task_open_at_the_horizon_is_followed_even_if_older_than_the_window(monkeypatch):
    """A 1,400-minute file begun before the window and still open at the horizon: its window
    minutes count as interrupted time if it is ever interrupted, so it is followed to
    its end whatever its creation time."""
    monday_only = {d: 1 if d == "mon" else 0 for d in WEEK}
    scenario = with_slow_letters(
        {"office": {"streams": {
            "big": {"type": "back_office", "kind": "patient_file",
                    "arrivals": {"per_day": 1.5, "weekday_factors": monday_only},
                    "duration": 1400},
            "small": {"type": "back_office", "kind": "patient_file",
                      "arrivals": {"per_day": 6}, "duration": 5},
            "calls": {"type": "call", "arrivals": {"per_day": 4}, "service": 3}}}},
        {"t_office": {"departments": ["office"], "secretaries": {
            "o1": {"shift": {"start": "08:00", "end": "12:00"}},
            "o2": {"shift": {"start": "08:00", "end": "12:00"}}}}})
    whole, parts = run(scenario, 14, False, monkeypatch), run(scenario, 14, True, monkeypatch)
    assert (whole.kpis.interrupted_time_share > 0).any()  # the case arises
    assert_same_kpis(whole, parts)


def test_a_sitting_running_at_the_horizon_is_recorded(monkeypatch):
    """A sign-off sitting 23:00-24:00 ends exactly at the horizon: its row (written when it
    ends) must be in the tables, whether the part stops there or the run goes on."""
    scenario = with_slow_letters(
        {"clinic": {"doctors": {"count": 1, "time_per_report": 2, "absence_rate": 0,
                                "leave_weeks": 0,
                                "sittings": [{"days": list(WEEK), "start": "23:00",
                                              "minutes": 60}]},
                    "streams": {"rep": {"type": "dictation", "target_days": 7,
                                        "typing": 10, "sending": 2,
                                        "arrivals": {"per_day": 4, "hourly_shape": {9: 1}}}}}},
        {"t_clinic": {"departments": ["clinic"], "secretaries": {"c1": DAY_SHIFT}}},
        opening=("08:00", "17:00"), warmup=0)
    tables = simulate(scenario, 1, 0)
    horizon = 4 * MINUTES_PER_DAY
    sittings = tables["sittings"]
    assert (sittings.start == horizon - 60).any()
    assert_same_kpis(run(scenario, 1, False, monkeypatch), run(scenario, 1, True, monkeypatch))


def _renamed(data: dict, prefix: str) -> tuple[dict, dict]:
    """The departments and teams of a random scenario, every name prefixed."""
    departments = {prefix + d: copy.deepcopy(v) for d, v in data["departments"].items()}
    for dept in departments.values():
        for s in dept["streams"].values():
            if "transfer" in s:
                s["transfer"]["by_teams"] = [prefix + t for t in s["transfer"]["by_teams"]]
            if "answered_by" in s:
                s["answered_by"] = [prefix + t for t in s["answered_by"]]

    def depts(listed):
        return list(departments) if listed == "all" else [prefix + d for d in listed]

    teams = {}
    for name, team in data["teams"].items():
        team = copy.deepcopy(team)
        team["departments"] = depts(team["departments"])
        for rule in team.get("also_serves", []):
            rule["departments"] = depts(rule["departments"])
        team["secretaries"] = {
            prefix + n: dict(sec, home_department=(prefix + sec["home_department"]
                                                   if sec.get("home_department") else None))
            for n, sec in team["secretaries"].items()}
        teams[prefix + name] = team
    return departments, teams


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.filter_too_much])
@given(a=scenario_strategy(max_days=5), b=scenario_strategy(max_days=5),
       seed=st.integers(0, 1_000))
def test_two_random_scenarios_side_by_side_give_the_kpis_of_one_run(a, b, seed, monkeypatch):
    """Two random scenarios (every stream type, redials, transfers, doctors, floats,
    absences...) put side by side in one calendar are two or more parts: by part, the
    KPIs of one whole run."""
    da, ta = _renamed(a, "a")
    db, tb = _renamed(b, "b")
    try:
        scenario = load_scenario({"name": "side_by_side", "calendar": a["calendar"],
                                  "departments": {**da, **db}, "teams": {**ta, **tb},
                                  "interruptions": a["interruptions"]})
    except ScenarioError:
        assume(False)
    assume(len(independent_parts(scenario)) > 1)
    assert_same_kpis(run(scenario, seed, False, monkeypatch),
                     run(scenario, seed, True, monkeypatch))


def test_a_secretary_on_duty_only_after_the_horizon_has_no_staff_row(monkeypatch):
    """She works Wednesdays only and the window ends on Tuesday night: whether the run
    goes on to Wednesday (the other part's letters keep a whole run going) must not give
    her a row of zero hours."""
    scenario = with_slow_letters(
        {"office": {"streams": {"files": {"type": "back_office", "kind": "patient_file",
                                          "arrivals": {"per_day": 6}, "duration": 5}}}},
        {"t_office": {"departments": ["office"], "secretaries": {
            "o_mon": DAY_SHIFT, "o_wed": {**DAY_SHIFT, "days": ["wed"]}}}},
        horizon=2, warmup=0)
    whole, parts = run(scenario, 1, False, monkeypatch), run(scenario, 1, True, monkeypatch)
    assert "o_wed" in set(simulate(scenario, 1, 0, by_part=False)["presence"].secretary)
    assert "o_wed" not in set(whole.staff.name)
    assert_same_kpis(whole, parts)
