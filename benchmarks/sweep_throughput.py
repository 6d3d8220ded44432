"""Sweep throughput: replications per second serial vs local processes vs local Dask.

The same spec (sweeps/pool_size_vs_online_booking.yaml, on a shorter horizon) runs once
per executor, each in a fresh process; the serial run is the baseline measured in the same
run. Parallel efficiency = (throughput / serial throughput) / workers. "overall" counts
from the call to the end (pool or cluster start-up included); "steady" counts from the
first finished task. The three datasets must be identical (checked).

    python benchmarks/sweep_throughput.py [--full]
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, emit, mode_args, run_child  # noqa: E402

SPEC = ROOT / "sweeps" / "pool_size_vs_online_booking.yaml"


def make_spec(folder: Path, horizon: int, replications: int) -> Path:
    """The example spec on a shorter horizon, with its base as an absolute path."""
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    spec["base"] = str((SPEC.parent / spec["base"]).resolve())
    spec["fixed"]["calendar.horizon_days"] = horizon
    spec["replications"] = replications
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def child(spec: str, out: str, kind: str, workers: str) -> dict:
    """Run the sweep on one executor and time it."""
    from simulation.runs.factory import make_executor
    from simulation.sweeps.run import run_sweep
    from simulation.sweeps.spec import load_spec

    plan = load_spec(spec)
    n = int(workers)
    executor = make_executor(kind, n) if kind != "dask" else make_executor("dask", workers=n)
    first: list[float] = []
    t0 = time.perf_counter()
    outcome = run_sweep(plan, out, executor,
                        on_task=lambda *_: first.append(time.perf_counter()) if not first else None)
    wall = time.perf_counter() - t0
    tasks = outcome.completed
    steady = (tasks - 1) / (time.perf_counter() - first[0]) if tasks > 1 else float("nan")
    return {"executor": kind, "workers": n, "tasks": tasks, "failed": outcome.failed,
            "wall_s": round(wall, 2), "reps_per_s": round(tasks / wall, 3),
            "steady_reps_per_s": round(steady, 3),
            "first_result_s": round(first[0] - t0, 2) if first else None}


def main(argv: list[str] | None = None) -> dict:
    args = mode_args(argv)
    if args.child is not None:
        emit(child(*args.child))
        return {}
    horizon, reps = (35, 4) if args.full else (21, 2)
    workers = str(os.cpu_count() or 1)
    tmp = Path(tempfile.mkdtemp(prefix="secsim-bench-"))
    try:
        spec = make_spec(tmp, horizon, reps)
        runs = {}
        for kind, n in (("serial", "1"), ("processes", workers), ("dask", workers)):
            runs[kind] = run_child("sweep_throughput", str(spec), str(tmp / kind), kind, n)
        _check_identical(tmp, list(runs))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    base = runs["serial"]["reps_per_s"]
    base_steady = runs["serial"]["steady_reps_per_s"]
    print(f"sweep throughput: 16 points x {reps} replications of the baseline over {horizon} "
          f"days ({runs['serial']['tasks']} tasks); identical datasets on all executors")
    for kind, r in runs.items():
        r["speedup"] = round(r["reps_per_s"] / base, 2)
        r["efficiency"] = round(r["speedup"] / r["workers"], 2)
        r["steady_efficiency"] = round(r["steady_reps_per_s"] / base_steady / r["workers"], 2)
        print(f"  {kind:9} x{r['workers']}: {r['reps_per_s']:.2f} reps/s overall "
              f"({r['wall_s']} s, first result after {r['first_result_s']} s), "
              f"{r['steady_reps_per_s']:.2f} steady; speedup {r['speedup']}, efficiency "
              f"{r['efficiency']} overall / {r['steady_efficiency']} steady")
    return {"horizon_days": horizon, "replications": reps, "runs": runs}


def _check_identical(tmp: Path, kinds: list[str]) -> None:
    import pandas as pd

    from simulation.sweeps.store import read_table

    ref = read_table(tmp / kinds[0])
    for kind in kinds[1:]:
        pd.testing.assert_frame_equal(read_table(tmp / kind), ref)


if __name__ == "__main__":
    main()
