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
from collections.abc import Callable
from typing import Protocol

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
        return {name: _frame(name, self._rows(name, end, warmup, horizon)) for name in TABLES}

    def _rows(self, name: str, end: float = 0.0, warmup: float = 0.0,
              horizon: float | None = None, records: list | None = None) -> list[tuple]:
        """The rows of table ``name``: of ``records`` (default: every record held)."""
        if name == "period":
            return [(warmup, end if horizon is None else horizon, end)]
        held = getattr(self, _HELD[name]) if records is None else records
        build = _ROW.get(name)
        return held if build is None else [build(x) for x in held]

    # ---------------------------------------------------------- handing records over
    def flush(self, sink: Sink, min_rows: int = 0, set_status: bool = False) -> None:
        """Hand the records that can no longer change to ``sink`` (one DataFrame per table,
        ``SCHEMAS`` columns) and drop them, once at least ``min_rows`` records are held.

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
        final: dict[str, list] = {}
        keep: dict[str, list] = {}
        last: dict[int, CallAttempt] = {}
        for c in self.calls:
            last[c.caller] = c
        done = {k for k, c in last.items() if c.ended == c.ended and c.redial_at != c.redial_at}
        tests = {"calls": lambda c: c.caller in done,
                 "visits": lambda v: v.ended == v.ended,
                 "tasks": lambda t: t.status == DONE,
                 "reports": lambda r: r.sent == r.sent and not r.in_rework}
        for name, test in tests.items():
            final[name], keep[name] = [], []
            for x in getattr(self, _HELD[name]):
                (final if test(x) else keep)[name].append(x)
        if set_status:
            for r in final["reports"]:
                r.status_at_horizon = report_status(r)
        for name in _TUPLES:
            rows = getattr(self, _HELD[name])
            if rows:
                setattr(self, _HELD[name], [])
                sink(name, _frame(name, rows))
        for name in tests:
            setattr(self, _HELD[name], keep[name])
            if final[name]:
                sink(name, _frame(name, self._rows(name, records=final[name])))

    def flush_all(self, sink: Sink, end: float, warmup: float = 0.0,
                  horizon: float | None = None) -> None:
        """At the end of the run: hand everything still held to ``sink`` (every table, even
        empty) and drop it."""
        for name in (*_TUPLES, "calls", "visits", "tasks", "reports", "period"):
            sink(name, _frame(name, self._rows(name, end, warmup, horizon)))
            if name != "period":
                setattr(self, _HELD[name], [])


Sink = Callable[[str, pd.DataFrame], None]
"""Where the records go during a run: ``sink(table_name, rows)``."""

_HELD = {"calls": "calls", "visits": "visits", "tasks": "tasks", "reports": "reports",
         "segments": "segments", "interruptions": "interruptions", "presence": "presence_rows",
         "absences": "absences", "lines": "lines", "signoffs": "signoffs",
         "sittings": "sittings"}
_TUPLES = ("absences", "presence", "segments", "interruptions", "signoffs", "sittings", "lines")
_ROW: dict[str, Callable] = {
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
# Tables whose rows are handed over out of order (a record is final when it is, not when
# the records before it are): their id column puts them back in creation order.
ID_COLUMNS = {"calls": "call_id", "visits": "visit_id", "tasks": "task_id",
              "reports": "report_id"}


def _frame(name: str, rows: list[tuple]) -> pd.DataFrame:
    """Rows of table ``name`` as a DataFrame with its column types."""
    df = pd.DataFrame(rows, columns=list(SCHEMAS[name])).astype(SCHEMAS[name])
    # Missing values are nulls (no '' or -1 placeholders), so they read as missing
    # in pandas, Arrow and SQL alike.
    for col in NULLABLE.get(name, ()):
        if df[col].dtype == _I:
            df[col] = df[col].astype("Int64").mask(df[col] < 0)
        else:
            df[col] = df[col].mask(df[col] == "")
    return df


def assemble(chunks: dict[str, list[pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """The event tables of a run from the chunks handed over (``Recorder.flush``): the same
    rows, order and column types as ``Recorder.tables`` at the end of the run."""
    out = {}
    for name in TABLES:
        frames = chunks.get(name, [])
        rows = [f for f in frames if len(f)] or frames[-1:]
        df = (rows[0] if len(rows) == 1 else
              pd.concat(rows, ignore_index=True) if rows else _frame(name, []))
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
