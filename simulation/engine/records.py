"""What one replication leaves behind: event records, turned into tables.

Processes only append here. Either every record is kept and turned into tables at the end
(``Recorder.tables``), or the records that can no longer change are handed over as table
chunks during the run and dropped (``Recorder.flush``, to a sink the caller gives
``engine.model.simulate``; ``assemble`` puts chunks back together into the same tables).
KPIs are computed from the tables or the chunks (``analysis.kpis``, ``analysis.streaming``).
Tables: calls (one row per attempt), visits, tasks (all non-call, non-visit work),
reports, segments (every stretch of work by a secretary), interruptions, presence
(on-duty intervals as worked, overtime included), absences, lines (queue areas), signoffs
(every stretch of doctor time on a report), sittings (each doctor's sign-off sittings) and
period (one row: end of the warm-up, horizon, and when the follow-up stopped the run).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from functools import partial
from itertools import compress
from operator import attrgetter, itemgetter, not_
from typing import Protocol

import numpy as np
import pandas as pd

from simulation.engine.work import DONE, WAITING, CallAttempt, Report, Visit, WorkItem


class Secretary(Protocol):
    """What a record needs of a secretary: who she is and her team."""

    name: str
    team: str


TABLES = ("calls", "visits", "tasks", "reports", "segments", "interruptions", "presence",
          "absences", "lines", "signoffs", "sittings", "period")


class Recorder:
    """Append-only records of one replication."""

    def __init__(self) -> None:
        self.calls: list[CallAttempt] = []
        self.visits: list[Visit] = []
        self.tasks: list[WorkItem] = []
        self.reports: list[Report] = []
        self.segments: list[tuple] = []
        self.interruptions: list[tuple] = []
        self.presence_rows: list[tuple] = []
        self.absences: list[tuple] = []
        self.lines: list[tuple] = []
        self.signoffs: list[tuple] = []
        self.sittings: list[tuple] = []

    def segment(self, sec: Secretary, item: WorkItem, start: float, end: float, reason: str):
        """Record a stretch of work by a secretary on an item."""
        if end > start:
            self.segments.append((sec.name, sec.team, item.id, item.kind, item.department,
                                  item.category, item.urgent, start, end, reason))
            item.worked += end - start
            if isinstance(item.ref, (CallAttempt, Visit)):
                item.ref.worked += end - start

    def interruption(self, sec: Secretary, item: WorkItem, by: WorkItem, time: float):
        """Record that ``by`` interrupted ``item``."""
        self.interruptions.append((time, sec.name, sec.team, item.id, item.kind, item.department,
                                   by.id, by.kind, by.department))

    def presence(self, sec: Secretary, start: float, end: float):
        """Record an on-duty interval as worked (overtime included)."""
        if end > start:
            self.presence_rows.append((sec.name, sec.team, start, end))

    def tables(self, end: float, warmup: float = 0.0,
               horizon: float | None = None) -> dict[str, pd.DataFrame]:
        """Every record as a typed DataFrame; open work gets its status at the end of the run."""
        return {name: _frame(name, self._columns(name, end, warmup, horizon))
                for name in TABLES}

    def _columns(self, name: str, end: float = 0.0, warmup: float = 0.0,
                 horizon: float | None = None, records: list | None = None,
                 wanted: Wanted = None) -> dict[str, Sequence]:
        """The columns of table ``name`` (``SCHEMAS`` order; only those ``wanted`` of it when
        given): of ``records`` (default: every record held). Built column by column, not row
        by row: far fewer Python steps."""
        if name == "period":
            return _period_columns(end, warmup, horizon, wanted)
        held = getattr(self, _HELD[name]) if records is None else records
        build = _COLUMNS.get(name)
        if build is None:
            return _tuple_columns(name, held, wanted)
        return build(held, wanted)

    # ---------------------------------------------------------- handing records over
    def flush(self, sink: Sink, min_rows: int = 0, set_status: bool = False,
              columns: Columns | None = None) -> None:
        """Hand the records that can no longer change to ``sink`` (one DataFrame per table,
        ``SCHEMAS`` columns) and drop them, once at least ``min_rows`` records are held.
        ``columns``: only these tables, with only these of their columns (what the sink
        reads: the other columns of records are never read, those of tuples never typed);
        default every table, whole.

        Final: a caller's attempts once he is no longer in the system (his last attempt has
        ended and no redial is scheduled: all his attempts go together), a visit once it has
        ended, a task once done, a report once sent; every appended tuple (segments,
        interruptions, presence...). ``set_status``: the horizon has not been reached yet,
        so the reports handed over get their status at the horizon now (``sent``, as
        ``Model._note_open_work`` would set it). Tuples go first, so the segments of a task
        never come after its row.
        """
        if sum(len(getattr(self, held)) for held in _HELD.values()) < max(min_rows, 1):
            return  # too few records held to be worth a chunk
        final = self._take_final()
        if set_status:
            for r in final["reports"]:
                r.status_at_horizon = report_status(r)
        for name in _TUPLES:
            rows = getattr(self, _HELD[name])
            if rows:
                setattr(self, _HELD[name], [])
                if columns is None or name in columns:
                    sink(name, _frame(name, self._columns(name, records=rows,
                                                          wanted=_wanted(columns, name))))
        for name, records in final.items():
            if records and (columns is None or name in columns):
                sink(name, _frame(name, self._columns(name, records=records,
                                                      wanted=_wanted(columns, name))))

    def _take_final(self) -> dict[str, list]:
        """Remove the calls, visits, tasks and reports that can no longer change from the
        records held (``flush``) and return them, in creation order."""
        last = {c.caller: c for c in self.calls}  # each caller's latest attempt
        done = {k for k, c in last.items() if _has_left(c)}
        tests = {"calls": lambda c: c.caller in done,
                 "visits": _ended,
                 "tasks": lambda t: t.status == DONE,
                 "reports": lambda r: r.sent == r.sent and not r.in_rework}
        final = {}
        for name, test in tests.items():
            held = getattr(self, _HELD[name])
            is_final = list(map(test, held))  # each record tested once
            final[name] = list(compress(held, is_final))
            setattr(self, _HELD[name], list(compress(held, map(not_, is_final))))
        return final

    def customers_in_system(self, start: float, end: float) -> bool:
        """Whether a caller who called, or a patient who came, in [start, end) is still
        in the system (waiting, served, or a caller's redial to come). Only records held
        are looked at: a caller or a visit is handed over once it has left (``flush``)."""
        last, callers = {}, set()
        for c in self.calls:
            last[c.caller] = c
            if start <= c.arrival < end:
                callers.add(c.caller)
        return (not all(_has_left(last[k]) for k in callers)
                or any(not _ended(v) and start <= v.arrival < end for v in self.visits))

    def flush_all(self, sink: Sink, end: float, warmup: float = 0.0,
                  horizon: float | None = None, columns: Columns | None = None,
                  period: bool = True) -> None:
        """At the end of the run: hand everything still held to ``sink`` (every table, even
        empty; only those in ``columns`` when given, as ``flush``) and drop it; then the
        ``period`` row (``hand_over_period``) unless told not to."""
        for name in (*_TUPLES, "calls", "visits", "tasks", "reports"):
            if columns is None or name in columns:
                sink(name, _frame(name, self._columns(name, end, warmup, horizon,
                                                      wanted=_wanted(columns, name))))
            setattr(self, _HELD[name], [])
        if period:
            hand_over_period(sink, end, warmup, horizon, columns)


def hand_over_period(sink: Sink, end: float, warmup: float = 0.0,
                     horizon: float | None = None, columns: Columns | None = None) -> None:
    """The ``period`` row of a run (its window, and when it stopped) to ``sink``, unless
    ``columns`` leaves the table out."""
    if columns is None or "period" in columns:
        sink("period", _frame("period", _period_columns(end, warmup, horizon,
                                                        _wanted(columns, "period"))))


Sink = Callable[[str, pd.DataFrame], None]
"""Where the records go during a run: ``sink(table_name, rows)``."""
Columns = Mapping[str, Sequence[str]]
"""The tables a sink reads and, for each, the columns it reads."""
Wanted = Collection[str] | None
"""The columns of one table to build (None: all)."""


def _wanted(columns: Columns | None, name: str) -> Wanted:
    return None if columns is None else set(columns[name])


def _period_columns(end: float, warmup: float, horizon: float | None,
                   wanted: Wanted) -> dict[str, Sequence]:
    """The one row of ``period``: end of the warm-up, horizon (default ``end``), end."""
    values = [(warmup,), (end if horizon is None else horizon,), (end,)]
    return _select("period", dict(zip(SCHEMAS["period"], values)), wanted)


def _select(name: str, built: dict[str, Sequence], wanted: Wanted) -> dict[str, Sequence]:
    """``built`` columns of table ``name`` in ``SCHEMAS`` order, only those ``wanted``."""
    return {col: built[col] for col in SCHEMAS[name] if wanted is None or col in wanted}


def _build(name: str, makers: dict[str, Callable[[], Sequence]],
           wanted: Wanted) -> dict[str, Sequence]:
    """Columns of table ``name`` made by ``makers`` (one per column), only those ``wanted``:
    a column nobody reads costs nothing."""
    return {col: makers[col]() for col in SCHEMAS[name] if wanted is None or col in wanted}


class _Attributes:
    """The attribute columns of a list of records, each read once when first asked for."""

    __slots__ = ("items", "cache")

    def __init__(self, items: Sequence):
        self.items, self.cache = items, {}

    def __call__(self, name: str) -> list:
        column = self.cache.get(name)
        if column is None:
            column = self.cache[name] = list(map(attrgetter(name), self.items))
        return column

_HELD = {"calls": "calls", "visits": "visits", "tasks": "tasks", "reports": "reports",
         "segments": "segments", "interruptions": "interruptions", "presence": "presence_rows",
         "absences": "absences", "lines": "lines", "signoffs": "signoffs",
         "sittings": "sittings"}
_TUPLES = ("absences", "presence", "segments", "interruptions", "signoffs", "sittings", "lines")


def _ended(record: CallAttempt | Visit) -> bool:
    """A call attempt or a visit is over (its end is not NaN)."""
    return record.ended == record.ended


def _has_left(last: CallAttempt) -> bool:
    """A caller whose latest attempt is ``last`` has left: it is over, no redial to come."""
    return last.ended == last.ended and last.redial_at != last.redial_at


def _tuple_columns(name: str, rows: Sequence[tuple], wanted: Wanted) -> dict[str, Sequence]:
    """Columns of table ``name`` from ``rows`` (tuples in ``SCHEMAS`` order), only those
    ``wanted``: one pass per column (several times faster than ``zip(*rows)``, which
    builds every column through one huge argument tuple)."""
    return {col: list(map(itemgetter(i), rows)) for i, col in enumerate(SCHEMAS[name])
            if wanted is None or col in wanted}


def _keys(departments: Sequence, streams: Sequence, indices: Sequence) -> list[str]:
    """Entity keys 'department:stream:index' (the same entity in every scenario)."""
    return [f"{d}:{s}:{i}" for d, s, i in zip(departments, streams, indices)]


def _in_system(outcomes: Sequence[str]) -> list[str]:
    """Outcomes, with those still waiting at the end of the run named 'in_system'."""
    return ["in_system" if o == WAITING else o for o in outcomes]


def _plain(table: str, a: _Attributes, renamed: Mapping[str, str] | None = None
           ) -> dict[str, Callable[[], Sequence]]:
    """Makers of the columns of ``table`` that are an attribute of the same name (or the
    attribute ``renamed`` gives)."""
    renamed = renamed or {}
    return {col: partial(a, renamed.get(col, col)) for col in SCHEMAS[table]}


def _call_columns(calls: Sequence[CallAttempt], wanted: Wanted) -> dict[str, Sequence]:
    a = _Attributes(calls)
    makers = _plain("calls", a, {"call_id": "id", "caller_id": "caller"})
    makers["caller_key"] = lambda: _keys(a("department"), a("stream"), a("index"))
    makers["outcome"] = lambda: _in_system(a("outcome"))
    return _build("calls", makers, wanted)


def _visit_columns(visits: Sequence[Visit], wanted: Wanted) -> dict[str, Sequence]:
    a = _Attributes(visits)
    makers = _plain("visits", a, {"visit_id": "id"})
    makers["visit_key"] = lambda: _keys(a("department"), a("stream"), a("index"))
    makers["outcome"] = lambda: _in_system(a("outcome"))
    return _build("visits", makers, wanted)


def _task_columns(tasks: Sequence[WorkItem], wanted: Wanted) -> dict[str, Sequence]:
    a = _Attributes(tasks)
    makers = _plain("tasks", a, {"task_id": "id", "task_key": "key", "work": "nominal"})
    makers["status"] = lambda: ["done" if not math.isnan(f) else "backlog"
                                for f in a("finished")]
    makers["remaining"] = lambda: [w + r for w, r in zip(a("work"), a("resume_left"))]
    makers["report_id"] = lambda: [r.id if isinstance(r, Report) else -1 for r in a("ref")]
    return _build("tasks", makers, wanted)


def _report_columns(reports: Sequence[Report], wanted: Wanted) -> dict[str, Sequence]:
    a = _Attributes(reports)
    makers = _plain("reports", a, {"report_id": "id"})
    makers["report_key"] = lambda: _keys(a("department"), a("stream"), a("index"))
    makers["status"] = lambda: [report_status(r) for r in reports]
    return _build("reports", makers, wanted)


# The tables of records that are objects: their columns, from a list of them.
_COLUMNS: dict[str, Callable[[Sequence, Wanted], dict[str, Sequence]]] = {
    "calls": _call_columns, "visits": _visit_columns, "tasks": _task_columns,
    "reports": _report_columns,
}
# Tables whose rows are handed over out of order (a record is final when it is, not when
# the records before it are): their id column puts them back in creation order.
ID_COLUMNS = {"calls": "call_id", "visits": "visit_id", "tasks": "task_id",
              "reports": "report_id"}


def _frame(name: str, columns: Mapping[str, Sequence] | Sequence[Sequence]) -> pd.DataFrame:
    """Columns of table ``name`` (by name, or every column's values in ``SCHEMAS`` order)
    as a DataFrame with its column types.

    Missing values are nulls (no '' or -1 placeholders), so they read as missing in
    pandas, Arrow and SQL alike. Each column is made at its type straight away (no
    object-dtype frame converted afterwards): the same frame, several times faster.
    """
    schema = SCHEMAS[name]
    if not isinstance(columns, Mapping):
        columns = dict(zip(schema, columns))
    nullable = NULLABLE.get(name, ())
    return pd.DataFrame({col: _column(values, schema[col], col in nullable)
                         for col, values in columns.items()}, copy=False)


def _column(values: Sequence, dtype: str, nullable: bool):
    """One column's values at ``dtype``; ``nullable``: '' or a negative id is a null.
    Numbers by ``np.fromiter`` (the values ``np.asarray`` gives, without its search for
    nested sequences)."""
    if dtype == _S:
        return _strings(values, nullable)
    array = np.fromiter(values, dtype=dtype, count=len(values))
    if nullable:  # ids: -1 stands for none
        return pd.arrays.IntegerArray(array, array < 0)
    return array


def _strings(values: Sequence, nullable: bool):
    """Strings at pandas' "str" type; ``nullable``: '' is a null. By pandas' own
    conversion from an object array (five times faster than through a Series): the engine
    builds tables in memory and does not import pyarrow (files are the runs' business,
    docs/architecture.md)."""
    objects = np.array(values, dtype=object)
    if nullable:
        objects[objects == ""] = None
    return pd.array(objects, dtype=_S)


def assemble(chunks: dict[str, list[pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """The event tables of a run from the chunks handed over (``Recorder.flush``): the same
    rows, order and column types as ``Recorder.tables`` at the end of the run (for a run
    by part, ``engine.model.simulate``: records in id order, tuples part by part)."""
    out = {}
    for name in TABLES:
        frames = chunks.get(name, [])
        rows = [f for f in frames if len(f)] or frames[-1:]
        df = (rows[0] if len(rows) == 1 else
              pd.concat(rows, ignore_index=True) if rows else
              _frame(name, [()] * len(SCHEMAS[name])))
        if name in ID_COLUMNS and len(rows) > 1:
            df = df.sort_values(ID_COLUMNS[name], kind="stable", ignore_index=True)
        out[name] = df.reset_index(drop=True)
    return out


_S, _F, _I, _B = "str", "float64", "int64", "bool"
# Column types of every event table (times in minutes since day 0, 00:00).
SCHEMAS: dict[str, dict[str, str]] = {
    "calls": {"call_id": _I, "caller_key": _S, "caller_id": _I, "attempt": _I, "leg": _S,
              "department": _S, "stream": _S, "category": _S, "arrival": _F, "outcome": _S,
              "answered": _F, "ended": _F, "secretary": _S, "service": _F, "worked": _F,
              "patience": _F, "transferred": _B, "redial_at": _F},
    "visits": {"visit_id": _I, "visit_key": _S, "department": _S, "stream": _S,
               "category": _S, "arrival": _F, "outcome": _S, "started": _F, "ended": _F,
               "secretary": _S, "worked": _F},
    "tasks": {"task_id": _I, "task_key": _S, "kind": _S, "department": _S, "stream": _S,
              "category": _S, "urgent": _B, "created": _F, "first_start": _F, "finished": _F,
              "work": _F, "worked": _F, "resumption": _F, "n_interruptions": _I, "status": _S,
              "remaining": _F, "secretary": _S, "report_id": _I, "remaining_at_horizon": _F},
    "reports": {"report_id": _I, "report_key": _S, "department": _S, "stream": _S,
                "mode": _S, "dictated": _F,
                "typing_started": _F, "typed": _F, "validated": _F, "sent": _F,
                "target_days": _I, "status": _S, "doctor": _S, "doctor_minutes": _F,
                "reworks": _I, "status_at_horizon": _S},
    "segments": {"secretary": _S, "team": _S, "item_id": _I, "kind": _S, "department": _S,
                 "category": _S, "urgent": _B, "start": _F, "end": _F, "reason": _S},
    "interruptions": {"time": _F, "secretary": _S, "team": _S, "task_id": _I, "task_kind": _S,
                      "department": _S, "by_id": _I, "by_kind": _S, "by_department": _S},
    "presence": {"secretary": _S, "team": _S, "start": _F, "end": _F},
    "absences": {"secretary": _S, "team": _S, "day": _I},
    "lines": {"department": _S, "stream": _S, "kind": _S, "waiting_area": _F, "horizon": _F},
    "signoffs": {"doctor": _S, "department": _S, "report_id": _I, "kind": _S, "start": _F,
                 "end": _F},
    "sittings": {"doctor": _S, "department": _S, "start": _F, "available": _F, "used": _F},
    "period": {"warmup_end": _F, "horizon": _F, "end": _F},
}
# Columns whose missing values are nulls: who was never assigned, what never happened.
NULLABLE: dict[str, tuple[str, ...]] = {
    "calls": ("secretary",), "visits": ("secretary",), "tasks": ("secretary", "report_id"),
    "reports": ("doctor", "status_at_horizon"),
}


def report_status(r: Report) -> str:
    """The stage a report is in: sent, awaiting sending, validation or typing."""
    if r.in_rework:
        return "in_rework"
    if not math.isnan(r.sent):
        return "sent"
    if not math.isnan(r.validated):
        return "awaiting_sending"
    if not math.isnan(r.typed) or r.mode == "front_end":
        return "awaiting_validation"
    return "awaiting_typing"
