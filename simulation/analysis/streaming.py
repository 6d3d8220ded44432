"""KPIs of one replication accumulated from the chunks of records handed over during the run.

The engine hands over the records that can no longer change as the run goes
(``engine.model.simulate(..., sink=...)``): a caller's attempts once he is out of the
system, a task once done, a report once sent, every segment, interruption and presence.
``KpiAccumulator.add`` buffers those chunks and, every ``batch_rows`` rows, reduces them to
the mergeable pieces of ``analysis.kpis`` (counts, exact sums, the values a quantile needs)
and drops them; ``result`` gives the tables ``analysis.kpis`` gives on the whole event
tables, to the last bit (every sum is correctly rounded, ``analysis.exact``).

What is kept until the end grows with the horizon only by one float per call and served
walk-in of the window that waited at all (``kpis.Kept`` counts the zero waits), by the
times of each sent report of the window (the report delays are an output anyway, and the
departments' delay values are taken from them at the end) and by the pieces of tasks
still open.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation.analysis import kpis

# The columns the KPIs read, per table: only these are buffered (less memory, faster filters).
COLUMNS: dict[str, tuple[str, ...]] = {
    "calls": ("caller_id", "attempt", "leg", "department", "arrival", "outcome", "answered",
              "ended", "transferred", "redial_at"),
    "visits": ("department", "arrival", "outcome", "started"),
    "tasks": ("task_id", "department", "urgent", "created", "finished", "resumption",
              "n_interruptions", "status", "remaining_at_horizon"),
    "reports": ("report_id", "department", "stream", "mode", "dictated", "typing_started",
                "typed", "validated", "sent", "target_days", "status", "doctor",
                "doctor_minutes", "status_at_horizon"),
    "segments": ("secretary", "team", "item_id", "department", "category", "urgent", "start",
                 "end"),
    "interruptions": ("time", "secretary", "team", "department"),
    "presence": ("secretary", "team", "start", "end"),
    "signoffs": ("department", "start", "end"),
    "sittings": ("department", "start", "available", "used"),
}
USED = tuple(COLUMNS)
BATCH_ROWS = 50_000  # about 5 MiB of buffered columns
# Each reduction has a cost per department (its pieces, their merge), so a model with many
# departments reduces bigger batches: memory then grows with the model, not the horizon.
BATCH_ROWS_PER_DEPARTMENT = 2_500


def batch_rows_for(departments: int) -> int:
    """Rows to buffer before a reduction, for a model of ``departments`` departments."""
    return max(BATCH_ROWS, BATCH_ROWS_PER_DEPARTMENT * departments)


class KpiAccumulator:
    """KPI tables of one replication, fed chunk by chunk (``add``), read once (``result``).

    Chunks must follow the engine's rules (``Recorder.flush``): a caller's attempts all in
    one chunk; a task's segments in its row's chunk or an earlier one. ``schemas``: the
    column types of the event tables (``engine.records.SCHEMAS``), for tables that have no
    rows yet when a batch is reduced. ``batch_rows``: rows buffered before a reduction
    (default ``batch_rows_for`` the departments).
    """

    def __init__(self, warmup: float, horizon: float, sl_minutes: float,
                 open_days: np.ndarray, categories: list[str], departments: list[str],
                 targets: list[int], end: float, schemas: dict[str, dict[str, str]],
                 batch_rows: int | None = None):
        self.warmup, self.horizon, self.end = warmup, horizon, end
        self.sl_minutes = sl_minutes
        self.open_days = open_days
        self.categories, self.departments = categories, departments
        self.targets = targets
        self.schemas = schemas
        self.batch_rows = batch_rows_for(len(departments)) if batch_rows is None else batch_rows
        self.buffer: dict[str, list[pd.DataFrame]] = {name: [] for name in USED}
        self.buffered = 0
        self.departments_parts: dict = {}
        self.staff_parts: dict = {}
        self.hourly_parts: dict = {}
        self.delay_parts: dict = {}
        # Minutes of deferrable segments whose task is not final yet, per department.
        self.pending: dict[str, dict[int, list[float]]] = {}

    def add(self, name: str, chunk: pd.DataFrame) -> None:
        """Take a chunk of table ``name`` (tables the KPIs do not read are ignored)."""
        if name not in self.buffer or not len(chunk):
            return
        wanted = list(COLUMNS[name])
        self.buffer[name].append(chunk if set(chunk.columns) == set(wanted) else chunk[wanted])
        self.buffered += len(chunk)
        if self.buffered >= self.batch_rows:
            self._reduce()

    def _table(self, name: str) -> pd.DataFrame:
        frames = self.buffer[name]
        if not frames:
            schema = {col: self.schemas[name][col] for col in COLUMNS[name]}
            return pd.DataFrame(columns=list(schema)).astype(schema)
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)

    def _reduce(self) -> None:
        """Turn the buffered chunks into pieces and drop them."""
        if not self.buffered:
            return
        t = {name: self._table(name) for name in USED}
        self.buffer = {name: [] for name in USED}  # the chunks can go (unless kept for events)
        self.buffered = 0
        w, h = self.warmup, self.horizon
        kpis.merge_parts(self.departments_parts, kpis.without_delay_values(kpis.department_parts(
            t, w, h, self.sl_minutes, self.open_days, self.categories, self.departments,
            self.end, self.pending, all_from_departments=True,
            only_present=bool(self.departments_parts))))  # every department the first time
        kpis.merge_parts(self.staff_parts, kpis.staff_parts(
            t["presence"], t["segments"], t["interruptions"], w, h))
        kpis.merge_parts(self.hourly_parts, kpis.hourly_parts(t["calls"], w, h))
        kpis.merge_parts(self.delay_parts, kpis.delay_parts(t["reports"], w, h))
        del t
        release_unused()

    def result(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """Department rows, staff rows, hourly pickup and report delays (as ``runs.runner``
        computes them from the event tables)."""
        if self.buffered or not self.departments_parts:
            self.buffered = max(self.buffered, 1)  # reduce even an empty run
            self._reduce()
        delays = kpis.delay_finish(self.delay_parts)
        self.delay_parts = {}
        parts = kpis.with_delay_values(self.departments_parts, delays)
        staff = kpis.staff_finish(self.staff_parts, self.categories)
        rows = kpis.department_finish(parts, staff, self.warmup, self.horizon,
                                      self.categories, self.departments, self.targets)
        return rows, staff, kpis.hourly_finish(self.hourly_parts), delays


def release_unused() -> None:
    """Give the memory Arrow's pool keeps for reuse back to the system (after each reduced
    batch here, and after each Parquet file ``runs.files.atomic_table`` writes).

    The text columns of the chunks live in Arrow's pool (pandas' "str" type); once a batch
    is reduced they are freed, but the pool (mimalloc) keeps many of the pages, more the
    longer the run: after the last part of a year of the group of 80 secretariats the
    process held 339 MiB without a release per batch, 280 MiB with it (no measurable
    time).
    """
    import pyarrow

    pyarrow.default_memory_pool().release_unused()
