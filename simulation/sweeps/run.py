"""Running a sweep: one task per (point, replication) on any executor, streamed to disk.

Replication k of every point uses the sweep's seed and k exactly as ``runner.replicate``
does, so points share common random numbers and a task's result does not depend on the
executor that ran it. Tasks are built lazily (one point's scenario at a time), so memory
does not grow with the number of points.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from simulation.analysis.stats import summarise
from simulation.runs.executors import Executor, ExecutorStopped
from simulation.runs.runner import replicate
from simulation.scenario.schema import Scenario
from simulation.sweeps.spec import SweepPlan
from simulation.sweeps.store import RESULTS, SweepStore, iter_points

HEADLINE_KPIS = ("pickup_rate", "interruptions_per_hour", "report_delay_mean_days",
                 "utilisation")


def run_task(scenario: Scenario, seed: int, replication: int) -> pd.DataFrame:
    """One replication of one point: its KPI rows (ALL and each department)."""
    return replicate(scenario, seed, replication, events=False).kpis


class SweepTasks:
    """The tasks still to do, point after point, built when the executor asks for them.

    Executors number tasks in the order they iterate; ``take(index)`` gives back the
    (point, replication) of a finished task.
    """

    def __init__(self, plan: SweepPlan, done: set[tuple[int, int]],
                 task: Callable[..., pd.DataFrame] = run_task):
        self.plan, self.done, self.task = plan, done, task
        self.replications = plan.spec.replications
        self.issued: dict[int, tuple[int, int]] = {}
        self.total = len(plan.points) * self.replications
        self.already = sum(1 for p, r in done if p < len(plan.points) and r < self.replications)

    def __len__(self) -> int:
        return self.total - self.already

    def __iter__(self) -> Iterator[tuple[Callable, tuple]]:
        index = 0
        seed = self.plan.spec.seed
        for point in self.plan.points:
            todo = [r for r in range(self.replications) if (point.index, r) not in self.done]
            if not todo:
                continue
            scenario = self.plan.scenario(point)
            for r in todo:
                self.issued[index] = (point.index, r)
                index += 1
                yield self.task, (scenario, seed, r)

    def take(self, index: int) -> tuple[int, int]:
        return self.issued.pop(index)


@dataclass
class SweepOutcome:
    """What a call to ``run_sweep`` did."""

    total: int  # tasks in the sweep (points x replications)
    skipped: int  # done by an earlier run (--resume)
    completed: int  # done by this run
    failed: int  # raised in this run
    interrupted: bool  # Ctrl-C, or the executor stopped (see ``stopped``)
    seconds: float
    stopped: str | None = None  # why the executor stopped (e.g. no Dask worker left)
    lost_workers: int = 0  # workers lost during this run
    rerun_tasks: int = 0  # tasks that ran again because their worker was lost
    previous: dict | None = None  # how the run this one resumed had ended


def run_sweep(plan: SweepPlan, out, executor: Executor, resume: bool = False,
              overwrite: bool = False, on_task: Callable[[int, int, bool], None] | None = None,
              meta: dict | None = None, task: Callable[..., pd.DataFrame] = run_task,
              on_start: Callable[[int, int], None] | None = None,
              notify: Callable[[str], None] | None = None) -> SweepOutcome:
    """Run every (point, replication) not yet done, writing each as it finishes.

    ``on_start(total, already_done)`` is called once the folder is ready and
    ``on_task(point, replication, ok)`` after each task is stored (progress display);
    ``notify(text)`` gets messages for the user (default: stderr). Ctrl-C, or an executor
    that cannot go on (no Dask worker left), stops the sweep cleanly: finished tasks are
    kept and ``interrupted`` is set. Workers lost on the way are recorded in the manifest.
    """
    t0 = time.perf_counter()
    store = SweepStore(out, plan, notify)
    done = store.open(resume=resume, overwrite=overwrite,
                      meta={"executor": executor.name, **(meta or {})})
    try:
        return _run(store, plan, executor, done, task, on_start, on_task, t0)
    finally:
        store.close()


def _run(store: SweepStore, plan: SweepPlan, executor: Executor, done: set[tuple[int, int]],
         task, on_start, on_task, t0: float) -> SweepOutcome:
    source = SweepTasks(plan, done, task)
    if on_start is not None:
        on_start(source.total, source.already)
    completed = failed = 0
    interrupted = False
    stopped: str | None = None
    lost: list[int] = []  # tasks re-run, per lost worker

    def on_incident(record: dict) -> None:
        # Tasks that run again are still issued (not finished): name them by point.
        rerun = [source.issued[i] for i in record["tasks"] if i in source.issued]
        lost.append(len(rerun))
        store.lost_worker(record["worker"], record["time"], record["expected"], rerun)

    watching = hasattr(executor, "on_incident")
    if watching:
        executor.on_incident = on_incident  # type: ignore[attr-defined]
    results = executor.run(source)  # type: ignore[arg-type]  # any iterable of tasks
    try:
        for index, result in results:
            point, rep = source.take(index)
            if isinstance(result, KeyboardInterrupt):
                raise KeyboardInterrupt
            if isinstance(result, BaseException):
                store.fail(point, rep, result)
                failed += 1
            else:
                store.write(point, rep, result)
                completed += 1
            if on_task is not None:
                on_task(point, rep, not isinstance(result, BaseException))
    except KeyboardInterrupt:
        interrupted, stopped = True, "Ctrl-C"
    except ExecutorStopped as exc:
        interrupted, stopped = True, str(exc)
    finally:
        try:
            results.close()  # cancels what is still queued or running
        except KeyboardInterrupt:
            interrupted, stopped = True, stopped or "Ctrl-C"
        if watching:
            executor.on_incident = None  # type: ignore[attr-defined]
    seconds = time.perf_counter() - t0
    status = "interrupted" if interrupted else ("failures" if store.failures else "complete")
    store.finish(status, tasks_completed_last_run=completed, seconds_last_run=round(seconds, 3),
                 **({"stop_reason": stopped} if stopped else {}))
    return SweepOutcome(source.total, source.already, completed, failed, interrupted, seconds,
                        None if stopped == "Ctrl-C" else stopped, len(lost), sum(lost),
                        store.previous)


# ----------------------------------------------------------------------------- summaries
def summarise_sweep(out, plan: SweepPlan, batch_rows: int = 5_000) -> Path:
    """Mean and 95% CI per point and KPI (long table) into summary.parquet and .csv.

    Points are read one at a time and rows are written in batches, so memory does not
    grow with the number of points. Returns the Parquet file's path.
    """
    params = list(plan.spec.parameters)
    columns = ["point", *params, "kpi", "mean", "ci_low", "ci_high", "n"]
    target, csv = Path(out) / "summary.parquet", Path(out) / "summary.csv"
    tmp, tmp_csv = target.with_name(".summary.parquet.tmp"), csv.with_name(".summary.csv.tmp")
    writer: pq.ParquetWriter | None = None
    rows: list[tuple] = []
    tmp_csv.unlink(missing_ok=True)

    def flush() -> None:
        nonlocal writer
        df = pd.DataFrame(rows, columns=columns)
        table = pa.Table.from_pandas(df, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(tmp, table.schema)
        writer.write_table(table.cast(writer.schema))
        df.to_csv(tmp_csv, index=False, header=not tmp_csv.exists(),
                  mode="a")
        rows.clear()

    for _, data in iter_points(out, RESULTS):
        head = tuple(data[c].iloc[0] for c in ["point", *params])
        summary = summarise(data.drop(columns=params), ["point"])
        rows.extend((*head, *r[1:]) for r in summary.itertuples(index=False, name=None))
        if len(rows) >= batch_rows:
            flush()
    if rows or writer is None:
        flush()
    writer.close()
    os.replace(tmp, target)
    os.replace(tmp_csv, csv)
    return target


_UNITS = {"pickup_rate": "%", "utilisation": "%", "interruptions_per_hour": "/h",
          "report_delay_mean_days": "d"}


def _cell(mean: float, low: float, high: float, unit: str) -> str:
    if pd.isna(mean):
        return "-"
    k = 100.0 if unit == "%" else 1.0
    half = "" if pd.isna(low) else f" ±{k * (high - low) / 2:.1f}"
    return f"{k * mean:.1f}{half}"


def headline_table(out, plan: SweepPlan, kpis: tuple[str, ...] = HEADLINE_KPIS,
                   max_rows: int = 40) -> str:
    """Text table: one line per point with mean ±95% CI half-width of headline KPIs."""
    params = list(plan.spec.parameters)
    points: set[int] = set()
    kept = []
    for batch in pq.ParquetFile(Path(out) / "summary.parquet").iter_batches(batch_size=5000):
        df = batch.to_pandas()  # rows come point by point, in point order
        points.update(int(p) for p in df.point.unique())
        df = df[df.kpi.isin(kpis)]
        kept.append(df[df.point.isin(sorted(points)[:max_rows])])
    summary = pd.concat(kept, ignore_index=True) if kept else pd.DataFrame()
    if summary.empty:
        return "no results yet"
    points = sorted(points)
    kpis = tuple(k for k in kpis if k in set(summary.kpi))
    header = ["point", *params, "n", *[f"{k} ({_UNITS.get(k, '')})" for k in kpis]]
    rows = []
    for point in points[:max_rows]:
        by_kpi = summary[summary.point == point].set_index("kpi")
        cells = [str(point), *[_short(by_kpi[p].iloc[0]) for p in params],
                 str(int(by_kpi["n"].max()))]
        for k in kpis:
            r = by_kpi.loc[k]
            cells.append(_cell(r["mean"], r["ci_low"], r["ci_high"], _UNITS.get(k, "")))
        rows.append(cells)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda cells: "  ".join(c.rjust(w) for c, w in zip(cells, widths))  # noqa: E731
    text = [line(header), line(["-" * w for w in widths]), *map(line, rows)]
    if len(points) > max_rows:
        text.append(f"... {len(points) - max_rows} more points: see {out}/summary.csv")
    return "\n".join(text)


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
