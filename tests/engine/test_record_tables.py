"""The event tables are built column by column (``engine.records._frame``): the same frames
as the plain way they were built before, row by row into an object frame converted with
``astype`` and then masked for nulls. That plain way is kept here as the reference; every
table of real runs and of hand-made edge cases must equal it exactly (values, nulls,
column types, row order, index).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import build, scenario_strategy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulation.engine import records
from simulation.engine.model import Model
from simulation.engine.records import NULLABLE, SCHEMAS, TABLES, report_status
from simulation.engine.work import WAITING, Report
from simulation.scenario.composition import load_composed

ROOT = Path(__file__).resolve().parents[2]

# ------------------------------------------------------------------ the plain reference
ROW = {
    "calls": lambda c: (c.id, f"{c.department}:{c.stream}:{c.index}", c.caller, c.attempt,
                        c.leg, c.department, c.stream, c.category,
                        c.arrival, "in_system" if c.outcome == WAITING else c.outcome,
                        c.answered, c.ended, c.secretary, c.service, c.worked, c.patience,
                        c.transferred, c.redial_at),
    "visits": lambda v: (v.id, f"{v.department}:{v.stream}:{v.index}", v.department, v.stream,
                         v.category, v.arrival,
                         "in_system" if v.outcome == WAITING else v.outcome, v.started, v.ended,
                         v.secretary, v.worked),
    "tasks": lambda t: (t.id, t.key, t.kind, t.department, t.stream, t.category, t.urgent,
                        t.created, t.first_start, t.finished, t.nominal, t.worked, t.resumption,
                        t.n_interruptions,
                        "done" if not math.isnan(t.finished) else "backlog",
                        t.work + t.resume_left,
                        t.secretary, t.ref.id if isinstance(t.ref, Report) else -1,
                        t.remaining_at_horizon),
    "reports": lambda r: (r.id, f"{r.department}:{r.stream}:{r.index}", r.department, r.stream,
                          r.mode, r.dictated, r.typing_started,
                          r.typed, r.validated, r.sent, r.target_days, report_status(r),
                          r.doctor, r.doctor_minutes, r.reworks, r.status_at_horizon),
}


def plain_frame(name: str, rows: list[tuple]) -> pd.DataFrame:
    """Rows of table ``name`` as a DataFrame, the plain way."""
    df = pd.DataFrame(rows, columns=list(SCHEMAS[name])).astype(SCHEMAS[name])
    for col in NULLABLE.get(name, ()):
        if df[col].dtype == "int64":
            df[col] = df[col].astype("Int64").mask(df[col] < 0)
        else:
            df[col] = df[col].mask(df[col] == "")
    return df


def plain_tables(rec: records.Recorder, end: float, warmup: float,
                 horizon: float) -> dict[str, pd.DataFrame]:
    """Every table of ``rec``, row by row."""
    out = {}
    for name in TABLES:
        if name == "period":
            rows = [(warmup, horizon, end)]
        else:
            held = getattr(rec, records._HELD[name])
            rows = [ROW[name](x) for x in held] if name in ROW else held
        out[name] = plain_frame(name, rows)
    return out


def assert_same(got: pd.DataFrame, expected: pd.DataFrame, name: str) -> None:
    assert list(got.columns) == list(expected.columns), name
    assert got.dtypes.to_dict() == expected.dtypes.to_dict(), name
    pd.testing.assert_frame_equal(got, expected, check_exact=True, check_index_type=True,
                                  obj=name)


def check_run(scenario, seed: int, rep: int) -> None:
    """A run's tables equal the plain ones built from the same records."""
    model = Model(scenario, seed, rep)
    tables = model.run()
    expected = plain_tables(model.recorder, model.env.now, model.warmup, model.horizon)
    assert set(tables) == set(expected)
    for name, frame in expected.items():
        assert_same(tables[name], frame, name)


