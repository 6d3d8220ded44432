"""Staff and hourly pieces counted on the names' codes equal pandas filters and groupbys.

``kpis.staff_parts`` and ``kpis.hourly_parts`` choose their rows by masks on factorized
names instead of filtering the tables (a filtered copy of a batch's text took ~23 MiB of
Arrow's memory). The reference here is the plain pandas way: filter the rows, then
``groupby`` / ``value_counts`` / ``drop_duplicates``. Random tables have rows on both
sides of the window, missing names and names seen only outside it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.analysis import kpis
from simulation.analysis.exact import ExactSum
from simulation.scenario.calendar import MINUTES_PER_DAY

WARMUP, HORIZON = 2 * MINUTES_PER_DAY, 5 * MINUTES_PER_DAY
NAMES = ["ana", "bea", "cleo", "dora", None]
TEAMS = {"ana": "front", "bea": "front", "cleo": "back", "dora": "back"}
CATEGORIES = ["booking", "reception", "patient_file"]


def text(values) -> pd.Series:
    return pd.Series(values, dtype="str")


@st.composite
def staff_tables(draw):
    times = st.floats(0, 8 * MINUTES_PER_DAY, allow_nan=False)

    def rows(n_min: int, columns) -> pd.DataFrame:
        n = draw(st.integers(n_min, 40))
        data = {name: [draw(make) for _ in range(n)] for name, make in columns.items()}
        return pd.DataFrame(data)

    who = st.sampled_from(NAMES[:-1])
    presence = rows(0, {"secretary": who, "start": times, "length": st.floats(0, 600)})
    segments = rows(0, {"secretary": st.sampled_from(NAMES), "category":
                        st.sampled_from([*CATEGORIES, None]), "start": times,
                        "length": st.floats(0, 120)})
    interruptions = rows(0, {"secretary": st.sampled_from(NAMES), "time": times})
    for t in (presence, segments):
        t["end"] = t.start + t.pop("length")
    for t in (presence, segments, interruptions):
        t["team"] = text([TEAMS[s] if isinstance(s, str) else None for s in t.secretary])
        t["secretary"] = text(t.secretary.tolist())
    segments["category"] = text(segments.category.tolist())
    return presence, segments, interruptions


def sums(groups) -> dict:
    """``ExactSum`` values per key of a pandas groupby of floats, as plain floats."""
    return {key: ExactSum(values.to_numpy()).value for key, values in groups}


def values(pieces: dict) -> dict:
    return {key: (values(v) if isinstance(v, dict) else v.value if isinstance(v, ExactSum)
                  else v) for key, v in pieces.items()}


@settings(max_examples=150, deadline=None)
@given(staff_tables())
def test_staff_parts_equal_filters_and_groupbys(tables):
    presence, segments, interruptions = tables
    got = kpis.staff_parts(presence, segments, interruptions, WARMUP, HORIZON)
    p = presence[presence.start < HORIZON]
    s = segments[segments.start < HORIZON]
    pres = kpis._clip(p, WARMUP, HORIZON)
    seg = kpis._clip(s, WARMUP, HORIZON)
    ints = interruptions[(interruptions.time >= WARMUP) & (interruptions.time < HORIZON)]
    teams = pd.concat([p[["secretary", "team"]], s[["secretary", "team"]]]).drop_duplicates(
        "secretary")
    assert got["team_of"] == dict(zip(teams.secretary.tolist(), teams.team.tolist()))
    assert list(got["team_of"]) == teams.secretary.tolist()  # first seen, first listed
    for level in ("secretary", "team"):
        q = got[level]
        assert values(q["on_duty"]) == sums(pres.groupby(p[level]))
        assert values(q["busy"]) == sums(seg.groupby(s[level]))
        by_cat: dict = {}
        for (name, cat), total in sums(seg.groupby([s[level], s.category])).items():
            by_cat.setdefault(name, {})[cat] = total
        assert values(q["by_category"]) == by_cat
        assert q["interruptions"] == ints[level].value_counts().to_dict()
    assert got["all"]["interruptions"] == {kpis.ALL: len(ints)}
    assert values(got["all"]["by_category"]) == {kpis.ALL: sums(seg.groupby(s.category))}


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(NAMES), st.floats(0, 8 * MINUTES_PER_DAY),
                          st.sampled_from(["first", "transfer"]),
                          st.sampled_from(["answered", "abandoned", "cut_off", "closed",
                                           "in_system"])), max_size=60))
def test_hourly_parts_equal_a_groupby(rows):
    calls = pd.DataFrame(rows, columns=["department", "arrival", "leg", "outcome"])
    for col in ("department", "leg", "outcome"):
        calls[col] = text(calls[col].tolist())
    (got,) = kpis.hourly_parts(calls, WARMUP, HORIZON)["counts"]
    c = calls[(calls.arrival >= WARMUP) & (calls.arrival < HORIZON) & (calls.leg == "first")]
    c = c[c.outcome.isin(["answered", "abandoned", "cut_off"])]
    hour = ((c.arrival % MINUTES_PER_DAY) // 60).astype(int)
    g = c.assign(hour=hour, answered_flag=(c.outcome == "answered")).groupby(
        ["department", "hour"])
    want = g.agg(offered=("answered_flag", "size"),
                 answered=("answered_flag", "sum")).reset_index()
    assert list(got.columns) == list(want.columns)
    assert got.department.dtype == calls.department.dtype
    for col in want.columns:
        assert got[col].tolist() == want[col].tolist(), col
    assert np.issubdtype(got.offered.dtype, np.integer)
