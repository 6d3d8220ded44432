"""``secsim validate``: check scenario files without running them, every problem at once."""

from __future__ import annotations

import sys

from simulation.cli.common import add_max_events, add_overrides, add_quiet, load, print_warnings


def register(sub) -> None:
    """Add ``secsim validate`` to the command line."""
    p = sub.add_parser("validate", help="check scenario files without running them")
    p.add_argument("scenarios", nargs="+", help="scenario YAML files")
    add_overrides(p)
    p.add_argument("--print", action="store_true", help="print the resolved scenario (YAML)")
    add_max_events(p)
    add_quiet(p)
    p.set_defaults(func=cmd_validate)


def cmd_validate(args) -> int:
    """Check each file; print one line per valid file (and its warnings, on stderr) and
    every problem of the others."""
    from simulation.scenario.io import ScenarioError, dump_yaml

    bad = 0
    for path in args.scenarios:
        try:
            scenario = load(path, args.overrides, args.max_events)
        except ScenarioError as exc:
            print(str(exc), file=sys.stderr)
            bad += 1
            continue
        n_sec = len(scenario.secretaries())
        if not args.quiet:
            print(f"{path}: OK ({len(scenario.departments)} departments, {len(scenario.teams)} "
                  f"teams, {n_sec} secretaries, {scenario.calendar.horizon_days} days)")
        print_warnings(scenario, path)
        if args.print:
            print(dump_yaml(scenario))
    return 2 if bad else 0
