"""``secsim sweep SPEC``: run a sweep spec on local processes, serially, or on Dask.

The spec is checked in full (every point validated) before any work; results stream to
``OUT/results/`` as each task finishes; Ctrl-C or a crash keeps what was written and
``--resume`` carries on. Errors follow cli.py's rules (one message, exit status 2).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from simulation.cli.common import add_quiet, seed_type
from simulation.cli.progress import Progress
from simulation.errors import UsageError


def register(subparsers) -> None:
    """Add the ``sweep`` sub-command to the ``secsim`` parser."""
    p = subparsers.add_parser(
        "sweep", help="run many configurations x replications, streamed to Parquet",
        description="Run a sweep spec (see docs/sweeps.md): every point of the design times "
                    "its replications, written to OUT/results/ as each task finishes.")
    p.add_argument("spec", help="sweep spec YAML file (e.g. sweeps/pool_size_vs_online_booking.yaml)")
    p.add_argument("--out", "-o", help="output folder (default outputs/<spec name>)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", "-w", type=int, metavar="N",
                       help="local worker processes (default: all cores)")
    where.add_argument("--serial", action="store_true", help="run in this process, one by one")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="an existing Dask cluster, e.g. tcp://host:8786 (needs the dask extra)")
    where.add_argument("--dask-local", type=int, metavar="N",
                       help="start a local Dask cluster of N worker processes")
    p.add_argument("--resume", action="store_true",
                   help="continue the sweep in --out: skip finished tasks, retry failed ones")
    p.add_argument("--overwrite", action="store_true",
                   help="delete the results of an earlier sweep in --out and start again")
    p.add_argument("--seed", type=seed_type, help="random seed >= 0 (overrides the spec's)")
    p.add_argument("--replications", "-r", type=int,
                   help="replications per point (overrides the spec's)")
    p.add_argument("--dry-run", action="store_true",
                   help="check the spec and list its points without running anything")
    add_quiet(p)
    p.set_defaults(func=cmd_sweep)


def make_sweep_executor(args):
    """The executor the options ask for (processes on all cores by default)."""
    from simulation.runs.factory import make_executor

    if args.serial:
        return make_executor("serial")
    if args.scheduler or args.dask_local:
        from simulation.runs.dask_executor import DaskExecutor, DaskUnavailable

        try:
            executor = DaskExecutor(workers=args.dask_local, scheduler=args.scheduler)
            executor.check()
            return executor
        except DaskUnavailable as exc:
            raise UsageError(str(exc)) from None
    return make_executor("processes", args.workers or usable_cores())


def usable_cores() -> int:
    """Cores this process may run on (all cores by default)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _check_options(args) -> None:
    for name in ("workers", "dask_local", "replications"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
    if args.resume and args.overwrite:
        raise UsageError("--resume continues a sweep and --overwrite starts it again; "
                         "choose one")


def cmd_sweep(args) -> int:
    """``secsim sweep``: run (or resume) a sweep spec on the chosen executor."""
    from simulation.runs.dask_executor import DaskUnavailable
    from simulation.sweeps.run import headline_table, run_sweep, summarise_sweep
    from simulation.sweeps.spec import load_spec
    from simulation.sweeps.store import StoreError

    _check_options(args)
    plan = load_spec(args.spec, seed=args.seed, replications=args.replications)
    spec = plan.spec
    out = Path(args.out) if args.out else Path("outputs") / spec.name
    n_tasks = len(plan.points) * spec.replications
    if args.dry_run:
        from simulation.sweeps.store import points_table

        print(points_table(plan).drop(columns="scenario_hash").to_string(index=False))
        print(f"\n{spec.name}: {len(plan.points)} points x {spec.replications} replications "
              f"= {n_tasks} tasks, seed {spec.seed}; spec OK, nothing run")
        return 0
    executor = make_sweep_executor(args)
    progress = Progress(f"{spec.name}: tasks", enabled=not args.quiet)
    try:
        outcome = run_sweep(plan, out, executor, resume=args.resume, overwrite=args.overwrite,
                            on_start=progress.start,
                            on_task=lambda _point, _rep, ok: progress.step(ok),
                            meta={"command": " ".join(sys.argv)})
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    except DaskUnavailable as exc:
        progress.finish()
        raise UsageError(f"{exc}; finished tasks are kept in {out}, rerun with --resume") \
            from None
    progress.finish()
    summarise_sweep(out, plan)
    print(f"{spec.name}: {len(plan.points)} points x {spec.replications} replications, "
          f"seed {spec.seed}, {executor.name}; mean ±95% CI half-width")
    print(headline_table(out, plan))
    done_now = outcome.skipped + outcome.completed
    print(f"\n{done_now}/{outcome.total} tasks done ({outcome.completed} in "
          f"{outcome.seconds:.1f}s this run, {outcome.skipped} earlier); results in {out}/ "
          "(results/, departments/, summary.csv)")
    _report_failures(out)
    if outcome.interrupted:
        again = "".join(f" --{k} {v}" for k, v in (("seed", args.seed),
                                                   ("replications", args.replications))
                        if v is not None)
        print(f"interrupted: the {done_now} finished tasks are kept; continue with\n"
              f"  secsim sweep {args.spec} --resume --out {out}{again}", file=sys.stderr)
        return 130
    print(f"Draw it: secsim report {out}")
    return 1 if outcome.failed or _failures_left(out) else 0


def _failures_left(out: Path) -> int:
    from simulation.sweeps.store import read_failures

    return len(read_failures(out))


def _report_failures(out: Path) -> None:
    from simulation.sweeps.store import read_failures

    failures = read_failures(out)
    if not failures:
        return
    points = sorted({f["point"] for f in failures})
    print(f"{len(failures)} task(s) failed at point(s) {points[:10]}"
          f"{' ...' if len(points) > 10 else ''}; errors in {out}/failures.json "
          f"(first: {failures[0]['error']}); --resume retries them", file=sys.stderr)
