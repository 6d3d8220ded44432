"""Sub-commands beyond run/validate/schema, each defined in its own module.

Each module listed here exposes ``register(subparsers)`` adding its parser, with
``func(args) -> int`` set as the default; errors follow cli.py's rules.
"""

from __future__ import annotations

import importlib
import importlib.util

MODULES = ("simulation.cli_compare", "simulation.cli_sweep", "calibration.cli",
           "simulation.cli_report")


def _registrars():
    out = []
    for name in MODULES:
        if importlib.util.find_spec(name) is None:
            continue
        out.append(importlib.import_module(name).register)
    return out


REGISTER = _registrars()
