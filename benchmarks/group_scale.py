"""A hospital group: wall time against the number of secretariats, and memory against the
horizon (issue 13's scaling figures).

    python benchmarks/group_scale.py            # quick: 10/20/40 secretariats x 14 days; memory 14/28 days
    python benchmarks/group_scale.py --full     # 10/20/40/80 x 28 days; memory at 28/91/365 days; the year

Each figure is one replication of the generated group (``secsim generate group``: sizes
from the HUPSSD distribution, ~1.85 FTE per secretariat) in a fresh process, KPIs only
(no event tables). The scaling curve reports seconds per FTE-day actually simulated, which
is flat when the engine scales linearly: groups of different sizes have different FTE per
secretariat, and each independent part (here each secretariat) runs past the horizon
until its own window's work is done (the follow-up, ``engine.partition``). The memory
curve reports the peak against the shortest horizon's (flat = memory independent of the
horizon). Last, the largest group is run once more as one whole (every part until the
slowest one is done, as before parts): the ratio is what running by part saves.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import emit, machine, mode_args, run_child  # noqa: E402


def child(secretariats: int, days: int, whole: bool = False) -> None:
    import functools

    import simulation.runs.runner as runner
    from simulation.engine.model import Model, simulate
    from simulation.scenario.composition import compose
    from simulation.scenario.group import hospital_group

    data = hospital_group(secretariats, seed=1)
    data["calendar"]["horizon_days"] = days
    data["calendar"]["warmup_days"] = min(7, days - 1)
    scenario = compose(data)
    fte = {name: (len(s.days) if s.days else 5) / 5 for _, name, s in scenario.secretaries()}
    runs: list[tuple[float, float]] = []  # (FTE, minutes simulated) of each part run
    run = Model.run

    def noting_the_end(model: Model, *args, **kwargs):
        """Model.run, noting the part's FTE and when the follow-up stopped it."""
        try:
            return run(model, *args, **kwargs)
        finally:
            runs.append((sum(fte[s.name] for s in model.secretaries), model.env.now))

    Model.run = noting_the_end
    if whole:
        runner.simulate = functools.partial(simulate, by_part=False)
    t0 = time.perf_counter()
    rep = runner.replicate(scenario, seed=1, replication=0, events=False)
    seconds = time.perf_counter() - t0
    calls = float(rep.kpis.loc[rep.kpis.department == "ALL", "calls_attempted"].iloc[0])
    emit({"secretariats": secretariats, "days": days, "seconds": round(seconds, 2),
          "whole": whole, "calls_in_window": calls,
          "days_run": max(end for _, end in runs) / 1440,
          "fte_days_run": sum(f * end for f, end in runs) / 1440,
          "fte": sum(fte.values())})


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
        r["seconds_per_fte_day"] = r["seconds"] / r["fte_days_run"]
        scaling.append(r)
        print(f"  {n:3d} secretariats ({r['fte']:.1f} FTE) x {scale_days} days "
              f"(run for {r['fte_days_run'] / r['fte']:.1f} days on average, "
              f"{r['days_run']:.0f} at most): {r['seconds']:7.1f} s, "
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
    if args.full:  # issue 13's targets for the group year, as measured in this run
        year, ratio = memory[-1], memory[-1]["peak_rss_mb"] / memory[0]["peak_rss_mb"]
        print(f"  targets: the group year in {year['seconds']:.1f} s (< 60 s on this machine: "
              f"{'met' if year['seconds'] < 60 else 'NOT met'}); its peak "
              f"{year['peak_rss_mb']:.0f} MiB (< 500 MiB: "
              f"{'met' if year['peak_rss_mb'] < 500 else 'NOT met'}) and {ratio:.2f} x the "
              f"28-day peak (within 10%: {'met' if ratio <= 1.10 else 'NOT met'})")
    largest = scaling[-1]
    whole = run_child("group_scale", str(largest["secretariats"]), str(scale_days), "whole",
                      timeout=7200)
    print(f"  {whole['secretariats']} secretariats x {scale_days} days as one whole (every "
          f"secretariat run for {whole['days_run']:.0f} days): {whole['seconds']:7.1f} s, "
          f"peak {whole['peak_rss_mb']:.0f} MiB; by part / whole: time "
          f"{largest['seconds'] / whole['seconds']:.2f}, peak memory "
          f"{largest['peak_rss_mb'] / whole['peak_rss_mb']:.2f}")
    return {"machine": m, "scaling": scaling, "memory": memory, "whole": whole,
            "load_average_after": machine()["load_average_1min"]}


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(int(sys.argv[2]), int(sys.argv[3]), whole="whole" in sys.argv[4:])
    else:
        main(sys.argv[1:])
