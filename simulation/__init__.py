"""secsim: discrete-event simulation of hospital medical secretariats.

Typical use::

    import simulation
    scenario = simulation.load_scenario("scenarios/baseline.yaml")
    result = simulation.run(scenario, replications=20, seed=1)
    result.summary          # mean and 95% CI of every KPI, per department and ALL
"""

from __future__ import annotations

__version__ = "0.1.0"

from pathlib import Path

from .executors import Executor, make_executor
from .runner import RunResult
from .scenario import Scenario
from .scenario_io import ScenarioError, dump_yaml, json_schema, load_scenario


def run(
    scenario: Scenario | str | Path,
    replications: int = 20,
    seed: int = 1,
    workers: int = 1,
    executor: Executor | None = None,
    out: str | Path | None = None,
    events: bool = True,
) -> RunResult:
    """Run a scenario (object or YAML path) and return its KPIs with confidence intervals.

    With ``out`` the tables are also written there as Parquet (see README, "Outputs"),
    and the event tables are streamed to disk instead of being kept in memory.
    """
    from .output import RunWriter
    from .runner import run as run_replications

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    executor = executor or make_executor("processes", workers)
    writer = RunWriter(out, scenario) if out is not None else None
    try:
        result = run_replications(scenario, replications, seed, executor, events=events,
                                  on_replication=writer)
    except BaseException:
        if writer is not None:
            writer.close()  # what was written stays readable
        raise
    if writer is not None:
        writer.close(result, {"replications_requested": replications, "executor": executor.name})
    return result


__all__ = ["Scenario", "ScenarioError", "RunResult", "load_scenario", "run", "dump_yaml",
           "json_schema", "make_executor", "__version__"]
