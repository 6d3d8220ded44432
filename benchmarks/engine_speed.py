"""Engine speed: simulated calls per second against a hand-written SimPy M/M/c+M model.

Both models simulate the same queue (benchmarks/pure_calls.yaml: Poisson calls at 1.2 a
minute, 10 servers, exponential service of mean 8 min and patience of mean 5 min) over
the same horizon in the same run; the ratio secsim / SimPy is the figure to watch (the
absolute rates depend on the machine). Both are timed in CPU time of this process
(``time.process_time``), so other jobs on a shared machine disturb the ratio less than
they would wall time; the best of the repeats counts. Then one simulated year of the
bundled baseline: wall time and peak memory, in a fresh process.

    python benchmarks/engine_speed.py [--full]
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, emit, mode_args, run_child  # noqa: E402

RATE, SERVERS, SERVICE, PATIENCE = 1.2, 10, 8.0, 5.0  # per minute, -, minutes, minutes


def simpy_mmc_m(days: float, seed: int = 1) -> int:
    """A minimal SimPy M/M/c+M queue (FCFS, callers hang up); returns calls simulated."""
    import simpy

    rng = random.Random(seed)
    env = simpy.Environment()
    lines = simpy.Resource(env, capacity=SERVERS)
    horizon = days * 1440.0
    outcome = {"answered": 0, "abandoned": 0}

    def caller(env):
        request = lines.request()
        got = yield request | env.timeout(rng.expovariate(1 / PATIENCE))
        if request in got:
            outcome["answered"] += 1
            yield env.timeout(rng.expovariate(1 / SERVICE))
            lines.release(request)
        else:
            request.cancel()
            outcome["abandoned"] += 1

    def arrivals(env):
        while True:
            yield env.timeout(rng.expovariate(RATE))
            if env.now >= horizon:
                return
            env.process(caller(env))

    env.process(arrivals(env))
    env.run()
    return outcome["answered"] + outcome["abandoned"]


def secsim_pure_calls(days: int, seed: int = 1) -> tuple[int, float, float, float]:
    """(calls simulated, engine seconds, seconds with KPIs, seconds of the engine's table
    conversion) for the same queue in secsim. The engine figure is ``simulate``: building
    the model, running it and turning its records into DataFrames (timed apart too)."""
    from simulation import load_scenario
    from simulation.engine.model import Model
    from simulation.runs.runner import replicate

    scenario = load_scenario(ROOT / "benchmarks" / "pure_calls.yaml")
    scenario = scenario.model_copy(update={"calendar": scenario.calendar.model_copy(
        update={"horizon_days": days})})
    converting = {}
    t0 = time.process_time()
    model = Model(scenario, seed, 0)  # what simulate() does, with its table step timed
    to_tables = model.recorder.tables

    def timed_tables(*args, **kwargs):
        start = time.process_time()
        out = to_tables(*args, **kwargs)
        converting["s"] = time.process_time() - start
        return out

    model.recorder.tables = timed_tables
    tables = model.run()
    engine = time.process_time() - t0
    t0 = time.process_time()
    replicate(scenario, seed, 1, events=False)
    with_kpis = time.process_time() - t0
    return len(tables["calls"]), engine, with_kpis, converting["s"]


def engine_ratio(days: int, repeats: int) -> dict:
    """Best of ``repeats`` for each model (least disturbed by other work on the machine)."""
    secsim_rates, simpy_rates, kpi_rates, run_rates = [], [], [], []
    secsim_pure_calls(1)  # warm-up: imports and first-call costs are not the engine's
    simpy_mmc_m(1)
    for r in range(repeats):
        calls, engine, with_kpis, converting = secsim_pure_calls(days, seed=r + 1)
        secsim_rates.append(calls / engine)
        kpi_rates.append(calls / with_kpis)
        run_rates.append(calls / (engine - converting))
        t0 = time.process_time()
        n = simpy_mmc_m(days, seed=r + 1)
        simpy_rates.append(n / (time.process_time() - t0))
    best, ref = max(secsim_rates), max(simpy_rates)
    return {"days": days, "repeats": repeats, "secsim_calls_per_s": round(best),
            "secsim_calls_per_s_with_kpis": round(max(kpi_rates)),
            "secsim_calls_per_s_before_tables": round(max(run_rates)),
            "ratio_before_tables": round(max(run_rates) / ref, 3),
            "simpy_calls_per_s": round(ref), "ratio_secsim_vs_simpy": round(best / ref, 3)}


def baseline_year_child() -> dict:
    """One replication of the baseline over 365 days (KPIs only), timed in this process."""
    from simulation import load_scenario
    from simulation.runs.runner import replicate

    scenario = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    scenario = scenario.model_copy(update={"calendar": scenario.calendar.model_copy(
        update={"horizon_days": 365})})
    t0 = time.perf_counter()
    rep = replicate(scenario, 1, 0, events=False)
    seconds = time.perf_counter() - t0
    all_row = rep.kpis[rep.kpis.department == "ALL"].iloc[0]
    return {"simulated_days": 365, "wall_s": round(seconds, 2),
            "calls": int(all_row.calls_attempted), "reports": int(all_row.reports_dictated)}


def main(argv: list[str] | None = None) -> dict:
    args = mode_args(argv)
    if args.child is not None:
        emit(baseline_year_child())
        return {}
    days, repeats = (60, 3) if args.full else (10, 3)
    ratio = engine_ratio(days, repeats)
    print(f"engine, pure-call M/M/{SERVERS}+M, {days} days, best of {repeats}: "
          f"secsim {ratio['secsim_calls_per_s']:,} calls/s (with KPIs "
          f"{ratio['secsim_calls_per_s_with_kpis']:,}; before the conversion of its records "
          f"to tables {ratio['secsim_calls_per_s_before_tables']:,}, ratio "
          f"{ratio['ratio_before_tables']}), hand-written SimPy "
          f"{ratio['simpy_calls_per_s']:,} calls/s -> ratio {ratio['ratio_secsim_vs_simpy']} "
          f"(CPU time; load average {os.getloadavg()[0]:.1f})")
    year = run_child("engine_speed")
    print(f"baseline, one simulated year (365 days, 1 replication, KPIs only): "
          f"{year['wall_s']} s wall, peak memory {year['peak_rss_mb']} MiB "
          f"({year['calls']:,} calls, {year['reports']:,} reports)")
    return {"engine": ratio, "baseline_year": year}


if __name__ == "__main__":
    main()
