"""``secsim run``: replications of one scenario, KPI table, output folder and report."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from simulation.cli.common import (
    add_max_events,
    add_overrides,
    add_quiet,
    add_resume,
    load,
    output_folder,
    print_warnings,
    resume_command,
    seed_type,
)
from simulation.errors import UsageError


def register(sub) -> None:
    """Add ``secsim run`` to the command line."""
    p = sub.add_parser("run", help="run one scenario and print its KPIs with 95%% CIs")
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--replications", "-r", type=int, default=20,
                   help="independent replications (default 20)")
    p.add_argument("--seed", type=seed_type, default=1, help="random seed >= 0 (default 1)")
    p.add_argument("--workers", "-w", type=int, default=1,
                   help="local worker processes (default 1 = in this process)")
    add_overrides(p)
    add_max_events(p)
    p.add_argument("--out", "-o", help="output folder (default outputs/<scenario name>; "
                                       "with --json, none unless given)")
    p.add_argument("--json", action="store_true", help="print KPIs as JSON on stdout")
    p.add_argument("--no-events", action="store_true",
                   help="do not write the event tables (calls, tasks...), only KPIs")
    add_resume(p, "run")
    add_quiet(p)
    p.set_defaults(func=cmd_run, command_parser=p)


def cmd_run(args) -> int:
    """``secsim run``: replications of one scenario, KPI table, output folder."""
    if args.replications < 1:
        raise UsageError("--replications must be at least 1")
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    scenario = load(args.scenario, args.overrides, args.max_events)
    print_warnings(scenario, args.scenario)
    # The run's machinery (pandas, pyarrow) only once the scenario is known to be good: a
    # bad file or --set is refused as fast as by `secsim validate`.
    from simulation.cli.progress import Progress
    from simulation.reporting.terminal import kpi_table, summary_json
    from simulation.runs.api import run
    from simulation.runs.factory import make_executor
    from simulation.runs.record import RecordError

    out = Path(args.out) if args.out else (None if args.json else Path("outputs") / scenario.name)
    if out is None and args.resume:
        raise UsageError("--resume continues the run written in --out; give --out")
    if out is not None:
        out = output_folder(out)
    progress = Progress(f"{scenario.name}: replications", enabled=not args.quiet)
    try:
        result = run(scenario, args.replications, args.seed,
                     executor=make_executor("processes", args.workers), out=out,
                     events=not args.no_events and out is not None, resume=args.resume,
                     on_replication=lambda _rep: progress.step(), on_start=progress.start,
                     header=f"resolved from {args.scenario}", max_events=args.max_events,
                     meta={"workers": args.workers, "command": " ".join(sys.argv)})
    except RecordError as exc:
        raise UsageError(str(exc)) from None
    except KeyboardInterrupt:
        progress.finish()
        if out is not None:
            _saved(args, out, scenario.name)
        raise
    finally:
        progress.finish()
    if out is not None and not result.kpis.empty and not result.interrupted:
        # (stopped: exit at once; the resumed run, or secsim report, writes it)
        from simulation.reporting.html import write_run_report

        write_run_report(out)
    for rep, err in result.failures:
        print(f"replication {rep} failed: {err}", file=sys.stderr)
    n = int(result.kpis.replication.nunique()) if not result.kpis.empty else 0
    if args.json:
        print(json.dumps({"scenario": scenario.name, "seed": args.seed, "replications": n,
                          "kpis": summary_json(result.summary)}, indent=2))
    else:
        print(kpi_table(result.summary,
                        f"{scenario.name}: {n} replications, seed {args.seed}, "
                        f"{result.seconds:.1f}s"))
        if out is not None:
            print(f"\nResults written to {out}/ (kpis.parquet/, summary.csv, scenario.yaml, "
                  f"{'events, ' if not args.no_events else ''}"
                  f"{'no report.html yet' if result.interrupted else 'report.html'})")
    if result.interrupted:
        if out is None:
            print("interrupted: the completed replications above were kept", file=sys.stderr)
        else:
            _saved(args, out, scenario.name)
        return 130
    if result.failures and out is not None:
        print(f"retry the failed replications with\n  {_resume(args, out)}", file=sys.stderr)
    return 1 if result.failures else 0


def _resume(args, out: Path) -> str:
    return resume_command(args, out, args.command_parser, "run")


def _saved(args, out: Path, name: str) -> None:
    """Tell what an interrupted run saved and the command that completes it."""
    from simulation.runs.output import written_replications

    saved = len(written_replications(out))
    print(f"interrupted: {saved} of {args.replications} replications of {name} are saved in "
          f"{out}/; continue with\n  {_resume(args, out)}", file=sys.stderr, flush=True)
