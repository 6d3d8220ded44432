"""Arrival streams: NHPP counts follow the profile, batches come at their clock time,
closed days get nothing, online booking diverts and averts the right shares.

Counts are Poisson or binomial: each check uses a chi-square or a normal-approximation
interval at the suite's 99.9% confidence (see conftest), from a fixed seed.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import (
    CONFIDENCE,
    MINUTES_PER_DAY,
    WEEKDAYS,
    always_open,
    build,
    call_stream,
    scenario_dict,
    z_quantile,
)
from scipy import stats

from simulation.engine.arrivals import batch_arrivals, profile_arrivals
from simulation.engine.model import simulate
from simulation.engine.seeding import RandomStreams
from simulation.scenario.streams import hourly_rates

WEEKS = 60
SHAPE = {8: 1.0, 9: 3.0, 10: 2.0, 14: 1.5, 16: 0.5}
FACTORS = {"mon": 1.3, "tue": 1.0, "wed": 0.7, "fri": 1.0, "sat": 0.2}  # thu, sun: none


def profiled_scenario(**calendar):
    cal = always_open(7 * WEEKS, start_weekday="wed", **calendar)
    stream = {"type": "call", "service": 3,
              "arrivals": {"per_day": 60, "hourly_shape": SHAPE, "weekday_factors": FACTORS}}
    return build(scenario_dict({"calls": stream}, calendar=cal))


def counts_by_weekday_hour(times: np.ndarray, start_weekday: str) -> np.ndarray:
    day, minute = np.divmod(times, MINUTES_PER_DAY)
    weekday = (WEEKDAYS.index(start_weekday) + day.astype(int)) % 7
    out = np.zeros((7, 24))
    np.add.at(out, (weekday, (minute // 60).astype(int)), 1)
    return out


def test_hourly_rates_follow_shape_and_weekday_factors():
    """rate(weekday, hour) = per_day x factor(weekday) x shape(hour) / sum(shape)."""
    profile = profiled_scenario().departments["cardiology"].streams["calls"].arrivals
    rates = hourly_rates(profile)
    for d, wd in enumerate(WEEKDAYS):
        for h in range(24):
            expected = 60 * FACTORS.get(wd, 0.0) * SHAPE.get(h, 0.0) / sum(SHAPE.values())
            assert rates[d, h] == pytest.approx(expected, rel=1e-12)


def test_nhpp_counts_per_weekday_and_hour_match_profile():
    """Counts per (weekday, hour) cell over 60 weeks: chi-square against the profile.

    Cells are independent Poisson counts with expected values >= 45, so the statistic
    sum (O - E)^2 / E is chi-square with one degree of freedom per cell; empty cells
    (rate 0) must get no arrival at all.
    """
    sc = profiled_scenario()
    profile = sc.departments["cardiology"].streams["calls"].arrivals
    times = profile_arrivals(profile, sc.calendar, RandomStreams(11, 0).get("arrivals"))
    observed = counts_by_weekday_hour(times, "wed")
    expected = hourly_rates(profile) * WEEKS
    assert observed[expected == 0].sum() == 0
    o, e = observed[expected > 0], expected[expected > 0]
    assert e.min() >= 45
    p_value = stats.chi2.sf(((o - e) ** 2 / e).sum(), df=len(e))
    assert p_value >= 1 - CONFIDENCE, f"chi-square p = {p_value:.2g}"


def test_arrivals_are_uniform_within_each_hour():
    """Piecewise-constant rates: the minute within the hour is uniform (KS test)."""
    sc = profiled_scenario()
    profile = sc.departments["cardiology"].streams["calls"].arrivals
    times = profile_arrivals(profile, sc.calendar, RandomStreams(12, 0).get("arrivals"))
    assert np.all(np.diff(times) >= 0), "arrival times must be sorted"
    p_value = stats.kstest((times % 60) / 60, "uniform").pvalue
    assert p_value >= 1 - CONFIDENCE, f"KS p = {p_value:.2g}"


def test_batches_arrive_at_their_clock_time_on_their_weekdays():
    """A batch lands exactly at 'at' on its weekdays (not on closed days), Poisson sized."""
    cal = always_open(7 * WEEKS, closed_days=[0, 14, 15, 100])
    stream = {"type": "dictation", "typing": 10, "validation_delay": 60,
              "batches": [{"at": "12:15", "mean_size": 4, "weekdays": ["mon", "thu"]}]}
    sc = build(scenario_dict({"reports": stream}, calendar=cal))
    batch = sc.departments["cardiology"].streams["reports"].batches[0]
    times = batch_arrivals(batch, sc.calendar, RandomStreams(13, 0).get("batch0"))
    day, minute = np.divmod(times, MINUTES_PER_DAY)
    assert np.all(minute == 12 * 60 + 15)
    weekdays = {WEEKDAYS[int(d) % 7] for d in day}  # day 0 is a Monday
    assert weekdays <= {"mon", "thu"}
    assert not set(day.astype(int)) & {0, 14, 15, 100}
    n_days = sum(1 for d in range(7 * WEEKS)
                 if WEEKDAYS[d % 7] in ("mon", "thu") and d not in (0, 14, 15, 100))
    mean = 4 * n_days  # total over the batch days ~ Poisson(4 n)
    assert abs(len(times) - mean) <= z_quantile() * np.sqrt(mean)


def test_default_batch_weekdays_are_the_open_weekdays():
    """A batch without 'weekdays' comes on every open weekday, and only then."""
    cal = {"horizon_days": 28, "opening_hours": {d: ["08:00", "18:00"] for d in WEEKDAYS[:5]}}
    stream = {"type": "dictation", "typing": 10, "validation_delay": 60,
              "batches": [{"at": "16:30", "mean_size": 30}]}
    data = scenario_dict({"reports": stream}, calendar=cal,
                         secretary_fields={"shift": {"start": "08:00", "end": "18:00"}})
    reports = simulate(build(data), seed=5)["reports"]
    days = set((reports.dictated // MINUTES_PER_DAY).astype(int)) & set(range(28))
    # Mean 30 per day: P(no report on an open day) = e^-30, so every open day appears.
    assert days == {d for d in range(28) if d % 7 < 5}


def test_nothing_arrives_on_closed_days():
    """closed_days: no call, walk-in, dictation or task arrives and nobody comes to work."""
    cal = always_open(10, closed_days=[1, 4, 5])
    streams = {
        "calls": call_stream(0.05, 3, 2),
        "desk": {"type": "walk_in", "arrivals": {"per_day": 40}, "service": 4},
        "requests": {"type": "doctor_request", "arrivals": {"per_day": 30}, "service": 4},
        "reports": {"type": "dictation", "arrivals": {"per_day": 10}, "typing": 10,
                    "validation_delay": 60, "batches": [{"at": "12:00", "mean_size": 5}]},
        "files": {"type": "back_office", "arrivals": {"per_day": 30}, "duration": 5},
    }
    tables = simulate(build(scenario_dict(streams, calendar=cal)), seed=8)
    closed = {1, 4, 5}
    on_day = lambda t: set((np.asarray(t) // MINUTES_PER_DAY).astype(int))  # noqa: E731
    assert not on_day(tables["calls"].query("attempt == 1").arrival) & closed
    assert not on_day(tables["visits"].arrival) & closed
    assert not on_day(tables["reports"].dictated) & closed
    tasks = tables["tasks"]
    assert not on_day(tasks.created[tasks.kind != "sending"]) & closed
    # Nobody starts work on a closed day (a call in hand at midnight may run over).
    assert not on_day(tables["presence"].start) & closed
    assert on_day(tables["presence"].start) == {0, 2, 6}  # 24 h shifts merge across days
    # Every stream did produce arrivals on the open days (a vacuous pass is no pass).
    assert len(tables["calls"]) and len(tables["visits"]) and len(tasks)


@pytest.mark.parametrize("share, averted", [(0.2, 0.1), (0.0, 0.25), (0.3, 0.0)])
def test_online_booking_diverts_and_averts_its_shares(share, averted):
    """Of the would-be calls, a share books online (a check task each), a share no longer
    happens (SMS reminders), the rest still call: binomial counts, and the remaining calls
    are a subset of the original ones (common random numbers)."""
    online = {"share": share, "averted_share": averted, "check": 2}
    base = scenario_dict({"calls": call_stream(0.2, 3, 2)}, n_secretaries=2, horizon_days=14)
    diverted = scenario_dict({"calls": call_stream(0.2, 3, 2, online=online)},
                             n_secretaries=2, horizon_days=14)
    original = simulate(build(base), seed=21)["calls"].query("attempt == 1").arrival
    tables = simulate(build(diverted), seed=21)
    remaining = tables["calls"].query("attempt == 1").arrival
    checks = tables["tasks"].query("kind == 'online_check'")
    n = len(original)
    assert set(remaining) <= set(original)
    z = z_quantile()
    for count, p in [(len(remaining), 1 - share - averted), (len(checks), share)]:
        assert abs(count - n * p) <= z * np.sqrt(n * p * (1 - p)), (count, n, p)
    assert len(remaining) + len(checks) <= n
