"""``secsim sensitivity SPEC``: which parameters of a sweep spec move which KPIs (SALib)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from simulation.cli.common import add_max_events, add_quiet, finite_json, seed_type
from simulation.cli.progress import Progress
from simulation.errors import UsageError


def register(sub) -> None:
    """Add ``secsim sensitivity`` to the command line."""
    from simulation.cli.sweep import _seconds

    p = sub.add_parser(
        "sensitivity", help="global sensitivity of KPIs to a sweep spec's parameters "
                            "(Morris or Sobol, SALib)",
        description="Sample the parameters of a sweep spec (ranges low/high, or values and "
        "levels as factors) with SALib, run the sample as a sweep (any executor, --resume), "
        "and compute Morris (mu*, sigma) or Sobol (S1, ST) indices per KPI. See "
        "docs/howto-sensitivity.md.")
    p.add_argument("spec", help="sweep spec YAML file")
    p.add_argument("--method", choices=("morris", "sobol"), default="morris",
                   help="morris: elementary effects, cheap screening (default); sobol: "
                        "variance shares S1 and ST with confidence intervals")
    p.add_argument("--kpi", action="append", default=[], metavar="KPI",
                   help="a KPI of the ALL row to analyse (repeat; default: pickup_rate, "
                        "interruptions_per_hour, report_delay_mean_days)")
    p.add_argument("--samples", "-n", type=int,
                   help="Morris trajectories (default 10: (parameters+1) x 10 points) or "
                        "Sobol base samples, a power of two (default 64: 64 x (parameters+2) "
                        "points)")
    p.add_argument("--replications", "-r", type=_replications, metavar="N|auto",
                   help="replications per point (default: the spec's); 'auto': as many as "
                        "secsim advise finds the base scenario needs for --precision on the "
                        "first --kpi")
    p.add_argument("--precision", type=float, metavar="P",
                   help="with --replications auto: the 95%% half-width wanted for the first "
                        "KPI's mean at a point, in its unit (e.g. 0.005)")
    p.add_argument("--seed", type=seed_type, help="random seed >= 0 (default: the spec's)")
    p.add_argument("--out", "-o", help="output folder (default outputs/<spec name>_<method>)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", "-w", type=int, metavar="N",
                       help="local worker processes (default: all cores)")
    where.add_argument("--serial", action="store_true", help="run in this process")
    where.add_argument("--scheduler", metavar="ADDRESS", help="an existing Dask cluster")
    where.add_argument("--dask-local", type=int, metavar="N",
                       help="start a local Dask cluster of N worker processes")
    p.add_argument("--worker-timeout", type=_seconds, metavar="SECONDS",
                   help="with Dask: stop when no worker has been alive for this long")
    p.add_argument("--resume", action="store_true",
                   help="continue the analysis in --out (the default: a rerun of the same "
                        "command keeps the finished points)")
    add_max_events(p)
    p.add_argument("--json", action="store_true", help="print the indices as JSON on stdout")
    add_quiet(p)
    p.set_defaults(func=cmd_sensitivity, command_parser=p)


def _replications(text: str) -> int | str:
    import argparse

    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number or 'auto'") from None


DEFAULT_KPIS = ("pickup_rate", "interruptions_per_hour", "report_delay_mean_days")


def cmd_sensitivity(args) -> int:
    """Sample, run as a sweep, analyse; write indices and a page; print a table or JSON."""
    import pandas as pd

    from simulation.cli.sweep import make_sweep_executor
    from simulation.decide import sensitivity as sa
    from simulation.sweeps.run import run_sweep
    from simulation.sweeps.spec import load_spec
    from simulation.sweeps.store import StoreError, read_table

    auto = args.replications == "auto"
    if auto and not (args.precision is not None and math.isfinite(args.precision)
                     and args.precision > 0):
        raise UsageError("--replications auto needs --precision P (a positive half-width "
                         "for the first --kpi, e.g. 0.005)")
    if args.precision is not None and not auto:
        raise UsageError("--precision goes with --replications auto")
    for name in ("samples", "replications", "workers", "dask_local"):
        value = getattr(args, name)
        if name == "replications" and auto:
            continue
        if value is not None and value < (2 if name == "samples" else 1):
            raise UsageError(f"--{name.replace('_', '-')} must be at least "
                             f"{2 if name == 'samples' else 1}")
    if args.worker_timeout is not None and not (args.scheduler or args.dask_local):
        raise UsageError("--worker-timeout applies with --scheduler or --dask-local")
    n = args.samples or (10 if args.method == "morris" else 64)
    if args.method == "sobol" and n & (n - 1):
        raise UsageError(f"--samples {n}: Sobol needs a power of two (e.g. 32, 64, 128)")
    plan = load_spec(args.spec, seed=args.seed, max_events=args.max_events)
    spec = plan.spec
    try:
        fs = sa.factors(spec)
    except ValueError as exc:
        raise UsageError(f"{args.spec}: {exc}") from None
    out = Path(args.out) if args.out else Path("outputs") / f"{spec.name}_{args.method}"
    design_seed = spec.design_seed if spec.design_seed is not None else spec.seed
    x = sa.sample(fs, args.method, n, design_seed)
    design = sa.write_design(out, sa.design_spec(spec, plan.base_path, fs, x))
    kpis = args.kpi or list(DEFAULT_KPIS)
    replications = args.replications
    if auto:
        replications = _advised(plan, kpis[0], args)
    dplan = load_spec(design, replications=replications, max_events=args.max_events)
    if not args.quiet:
        print(f"{spec.name}: {args.method}, {len(fs)} parameters, {len(dplan.points)} points "
              f"x {dplan.spec.replications} replications", file=sys.stderr)
    progress = Progress(f"{spec.name}: tasks", enabled=not args.quiet)
    executor = make_sweep_executor(args, notify=progress.write)
    try:
        # A rerun continues: finished points are kept; the store refuses another sample.
        outcome = run_sweep(dplan, out / "sweep", executor, resume=True,
                            on_start=progress.start,
                            on_task=lambda _p, _r, ok: progress.step(ok),
                            meta={"command": " ".join(sys.argv)}, notify=progress.write)
    except StoreError as exc:
        raise UsageError(f"{exc}; {out} holds another analysis (other spec, sample or "
                         "replications): choose another --out") from None
    finally:
        progress.finish()
    if outcome.interrupted or outcome.failed:
        print(f"the sample is not complete ({outcome.failed} failed, interrupted: "
              f"{outcome.interrupted}); finished points are kept in {out}/sweep; continue "
              f"with the same command and --resume", file=sys.stderr)
        return 130 if outcome.interrupted else 1
    results = read_table(out / "sweep")
    missing = [k for k in kpis if k not in results.columns]
    if missing:
        import difflib

        known = [c for c in results.columns if c not in ("point", "replication", "department")]
        close = difflib.get_close_matches(missing[0], known, n=3)
        raise UsageError(f"there is no KPI '{missing[0]}'"
                         + (f"; did you mean {', '.join(close)}?" if close else ""))
    frames = []
    for kpi in kpis:
        y = sa.point_means(results, kpi, len(dplan.points))
        try:
            frames.append(sa.analyse(fs, args.method, x, y, kpi, design_seed))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    indices = pd.concat(frames, ignore_index=True)
    indices.to_csv(out / "indices.csv", index=False)
    indices.to_parquet(out / "indices.parquet", index=False)
    from simulation.reporting.sensitivity import write_sensitivity_report

    write_sensitivity_report(out / "sensitivity.html", indices, args.method, args.spec,
                             len(dplan.points), dplan.spec.replications)
    records = finite_json(indices.to_dict("records"))
    if args.json:
        keys = (["kpi", "parameter", "mu_star", "sigma", "mu_star_conf"] if args.method == "morris"
                else ["kpi", "parameter", "S1", "ST", "S1_conf", "ST_conf"])
        print(json.dumps([{k: r[k] for k in keys} for r in records], indent=2))
    else:
        print(indices.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        print(f"\nIndices in {out}/indices.csv; bar charts in {out}/sensitivity.html")
    return 0


def _advised(plan, kpi: str, args) -> int:
    """Replications the spec's base scenario needs for ``--precision`` on ``kpi``."""
    from simulation.decide.advise import advise_replications
    from simulation.runs.factory import make_executor
    from simulation.scenario.composition import compose

    scenario = compose(plan.base_data, source=str(plan.base_path))
    say = (lambda m: None) if args.quiet else (lambda m: print(f"advise: {m}", file=sys.stderr))
    try:
        advice = advise_replications(scenario, kpi, args.precision, plan.spec.seed,
                                     make_executor("processes", args.workers or 1),
                                     initial=5, most=100, notify=say)
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from None
    n = max(2, advice.replications_needed)
    if not args.quiet:
        print(f"replications per point: {n} (for ± {args.precision:g} on {kpi} at the base "
              "scenario)", file=sys.stderr)
    return n
