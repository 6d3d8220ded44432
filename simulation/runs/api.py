"""``simulation.run``: replications of one scenario, optionally written to an output folder."""

from __future__ import annotations

from pathlib import Path

from simulation.runs.executors import Executor
from simulation.runs.factory import make_executor
from simulation.runs.output import RunWriter
from simulation.runs.runner import RunResult
from simulation.runs.runner import run as run_replications
from simulation.scenario.composition import load_scenario
from simulation.scenario.schema import Scenario


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
        writer.close(result, {"replications_requested": replications, "executor": executor.name,
                              **lost_workers(executor)})
    return result


def lost_workers(executor: Executor) -> dict:
    """What run.json says of workers lost by the last run (nothing when none was)."""
    incidents = getattr(executor, "incidents", None) or []
    if not incidents:
        return {}
    # One scenario from replication 0: task i is replication i.
    lost = [{"worker": r["worker"], "time": r["time"], "expected": r["expected"],
             "rerun_replications": r["tasks"]} for r in incidents]
    return {"lost_workers": lost, "rerun_tasks": sum(len(r["tasks"]) for r in incidents)}
