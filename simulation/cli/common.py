"""Helpers every command shares: argument types, the output folder, loading a scenario.

Kept light (no pandas, no SciPy) so that ``secsim --help`` answers at once.
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
from pathlib import Path

from simulation.errors import UsageError


def _whole_number(text: str, minimum: int, too_small: str) -> int:
    """``text`` as a whole number >= ``minimum``, else an argparse error saying why."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"{value} {too_small}")
    return value


def seed_type(text: str) -> int:
    """argparse type of a random seed: a whole number >= 0."""
    return _whole_number(text, 0, "is negative; give a seed >= 0")


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


def add_quiet(p: argparse.ArgumentParser) -> None:
    """``--quiet/-q`` (every command): no progress bar and no status lines; results,
    warnings and errors are still printed."""
    p.add_argument("--quiet", "-q", action="store_true",
                   help="no progress bar or status lines (results, warnings and errors stay)")


def add_overrides(p: argparse.ArgumentParser, example: str = "calendar.horizon_days=60") -> None:
    """``--set KEY=VALUE`` (repeatable): override a scenario field by its dotted path."""
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help=f"override a scenario field, e.g. {example} (repeatable)")


def max_events_type(text: str) -> int:
    """argparse type of ``--max-events``: a whole number >= 1."""
    return _whole_number(text, 1, "is not positive; give a number >= 1")


def add_max_events(p: argparse.ArgumentParser) -> None:
    """``--max-events N``: the event budget a scenario's run may need (refused above it)."""
    p.add_argument("--max-events", type=max_events_type, default=None, metavar="N",
                   help="refuse a scenario whose run would simulate more than N events "
                        "(calls, visits, tasks, report steps; default 30 million, a few minutes "
                        "per replication; a year of an 80-secretariat group is 13 million)")


def load(path: str, overrides: list[str], max_events: int | None = None):
    """Load a scenario file with command-line overrides applied, refusing one whose run
    would exceed the event budget (``--max-events``)."""
    from simulation.scenario.composition import load_composed
    from simulation.scenario.volumes import check_event_budget

    scenario = load_composed(path, overrides)
    check_event_budget(scenario, max_events, path)
    return scenario


def print_warnings(scenario, source: str) -> None:
    """Print on stderr what the scenario allows but a lead would not plan (lines or desks
    open with nobody on duty, more work than time on duty or than the doctors' sittings);
    the scenario still runs."""
    from simulation.scenario.cover import cover_warnings
    from simulation.scenario.volumes import signoff_warnings, utilisation_warnings

    for path, message in [*cover_warnings(scenario), *utilisation_warnings(scenario),
                          *signoff_warnings(scenario)]:
        print(f"{source}: warning: {path}: {message}", file=sys.stderr)


def add_resume(p: argparse.ArgumentParser, what: str) -> None:
    """``--resume``: carry on the run in --out, keeping what it saved."""
    p.add_argument("--resume", action="store_true",
                   help=f"continue the {what} in --out: run only the replications missing "
                        "there (same scenario, seed and replications; results are identical "
                        "to an uninterrupted run)")


def resume_command(args, out: Path, parser: argparse.ArgumentParser, command: str,
                   skip: tuple[str, ...] = ()) -> str:
    """The command that resumes a run: its arguments and every option given (lists
    repeated), plus --resume --out OUT; options in ``skip`` are left out."""
    not_repeated = {"help", "resume", "out", *skip}
    positional: list[str] = []
    options: list[str] = []
    for action in parser._actions:
        value = getattr(args, action.dest, None)
        if action.dest in not_repeated or value is None or value is False or value == []:
            continue
        if not action.option_strings:
            positional += [str(v) for v in value] if isinstance(value, list) else [str(value)]
            continue
        flag = max(action.option_strings, key=len)  # the long form reads best
        if action.nargs == 0:
            options.append(flag)
        else:
            for v in value if isinstance(value, list) else [value]:
                options += [flag, f"{v:g}" if isinstance(v, float) else str(v)]
    words = ["secsim", *(["--debug"] if getattr(args, "debug", False) else []), command,
             *positional, "--resume", "--out", str(out), *options]
    return shlex.join(words)


def finite_json(x):
    """Plain data with NaN and infinities as None, so ``json.dumps`` writes standard JSON."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: finite_json(v) for k, v in x.items()}
    if isinstance(x, list):
        return [finite_json(v) for v in x]
    return x
