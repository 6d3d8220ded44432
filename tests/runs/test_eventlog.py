"""Event tables streamed to Parquet as the run goes (``runs.eventlog``) read back as the
tables ``engine.records.assemble`` builds from the same chunks, whatever way they travel
(temporary files or bytes), and a replication that fails leaves nothing that reads as done."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import simulation
from simulation.analysis.events import with_calendar_columns
from simulation.engine.model import simulate
from simulation.engine.records import ID_COLUMNS, TABLES, assemble
from simulation.runs import eventlog, runner
from simulation.runs.eventlog import EventOutput, event_path
from simulation.runs.executors import SerialExecutor
from simulation.runs.output import RunWriter, read_events, read_table, written_replications
from simulation.scenario.composition import load_composed

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["calendar.horizon_days=5", "calendar.warmup_days=1"]


def small(name: str = "baseline"):
    return load_composed(ROOT / "scenarios" / f"{name}.yaml", SMALL)


def assembled(scenario, seed: int, rep: int, flush_rows: int) -> dict[str, pd.DataFrame]:
    """The reference: the chunks of the same run put together by ``assemble``, with the
    columns a written table has (``replication`` first, calendar columns)."""
    chunks: dict[str, list[pd.DataFrame]] = {}
    simulate(scenario, seed, rep, flush_rows=flush_rows,
             sink=lambda name, rows: chunks.setdefault(name, []).append(rows))
    tables = with_calendar_columns(assemble(chunks), scenario.calendar.start_weekday)
    for df in tables.values():
        df.insert(0, "replication", rep)
    return tables


def test_streamed_files_read_back_as_the_assembled_tables(tmp_path, monkeypatch):
    """Small chunks and small row groups (many groups, a remainder carried over): every
    table read back from its file, sorted by id, is the assembled table, and the writer
    never holds a full row group."""
    monkeypatch.setattr(eventlog, "ROW_GROUP_ROWS", 100)
    held = []
    real_add = eventlog.EventWriter.add

    def watched(self, name, rows):
        real_add(self, name, rows)
        held.append(max((sum(t.num_rows for t in p) for p in self.pending.values()),
                        default=0))

    monkeypatch.setattr(eventlog.EventWriter, "add", watched)
    scenario = small("signoff_bottleneck")
    rep = runner.replicate(scenario, 3, 1, events=EventOutput(tmp_path), flush_rows=50)
    assert held and max(held) < 100
    expected = assembled(scenario, 3, 1, flush_rows=50)
    assert list(rep.events) == list(TABLES)
    for name in TABLES:
        rep.events.save(name, event_path(tmp_path, name, 1))
        path = event_path(tmp_path, name, 1)
        raw = pq.read_table(path)
        if len(expected[name]) > 250:
            assert pq.ParquetFile(path).metadata.num_row_groups > 2, name
        got = eventlog.decoded(name, raw)
        pd.testing.assert_frame_equal(got, expected[name], check_exact=True, obj=name)
        pd.testing.assert_frame_equal(rep.events[name], expected[name], check_exact=True,
                                      obj=name)
    assert not list(tmp_path.rglob(".*.tmp"))  # every temporary file took its final name


def test_a_written_run_reads_back_as_the_assembled_tables(tmp_path):
    """``read_events`` on a run folder: replication after replication, each the assembled
    table (rows in creation order although the files hold them in hand-over order)."""
    scenario = small()
    simulation.run(scenario, replications=2, seed=1, executor=SerialExecutor(),
                   out=tmp_path)
    expected = [assembled(scenario, 1, rep, flush_rows=runner.FLUSH_ROWS) for rep in (0, 1)]
    for name in TABLES:
        want = pd.concat([e[name] for e in expected], ignore_index=True)
        pd.testing.assert_frame_equal(read_events(tmp_path, name), want, check_exact=True,
                                      obj=name)
    key = ID_COLUMNS["tasks"]
    some = read_table(tmp_path, "tasks", columns=["kind"])  # the id is read for the sort
    assert list(some.columns) == ["kind"]
    assert some.kind.tolist() == read_events(tmp_path, "tasks").kind.tolist()
    raw = pd.read_parquet(tmp_path / "tasks.parquet")  # every row, in hand-over order
    tasks = pd.concat([e["tasks"] for e in expected], ignore_index=True)
    assert len(raw) == len(tasks) > 0
    assert sorted(zip(raw.replication, raw[key])) == list(zip(tasks.replication, tasks[key]))


@pytest.mark.parametrize("how", ["relative", "symlink"])
def test_a_run_written_to_a_relative_or_linked_folder_moves_its_files(tmp_path, monkeypatch,
                                                                       how):
    """``--out outputs/x`` (relative, the command line's default) or a folder reached through
    a link: the worker's temporary files are already beside their targets and are moved
    into place (no copy of a file onto itself)."""
    real = tmp_path / "real"
    real.mkdir()
    if how == "symlink":
        (tmp_path / "link").symlink_to(real)
        out = tmp_path / "link" / "run"
    else:
        monkeypatch.chdir(real)
        out = Path("run")
    copies = []
    monkeypatch.setattr(eventlog.shutil, "copyfile", lambda *a: copies.append(a))
    scenario = small()
    simulation.run(scenario, replications=1, seed=1, executor=SerialExecutor(), out=out)
    assert copies == []
    expected = assembled(scenario, 1, 0, flush_rows=runner.FLUSH_ROWS)
    for name in TABLES:
        pd.testing.assert_frame_equal(read_events(real / "run", name), expected[name],
                                      check_exact=True, obj=name)


class ElsewhereExecutor(SerialExecutor):
    """Serial, but as if the tasks ran on another machine: event tables come back as bytes."""

    shared_disk = False


def test_bytes_and_files_give_the_same_parquet(tmp_path):
    """Streaming into the folder (local workers) or handing bytes back (a remote Dask
    worker) writes identical files."""
    scenario = small()
    for name, executor in (("local", SerialExecutor()), ("remote", ElsewhereExecutor())):
        simulation.run(scenario, replications=2, seed=2, executor=executor,
                       out=tmp_path / name)

    def files(folder: Path) -> dict[str, bytes]:
        return {p.relative_to(folder).as_posix(): p.read_bytes()
                for p in sorted(folder.rglob("*.parquet")) if p.is_file()}

    local, remote = files(tmp_path / "local"), files(tmp_path / "remote")
    assert "calls.parquet/rep-0001.parquet" in local
    assert local.keys() == remote.keys()
    assert [n for n in local if local[n] != remote[n]] == []


def test_a_failed_replication_leaves_no_event_file(tmp_path, monkeypatch):
    """Replication 1 fails half-way through its run: none of its files exist, not even
    hidden ones; replications 0 and 2 are written and read as usual."""
    real = runner.simulate

    def fails_midway(scenario, seed, replication, sink=None, **kw):
        if replication != 1:
            return real(scenario, seed, replication, sink=sink, **kw)
        seen = []

        def broken(name, rows):
            sink(name, rows)
            seen.append(name)
            if len(seen) == 6:  # some tables have files open by now
                raise RuntimeError("boom")

        return real(scenario, seed, replication, sink=broken, flush_rows=50)

    monkeypatch.setattr(runner, "simulate", fails_midway)
    result = simulation.run(small(), replications=3, seed=1, executor=SerialExecutor(),
                            out=tmp_path)
    assert result.failures == [(1, "RuntimeError: boom")]
    left = [p.name for p in tmp_path.rglob("*") if p.is_file() and "0001" in p.name]
    assert left == []
    assert written_replications(tmp_path) == [0, 2]
    assert set(read_events(tmp_path, "calls").replication) == {0, 2}


def test_a_replication_whose_kpis_fail_after_its_files_are_closed_leaves_none(tmp_path,
                                                                             monkeypatch):
    """The event files are complete but the KPI step fails: the replication fails, and
    its temporary files go with it."""
    def broken(self):
        raise RuntimeError("boom")

    monkeypatch.setattr(runner.KpiAccumulator, "result", broken)
    with pytest.raises(RuntimeError, match="boom"):
        runner.replicate(small(), 1, 1, events=EventOutput(tmp_path))
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_files_of_an_unfinished_replication_are_not_read(tmp_path):
    """A replication whose writing stopped before its kpis file (the mark of a written
    replication) is not read, and a killed worker's hidden file is removed at the end."""
    scenario = small()
    writer = RunWriter(tmp_path, scenario, seed=1, replications=2, notify=lambda _t: None)
    done = runner.replicate(scenario, 1, 0, events=writer.event_output(local=True))
    writer(done)
    half = runner.replicate(scenario, 1, 1, events=writer.event_output(local=True))
    half.events.save("calls", event_path(tmp_path, "calls", 1))  # then the writer died
    half.events.discard()
    killed = tmp_path / "tasks.parquet" / ".rep-0001.parquet.999.tmp"
    killed.write_bytes(b"PAR1 half")
    assert set(read_events(tmp_path, "calls").replication) == {0}
    assert set(read_events(tmp_path, "tasks").replication) == {0}
    writer.close()
    assert not killed.exists()
    assert not [p for p in tmp_path.rglob(".*.tmp")]


@pytest.mark.parametrize("events", [False, True])
def test_written_event_files_carry_the_run_tag(tmp_path, events):
    """Every file of a replication names the run that wrote it (``run.json`` checks)."""
    from simulation.runs.files import file_metadata
    from simulation.runs.record import RUN_TAG, check_run_folder

    simulation.run(small(), replications=1, seed=1, executor=SerialExecutor(), out=tmp_path,
                   events=events)
    record = check_run_folder(tmp_path)
    tags = {file_metadata(p, RUN_TAG) for p in tmp_path.rglob("rep-*.parquet")}
    assert len(tags) == 1 and record["seed"] == 1
    assert (tmp_path / "calls.parquet").exists() == events


def test_an_old_runs_single_file_is_read_without_the_columns_it_lacks(tmp_path):
    """Older secsim wrote one Parquet file per table; asking it for a column it lacks leaves
    that column out (as for per-replication files) instead of failing (the HTML report
    asks report_delays for department and delay_days only)."""
    pd.DataFrame({"replication": pd.Series([], dtype="int64"),
                  "department": pd.Series([], dtype="str")}).to_parquet(
        tmp_path / "report_delays.parquet")
    got = read_table(tmp_path, "report_delays", columns=["department", "delay_days"])
    assert list(got.columns) == ["department"] and got.empty
