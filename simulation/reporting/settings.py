"""How a candidate's settings are written in tables and pages: ``path=value, ...``."""

from __future__ import annotations

import json


def describe_settings(settings: dict) -> str:
    """``path=value`` pairs (values as JSON), or ``(base)`` when nothing is set."""
    return ", ".join(f"{k}={json.dumps(v)}" for k, v in settings.items()) or "(base)"
