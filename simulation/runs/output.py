"""Writing a run to its output folder, one file per replication and table, so a kill
loses at most the replications still running.

Layout of ``out/``::

    run.json                    the run record: scenario digest, seed, replications,
                                events, version, status (written at start, updated at end)
    run.lock                    while a run writes the folder: its pid, host, start, command
    scenario.yaml               the resolved scenario
    kpis.parquet/rep-RRRR.parquet   one file per replication (likewise staff, hourly,
                                report_delays and each event table); read the folder as one
                                table with ``pd.read_parquet(out / "kpis.parquet")``
    summary.parquet, summary.csv    mean and CI per department and KPI (at the end)

A replication counts as written exactly when its ``kpis.parquet/rep-RRRR.parquet`` exists
(it is written last, every file under a temporary name then renamed); ``read_table`` reads
the other tables of those replications only. Event tables are streamed to Parquet by the
replication itself (``runs.eventlog``): on this machine into hidden temporary files of
the table folders, which ``RunWriter`` renames into place, elsewhere as bytes it writes.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow.parquet as pq

from simulation.analysis.stats import summarise
from simulation.engine.records import ID_COLUMNS, TABLES
from simulation.runs.eventlog import EventLog, EventOutput, tidy
from simulation.runs.files import (
    atomic_table,
    atomic_text,
    read_dataset,
    remove_temporary,
    temporary,
)
from simulation.runs.lock import FolderLock, LockError
from simulation.runs.record import (
    RUN_KIND,
    RUN_RECORD,
    RUN_TAG,
    RecordError,
    check_resume,
    identity,
    read_record,
    run_tag,
    to_json,
)
from simulation.scenario.io import dump_yaml
from simulation.scenario.schema import Scenario
from simulation.version import __version__

if TYPE_CHECKING:  # reading a run folder does not import the model
    from simulation.runs.runner import Replication, RunResult

KPI_TABLES = ("staff", "hourly", "report_delays", "kpis")  # kpis last: it marks a rep done
TABLE_NAMES = (*TABLES, *KPI_TABLES)
OUTPUT_FILES = [f"{name}.parquet" for name in (*TABLE_NAMES, "summary")] + [
    "summary.csv", RUN_RECORD, "report.html", "scenario.yaml"]
LOCK = "run.lock"


def rep_path(out: Path, table: str, replication: int) -> Path:
    """The file of one replication of one table."""
    return out / f"{table}.parquet" / f"rep-{replication:04d}.parquet"


def written_replications(out: str | Path, table: str = "kpis") -> list[int]:
    """Replications whose file of ``table`` is complete, in order."""
    folder = Path(out) / f"{table}.parquet"
    if not folder.is_dir():
        return []
    return sorted(int(f.name[4:-8]) for f in os.scandir(folder)
                  if f.name.startswith("rep-") and f.name.endswith(".parquet"))


def read_table(out: str | Path, table: str, columns: list[str] | None = None) -> pd.DataFrame:
    """One table of a written run, every replication in replication order (empty if none).

    Only replications written completely count (their ``kpis`` file exists): a file of a
    replication whose writing failed half-way is not read. Rows of ``calls``, ``visits``,
    ``tasks`` and ``reports`` come sorted by replication and id (the files hold them in
    the order the run handed them over, docs/events.md). Also reads a run written by older
    secsim versions (one Parquet file per table).
    """
    path = Path(out) / f"{table}.parquet"
    key = ID_COLUMNS.get(table)
    wanted = columns
    if columns is not None and key is not None:  # the sort needs the id
        wanted = [*columns, *(c for c in ("replication", key) if c not in columns)]
    if path.is_file():  # an old run's one file: columns it lacks are left out, as below
        names = set(pq.read_schema(path).names)
        df = pd.read_parquet(path, columns=None if wanted is None else
                             [c for c in wanted if c in names])
    else:
        reps = written_replications(out)
        if table != "kpis":
            have = set(written_replications(out, table))
            reps = [r for r in reps if r in have]
        df = read_dataset([str(rep_path(Path(out), table, r)) for r in reps], wanted)
    if table in TABLES:
        df = tidy(table, df)
    return df if wanted is columns else df[[c for c in columns if c in df.columns]]


def read_events(out: str | Path, name: str, columns: list[str] | None = None) -> pd.DataFrame:
    """One event table of a written run (e.g. 'calls'), in replication order and, within
    a replication, in creation order (``read_table``)."""
    path = Path(out) / f"{name}.parquet"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found; was the run written with events?")
    return read_table(out, name, columns)


def hold(lock: FolderLock, prepare: Callable[[], None]) -> None:
    """Take a folder's lock (RecordError naming the run holding it), then ``prepare`` the
    folder; the lock is released if that fails."""
    try:
        lock.acquire()
    except LockError as exc:
        raise RecordError(str(exc)) from None
    try:
        prepare()
    except BaseException:
        lock.release()
        raise


class RunWriter:
    """Writes a scenario's replications into ``out`` as each finishes, then the summary.

    It holds the folder's lock from creation to ``close``. A fresh writer clears what an
    earlier run left in the folder; with ``resume`` it keeps the replications already
    written (``done``), after checking the folder's record matches this run
    (RecordError otherwise). ``notify(text)``: messages for the user (default: stderr).
    """

    def __init__(self, out: str | Path, scenario: Scenario, header: str = "",
                 seed: int | None = None, replications: int | None = None,
                 events: bool = True, resume: bool = False, meta: dict[str, Any] | None = None,
                 notify: Callable[[str], None] | None = None):
        self.out = Path(out)
        self.scenario = scenario
        self.notify = notify or (lambda text: print(text, file=sys.stderr, flush=True))
        self.lock = FolderLock(self.out, LOCK, "run", self.notify)
        hold(self.lock, lambda: self._open(header, seed, replications, events, resume,
                                           meta or {}))

    def _open(self, header, seed, replications, events, resume, meta) -> None:
        # Without seed and replications (a writer used directly), resume cannot check them.
        self.record: dict[str, Any] = {"kind": RUN_KIND,
                                       **identity(self.scenario, seed, replications, events)}
        old = read_record(self.out / RUN_RECORD) if resume else None
        self.previous: dict[str, Any] | None = None
        if resume:
            check_resume(old, self.record, self.out)
        if old is not None:
            self.previous = {k: old.get(k) for k in ("status", "started", "finished")}
            if old.get("status") == "running":
                self.previous["status"] = "killed"  # it never wrote its end
        else:
            if resume:
                self.notify(f"{self.out}: no earlier run to resume; starting it")
            else:
                self._note_unfinished()
            self._clear()
        for table in TABLE_NAMES:
            remove_temporary(self.out / f"{table}.parquet")
        remove_temporary(self.out)
        (self.out / "report.html").unlink(missing_ok=True)  # rebuilt at the end
        self.done = set(written_replications(self.out))
        atomic_text(self.out / "scenario.yaml", dump_yaml(self.scenario, header))
        self.started = time.strftime("%Y-%m-%dT%H:%M:%S")
        self.record.update(status="running", started=self.started,
                           python=platform.python_version(),
                           replications_completed=sorted(self.done),
                           **({"previous_run": self.previous} if self.previous else {}), **meta)
        atomic_text(self.out / RUN_RECORD, to_json(self.record))

    def _note_unfinished(self) -> None:
        """Say so when starting again over a run that had not finished (--resume keeps it)."""
        try:
            old = read_record(self.out / RUN_RECORD) or {}
        except RecordError:
            return
        saved = len(written_replications(self.out))
        if old.get("status") in ("running", "interrupted") and saved:
            self.notify(f"{self.out}: the earlier run there had not finished ({saved} of "
                        f"{old.get('replications_requested', '?')} replications saved); "
                        "starting again, so they are deleted (--resume would continue it)")

    def _clear(self) -> None:
        """Remove an earlier run's files, so results of two runs never mix."""
        self.out.mkdir(parents=True, exist_ok=True)
        for name in OUTPUT_FILES:
            target = self.out / name
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink(missing_ok=True)

    def event_output(self, local: bool) -> EventOutput:
        """Where replications stream their event tables for this folder: into it when
        they run on this machine (``local``: the executor's ``shared_disk``), else in
        memory; either way every file carries this run's tag."""
        return EventOutput(self.out.resolve() if local else None,
                           {RUN_TAG: run_tag(self.record)})

    def __call__(self, rep: Replication) -> None:
        """Write one finished replication, every table under a temporary name first and
        ``kpis`` last. Event tables streamed by the replication (``EventLog``) are moved
        or written as they are, without decoding them."""
        tag = {RUN_TAG: run_tag(self.record)}
        events = rep.events or {}
        for name in events:
            path = rep_path(self.out, name, rep.replication)
            if isinstance(events, EventLog):
                events.save(name, path)
            else:  # a dict of DataFrames (a Replication built by hand)
                atomic_table(events[name], path, tag)
        for name in KPI_TABLES:
            atomic_table(getattr(rep, name), rep_path(self.out, name, rep.replication), tag)

    def close(self, result: RunResult | None = None,
              meta: dict[str, Any] | None = None) -> RunResult | None:
        """Release the folder; given a result, first write the summary and the final record.

        Returns the result with its tables read back from the folder: every replication
        written, by this run or the runs it resumed, in replication order.
        """
        try:
            if result is not None:
                result = self._finish(result, meta or {})
        finally:
            try:
                for table in TABLES:  # event files of replications not written
                    remove_temporary(self.out / f"{table}.parquet")
            finally:
                self.lock.release()
        return result

    def _finish(self, result: RunResult, meta: dict[str, Any]) -> RunResult:
        # The result's tables are replaced by the folder's (every replication written, by
        # this run or those it resumed): dropped first, not held beside their new copies.
        result.kpis = result.staff = result.hourly = result.report_delays = None
        tables = {name: read_table(self.out, name) for name in KPI_TABLES}
        kpis = tables["kpis"]
        summary = (summarise(kpis, ["department"]) if not kpis.empty
                   else pd.DataFrame(columns=["department", "kpi", "mean", "ci_low", "ci_high",
                                              "n"]))
        result.kpis, result.staff, result.hourly = kpis, tables["staff"], tables["hourly"]
        result.report_delays, result.summary = tables["report_delays"], summary
        atomic_table(summary, self.out / "summary.parquet")
        tmp_csv = temporary(self.out / "summary.csv")
        summary.to_csv(tmp_csv, index=False)
        os.replace(tmp_csv, self.out / "summary.csv")
        completed = written_replications(self.out)
        requested = self.record.get("replications_requested")
        status = ("interrupted" if result.interrupted else "failures" if result.failures
                  else "complete" if requested is None or len(completed) >= requested
                  else "incomplete")
        self.record.update(
            status=status, finished=time.strftime("%Y-%m-%dT%H:%M:%S"),
            secsim_version=__version__, replications_completed=completed,
            failures=[{"replication": r, "error": e} for r, e in result.failures],
            interrupted=result.interrupted,
            **({"stopped": result.stopped} if result.stopped else {}),
            seconds=round(result.seconds, 3),
            replication_seconds=round(result.replication_seconds, 3), **meta)
        atomic_text(self.out / RUN_RECORD, to_json(self.record))
        return result
