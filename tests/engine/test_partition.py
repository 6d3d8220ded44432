"""Independent parts of a scenario run one after the other, each to its own end.

``engine.partition.independent_parts`` cuts a scenario where no secretary links two
departments; ``simulate`` (``by_part``, the default) runs each part on its own clock
until its own window's work is done. The KPIs must be those of one run of the whole, to
the last bit: every draw belongs to one part's entities and nothing after a part's work
is done can change them. What changes is how long the parts are simulated.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simulation.runs.runner as runner
from simulation.engine.model import simulate
from simulation.engine.partition import independent_parts
from simulation.scenario.calendar import MINUTES_PER_DAY
from simulation.scenario.composition import compose, load_composed
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
