"""secsim: discrete-event simulation of hospital medical secretariats.

Typical use::

    import simulation
    scenario = simulation.load_scenario("scenarios/baseline.yaml")
    result = simulation.run(scenario, replications=20, seed=1)
    result.summary          # mean and 95% CI of every KPI, per department and ALL

This module only re-exports the public API, lazily: ``import simulation`` stays cheap and
the command line does not pay for pandas or SciPy before it needs them. The code lives in
the subpackages (see docs/architecture.md): scenario, engine, analysis, runs, reporting,
sweeps, cli.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from simulation.version import __version__

# public name -> module that defines it
_EXPORTS = {
    "Scenario": "simulation.scenario.schema",
    "ScenarioError": "simulation.scenario.errors",
    "dump_yaml": "simulation.scenario.io",
    "json_schema": "simulation.scenario.io",
    "load_scenario": "simulation.scenario.composition",
    "RunResult": "simulation.runs.runner",
    "run": "simulation.runs.api",
    "compare": "simulation.runs.api",
    "Comparison": "simulation.runs.api",
    "Executor": "simulation.runs.executors",
    "make_executor": "simulation.runs.factory",
}

if TYPE_CHECKING:
    from simulation.runs.api import Comparison, compare, run
    from simulation.runs.executors import Executor
    from simulation.runs.factory import make_executor
    from simulation.runs.runner import RunResult
    from simulation.scenario.composition import load_scenario
    from simulation.scenario.errors import ScenarioError
    from simulation.scenario.io import dump_yaml, json_schema
    from simulation.scenario.schema import Scenario


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'simulation' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = ["Scenario", "ScenarioError", "RunResult", "Comparison", "load_scenario", "run",
           "compare", "dump_yaml", "json_schema", "make_executor", "Executor", "__version__"]
