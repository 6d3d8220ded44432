"""Reorganisation levers as scenario transforms (scenario in, scenario out)."""

from __future__ import annotations

from .scenario import Scenario


def apply_levers(scenario: Scenario, source: str | None = None) -> Scenario:
    """The scenario with its levers applied (none are defined yet)."""
    return scenario
