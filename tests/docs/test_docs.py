"""The documentation tells the truth: reference up to date, CI runs the README's command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simulation.scenario.composition import load_composed
from simulation.scenario.reference import render

ROOT = Path(__file__).resolve().parents[2]


def test_scenario_reference_is_generated_from_the_current_models():
    """docs/scenario.md must be regenerated when a field changes (python -m simulation.scenario.reference)."""
    assert (ROOT / "docs" / "scenario.md").read_text(encoding="utf-8") == render()


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^(pip install .*&& pytest.*)$", readme, re.M)
    assert len(commands) == 1
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1].strip() == commands[0].strip()


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_bundled_scenario_is_valid_and_named_after_its_file(path):
    scenario = load_composed(path)
    assert scenario.name == path.stem
