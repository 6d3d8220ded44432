"""``secsim schema``: the JSON Schema of scenario files, for editors and other validators."""

from __future__ import annotations

import json
from pathlib import Path


def register(sub) -> None:
    """Add ``secsim schema`` to the command line."""
    p = sub.add_parser("schema", help="print the JSON Schema of scenario files")
    p.add_argument("--out", "-o", help="write it to this file instead of stdout")
    from simulation.cli.common import add_quiet

    add_quiet(p)
    p.set_defaults(func=cmd_schema)


def cmd_schema(args) -> int:
    """Print (or write) the JSON Schema."""
    from simulation.scenario.io import json_schema

    text = json.dumps(json_schema(), indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
        if not args.quiet:
            print(f"JSON Schema written to {args.out}")
    else:
        print(text)
    return 0
