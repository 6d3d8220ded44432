"""Replications of a scenario: seeding, executors, KPI tables and confidence intervals.

Replication k of any scenario run with seed s uses the random streams (s, k, names...),
so scenarios sharing streams see the same arrivals (common random numbers) and the same
(s, k) always gives the same output, whatever executor ran it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from simulation.analysis import kpis
from simulation.analysis.stats import summarise
from simulation.analysis.streaming import COLUMNS as KPI_COLUMNS
from simulation.analysis.streaming import KpiAccumulator
from simulation.engine.model import FLUSH_ROWS, simulate, with_follow_up
from simulation.engine.records import SCHEMAS
from simulation.engine.staff import open_day_mask
from simulation.runs.eventlog import EventLog, EventOutput, EventWriter
from simulation.runs.executors import Executor, ExecutorStopped, SerialExecutor
from simulation.scenario.calendar import MINUTES_PER_DAY
from simulation.scenario.consistency import demanded_work
from simulation.scenario.schema import AUDIT_CATEGORIES, DictationStream, Scenario


@dataclass
class Replication:
    """Everything one replication produced."""

    replication: int
    kpis: pd.DataFrame
    staff: pd.DataFrame
    hourly: pd.DataFrame
    report_delays: pd.DataFrame
    events: EventLog | None  # reads as {table name: DataFrame}; encoded Parquet inside
    seconds: float


@dataclass
class RunResult:
    """KPIs of all replications of one scenario, with their confidence intervals."""

    scenario: Scenario
    seed: int
    kpis: pd.DataFrame  # one row per replication and department (incl. ALL)
    staff: pd.DataFrame  # one row per replication and secretary / team / ALL
    hourly: pd.DataFrame  # offered and answered calls per replication, department, hour
    report_delays: pd.DataFrame  # delay in days of every report sent (for distributions)
    summary: pd.DataFrame  # mean and CI per department and KPI
    events: dict[str, pd.DataFrame] = field(default_factory=dict)
    failures: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0  # wall time of the whole call (all scenarios of a comparison)
    interrupted: bool = False  # Ctrl-C, or the executor stopped (see ``stopped``)
    replication_seconds: float = 0.0  # time spent in this scenario's replications
    stopped: str | None = None  # why the executor could not go on (e.g. no Dask worker)

    def kpi(self, name: str, department: str = kpis.ALL) -> pd.Series:
        """One KPI's summary row (mean, ci_low, ci_high, n)."""
        s = self.summary
        row = s[(s.department == department) & (s.kpi == name)]
        if row.empty:
            raise KeyError(f"no KPI '{name}' for department '{department}'")
        return row.iloc[0]


def categories_of(scenario: Scenario) -> list[str]:
    """Audit categories to report: the standard ones plus any the scenario uses."""
    used = {c for *_, c in demanded_work(scenario)}
    return list(AUDIT_CATEGORIES) + sorted(used - set(AUDIT_CATEGORIES))


def report_targets(scenario: Scenario) -> list[int]:
    """The report targets (days) the dictation streams declare, e.g. [0, 7] for J0 and J7."""
    return sorted({s.target_days for d in scenario.departments.values()
                   for s in d.streams.values() if isinstance(s, DictationStream)})


