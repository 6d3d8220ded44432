"""``secsim generate``: write generated scenario files (today: a hospital group)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from simulation.cli.common import _whole_number, add_quiet, seed_type
from simulation.errors import UsageError

MAX_SECRETARIATS = 1000  # a group of this size is already hours per replication


def _secretariats(text: str) -> int:
    value = _whole_number(text, 1, "is not positive; give at least 1 secretariat")
    if value > MAX_SECRETARIATS:
        raise argparse.ArgumentTypeError(f"{value} is more than {MAX_SECRETARIATS}; give fewer")
    return value


def _positive(text: str) -> int:
    return _whole_number(text, 1, "is not positive; give a number >= 1")


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not 0.05 <= value <= 0.99:
        raise argparse.ArgumentTypeError(f"{text} is not between 0.05 and 0.99 (a share: "
                                         "0.8 for 80%)")
    return value


def register(sub) -> None:
    """Add ``secsim generate`` to the command line."""
    p = sub.add_parser("generate", help="write generated scenario files (a hospital group)")
    kinds = p.add_subparsers(dest="kind", metavar="KIND", required=True)
    g = kinds.add_parser(
        "group", help="a hospital group of dedicated secretariats and two pooling variants",
        description="Write a hospital group of small dedicated secretariats (sizes drawn from "
        "the HUPSSD figures: 148.3 AMA FTE in 80 secretariats, 0.8-4.7 FTE, median 2) and, "
        "next to it, two variants that extend it: phones pooled per pole "
        "(<name>_pole_phones.yaml) and a group call platform (<name>_call_platform.yaml). "
        "The same options and seed always write the same files. See docs/howto-group.md.")
    g.add_argument("--secretariats", type=_secretariats, default=80, metavar="N",
                   help="number of secretariats (default 80, as in HUPSSD)")
    g.add_argument("--seed", type=seed_type, default=1, help="random seed of the sizes (default 1)")
    poles = g.add_mutually_exclusive_group()
    poles.add_argument("--poles", type=_positive, default=None, metavar="N",
                       help="number of poles (default: secretariats / --pole-size)")
    poles.add_argument("--pole-size", type=_positive, default=10, metavar="N",
                       help="secretariats per pole (default 10)")
    g.add_argument("--utilisation", type=_share, default=0.8, metavar="SHARE",
                   help="share of each secretariat's time on duty its demand fills "
                        "(default 0.8, as in the baseline)")
    g.add_argument("--out", "-o", required=True, metavar="FILE.yaml",
                   help="the group's file; the variants are written beside it")
    add_quiet(g)
    g.set_defaults(func=cmd_generate_group)


def cmd_generate_group(args) -> int:
    """Write the group file and its two variants."""
    from simulation.scenario.bounds import name_problem
    from simulation.scenario.group_yaml import group_files
    from simulation.scenario.schema import SCENARIO_NAME

    out = Path(args.out)
    if out.suffix not in (".yaml", ".yml"):
        raise UsageError(f"--out '{out}' must be a .yaml file (the variants take its name)")
    if name_problem(out.stem) or not re.match(SCENARIO_NAME, out.stem):
        raise UsageError(f"--out '{out}': the file name names the scenario; use letters, "
                         "digits, '_', '-' (e.g. hospital_group.yaml)")
    if out.exists() and out.is_dir():
        raise UsageError(f"--out '{out}' is a folder; give a file path such as "
                         f"{out / 'hospital_group.yaml'}")
    try:
        files = group_files(args.secretariats, args.seed, args.poles, args.pole_size,
                            args.utilisation, str(args.out))
    except ValueError as exc:  # poles that would pool nothing (``group.pole_count``)
        raise UsageError(str(exc)) from None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (out.parent / name).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write to '{out.parent}': {exc.strerror}; choose another "
                         "--out") from None
    if not args.quiet:
        for name in files:
            print(out.parent / name)
    return 0
