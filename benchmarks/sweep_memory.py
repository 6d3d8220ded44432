"""Sweep memory: peak memory must not grow with the number of sweep points.

The same one-parameter sweep of a small scenario (benchmarks/pure_calls.yaml over 1 day,
50-200 calls, 1 replication a point) runs with few points and with many, each through
the ``secsim sweep`` command in a fresh serial process (so the whole footprint is in one
process: spec checking, streaming, the summary at the end). Results go to disk task by
task and the summary is computed point by point, so the peak should stay flat; what is
left is per-point bookkeeping (parameters, scenario digests: well under 1 KiB a point)
and one-off buffers of Arrow's reader, which the small sweep may not reach.

    python benchmarks/sweep_memory.py [--full]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, emit, mode_args, run_child  # noqa: E402


def make_spec(folder: Path, points: int) -> Path:
    """``points`` points: the call volume takes ``points`` distinct values."""
    spec = {
        "name": f"memory_{points}",
        "base": str(ROOT / "benchmarks" / "pure_calls.yaml"),
        "fixed": {"calendar.horizon_days": 1},
        "parameters": {"calls_per_day": {
            "path": "departments.line.streams.calls.arrivals.per_day",
            "values": [round(50 + 150 * i / max(1, points - 1), 3) for i in range(points)]}},
        "replications": 1,
        "seed": 1,
    }
    path = folder / f"spec_{points}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def child(spec: str, out: str) -> dict:
    """The whole ``secsim sweep --serial`` command in this process."""
    import contextlib
    import io
    import time

    from simulation.cli.main import main

    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["sweep", spec, "--serial", "-q", "--out", out])
    return {"exit_code": code, "wall_s": round(time.perf_counter() - t0, 2)}


def main(argv: list[str] | None = None) -> dict:
    args = mode_args(argv)
    if args.child is not None:
        emit(child(*args.child))
        return {}
    sizes = (100, 2000) if args.full else (100, 500)
    tmp = Path(tempfile.mkdtemp(prefix="secsim-bench-"))
    runs = {}
    try:
        for n in sizes:
            r = run_child("sweep_memory", str(make_spec(tmp, n)), str(tmp / f"out{n}"))
            if r["exit_code"] != 0:
                raise RuntimeError(f"sweep of {n} points failed")
            runs[n] = r
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    small, large = sizes
    growth = runs[large]["peak_rss_mb"] - runs[small]["peak_rss_mb"]
    per_1000 = growth / (large - small) * 1000
    print(f"sweep memory (serial, 1 replication a point, whole command): {small} points "
          f"peak {runs[small]['peak_rss_mb']} MiB ({runs[small]['wall_s']} s), {large} points "
          f"peak {runs[large]['peak_rss_mb']} MiB ({runs[large]['wall_s']} s): "
          f"{growth:+.1f} MiB for {large / small:.0f}x the points ({per_1000:+.1f} MiB per "
          "1000 points)")
    return {"points": list(sizes), "runs": {str(k): v for k, v in runs.items()},
            "growth_mb": round(growth, 1), "growth_mb_per_1000_points": round(per_1000, 1)}


if __name__ == "__main__":
    main()
