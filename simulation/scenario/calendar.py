"""Clock and calendar helpers: minutes since the start of day 0 (a Monday by default).

The simulation clock is in minutes. Day ``d`` covers ``[d*1440, (d+1)*1440)``; its weekday
is ``(start_weekday + d) % 7`` with Monday = 0.
"""

from __future__ import annotations

import re

import numpy as np

MINUTES_PER_DAY = 1440
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


def parse_clock(text: str) -> int:
    """'08:30' -> 510 minutes after midnight; '24:00' is allowed as the end of a day."""
    m = _CLOCK.match(str(text).strip())
    if not m:
        raise ValueError(f"'{text}' is not a time of day; write it as HH:MM, e.g. '08:30'")
    hours, minutes = int(m.group(1)), int(m.group(2))
    if minutes >= 60 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"'{text}' is not a time of day between 00:00 and 24:00")
    return hours * 60 + minutes


def format_clock(minutes: float) -> str:
    """510 -> '08:30'."""
    m = int(round(minutes))
    return f"{m // 60:02d}:{m % 60:02d}"


def weekday_of(day: int | np.ndarray, start_weekday: int) -> int | np.ndarray:
    """Weekday index (Monday = 0) of day number ``day``."""
    return (start_weekday + day) % 7


def subtract_intervals(
    spans: list[tuple[float, float]], holes: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    """Parts of ``spans`` not covered by ``holes`` (both lists of [start, end) pairs)."""
    out = []
    for start, end in spans:
        pieces = [(start, end)]
        for h0, h1 in holes:
            nxt = []
            for a, b in pieces:
                if h1 <= a or h0 >= b:
                    nxt.append((a, b))
                    continue
                if a < h0:
                    nxt.append((a, h0))
                if h1 < b:
                    nxt.append((h1, b))
            pieces = nxt
        out.extend(pieces)
    return [(a, b) for a, b in out if b > a]


def merge_intervals(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted union of [start, end) intervals; touching intervals are joined."""
    merged: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def working_days_between(
    start_minutes: np.ndarray, end_minutes: np.ndarray, open_days: np.ndarray
) -> np.ndarray:
    """Working days elapsed from each start to each end (0 if on the same day).

    ``open_days`` is a boolean array over day numbers telling which days are working days;
    the result counts working days strictly after the start day up to the end day.
    """
    cum = np.concatenate([[0], np.cumsum(open_days.astype(int))])
    d0 = np.floor(np.asarray(start_minutes, dtype=float) / MINUTES_PER_DAY).astype(int)
    d1 = np.floor(np.asarray(end_minutes, dtype=float) / MINUTES_PER_DAY).astype(int)
    d0 = np.clip(d0, 0, len(open_days))
    d1 = np.clip(d1, 0, len(open_days))
    # cum[k] = open days among 0..k-1, so days in (d0, d1] are cum[d1+1]-cum[d0+1].
    d1p = np.clip(d1 + 1, 0, len(open_days))
    d0p = np.clip(d0 + 1, 0, len(open_days))
    return cum[d1p] - cum[d0p]
