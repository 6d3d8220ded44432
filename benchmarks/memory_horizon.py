"""Horizon memory: peak memory of one replication must not grow with the horizon.

One replication of ``scenarios/baseline.yaml`` without event tables (as
``secsim run --no-events`` runs it: ``runs.runner.replicate(..., events=False)``) at
horizons of 28, 91 and 365 days, each in a fresh process (peak resident memory, Linux
``VmHWM``). The KPIs are accumulated day by day from the records the engine hands over
(``analysis.streaming``), so the ratio 365/28 days should stay close to 1; what still
grows is one float per answered call, walk-in and sent report (the quantiles) and the
arrival and per-caller draws the engine makes up front (docs/performance.md).

    python benchmarks/memory_horizon.py [--json FILE]   (--full changes nothing)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, emit, machine, mode_args, run_child  # noqa: E402

HORIZONS = (28, 91, 365)


def child(horizon: int) -> None:
    from simulation.runs.runner import replicate
    from simulation.scenario.composition import load_composed

    scenario = load_composed(ROOT / "scenarios" / "baseline.yaml",
                             [f"calendar.horizon_days={horizon}"])
    t0 = time.perf_counter()
    rep = replicate(scenario, seed=1, replication=0, events=False)
    seconds = time.perf_counter() - t0
    all_row = rep.kpis[rep.kpis.department == "ALL"].iloc[0]
    emit({"horizon_days": horizon, "seconds": round(seconds, 2),
          "calls_answered": float(all_row.calls_answered)})


def main(argv: list[str] | None = None) -> dict | None:
    args = mode_args(argv)
    if args.child is not None:
        child(int(args.child[0]))
        return None
    import json

    info = machine()
    results = []
    for h in HORIZONS:
        r = run_child("memory_horizon", str(h))
        results.append(r)
        print(f"horizon {h:4d} days: peak {r['peak_rss_mb']:7.1f} MiB, "
              f"{r['seconds']:6.1f} s, {r['calls_answered']:.0f} calls answered", flush=True)
    by = {r["horizon_days"]: r["peak_rss_mb"] for r in results}
    ratio = by[365] / by[28]
    print(f"peak memory ratio 365/28 days: {ratio:.2f}")
    out = {"machine": info, "results": results, "ratio_365_28": round(ratio, 3),
           "load_average_after": machine()["load_average_1min"]}
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
