"""``secsim sweep SPEC``: run a sweep spec on local processes, serially, or on Dask.

The spec is checked in full (every point validated) before any work; results stream to
``OUT/results/`` as each task finishes; Ctrl-C or a crash keeps what was written and
``--resume`` carries on. Errors follow cli.py's rules (one message, exit status 2).
A sweep stopped by Ctrl-C exits with 130, one stopped because its Dask cluster could not
go on (no worker left, scheduler gone) with 75; both print the command that resumes it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from simulation.cli.common import add_max_events, add_quiet, seed_type
from simulation.cli.common import resume_command as common_resume_command
from simulation.cli.progress import Progress
from simulation.errors import UsageError

EXIT_STOPPED = 75  # EX_TEMPFAIL: the cluster could not go on; resuming later may succeed


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
    add_max_events(p)
    p.add_argument("--replications", "-r", type=int,
                   help="replications per point (overrides the spec's)")
    p.add_argument("--worker-timeout", type=_seconds, metavar="SECONDS",
                   help="with Dask: stop (keeping finished tasks) when no worker has been "
                        "alive for this long (default 120)")
    p.add_argument("--dry-run", action="store_true",
                   help="check the spec and list its points without running anything")
    add_quiet(p)
    # Every option defaults to None/False, so "given" is "not None/False": the resume
    # command repeats exactly the options given (resume_command).
    p.set_defaults(func=cmd_sweep, sweep_parser=p)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} is not positive; give seconds > 0")
    return value


def resume_command(args, out: Path) -> str:
    """The command that resumes this sweep: every option given, plus --resume --out OUT."""
    return common_resume_command(args, out, args.sweep_parser, "sweep",
                                 skip=("overwrite", "dry_run"))


def make_sweep_executor(args, notify=None):
    """The executor the options ask for (processes on all cores by default); ``notify``
    gets a Dask cluster's messages (lost workers, no worker alive)."""
    from simulation.runs.factory import make_executor

    if args.serial:
        return make_executor("serial")
    if args.scheduler or args.dask_local:
        from simulation.runs.dask_executor import DaskExecutor, DaskUnavailable

        timeout = {} if args.worker_timeout is None else {"worker_timeout": args.worker_timeout}
        try:
            executor = DaskExecutor(workers=args.dask_local, scheduler=args.scheduler,
                                    notify=notify, **timeout)
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
    if args.worker_timeout is not None and not (args.scheduler or args.dask_local):
        raise UsageError("--worker-timeout applies to Dask sweeps; add --scheduler ADDRESS "
                         "or --dask-local N, or drop it")


def cmd_sweep(args) -> int:
    """``secsim sweep``: run (or resume) a sweep spec on the chosen executor."""
    from simulation.sweeps.run import headline_table, run_sweep, summarise_sweep
    from simulation.sweeps.spec import load_spec
    from simulation.sweeps.store import StoreError

    _check_options(args)
    plan = load_spec(args.spec, seed=args.seed, replications=args.replications,
                     max_events=args.max_events)
    spec = plan.spec
    out = Path(args.out) if args.out else Path("outputs") / spec.name
    n_tasks = len(plan.points) * spec.replications
    if args.dry_run:
        from simulation.sweeps.store import points_table

        print(points_table(plan).drop(columns="scenario_hash").to_string(index=False))
        print(f"\n{spec.name}: {len(plan.points)} points x {spec.replications} replications "
              f"= {n_tasks} tasks, seed {spec.seed}; spec OK, nothing run")
        return 0
    progress = Progress(f"{spec.name}: tasks", enabled=not args.quiet)
    executor = make_sweep_executor(args, notify=progress.write)
    try:
        outcome = run_sweep(plan, out, executor, resume=args.resume, overwrite=args.overwrite,
                            on_start=progress.start,
                            on_task=lambda _point, _rep, ok: progress.step(ok),
                            meta={"command": " ".join(sys.argv)}, notify=progress.write)
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    finally:
        progress.finish()
    summarise_sweep(out, plan)
    print(f"{spec.name}: {len(plan.points)} points x {spec.replications} replications, "
          f"seed {spec.seed}, {executor.name}; mean ±95% CI half-width")
    print(headline_table(out, plan))
    done_now = outcome.skipped + outcome.completed
    print(f"\n{done_now}/{outcome.total} tasks done ({outcome.completed} in "
          f"{outcome.seconds:.1f}s this run, {outcome.skipped} earlier); results in {out}/ "
          "(results/, departments/, summary.csv)")
    if outcome.lost_workers:
        print(f"{outcome.lost_workers} Dask worker(s) lost during this run; "
              f"{outcome.rerun_tasks} task(s) ran again elsewhere (results unchanged: each "
              f"task has its own seed); see lost_workers in {out}/sweep.json", file=sys.stderr)
    _report_failures(out, resume_command(args, out))
    if outcome.interrupted:
        why = f"stopped: {outcome.stopped}" if outcome.stopped else "interrupted"
        print(f"{why}\nThe {done_now} finished tasks are kept in {out}; continue with\n"
              f"  {resume_command(args, out)}", file=sys.stderr)
        return EXIT_STOPPED if outcome.stopped else 130
    print(f"Draw it: secsim report {out}")
    return 1 if outcome.failed or _failures_left(out) else 0


def _failures_left(out: Path) -> int:
    from simulation.sweeps.store import read_failures

    return len(read_failures(out))


def _report_failures(out: Path, again: str) -> None:
    from simulation.sweeps.store import read_failures

    failures = read_failures(out)
    if not failures:
        return
    points = sorted({f["point"] for f in failures})
    print(f"{len(failures)} task(s) failed at point(s) {points[:10]}"
          f"{' ...' if len(points) > 10 else ''}; errors in {out}/failures.json "
          f"(first: {failures[0]['error']}); retry them with\n  {again}", file=sys.stderr)
