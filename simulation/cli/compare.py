"""``secsim compare``: run scenarios with common random numbers and compare them to a baseline."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from simulation.scenario.errors import ScenarioError


def register(sub) -> None:
    """Add ``secsim compare`` to the command line."""
    from simulation.cli.common import add_max_events, add_quiet, add_resume, seed_type

    p = sub.add_parser(
        "compare", help="run several scenarios (paired) and compare them with a baseline",
        description="Runs every scenario with the same seed and replication numbers (common "
                    "random numbers), writes comparison.parquet/csv and report.html.")
    p.add_argument("paths", nargs="+", help="scenario files and/or folders of *.yaml files")
    p.add_argument("--baseline", "-b", help="name of the baseline scenario (default: the one "
                                            "named 'baseline', else the first)")
    p.add_argument("--replications", "-r", type=int, default=20,
                   help="replications per scenario (default 20)")
    p.add_argument("--seed", type=seed_type, default=1, help="random seed >= 0 (default 1)")
    p.add_argument("--workers", "-w", type=int, default=os.cpu_count() or 1,
                   help="local worker processes (default: all cores)")
    p.add_argument("--out", "-o", default="outputs/compare", help="output folder")
    p.add_argument("--events", action="store_true",
                   help="also write each scenario's event tables (large)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a field in every scenario, e.g. calendar.horizon_days=35")
    p.add_argument("--no-report", action="store_true", help="skip report.html")
    add_max_events(p)
    add_resume(p, "comparison")
    add_quiet(p)
    p.set_defaults(func=cmd_compare, command_parser=p)


def scenario_files(paths: list[str]) -> list[Path]:
    """The YAML files named, folders expanded (sorted), duplicates dropped."""
    from simulation.errors import UsageError

    files: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted([*p.glob("*.yaml"), *p.glob("*.yml")])
            if not found:
                raise UsageError(f"folder '{p}' holds no .yaml scenario files")
            files += found
        elif p.exists():
            files.append(p)
        else:
            raise UsageError(f"'{p}' not found; give scenario files or folders")
    return list(dict.fromkeys(f.resolve() for f in files))


def load_all(files: list[Path], overrides: list[str], max_events: int | None = None):
    """Load every scenario, reporting all broken files at once before any run."""
    from simulation.cli.common import load, print_warnings
    from simulation.errors import UsageError

    scenarios, errors = [], []
    for f in files:
        try:
            scenarios.append(load(str(f), overrides, max_events))
        except ScenarioError as exc:
            errors.append(str(exc))
    if errors:
        raise UsageError("some scenarios are invalid, nothing was run:\n" + "\n".join(errors))
    for f, scenario in zip(files, scenarios):
        print_warnings(scenario, str(f))
    names = [s.name for s in scenarios]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UsageError(f"several files use the scenario name(s) {dupes}; names must be unique")
    return scenarios


def cmd_compare(args) -> int:
    """``secsim compare``: paired runs of several scenarios, comparison table and report."""
    from simulation.cli.common import output_folder
    from simulation.errors import UsageError

    if args.replications < 2:
        raise UsageError("--replications must be at least 2 for confidence intervals")
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    files = scenario_files(args.paths)
    scenarios = load_all(files, args.overrides, args.max_events)
    names = [s.name for s in scenarios]
    baseline = args.baseline or ("baseline" if "baseline" in names else names[0])
    if baseline not in names:
        raise UsageError(f"--baseline '{baseline}' is not one of the scenarios {names}")
    # The run's machinery (pandas, pyarrow) only once the scenarios are known to be good.
    from simulation.cli.progress import Progress
    from simulation.reporting.terminal import comparison_table
    from simulation.runs.api import compare
    from simulation.runs.factory import make_executor
    from simulation.runs.record import RecordError

    out = output_folder(args.out)
    if not args.quiet:
        print(f"Running {len(scenarios)} scenarios x {args.replications} replications on "
              f"{args.workers} worker(s), seed {args.seed}...", file=sys.stderr, flush=True)
    progress = Progress(f"compare {len(scenarios)} scenarios: replications",
                        enabled=not args.quiet)
    try:
        result = compare(scenarios, args.replications, args.seed, baseline,
                         executor=make_executor("processes", args.workers), out=out,
                         events=args.events, on_replication=lambda j, rep: progress.step(),
                         headers=[f"resolved from {f}" for f in files], resume=args.resume,
                         notify=progress.write, on_start=progress.start,
                         max_events=args.max_events,
                         meta={"workers": args.workers, "command": " ".join(sys.argv)})
    except RecordError as exc:
        raise UsageError(str(exc)) from None
    except KeyboardInterrupt:
        progress.finish()
        _saved(args, out, names)
        raise
    finally:
        progress.finish()
    for r in result.results.values():
        for rep, err in r.failures:
            print(f"{r.scenario.name}: replication {rep} failed: {err}", file=sys.stderr)
    if result.table.empty:
        print("the baseline has no completed replication: no comparison written",
              file=sys.stderr)
        if result.interrupted:
            _saved(args, out, names)
            return 130
        return 1
    print(comparison_table(result.table, baseline, list(result.table.scenario.unique())))
    print(f"\nPaired differences to '{baseline}' (common random numbers); * = 95% CI excludes 0.")
    print(f"Written: {out}/comparison.csv, comparison.parquet, one folder per scenario")
    if not args.no_report and not result.interrupted:  # stopped: exit at once
        from simulation.reporting.html import write_comparison_report

        path = write_comparison_report(out)
        print(f"Report: {path}  (open it in a browser; it needs no network)")
    if result.interrupted:
        _saved(args, out, names)
        return 130
    if any(r.failures for r in result.results.values()):
        print(f"retry the failed replications with\n  {_resume(args, out)}", file=sys.stderr)
        return 1
    return 0


def _resume(args, out: Path) -> str:
    from simulation.cli.common import resume_command

    return resume_command(args, out, args.command_parser, "compare")


def _saved(args, out: Path, names: list[str]) -> None:
    """Tell what an interrupted comparison saved and the command that completes it."""
    from simulation.runs.output import written_replications

    counts = ", ".join(f"{n} {len(written_replications(out / n))}/{args.replications}"
                       for n in names)
    print(f"interrupted: replications saved in {out}/ per scenario: {counts}; continue "
          f"with\n  {_resume(args, out)}", file=sys.stderr, flush=True)
