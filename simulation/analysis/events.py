"""Calendar columns for the event tables: the day, weekday and clock time of each row.

The engine keeps time in minutes since day 0, 00:00 (fast to compute with); a researcher
reading a table wants to group by weekday or hour without redoing the calendar.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation.scenario.calendar import MINUTES_PER_DAY, WEEKDAYS

# The time each table's calendar columns describe: when the row's event began.
MAIN_TIME: dict[str, str] = {
    "calls": "arrival", "visits": "arrival", "tasks": "created", "reports": "dictated",
    "segments": "start", "interruptions": "time", "presence": "start", "signoffs": "start",
    "sittings": "start",
}


# "HH:MM" of every minute of a day: the clock column is a lookup, not string arithmetic
# (the event tables get their calendar columns chunk by chunk as the run goes).
_CLOCK = np.array([f"{h:02d}:{m:02d}" for h in range(24) for m in range(60)], dtype=object)


def calendar_columns(minutes: pd.Series, start_weekday: str) -> pd.DataFrame:
    """``day`` (number since day 0), ``weekday`` (mon..sun) and ``clock`` (HH:MM) of times."""
    m = minutes.to_numpy(dtype=float)
    day = np.floor(m / MINUTES_PER_DAY).astype(np.int64)
    within = np.floor(m - day * MINUTES_PER_DAY).astype(np.int64)
    names = np.array(WEEKDAYS)[(day + WEEKDAYS.index(start_weekday)) % 7]
    weekday = pd.Categorical(names, categories=list(WEEKDAYS))
    return pd.DataFrame({"day": day, "weekday": weekday,
                         "clock": pd.Series(_CLOCK[within], index=minutes.index, dtype="str")},
                        index=minutes.index)


def with_calendar_columns(tables: dict[str, pd.DataFrame],
                          start_weekday: str) -> dict[str, pd.DataFrame]:
    """The tables with ``<time>_day``, ``<time>_weekday`` and ``<time>_clock`` columns added
    after their main time column (and a ``weekday`` for the absences' days)."""
    out = dict(tables)
    for name, col in MAIN_TIME.items():
        df = tables.get(name)
        if df is None:
            continue
        cal = calendar_columns(df[col], start_weekday).add_prefix(f"{col}_")
        at = df.columns.get_loc(col) + 1
        out[name] = pd.concat([df.iloc[:, :at], cal, df.iloc[:, at:]], axis=1)
    if "absences" in tables:
        days = tables["absences"].day.to_numpy()
        names = np.array(WEEKDAYS)[(days + WEEKDAYS.index(start_weekday)) % 7]
        out["absences"] = tables["absences"].assign(
            weekday=pd.Categorical(names, categories=list(WEEKDAYS)))
    return out