def replicate(scenario: Scenario, seed: int, replication: int,
              events: bool | EventOutput = True, flush_rows: int = FLUSH_ROWS,
              batch_rows: int | None = None) -> Replication:
    """Run one replication and compute its KPI tables.

    The KPIs are accumulated from the records the engine hands over during the run
    (``analysis.streaming``), so memory does not grow with the horizon. With ``events``
    the same chunks are streamed to Parquet row groups as they arrive (``runs.eventlog``):
    in memory as compressed bytes (``True``), or into hidden temporary files of an output
    folder (an ``EventOutput`` with a folder), which the parent renames into place. Either
    way ``Replication.events`` reads like the event tables ``engine.records.assemble``
    gives, and the KPIs are the same with or without events. A replication that fails
    deletes what it wrote. ``flush_rows``: records the engine holds before handing the
    final ones over; ``batch_rows``: rows the accumulator buffers before reducing them
    (default: by the number of departments; small values test the chunking).
    """
    t0 = time.perf_counter()
    cal = scenario.calendar
    warmup = cal.warmup_days * MINUTES_PER_DAY
    horizon = cal.horizon_days * MINUTES_PER_DAY
    # Unsent reports of the window remain only when the run went on to the follow-up cap.
    run_calendar = with_follow_up(scenario).calendar
    end = run_calendar.horizon_days * MINUTES_PER_DAY
    cats = categories_of(scenario)
    acc = KpiAccumulator(warmup, horizon, scenario.kpis.service_level_seconds / 60,
                         open_day_mask(with_follow_up(scenario)), cats,
                         list(scenario.departments), report_targets(scenario), end, SCHEMAS,
                         batch_rows)
    writer = None
    if events:
        output = events if isinstance(events, EventOutput) else None
        writer = EventWriter(replication, cal.start_weekday, output)

    def sink(name: str, rows: pd.DataFrame) -> None:
        acc.add(name, rows)
        if writer is not None:
            writer.add(name, rows)

    try:
        # Without events, only what the KPIs read is built (analysis.streaming.COLUMNS).
        simulate(scenario, seed, replication, sink=sink, flush_rows=flush_rows,
                 columns=None if writer is not None else KPI_COLUMNS)
        log = writer.close() if writer is not None else None
    except BaseException:
        if writer is not None:
            writer.abort()  # no half-written event file is left behind
        raise
    try:
        dept_rows, staff, hourly, delays = acc.result()
    except BaseException:
        if log is not None:
            log.discard()  # its temporary files would outlive the failed replication
        raise
    for df in (dept_rows, staff, hourly, delays):
        df.insert(0, "replication", replication)
    return Replication(replication, dept_rows, staff, hourly, delays, log,
                       time.perf_counter() - t0)


def run(
    scenario: Scenario,
    replications: int = 20,
    seed: int = 1,
    executor: Executor | None = None,
    events: bool = True,
    on_replication: Callable[[Replication], None] | None = None,
    first_replication: int = 0,
    todo: Sequence[int] | None = None,
    on_finished: Callable[[Replication], None] | None = None,
    event_output: EventOutput | None = None,
) -> RunResult:
    """Run ``replications`` replications and summarise them.

    ``on_finished`` is called with each replication as soon as it finishes (in any order),
    e.g. to write it to disk; ``on_replication`` in replication order (as soon as all
    earlier ones are done). When either is given, event tables are passed to it and not
    kept in the result. ``todo``: the replication numbers to run, when not all of them
    (resuming). ``event_output``: where the replications stream their event tables
    (default: in memory). A replication that fails is reported in ``failures`` and the
    others count.
    """
    ordered = None if on_replication is None else (lambda _j, rep: on_replication(rep))
    finished = None if on_finished is None else (lambda _j, rep: on_finished(rep))
    return run_many([scenario], replications, seed, executor, events, ordered,
                    first_replication, None if todo is None else [todo], finished,
                    None if event_output is None else [event_output])[0]


