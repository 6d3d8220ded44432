"""A sweep's output folder: Parquet datasets written task by task, manifest, failures.

Layout of ``out/``::

    sweep.json              manifest: spec, seed, replications, point digests, status,
                            lost Dask workers and the tasks they made run again
    sweep.lock              while a run writes the folder: its pid, host, start, command
    spec.yaml               the spec as given
    points.parquet          one row per point: parameters and scenario digest
    results/point-NNNNN/rep-RRRR.parquet      ALL-department KPI row of one task
    departments/point-NNNNN/rep-RRRR.parquet  per-department KPI rows of the same task
    failures.json           tasks that raised, with the error (retried by --resume)
    summary.csv, summary.parquet              mean and 95% CI per point and KPI

Each task's files are written to a hidden temporary name and renamed, the results file
last, so a crash never leaves a half-written file and a task counts as done exactly when
its results file exists.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from simulation.analysis.kpis import ALL
from simulation.runs.files import atomic_table, atomic_text, read_dataset
from simulation.sweeps.lock import LockError, SweepLock, held_by_live_run, read_lock
from simulation.sweeps.spec import SweepPlan, cast_value
from simulation.version import __version__

MANIFEST, POINTS, FAILURES = "sweep.json", "points.parquet", "failures.json"
RESULTS, DEPARTMENTS = "results", "departments"


class StoreError(Exception):
    """The output folder cannot take this sweep (exists, or holds a different sweep)."""


def task_path(out: Path, table: str, point: int, replication: int) -> Path:
    return out / table / f"point-{point:05d}" / f"rep-{replication:04d}.parquet"


def is_sweep(out: str | Path) -> bool:
    """Whether a folder holds a sweep (as opposed to a single run)."""
    return (Path(out) / MANIFEST).is_file()


def _to_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def previous_run(old: dict[str, Any]) -> dict[str, Any]:
    """How the run before this one ended; a manifest left at 'running' reads 'interrupted'."""
    info = {k: old.get(k) for k in ("status", "started", "finished", "executor")}
    if info["status"] == "running":
        info.update(status="interrupted", note="left at 'running': the process was killed or "
                    "crashed before it could close the sweep")
    return info


class SweepStore:
    """Writes one sweep's tasks, failures and manifest into ``out``, holding its lock.

    ``notify(text)`` gets what the user should know (a stale lock taken over, a previous
    run that was killed); by default it is printed on stderr.
    """

    def __init__(self, out: str | Path, plan: SweepPlan,
                 notify: Callable[[str], None] | None = None):
        self.out = Path(out)
        self.plan = plan
        self.kinds = plan.param_columns()
        self.failures: dict[tuple[int, int], dict[str, Any]] = {}
        self.manifest: dict[str, Any] = {}
        self.notify = notify or _to_stderr
        self.lock = SweepLock(self.out, self.notify)
        self.previous: dict[str, Any] | None = None  # the run this one resumes

    # ------------------------------------------------------------------ opening
    def open(self, resume: bool = False, overwrite: bool = False,
             meta: dict[str, Any] | None = None) -> set[tuple[int, int]]:
        """Lock and prepare the folder; return the (point, replication) pairs already done."""
        try:
            self.lock.acquire()
        except LockError as exc:
            raise StoreError(str(exc)) from None
        try:
            return self._open(resume, overwrite, meta)
        except BaseException:
            self.lock.release()
            raise

    def close(self) -> None:
        """Release the folder's lock (the manifest stays as last written)."""
        self.lock.release()

    def _open(self, resume: bool, overwrite: bool,
              meta: dict[str, Any] | None) -> set[tuple[int, int]]:
        spec = self.plan.spec
        if is_sweep(self.out) and not resume and not overwrite:
            last = previous_run(read_manifest(self.out))["status"]
            raise StoreError(f"{self.out} already holds a sweep (last run: {last}); add "
                             "--resume to continue it, --overwrite to start again (its results "
                             "are deleted), or choose another --out")
        if not is_sweep(self.out) and (self.out / RESULTS).exists() and not overwrite:
            raise StoreError(f"{self.out}/{RESULTS} exists but {MANIFEST} is missing; use "
                             "another --out or --overwrite")
        if overwrite:
            for name in (RESULTS, DEPARTMENTS, MANIFEST, POINTS, FAILURES, "spec.yaml",
                         "summary.csv", "summary.parquet"):
                target = self.out / name
                if target.is_dir():
                    shutil.rmtree(target)
                elif target.exists():
                    target.unlink()
        done: set[tuple[int, int]] = set()
        old: dict[str, Any] = {}
        if resume and is_sweep(self.out):
            old = json.loads((self.out / MANIFEST).read_text(encoding="utf-8"))
            self._check_same(old)
            done = self.scan()
            self.failures = {(f["point"], f["replication"]): f for f in self._old_failures()}
            self.previous = previous_run(old)
            if old.get("status") == "running":
                self.notify(f"{self.out}: the previous run (started {old.get('started')}, "
                            f"{old.get('executor')}) did not close the sweep (killed or "
                            "crashed); read as interrupted, its finished tasks are kept")
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / RESULTS).mkdir(exist_ok=True)
        (self.out / DEPARTMENTS).mkdir(exist_ok=True)
        if Path(self.plan.source).resolve() != (self.out / "spec.yaml").resolve():
            shutil.copyfile(self.plan.source, self.out / "spec.yaml")
        atomic_table(points_table(self.plan), self.out / POINTS)
        self.manifest = {
            "kind": "secsim-sweep", "secsim_version": __version__,
            "python": platform.python_version(), "name": spec.name,
            "spec_file": self.plan.source, "base": str(self.plan.base_path),
            "design": spec.design, "parameters": list(spec.parameters),
            "parameter_types": self.kinds, "points": len(self.plan.points),
            "replications": spec.replications, "seed": spec.seed,
            "point_hashes": self.plan.hashes, "spec": spec.model_dump(mode="json"),
            "status": "running", "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "lost_workers": old.get("lost_workers", []),
            "rerun_tasks": old.get("rerun_tasks", 0),
            **({"previous_run": self.previous} if self.previous else {}),
            **(meta or {}),
        }
        self._write_manifest()
        return done

    def _check_same(self, old: dict[str, Any]) -> None:
        spec = self.plan.spec
        if old.get("seed") != spec.seed:
            raise StoreError(f"this sweep was started with seed {old.get('seed')}, not "
                             f"{spec.seed}; resume with the same seed or use another --out")
        if old.get("replications", 0) > spec.replications:
            raise StoreError(f"this sweep was started with {old['replications']} replications; "
                             "--resume may add replications, not remove them")
        if old.get("parameters") != list(spec.parameters):
            raise StoreError(f"the spec's parameters changed ({old.get('parameters')} -> "
                             f"{list(spec.parameters)}); use another --out for a new sweep")
        hashes = old.get("point_hashes", [])
        if len(hashes) != len(self.plan.hashes):
            raise StoreError(f"the spec now makes {len(self.plan.hashes)} points, the sweep in "
                             f"{self.out} has {len(hashes)}; use another --out for a new sweep")
        for point, a, b in zip(self.plan.points, hashes, self.plan.hashes):
            if a != b:
                raise StoreError(f"point {point.index} ({point.describe()}) is not the same "
                                 "scenario as when the sweep started (the spec or the base "
                                 "scenario changed); use another --out for a new sweep")

    def scan(self) -> set[tuple[int, int]]:
        """Tasks with a results file; leftover temporary files are removed."""
        done: set[tuple[int, int]] = set()
        for table in (RESULTS, DEPARTMENTS):
            root = self.out / table
            if not root.is_dir():
                continue
            for folder in os.scandir(root):
                if not (folder.is_dir() and folder.name.startswith("point-")):
                    continue
                for f in os.scandir(folder.path):
                    if f.name.startswith("."):
                        os.unlink(f.path)
                    elif table == RESULTS and f.name.startswith("rep-") \
                            and f.name.endswith(".parquet"):
                        done.add((int(folder.name[6:]), int(f.name[4:-8])))
        return done

    def _old_failures(self) -> list[dict[str, Any]]:
        path = self.out / FAILURES
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []

    # ------------------------------------------------------------------ tasks
    def write(self, point: int, replication: int, kpis: pd.DataFrame) -> None:
        """Store one task's KPI rows: ALL in results/, departments in departments/."""
        params = self.plan.points[point].params
        df = kpis.copy()
        for col in df.columns:
            if col not in ("replication", "department"):
                df[col] = df[col].astype(np.float64)
        df["replication"] = np.int64(replication)
        front = pd.DataFrame({"point": np.full(len(df), point, dtype=np.int64)})
        for name, value in params.items():
            front[name] = cast_value(value, self.kinds[name])
        df = pd.concat([front, df.reset_index(drop=True)], axis=1)
        is_all = df["department"] == ALL
        atomic_table(df[~is_all].reset_index(drop=True),
                      task_path(self.out, DEPARTMENTS, point, replication))
        atomic_table(df[is_all].drop(columns="department").reset_index(drop=True),
                      task_path(self.out, RESULTS, point, replication))
        if self.failures.pop((point, replication), None) is not None:
            self._write_failures()

    def fail(self, point: int, replication: int, error: BaseException | str) -> None:
        """Record a task that raised; the sweep goes on and --resume retries it."""
        text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        trace = "" if isinstance(error, str) else "".join(
            traceback.format_exception(type(error), error, error.__traceback__))
        self.failures[(point, replication)] = {
            "point": point, "replication": replication,
            "parameters": self.plan.points[point].params, "error": text,
            "traceback": trace[-4000:], "when": time.strftime("%Y-%m-%dT%H:%M:%S")}
        self._write_failures()

    def _write_failures(self) -> None:
        rows = [self.failures[k] for k in sorted(self.failures)]
        atomic_text(self.out / FAILURES, json.dumps(rows, indent=2, default=str))

    def lost_worker(self, worker: str, when: str, expected: bool,
                    rerun: list[tuple[int, int]]) -> None:
        """Record a worker lost while it held tasks, and the tasks that run again."""
        self.manifest["lost_workers"].append({
            "worker": worker, "time": when, "expected": expected,
            "rerun": [list(t) for t in rerun]})
        self.manifest["rerun_tasks"] += len(rerun)
        self._write_manifest()

    def finish(self, status: str, **info: Any) -> None:
        """Mark the manifest complete / interrupted, with counts."""
        self.manifest.update(status=status, finished=time.strftime("%Y-%m-%dT%H:%M:%S"),
                             failures=len(self.failures), **info)
        self._write_manifest()

    def _write_manifest(self) -> None:
        atomic_text(self.out / MANIFEST, json.dumps(self.manifest, indent=2, default=str))


