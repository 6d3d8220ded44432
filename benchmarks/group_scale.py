"""A hospital group: wall time against the number of secretariats, and memory against the
horizon (issue 13's scaling figures).

    python benchmarks/group_scale.py            # quick: 10/20/40 secretariats x 14 days; memory 14/28 days
    python benchmarks/group_scale.py --full     # 10/20/40/80 x 28 days; memory at 28/91/365 days; the year

Each figure is one replication of the generated group (``secsim generate group``: sizes
from the HUPSSD distribution, ~1.85 FTE per secretariat) in a fresh process, KPIs only
(no event tables). The scaling curve reports seconds per FTE-day actually simulated, which
is flat when the engine scales linearly: groups of different sizes have different FTE per
secretariat, and the run goes on past the horizon until the window's reports and tasks are
done (the follow-up: up to ``follow_up_days``, set by the slowest secretariat, so a bigger
group runs longer past a short horizon). The memory curve reports the peak against the
shortest horizon's (flat = memory independent of the horizon).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import emit, machine, mode_args, run_child  # noqa: E402


def child(secretariats: int, days: int) -> None:
    from simulation.engine.model import Model
    from simulation.runs.runner import replicate
    from simulation.scenario.composition import compose
    from simulation.scenario.group import hospital_group

    ends: list[float] = []
    run = Model.run

    def noting_the_end(model: Model):
        """Model.run, noting when the follow-up stopped it."""
        try:
            return run(model)
        finally:
            ends.append(model.env.now)

    Model.run = noting_the_end

    data = hospital_group(secretariats, seed=1)
    data["calendar"]["horizon_days"] = days
    data["calendar"]["warmup_days"] = min(7, days - 1)
    scenario = compose(data)
    t0 = time.perf_counter()
    rep = replicate(scenario, seed=1, replication=0, events=False)
    seconds = time.perf_counter() - t0
    calls = float(rep.kpis.loc[rep.kpis.department == "ALL", "calls_attempted"].iloc[0])
    emit({"secretariats": secretariats, "days": days, "seconds": round(seconds, 2),
          "calls_in_window": calls, "days_run": ends[0] / 1440,
          "fte": sum((len(s.days) if s.days else 5) / 5 for _, _, s in scenario.secretaries())})


def main(argv: list[str] | None = None) -> dict:
    args = mode_args(argv)
    sizes = (10, 20, 40, 80) if args.full else (10, 20, 40)
    scale_days = 28 if args.full else 14
    horizons = (28, 91, 365) if args.full else (14, 28)
    m = machine()
    print(f"group scaling ({'full' if args.full else 'quick'}), load {m['load_average_1min']}")
    scaling = []
    for n in sizes:
        r = run_child("group_scale", str(n), str(scale_days), timeout=7200)
        r["seconds_per_fte_day"] = r["seconds"] / (r["fte"] * r["days_run"])
        scaling.append(r)
        print(f"  {n:3d} secretariats ({r['fte']:.1f} FTE) x {scale_days} days "
              f"(run for {r['days_run']:.0f}): {r['seconds']:7.1f} s, "
              f"{r['seconds_per_fte_day'] * 1000:.2f} ms per FTE-day simulated, "
              f"peak {r['peak_rss_mb']:.0f} MiB")
    first = scaling[0]["seconds_per_fte_day"]
    print("  cost per FTE-day simulated, relative to the smallest group: "
          + ", ".join(f"{r['secretariats']}: {r['seconds_per_fte_day'] / first:.2f}"
                      for r in scaling))
    memory = []
    for days in horizons:
        r = run_child("group_scale", str(sizes[-1] if args.full else 20), str(days),
                      timeout=7200)
        memory.append(r)
        print(f"  {r['secretariats']} secretariats, {days:3d} days (run for "
              f"{r['days_run']:.0f}): {r['seconds']:7.1f} s, "
              f"peak {r['peak_rss_mb']:.0f} MiB ({r['peak_rss_mb'] / memory[0]['peak_rss_mb']:.2f}"
              f" x the {horizons[0]}-day peak)")
    return {"machine": m, "scaling": scaling, "memory": memory,
            "load_average_after": machine()["load_average_1min"]}


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(int(sys.argv[2]), int(sys.argv[3]))
    else:
        main(sys.argv[1:])