def run_many(
    scenarios: list[Scenario],
    replications: int = 20,
    seed: int = 1,
    executor: Executor | None = None,
    events: bool = True,
    on_replication: Callable[[int, Replication], None] | None = None,
    first_replication: int = 0,
    todo: Sequence[Sequence[int]] | None = None,
    on_finished: Callable[[int, Replication], None] | None = None,
    event_outputs: Sequence[EventOutput | None] | None = None,
) -> list[RunResult]:
    """Run several scenarios on one executor with common random numbers.

    Replication k of every scenario uses (seed, k): differences between scenarios are
    paired. Tasks are interleaved (replication 0 of every scenario first), so a run
    stopped early still covers every scenario. ``on_finished(scenario_index, rep)`` is
    called as each replication finishes, ``on_replication(scenario_index, rep)`` in
    replication order per scenario; ``todo[j]``: the replications of scenario j to run
    (default: all); ``event_outputs[j]``: where scenario j's replications stream their
    event tables (default: in memory). A replication's event tables that are neither
    written by ``on_finished`` nor kept are discarded (their temporary files deleted).
    """
    if replications < 1:
        raise ValueError("replications must be at least 1")
    executor = executor or SerialExecutor()
    t0 = time.perf_counter()
    reps = list(range(first_replication, first_replication + replications))
    wanted = [sorted(set(t)) for t in todo] if todo is not None else [reps] * len(scenarios)
    order = [(j, r) for r in sorted({r for w in wanted for r in w})
             for j in range(len(scenarios)) if r in set(wanted[j])]
    outputs = list(event_outputs) if event_outputs is not None else [None] * len(scenarios)
    tasks = [(replicate, (scenarios[j], seed, r, (outputs[j] or True) if events else False))
             for j, r in order]
    done: list[dict[int, Replication]] = [{} for _ in scenarios]
    failures: list[list[tuple[int, str]]] = [[] for _ in scenarios]
    buffered: list[dict[int, Replication | None]] = [{} for _ in scenarios]
    position = [0] * len(scenarios)  # next index in wanted[j] to hand to on_replication
    kept_events: list[list[EventLog]] = [[] for _ in scenarios]
    interrupted = False
    stopped: str | None = None
    results = executor.run(tasks)
    try:
        for i, result in results:
            j, r = order[i]
            if isinstance(result, BaseException):
                failures[j].append((r, f"{type(result).__name__}: {result}"))
                buffered[j][r] = None
            else:
                if on_finished is not None:
                    try:
                        on_finished(j, result)
                    finally:
                        _drop_events(result)  # written (or failed to be): not kept
                buffered[j][r] = done[j][r] = result
            while position[j] < len(wanted[j]) and wanted[j][position[j]] in buffered[j]:
                rep = buffered[j].pop(wanted[j][position[j]])
                position[j] += 1
                if rep is None:
                    continue
                if on_replication is not None:
                    on_replication(j, rep)
                    _drop_events(rep)
                elif rep.events is not None:
                    kept_events[j].append(rep.events)
    except KeyboardInterrupt:
        # Ctrl-C: keep and return what was completed rather than losing it.
        interrupted = True
    except ExecutorStopped as exc:  # e.g. no Dask worker left: the same, with the reason
        interrupted, stopped = True, str(exc)
    finally:
        try:
            close = getattr(results, "close", None)
            if close is not None:
                close()  # stops the workers of tasks still queued or running
        except KeyboardInterrupt:
            interrupted = True
    for j, left in enumerate(buffered):  # stopped early: finished after a missing one
        kept_events[j] += [left[r].events for r in sorted(left)
                           if left[r] is not None and left[r].events is not None
                           and on_replication is None]
    seconds = time.perf_counter() - t0
    out = []
    for j, scenario in enumerate(scenarios):
        result = _assemble(scenario, seed, done[j], kept_events[j], failures[j], seconds)
        result.interrupted, result.stopped = interrupted, stopped
        out.append(result)
    return out


def _drop_events(rep: Replication) -> None:
    """Forget a replication's event tables, deleting temporary files not saved."""
    if isinstance(rep.events, EventLog):
        rep.events.discard()
    rep.events = None


def _assemble(scenario, seed, done, kept_events, failures, seconds) -> RunResult:
    ordered = [done[k] for k in sorted(done)]
    cat = lambda frames: pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()  # noqa: E731
    kpi_table = cat([r.kpis for r in ordered])
    staff = cat([r.staff for r in ordered])
    hourly = cat([r.hourly for r in ordered])
    delays = cat([r.report_delays for r in ordered])
    summary = (summarise(kpi_table, ["department"]) if not kpi_table.empty
               else pd.DataFrame(columns=["department", "kpi", "mean", "ci_low", "ci_high", "n"]))
    events = {}
    if kept_events:
        events = {name: pd.concat([e[name] for e in kept_events], ignore_index=True)
                  for name in kept_events[0]}
    result = RunResult(scenario, seed, kpi_table, staff, hourly, delays, summary, events,
                       failures, seconds)
    result.replication_seconds = sum(r.seconds for r in ordered)
    return result
