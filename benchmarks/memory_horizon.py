"""Horizon memory: peak memory of one replication must not grow with the horizon.

One replication of ``scenarios/baseline.yaml`` without event tables (as
``secsim run --no-events`` runs it: ``runs.runner.replicate(..., events=False)``) at
horizons of 28, 91 and 365 days, each in a fresh process (peak resident memory, Linux
``VmHWM``). The KPIs are accumulated day by day from the records the engine hands over
(``analysis.streaming``), so the ratio 365/28 days should stay close to 1; what still
grows is one float per answered call, walk-in and sent report (the quantiles) and the
arrival and per-caller draws the engine makes up front (docs/performance.md).

With ``--events``: the same replication *with* its event tables, written to an output
folder as ``secsim run --workers 1`` does (``simulation.run(..., out=..., events=True)``
on the serial executor, so the worker and the writer are one process), at 28 and 365 days.
The event tables are streamed to Parquet row groups as the run goes
(``runs.eventlog``), so this ratio should also stay close to 1.

    python benchmarks/memory_horizon.py [--events] [--json FILE]   (--full changes nothing)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, emit, machine, mode_args, run_child  # noqa: E402

HORIZONS = (28, 91, 365)
EVENT_HORIZONS = (28, 365)


def child(horizon: int, events: bool = False) -> None:
    from simulation.scenario.composition import load_composed

    scenario = load_composed(ROOT / "scenarios" / "baseline.yaml",
                             [f"calendar.horizon_days={horizon}"])
    if events:
        child_events(scenario, horizon)
        return
    from simulation.runs.runner import replicate

    t0 = time.perf_counter()
    rep = replicate(scenario, seed=1, replication=0, events=False)
    seconds = time.perf_counter() - t0
    all_row = rep.kpis[rep.kpis.department == "ALL"].iloc[0]
    emit({"horizon_days": horizon, "seconds": round(seconds, 2),
          "calls_answered": float(all_row.calls_answered)})


def child_events(scenario, horizon: int) -> None:
    """One replication with events, written to a temporary output folder."""
    import simulation
    from simulation.runs.executors import SerialExecutor

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        t0 = time.perf_counter()
        result = simulation.run(scenario, replications=1, seed=1, executor=SerialExecutor(),
                                out=out, events=True)
        seconds = time.perf_counter() - t0
        all_row = result.kpis[result.kpis.department == "ALL"].iloc[0]
        written = sum(p.stat().st_size for p in out.rglob("*.parquet") if p.is_file())
        emit({"horizon_days": horizon, "events": True, "seconds": round(seconds, 2),
              "calls_answered": float(all_row.calls_answered),
              "written_mb": round(written / 2**20, 1)})


def main(argv: list[str] | None = None) -> dict | None:
    argv = list(sys.argv[1:] if argv is None else argv)
    events = "--events" in argv
    argv = [a for a in argv if a != "--events"]
    args = mode_args(argv)
    if args.child is not None:
        child(int(args.child[0]), events=events)
        return None
    import json

    info = machine()
    results = []
    extra = ("--events",) if events else ()
    for h in EVENT_HORIZONS if events else HORIZONS:
        r = run_child("memory_horizon", str(h), *extra)
        results.append(r)
        written = f", {r['written_mb']:.1f} MiB written" if events else ""
        print(f"horizon {h:4d} days{' (events)' if events else ''}: peak "
              f"{r['peak_rss_mb']:7.1f} MiB, {r['seconds']:6.1f} s, "
              f"{r['calls_answered']:.0f} calls answered{written}", flush=True)
    by = {r["horizon_days"]: r["peak_rss_mb"] for r in results}
    ratio = by[365] / by[28]
    print(f"peak memory ratio 365/28 days{' with events' if events else ''}: {ratio:.2f}")
    out = {"machine": info, "events": events, "results": results,
           "ratio_365_28": round(ratio, 3), "load_average_after": machine()["load_average_1min"]}
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
