"""KPI pieces computed on codes and arrays equal the plain pandas way of computing them.

``kpis.staff_parts`` and ``kpis.hourly_parts`` choose their rows by masks on factorized
names instead of filtering the tables, and ``kpis.delay_finish`` builds ``report_delays``
column by column in order (both to keep a batch's text out of Arrow's memory). The
references here filter the rows, then ``groupby`` / ``value_counts`` / ``drop_duplicates``,
or sort a whole frame and take its stage lengths with pandas. Random tables have rows on both
sides of the window and exactly on its bounds, missing names, names seen only outside it,
and a secretary's rows in more than one team (her first kept row names it).
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
    times = st.one_of(st.sampled_from([WARMUP, HORIZON]),
                      st.floats(0, 8 * MINUTES_PER_DAY, allow_nan=False))

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
    moved = draw(st.booleans())  # some rows of a secretary in another team
    for t in (presence, segments, interruptions):
        t["team"] = text([None if not isinstance(s, str) else
                          "back" if moved and draw(st.booleans()) else TEAMS[s]
                          for s in t.secretary])
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
@given(st.lists(st.tuples(st.sampled_from(NAMES),
                          st.one_of(st.sampled_from([WARMUP, HORIZON]),
                                    st.floats(0, 8 * MINUTES_PER_DAY)),
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
    pd.testing.assert_frame_equal(got, want, check_exact=True)


@st.composite
def sent_reports(draw):
    """Reports as the engine records them: front-end ones never typed (NaN typing times)."""
    n = draw(st.integers(0, 30))
    day = st.floats(0, 8 * MINUTES_PER_DAY, allow_nan=False)
    rows = []
    for i in range(n):
        dictated = draw(st.one_of(st.sampled_from([WARMUP, HORIZON, 3000.0]), day))
        typed_by_hand = draw(st.booleans())
        start = dictated + draw(st.floats(0, 600)) if typed_by_hand else np.nan
        typed = start + draw(st.floats(0, 60)) if typed_by_hand else np.nan
        validated = (typed if typed_by_hand else dictated) + draw(st.floats(0, 9000))
        rows.append({"report_id": draw(st.integers(0, 10 ** 6)) if draw(st.booleans()) else i,
                     "dictated": dictated, "department": draw(st.sampled_from(["b", "a"])),
                     "stream": draw(st.sampled_from(["y", "x"])),
                     "mode": "classic" if typed_by_hand else "front_end",
                     "target_days": draw(st.sampled_from([0, 7])),
                     "typing_started": start, "typed": typed, "validated": validated,
                     "sent": validated + draw(st.floats(0, 2000)),
                     "doctor_minutes": draw(st.floats(0, 5)),
                     "status": draw(st.sampled_from(["sent", "sent", "typed"]))})
    frame = pd.DataFrame(rows, columns=[*kpis.DELAY_COLUMNS, "status"]).astype(
        {"report_id": "int64", "target_days": "int64", "dictated": float,
         "typing_started": float, "typed": float, "validated": float, "sent": float,
         "doctor_minutes": float})
    for col in ("department", "stream", "mode", "status"):
        frame[col] = text(frame[col].tolist())
    return frame


@settings(max_examples=150, deadline=None)
@given(sent_reports(), st.integers(1, 4))
def test_report_delays_equal_a_sorted_frame_and_its_stage_lengths(reports, chunks):
    pieces: dict = {}
    for chunk in np.array_split(np.arange(len(reports)), chunks):
        kpis.merge_parts(pieces, kpis.delay_parts(reports.iloc[chunk], WARMUP, HORIZON))
    got = kpis.delay_finish(pieces)
    r = reports[(reports.dictated >= WARMUP) & (reports.dictated < HORIZON)
                & (reports.status == "sent")]
    r = r.sort_values(["dictated", "department", "stream", "report_id"], kind="stable")
    started, typed = r.typing_started.fillna(r.dictated), r.typed.fillna(r.dictated)
    want = pd.DataFrame({"department": r.department, "stream": r.stream, "mode": r["mode"],
                         "target_days": r.target_days,
                         "delay_days": (r.sent - r.dictated) / MINUTES_PER_DAY,
                         "wait_typing_days": (started - r.dictated) / MINUTES_PER_DAY,
                         "typing_days": (typed - started) / MINUTES_PER_DAY,
                         "wait_signoff_days": (r.validated - typed) / MINUTES_PER_DAY,
                         "sending_days": (r.sent - r.validated) / MINUTES_PER_DAY,
                         "doctor_minutes": r.doctor_minutes}).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
