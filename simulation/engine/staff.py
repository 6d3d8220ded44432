"""Who is at work when: presence plans from shifts, working days and absences (pure)."""

from __future__ import annotations

import numpy as np

from simulation.scenario.calendar import (
    MINUTES_PER_DAY,
    WEEKDAYS,
    merge_intervals,
    parse_clock,
    subtract_intervals,
    weekday_of,
)
from simulation.scenario.schema import Scenario, Secretary


def absent_days(secretary: Secretary, horizon_days: int, rng: np.random.Generator) -> np.ndarray:
    """Boolean per day: is the secretary absent (drawn for every day, so plans stay paired)."""
    return rng.random(horizon_days) < secretary.absence_rate


def presence_plan(
    scenario: Scenario, secretary: Secretary, absent: np.ndarray
) -> list[tuple[float, float]]:
    """On-duty intervals [start, end) in minutes over the horizon, breaks removed.

    Intervals that touch (a shift ending at 24:00 and the next starting at 00:00) are
    joined, so round-the-clock staff work without artificial pauses.
    """
    cal = scenario.calendar
    shift = scenario.shift_of(secretary)
    day_spans = subtract_intervals(
        [(parse_clock(shift.start), parse_clock(shift.end))],
        [(parse_clock(b0), parse_clock(b1)) for b0, b1 in shift.breaks],
    )
    workdays = {WEEKDAYS.index(d) for d in (secretary.days or [])}
    closed = set(cal.closed_days)
    start_wd = WEEKDAYS.index(cal.start_weekday)
    spans = []
    for day in range(cal.horizon_days):
        if weekday_of(day, start_wd) not in workdays or day in closed or absent[day]:
            continue
        base = day * MINUTES_PER_DAY
        spans.extend((base + a, base + b) for a, b in day_spans)
    return merge_intervals(spans)


def line_open_intervals(scenario: Scenario) -> list[tuple[float, float]]:
    """Intervals when phone lines and desks are open: opening hours minus lunch closure."""
    cal = scenario.calendar
    start_wd = WEEKDAYS.index(cal.start_weekday)
    closed = set(cal.closed_days)
    lunch = (
        [(parse_clock(cal.lunch_closure[0]), parse_clock(cal.lunch_closure[1]))]
        if cal.lunch_closure
        else []
    )
    spans = []
    for day in range(cal.horizon_days):
        hours = cal.opening_hours.get(WEEKDAYS[weekday_of(day, start_wd)])
        if hours is None or day in closed:
            continue
        base = day * MINUTES_PER_DAY
        for a, b in subtract_intervals([(parse_clock(hours[0]), parse_clock(hours[1]))], lunch):
            spans.append((base + a, base + b))
    return merge_intervals(spans)


def open_day_mask(scenario: Scenario) -> np.ndarray:
    """Boolean per day: is it a working day (has opening hours and is not closed)?"""
    cal = scenario.calendar
    start_wd = WEEKDAYS.index(cal.start_weekday)
    days = np.arange(cal.horizon_days)
    wd = weekday_of(days, start_wd)
    mask = np.array([WEEKDAYS[w] in cal.opening_hours for w in wd], dtype=bool)
    mask[[d for d in cal.closed_days if 0 <= d < cal.horizon_days]] = False
    return mask
