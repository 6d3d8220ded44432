"""A short run of the bundled hospital group with phones pooled per pole: every call and
task is accounted for, pooled calls stay inside their pole, part-timers come in on their
days only (scenarios/group/, simulation/scenario/group.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_invariants import check_calls, check_kpis, check_tasks_and_segments

from simulation.runs.runner import replicate
from simulation.scenario.composition import load_composed
from simulation.scenario.io import read_yaml

GROUP = Path(__file__).resolve().parents[2] / "scenarios" / "group"
# Three weekdays (Monday to Wednesday), no follow-up: the end of the run is the horizon.
SHORT = ["calendar.horizon_days=3", "calendar.warmup_days=1", "calendar.follow_up_days=0"]


@pytest.fixture(scope="module")
def run():
    scenario = load_composed(GROUP / "hospital_group_pole_phones.yaml", SHORT)
    return scenario, replicate(scenario, 1, 0, events=True)


def test_every_call_and_task_is_accounted_for(run):
    scenario, rep = run
    tables = rep.events
    end = float(tables["period"].end.iloc[0])
    assert end == 3 * 1440
    calls = tables["calls"]
    assert len(calls) > 5000
    check_calls(scenario, calls, end)  # one known outcome per attempt, or in_system
    check_tasks_and_segments(scenario, tables)  # every task done or in the backlog
    check_kpis(rep)
    assert set(tables["tasks"].status) == {"done", "backlog"}


def test_pooled_calls_are_answered_inside_their_pole(run):
    scenario, rep = run
    poles = read_yaml(GROUP / "hospital_group.yaml")["x-poles"]
    pole_of = {d: p for p, depts in poles.items() for d in depts}
    home = {name: team.departments[0] for _t, team in scenario.teams.items()
            for name in team.secretaries}
    answered = rep.events["calls"].dropna(subset=["secretary"])
    assert len(answered) > 5000
    by = [pole_of[home[s]] for s in answered.secretary]
    assert by == [pole_of[d] for d in answered.department]
    # Pooling is used: some calls are answered by another secretariat of the pole.
    assert sum(home[s] != d for s, d in zip(answered.secretary, answered.department)) > 100


def test_part_timers_come_in_on_their_days_only(run):
    scenario, rep = run
    presence = rep.events["presence"]
    days_in = (presence.start // 1440).astype(int).groupby(presence.secretary).nunique()
    weekdays = ("mon", "tue", "wed")  # the three days run
    for _team, name, sec in scenario.secretaries():
        expected = sum(1 for d in weekdays if sec.days is None or d in sec.days)
        assert days_in.get(name, 0) == expected, name
    assert any(sec.days is not None and len(set(sec.days) & set(weekdays)) < 3
               for _t, _n, sec in scenario.secretaries())
