"""KPIs accumulated from the chunks the engine hands over equal the KPIs of the whole tables.

``runs.runner.replicate`` takes its KPIs from ``analysis.streaming.KpiAccumulator``, fed
during the run by ``Recorder.flush``. The reference is the old way: the engine keeps every
record (``simulate`` without a sink), builds the event tables at the end, and the pure
functions of ``analysis.kpis`` read them. Both must agree exactly (every sum is correctly
rounded), and the event tables assembled from the chunks must be the old tables (rows,
order, column types). Small ``flush_rows`` and ``batch_rows`` force many chunks and batches.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import build, scenario_strategy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulation.analysis import kpis
from simulation.analysis.events import with_calendar_columns
from simulation.engine.model import simulate, with_follow_up
from simulation.engine.staff import open_day_mask
from simulation.runs.runner import categories_of, replicate, report_targets
from simulation.scenario.calendar import MINUTES_PER_DAY
from simulation.scenario.composition import load_composed

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ("baseline", "pooled_phones", "voice_recognition_front_end", "signoff_bottleneck")


def reference(scenario, seed: int, rep: int):
    """Event tables built at the end of the run and KPIs computed from them (the old way)."""
    tables = simulate(scenario, seed, rep)
    cal = scenario.calendar
    warmup, horizon = cal.warmup_days * MINUTES_PER_DAY, cal.horizon_days * MINUTES_PER_DAY
    end = with_follow_up(scenario).calendar.horizon_days * MINUTES_PER_DAY
    cats = categories_of(scenario)
    staff = kpis.staff_rows(tables["presence"], tables["segments"], tables["interruptions"],
                            warmup, horizon, cats)
    rows = kpis.department_rows(tables, warmup, horizon,
                                scenario.kpis.service_level_seconds / 60,
                                open_day_mask(with_follow_up(scenario)), cats,
                                list(scenario.departments), staff, report_targets(scenario),
                                end)
    out = {"kpis": rows, "staff": staff, "hourly": kpis.hourly_pickup(tables["calls"], warmup,
                                                                     horizon),
           "report_delays": kpis.report_delays(tables["reports"], warmup, horizon)}
    for df in out.values():
        df.insert(0, "replication", rep)
    events = with_calendar_columns(tables, cal.start_weekday)
    for df in events.values():
        df.insert(0, "replication", rep)
    return out, events


def check_same(scenario, seed: int, rep: int, flush_rows: int, batch_rows: int) -> None:
    expected, events = reference(scenario, seed, rep)
    streamed = replicate(scenario, seed, rep, events=True, flush_rows=flush_rows,
                         batch_rows=batch_rows)
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(getattr(streamed, name), frame, check_exact=True,
                                      obj=name)
    assert set(streamed.events) == set(events)
    for name, frame in events.items():
        pd.testing.assert_frame_equal(streamed.events[name], frame, check_exact=True,
                                      obj=name)


def small(name: str, horizon: int, warmup: int):
    return load_composed(ROOT / "scenarios" / f"{name}.yaml",
                         [f"calendar.horizon_days={horizon}", f"calendar.warmup_days={warmup}"])


@pytest.mark.parametrize("flush_rows, batch_rows", [(1, 2_000), (20_000, 100_000)])
def test_baseline_streamed_kpis_and_events_equal_the_tables(flush_rows, batch_rows):
    check_same(small("baseline", 6, 1), seed=1, rep=0, flush_rows=flush_rows,
               batch_rows=batch_rows)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(SCENARIOS), seed=st.integers(0, 10_000),
       horizon=st.integers(3, 5), warmup=st.integers(0, 2),
       flush_rows=st.sampled_from([1, 60, 400]), batch_rows=st.sampled_from([3_000, 20_000]))
def test_streamed_kpis_equal_the_tables(name, seed, horizon, warmup, flush_rows, batch_rows):
    check_same(small(name, horizon, warmup), seed, rep=seed % 3, flush_rows=flush_rows,
               batch_rows=batch_rows)


def check_lean_same(scenario, seed: int, rep: int) -> None:
    """Without events the engine builds only the columns the KPIs read
    (``streaming.COLUMNS``): the KPIs must not change."""
    a = replicate(scenario, seed, rep, events=True)
    b = replicate(scenario, seed, rep, events=False, flush_rows=100, batch_rows=2_000)
    assert b.events is None
    for name in ("kpis", "staff", "hourly", "report_delays"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)


@pytest.mark.parametrize("name", SCENARIOS)
def test_with_and_without_events_the_kpis_are_the_same(name):
    check_lean_same(small(name, 5, 1), seed=5, rep=1)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=scenario_strategy(), seed=st.integers(0, 10_000))
def test_with_and_without_events_the_kpis_of_random_scenarios_are_the_same(data, seed):
    check_lean_same(build(data), seed, rep=0)


def test_records_are_handed_over_during_the_run_and_dropped():
    """The engine holds only recent or open records: chunks arrive day by day, and what
    was handed over is no longer held."""
    scenario = small("baseline", 10, 1)
    seen: list[tuple[str, int, float]] = []
    from simulation.engine.model import Model

    model = Model(scenario, 1, 0, sink=lambda name, rows: seen.append(
        (name, len(rows), model.env.now)), flush_rows=300)
    model.run()
    calls = [(n, t) for name, n, t in seen if name == "calls" and n]
    assert len(calls) > 5, "calls were not handed over during the run"
    assert calls[0][1] < 3 * MINUTES_PER_DAY
    r = model.recorder
    assert not (r.calls or r.visits or r.tasks or r.reports or r.segments or r.presence_rows)
    total = sum(n for name, n, _ in seen if name == "calls")
    assert total == len(simulate(scenario, 1, 0, by_part=False)["calls"])
