"""The ``secsim`` command line: run | compare | sweep | calibrate | validate | report | schema.

Every user error (bad scenario, missing file, impossible option) is printed as one clear
message and exits with status 2; ``--debug`` shows the traceback of unexpected errors.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

from . import __version__
from .errors import UsageError
from .scenario_io import ScenarioError

__all__ = ["UsageError", "main", "build_parser", "load"]


def seed_type(text: str) -> int:
    """argparse type of a random seed: a whole number >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative; give a seed >= 0")
    return value


def output_folder(path: str | Path) -> Path:
    """The output folder, refusing a path that exists and is not a folder."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out '{out}' is a file, not a folder; give a folder path")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the output folder '{out}': {exc.strerror}; "
                         "choose another --out") from None
    return out


def _common_run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--replications", "-r", type=int, default=20,
                   help="independent replications (default 20)")
    p.add_argument("--seed", type=seed_type, default=1, help="random seed >= 0 (default 1)")
    p.add_argument("--workers", "-w", type=int, default=1,
                   help="local worker processes (default 1 = in this process)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario field, e.g. calendar.horizon_days=60 (repeatable)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    parser = argparse.ArgumentParser(
        prog="secsim",
        description="Discrete-event simulation of hospital medical secretariats.",
        epilog="Run 'secsim COMMAND --help' for a command's options. Docs: README.md, docs/.")
    parser.add_argument("--version", action="version", version=f"secsim {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("run", help="run one scenario and print its KPIs with 95%% CIs")
    p.add_argument("scenario", help="scenario YAML file")
    _common_run_args(p)
    p.add_argument("--out", "-o", help="output folder (default outputs/<scenario name>)")
    p.add_argument("--json", action="store_true", help="print KPIs as JSON on stdout")
    p.add_argument("--no-events", action="store_true",
                   help="do not write the event tables (calls, tasks...), only KPIs")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("validate", help="check scenario files without running them")
    p.add_argument("scenarios", nargs="+", help="scenario YAML files")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--print", action="store_true", help="print the resolved scenario (YAML)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("schema", help="print the JSON Schema of scenario files")
    p.add_argument("--out", "-o", help="write it to this file instead of stdout")
    p.set_defaults(func=cmd_schema)

    for register in _extra_commands():
        register(sub)
    return parser


def _extra_commands():
    """Sub-commands defined in their own modules (compare, sweep, calibrate, report)."""
    from . import cli_extra

    return cli_extra.REGISTER


def load(path: str, overrides: list[str]):
    """Load a scenario file with command-line overrides applied."""
    from .composition import load_composed

    return load_composed(path, overrides)


def cmd_run(args) -> int:
    """``secsim run``: replications of one scenario, KPI table, output folder."""
    from .display import Progress, kpi_table, summary_json
    from .executors import make_executor
    from .output import RunWriter
    from .runner import run

    if args.replications < 1:
        raise UsageError("--replications must be at least 1")
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    scenario = load(args.scenario, args.overrides)
    out = Path(args.out) if args.out else (None if args.json else Path("outputs") / scenario.name)
    if out is not None:
        out = output_folder(out)
    writer = RunWriter(out, scenario, header=f"resolved from {args.scenario}") if out else None
    progress = Progress(f"{scenario.name}: replications", args.replications,
                        enabled=not args.json)

    def on_rep(rep):
        if writer is not None:
            writer(rep)
        progress.step()

    try:
        result = run(scenario, args.replications, args.seed,
                     make_executor("processes", args.workers),
                     events=not args.no_events and writer is not None, on_replication=on_rep)
    except BaseException:
        if writer is not None:
            writer.close()  # what was written stays readable
        raise
    progress.finish()
    if writer is not None:
        writer.close(result, {"replications_requested": args.replications,
                              "workers": args.workers, "command": " ".join(sys.argv)})
        if not result.kpis.empty:
            from .report import write_run_report

            write_run_report(out)
    for rep, err in result.failures:
        print(f"replication {rep} failed: {err}", file=sys.stderr)
    if args.json:
        print(json.dumps({"scenario": scenario.name, "seed": args.seed,
                          "replications": int(result.kpis.replication.nunique())
                          if not result.kpis.empty else 0,
                          "kpis": summary_json(result.summary)}, indent=2))
    else:
        n = result.kpis.replication.nunique() if not result.kpis.empty else 0
        print(kpi_table(result.summary,
                        f"{scenario.name}: {n} replications, seed {args.seed}, "
                        f"{result.seconds:.1f}s"))
        if out is not None:
            print(f"\nResults written to {out}/ (kpis.parquet, summary.csv, scenario.yaml, "
                  f"{'events, ' if not args.no_events else ''}report.html)")
    if result.interrupted:
        print("interrupted: the completed replications above were kept", file=sys.stderr)
        return 130
    return 1 if result.failures else 0


def cmd_validate(args) -> int:
    """``secsim validate``: check scenario files, report every problem."""
    from .scenario_io import dump_yaml

    bad = 0
    for path in args.scenarios:
        try:
            scenario = load(path, args.overrides)
        except ScenarioError as exc:
            print(str(exc), file=sys.stderr)
            bad += 1
            continue
        n_sec = len(scenario.secretaries())
        print(f"{path}: OK ({len(scenario.departments)} departments, {len(scenario.teams)} "
              f"teams, {n_sec} secretaries, {scenario.calendar.horizon_days} days)")
        if args.print:
            print(dump_yaml(scenario))
    return 2 if bad else 0


def cmd_schema(args) -> int:
    """``secsim schema``: the JSON Schema of scenario files."""
    from .scenario_io import json_schema

    text = json.dumps(json_schema(), indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
        print(f"JSON Schema written to {args.out}")
    else:
        print(text)
    return 0


def _terminate(_signum, _frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``secsim`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    # A polite kill (timeout, a batch scheduler) stops like Ctrl-C: results written so far
    # are closed properly and stay readable.
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return args.func(args)
    except ScenarioError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"secsim {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `secsim run ... --json | head`): stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - last resort: no traceback for users
        if args.debug:
            raise
        print(f"secsim {args.command}: internal error: {type(exc).__name__}: {exc}\n"
              "Please report it with the command and scenario; rerun with --debug for details.",
              file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