def points_table(plan: SweepPlan) -> pd.DataFrame:
    """One row per point: number, parameter values and scenario digest."""
    kinds = plan.param_columns()
    rows = [{"point": p.index, **{k: cast_value(v, kinds[k]) for k, v in p.params.items()},
             "scenario_hash": h} for p, h in zip(plan.points, plan.hashes)]
    df = pd.DataFrame(rows)
    df["point"] = df["point"].astype(np.int64)
    return df


# ----------------------------------------------------------------------------- reading
def read_manifest(out: str | Path) -> dict[str, Any]:
    return json.loads((Path(out) / MANIFEST).read_text(encoding="utf-8"))


def sweep_status(out: str | Path) -> str:
    """The manifest's status; 'interrupted' when it says 'running' but no live run holds
    the folder's lock (the process was killed)."""
    status = read_manifest(out).get("status", "?")
    if status == "running" and not held_by_live_run(read_lock(out)):
        return "interrupted"
    return status


def read_table(out: str | Path, table: str = RESULTS,
               columns: list[str] | None = None) -> pd.DataFrame:
    """A sweep dataset as one DataFrame sorted by point and replication (schemas unified)."""
    root = Path(out) / table
    files = sorted(str(p) for p in root.glob("point-*/rep-*.parquet"))
    if not files:
        return pd.DataFrame()
    df = read_dataset(files, columns)
    keys = [k for k in ("point", "replication", "department") if k in df.columns]
    return df.sort_values(keys, kind="stable").reset_index(drop=True)


def iter_points(out: str | Path, table: str = RESULTS,
                columns: list[str] | None = None) -> Iterator[tuple[int, pd.DataFrame]]:
    """(point, its rows) one point at a time: memory stays flat however many points."""
    root = Path(out) / table
    folders = sorted(root.glob("point-*")) if root.is_dir() else []
    for folder in folders:
        files = sorted(folder.glob("rep-*.parquet"))
        if not files:
            continue
        frames = []
        for f in files:
            names = None if columns is None else [
                c for c in columns if c in pq.read_schema(f).names]
            frames.append(pq.read_table(f, columns=names, use_threads=False).to_pandas())
        yield int(folder.name[6:]), pd.concat(frames, ignore_index=True)


def read_failures(out: str | Path) -> list[dict[str, Any]]:
    path = Path(out) / FAILURES
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
