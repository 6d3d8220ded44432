"""A replication's event tables streamed to Parquet as the run goes, not held in memory.

The engine hands over the records that can no longer change in chunks during the run
(``engine.records.Recorder.flush``). ``EventWriter`` turns each chunk into Arrow, adds the
calendar and ``replication`` columns and appends it to one ``pyarrow.parquet.ParquetWriter``
per table, in row groups of ``ROW_GROUP_ROWS`` rows: the worker holds at most one
unfinished row group per table, never the tables. The Parquet goes either

- to a hidden temporary file in the run's output folder (``EventOutput.folder``: the
  worker runs on this machine), which the parent renames into place when it writes the
  replication: a replication that fails or is killed never leaves a file under a final
  name; or
- to compressed bytes in memory (no folder, e.g. a Dask worker on another machine), which
  the parent writes as they are, without decoding them.

Row order. A record is handed over when it is final, not when the records created before
it are, so rows of ``calls``, ``visits``, ``tasks`` and ``reports`` are in hand-over order
in the files; their id column (``engine.records.ID_COLUMNS``) gives creation order.
Sorting them back in the worker would mean holding the whole table, which is what this
module avoids; every reader in secsim sorts on load instead (``by_id``: ``EventLog``,
``runs.output.read_table``), so the tables read back are exactly those of
``engine.records.assemble`` (docs/events.md, "Files and row order"). The bytes depend only
on the scenario, seed and replication (and the pyarrow version), never on the executor.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from simulation.analysis.events import with_calendar_columns
from simulation.engine.records import ID_COLUMNS, TABLES, assemble
from simulation.runs.files import atomic_bytes, temporary
from simulation.scenario.calendar import WEEKDAYS

ROW_GROUP_ROWS = 8_192
"""Rows per Parquet row group (the last one of a table may be shorter): what a worker
buffers per table at most, and the unit a reader decodes at once."""


@dataclass(frozen=True)
class EventOutput:
    """Where a replication writes its event tables (picklable: it travels with the task).

    ``folder``: a run's output folder the worker can write to (same machine), or None to
    keep the encoded files in memory; ``metadata``: key-value pairs stored in every file's
    schema (which run wrote it, ``runs.record.RUN_TAG``).
    """

    folder: Path | None = None
    metadata: dict[str, str] = field(default_factory=dict)


def event_path(folder: Path, table: str, replication: int) -> Path:
    """The final file of one event table of one replication (``runs.output.rep_path``)."""
    return folder / f"{table}.parquet" / f"rep-{replication:04d}.parquet"


class EventLog(Mapping[str, pd.DataFrame]):
    """The event tables of one replication, encoded as Parquet (bytes or temporary files).

    Read like the dict of DataFrames it replaces: ``log["calls"]`` decodes that table (on
    each access: nothing decoded is kept), in creation order (``by_id``), with the column
    types ``engine.records.assemble`` gives. ``save`` puts a table's file in its final
    place without decoding it; ``discard`` deletes temporary files not saved.
    """

    def __init__(self, parts: dict[str, bytes | Path]):
        self.parts = parts

    def __getitem__(self, name: str) -> pd.DataFrame:
        part = self.parts[name]
        source = pa.BufferReader(part) if isinstance(part, bytes) else str(part)
        return decoded(name, pq.read_table(source))

    def __iter__(self) -> Iterator[str]:
        return iter(self.parts)

    def __len__(self) -> int:
        return len(self.parts)

    def nbytes(self) -> int:
        """Encoded size of every table (bytes held, or written to temporary files)."""
        return sum(len(p) if isinstance(p, bytes) else os.path.getsize(p)
                   for p in self.parts.values())

    def save(self, name: str, path: Path) -> None:
        """Give table ``name`` its final file ``path``, atomically (a temporary file beside
        it, then a rename); a temporary file of the worker is moved, not copied, when it is
        already beside ``path``."""
        part = self.parts[name]
        if isinstance(part, bytes):
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_bytes(path, part)
            return
        if Path(part).parent.resolve() != path.parent.resolve():  # elsewhere: copy first
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = temporary(path)
            shutil.copyfile(part, tmp)
            os.replace(tmp, path)
            Path(part).unlink(missing_ok=True)
        else:
            os.replace(part, path)
        self.parts[name] = path

    def discard(self) -> None:
        """Delete the temporary files of tables not saved (bytes are simply dropped)."""
        for part in self.parts.values():
            if isinstance(part, Path) and part.name.startswith("."):
                part.unlink(missing_ok=True)


class EventWriter:
    """Streams one replication's event tables to Parquet, chunk by chunk (see module doc).

    ``add(name, rows)`` is the engine's sink: rows are ``engine.records.SCHEMAS`` columns,
    never modified (the KPI accumulator holds the same frames). ``close`` finishes every
    table and returns the ``EventLog``; ``abort`` drops everything written so far.
    """

    def __init__(self, replication: int, start_weekday: str,
                 output: EventOutput | None = None):
        self.replication = replication
        self.start_weekday = start_weekday
        self.output = output or EventOutput()
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.sinks: dict[str, pa.BufferOutputStream | Path] = {}
        self.pending: dict[str, list[pa.Table]] = {}
        self.empty: dict[str, pa.Table] = {}  # a table's schema while it has had no row

    def add(self, name: str, rows: pd.DataFrame) -> None:
        """Encode one chunk of table ``name``; write every full row group it completes."""
        table = self._arrow(name, rows)
        if table.num_rows == 0:
            if name not in self.writers:
                self.empty[name] = table
            return
        writer = self.writers.get(name) or self._open(name, table.schema)
        if not table.schema.equals(writer.schema, check_metadata=False):
            table = table.cast(writer.schema)  # e.g. a column all null in the first chunk
        pending = self.pending[name]
        pending.append(table)
        if sum(t.num_rows for t in pending) >= ROW_GROUP_ROWS:
            held = pa.concat_tables(pending)
            full = held.num_rows - held.num_rows % ROW_GROUP_ROWS
            writer.write_table(held.slice(0, full), row_group_size=ROW_GROUP_ROWS)
            rest = held.slice(full)  # holds on to the chunks it spans, no more
            self.pending[name] = [rest] if rest.num_rows else []

    def close(self) -> EventLog:
        """Write what is pending, close every file and return the encoded tables (a table
        that never had a row is an empty file with its columns)."""
        for name in TABLES:
            if name not in self.writers:
                schema = (self.empty[name] if name in self.empty
                          else self._arrow(name, assemble({})[name])).schema
                self._open(name, schema)
        parts: dict[str, bytes | Path] = {}
        for name, writer in self.writers.items():
            if self.pending[name]:
                writer.write_table(pa.concat_tables(self.pending.pop(name)),
                                   row_group_size=ROW_GROUP_ROWS)
            writer.close()
            sink = self.sinks[name]
            parts[name] = sink if isinstance(sink, Path) else sink.getvalue().to_pybytes()
        self.writers, self.sinks, self.pending = {}, {}, {}
        return EventLog({name: parts[name] for name in TABLES if name in parts})

    def abort(self) -> None:
        """Close every file and delete the temporary ones: a failed replication leaves none."""
        for name, writer in self.writers.items():
            try:
                writer.close()
            except Exception:  # noqa: BLE001 - already failing: deleting is what matters
                pass
            sink = self.sinks[name]
            if isinstance(sink, Path):
                sink.unlink(missing_ok=True)
        self.writers, self.sinks, self.pending = {}, {}, {}

    def _arrow(self, name: str, rows: pd.DataFrame) -> pa.Table:
        """A chunk as Arrow with the columns of the written table: ``replication`` first,
        calendar columns after the main time (``analysis.events.with_calendar_columns``)."""
        df = with_calendar_columns({name: rows}, self.start_weekday)[name]
        df = df.copy(deep=False)  # the column below must not reach the caller's frame
        df.insert(0, "replication", self.replication)
        return pa.Table.from_pandas(df, preserve_index=False)

    def _open(self, name: str, schema: pa.Schema) -> pq.ParquetWriter:
        """Start table ``name``'s file (temporary, or in memory) with ``schema``."""
        if self.output.metadata:
            schema = schema.with_metadata({**(schema.metadata or {}), **{
                k.encode(): v.encode() for k, v in self.output.metadata.items()}})
        if self.output.folder is not None:
            path = temporary(event_path(Path(self.output.folder), name, self.replication))
            path.parent.mkdir(parents=True, exist_ok=True)
            sink: pa.BufferOutputStream | Path = path
            writer = pq.ParquetWriter(str(path), schema)
        else:
            sink = pa.BufferOutputStream()
            writer = pq.ParquetWriter(sink, schema)
        self.writers[name], self.sinks[name], self.pending[name] = writer, sink, []
        return writer


def decoded(name: str, table: pa.Table) -> pd.DataFrame:
    """An event table read from Parquet as the DataFrame secsim gives (``tidy``)."""
    return tidy(name, table.to_pandas())


def tidy(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """An event table read from Parquet as secsim gives it: weekday columns with all seven
    categories (Parquet keeps only those used), rows in id order (``by_id``)."""
    for col in df.columns:
        if col.endswith("weekday") and isinstance(df[col].dtype, pd.CategoricalDtype):
            df[col] = df[col].cat.set_categories(list(WEEKDAYS))
    return by_id(name, df)


def by_id(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``calls``, ``visits``, ``tasks`` or ``reports`` sorted by replication and id
    (creation order within each independent part, parts one after the other,
    ``engine.partition``; files hold them in hand-over order); other tables unchanged."""
    key = ID_COLUMNS.get(name)
    if key is None or key not in df.columns or len(df) < 2:
        return df
    keys = [k for k in ("replication", key) if k in df.columns]
    return df.sort_values(keys, kind="stable", ignore_index=True)