# ---------------------------------------------------------------------------- the checks
@pytest.mark.parametrize("name", ["baseline", "signoff_bottleneck", "booking_desk",
                                  "voice_recognition_front_end"])
def test_tables_of_bundled_scenarios_equal_the_plain_ones(name):
    scenario = load_composed(ROOT / "scenarios" / f"{name}.yaml",
                             ["calendar.horizon_days=5", "calendar.warmup_days=1"])
    check_run(scenario, seed=3, rep=1)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=scenario_strategy(), seed=st.integers(0, 10_000))
def test_tables_of_random_scenarios_equal_the_plain_ones(data, seed):
    check_run(build(data), seed, rep=0)


def edge_rows() -> dict[str, list[tuple]]:
    """Rows exercising nulls ('' and -1), NaN and None, ints where floats go."""
    nan = math.nan
    return {
        "tasks": [
            (1, "d:s:1", "typing", "d", "s", "c", True, 0, nan, nan, 2.5, 0.0, 0.0, 0,
             "backlog", 2.5, "", -1, nan),
            (2, "d:s:2", "typing", "d", "s", "c", False, 1.5, 2.0, 3.0, 1.0, 1.0, 0.25, 2,
             "done", 0.0, "ama_0", 7, None),
        ],
        "reports": [
            (3, "d:r:0", "d", "r", "back_end", 0.0, nan, nan, nan, nan, 2, "awaiting_typing",
             "", 0.0, 0, ""),
            (4, "d:r:1", "d", "r", "front_end", 1.0, 2.0, 3, 4.0, 5.0, 3, "sent", "dr_a",
             1.5, 1, "sent"),
        ],
        "presence": [("ama_0", "t", 0, 480.0), ("ama_1", "t", 60.5, 120)],
    }


def test_edge_case_rows_and_empty_tables_equal_the_plain_ones():
    rows = edge_rows()
    for name in TABLES:
        for chunk in (rows.get(name, []), []):
            got = records._frame(name, records._tuple_columns(name, chunk, None))
            assert_same(got, plain_frame(name, chunk), name)


def test_values_that_are_not_strings_are_converted_as_astype_does():
    """A string column holding something else is converted as pandas' astype does."""
    rows = [("ama_0", "t", 3), ("ama_1", 7, 4), (None, "t", 5), (np.str_("ama_2"), "t", 6)]
    got = records._frame("absences", records._tuple_columns("absences", rows, None))
    assert_same(got, plain_frame("absences", rows), "absences")


# ------------------------------------------------------- only the columns a sink reads
def _chunks(scenario, columns=None) -> dict[str, list[pd.DataFrame]]:
    got: dict[str, list[pd.DataFrame]] = {}
    model = Model(scenario, 5, 0, sink=lambda n, df: got.setdefault(n, []).append(df),
                            flush_rows=200, columns=columns)
    model.run()
    return got


@pytest.mark.parametrize("name", ["baseline", "booking_desk"])
def test_a_sink_given_columns_gets_those_columns_of_those_tables_and_nothing_else(name):
    """The same chunks as whole ones, cut to the columns asked for (in table order); tables
    not asked for are never handed over."""
    scenario = load_composed(ROOT / "scenarios" / f"{name}.yaml",
                             ["calendar.horizon_days=4", "calendar.warmup_days=1"])
    wanted = {"calls": ("outcome", "call_id", "caller_key"), "tasks": ("status", "report_id"),
              "reports": ("report_key", "status", "doctor"), "segments": ("end", "team"),
              "period": ("horizon",)}
    whole, cut = _chunks(scenario), _chunks(scenario, wanted)
    assert set(cut) == set(wanted)
    for table, cols in wanted.items():
        assert len(cut[table]) == len(whole[table])
        for full, part in zip(whole[table], cut[table]):
            expected = full[[c for c in SCHEMAS[table] if c in cols]]
            assert_same(part, expected, table)
    assert sum(map(len, whole["calls"])) > 0 and sum(map(len, whole["reports"])) > 0
