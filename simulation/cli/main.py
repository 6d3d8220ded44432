"""The ``secsim`` command line: run | validate | schema | compare | sweep | optimise |
sensitivity | advise | calibrate | report | generate | ui.

Each command lives in its own module with ``register(subparsers)``, which sets
``func(args) -> int``. Every user error (bad scenario, missing file, impossible option) is
printed as one clear message and exits with status 2; ``--debug`` shows the traceback of
unexpected errors. Heavy libraries are imported inside the commands, never here.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import signal
import sys

from simulation.errors import UsageError
from simulation.version import __version__

__all__ = ["UsageError", "main", "build_parser"]

# In the order of ``secsim --help``; calibration is a package of its own beside simulation.
COMMANDS = ("simulation.cli.run", "simulation.cli.validate", "simulation.cli.schema",
            "simulation.cli.compare", "simulation.cli.sweep", "simulation.cli.optimise",
            "simulation.cli.sensitivity", "simulation.cli.advise", "calibration.cli",
            "simulation.cli.report", "simulation.cli.generate", "simulation.cli.ui")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    parser = argparse.ArgumentParser(
        prog="secsim",
        description="Discrete-event simulation of hospital medical secretariats.",
        epilog="Run 'secsim COMMAND --help' for a command's options. Docs: README.md, docs/.")
    parser.add_argument("--version", action="version", version=f"secsim {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        if importlib.util.find_spec(name.split(".")[0]) is not None:
            importlib.import_module(name).register(sub)
    return parser


def _terminate(_signum, _frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``secsim`` command; returns the exit status."""
    from simulation.scenario.errors import ScenarioError

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
