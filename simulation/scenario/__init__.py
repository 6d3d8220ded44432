"""What a user writes: the scenario model (pydantic), YAML reading, composition, levers.

Imports nothing else of ``simulation``. The names of ``scenario.schema`` (``Scenario``,
``Calendar``, the stream types...) are also reachable here, lazily, as they were when the
scenario model was one module: ``from simulation.scenario import Scenario`` keeps working
without loading pydantic for code that only needs ``scenario.errors``.
"""

import importlib


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    schema = importlib.import_module("simulation.scenario.schema")
    try:
        return getattr(schema, name)
    except AttributeError:
        raise AttributeError(f"module 'simulation.scenario' has no attribute '{name}'") from None
