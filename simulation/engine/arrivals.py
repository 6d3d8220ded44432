"""Arrival times of a stream over the horizon (minutes), drawn up front with numpy.

Rates are piecewise constant per hour of day, so the non-homogeneous Poisson process is
generated exactly: a Poisson count per (day, hour) and uniform times within the hour.
Draws are prefix-stable: a longer horizon adds arrivals after the shorter one's, it never
moves the earlier ones (so delays can be checked to be horizon-free arrival by arrival).
"""

from __future__ import annotations

import numpy as np

from simulation.scenario.calendar import MINUTES_PER_DAY, WEEKDAYS, parse_clock, weekday_of
from simulation.scenario.schema import ArrivalProfile, Batch, Calendar
from simulation.scenario.streams import hourly_rates


def _open_day_mask(calendar: Calendar) -> np.ndarray:
    mask = np.ones(calendar.horizon_days, dtype=bool)
    closed = [d for d in calendar.closed_days if 0 <= d < calendar.horizon_days]
    mask[closed] = False
    return mask


def profile_arrivals(
    profile: ArrivalProfile, calendar: Calendar, rng: np.random.Generator
) -> np.ndarray:
    """Sorted arrival times of a profile over the horizon (none on closed days)."""
    days = np.arange(calendar.horizon_days)
    start_wd = WEEKDAYS.index(calendar.start_weekday)
    rates = hourly_rates(profile)[weekday_of(days, start_wd)]  # days x 24
    rates[~_open_day_mask(calendar)] = 0.0
    counts = rng.poisson(rates).ravel()
    starts = (days[:, None] * MINUTES_PER_DAY + np.arange(24)[None, :] * 60).ravel()
    # The minutes within the hour come from a child stream: drawn after the counts from
    # the same generator, the first day's arrivals would move with the horizon.
    minutes = rng.spawn(1)[0].random(counts.sum()) * 60.0
    times = np.repeat(starts, counts) + minutes
    times.sort()
    return times


def batch_arrivals(batch: Batch, calendar: Calendar, rng: np.random.Generator) -> np.ndarray:
    """Times of dictations arriving in a batch: Poisson counts at a fixed clock time."""
    days = np.arange(calendar.horizon_days)
    start_wd = WEEKDAYS.index(calendar.start_weekday)
    wanted = {WEEKDAYS.index(d) for d in (batch.weekdays or [])}
    on = np.isin(weekday_of(days, start_wd), list(wanted)) & _open_day_mask(calendar)
    counts = rng.poisson(batch.mean_size, size=len(days)) * on
    return np.repeat(days * MINUTES_PER_DAY + parse_clock(batch.at), counts).astype(float)
