"""``simulation.run`` and ``simulation.compare``: replications of one scenario, or paired
runs of several, optionally written to an output folder."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from simulation.analysis.compare import COLUMNS
from simulation.analysis.compare import compare as compare_kpis
from simulation.runs.executors import Executor
from simulation.runs.factory import make_executor
from simulation.runs.output import RunWriter
from simulation.runs.runner import Replication, RunResult, run_many
from simulation.runs.runner import run as run_replications
from simulation.scenario.composition import load_scenario
from simulation.scenario.schema import Scenario
from simulation.scenario.volumes import check_event_budget


def run(
    scenario: Scenario | str | Path,
    replications: int = 20,
    seed: int = 1,
    workers: int = 1,
    executor: Executor | None = None,
    out: str | Path | None = None,
    events: bool = True,
    max_events: int | None = None,
) -> RunResult:
    """Run a scenario (object or YAML path) and return its KPIs with confidence intervals.

    With ``out`` the tables are also written there as Parquet (see README, "Outputs";
    report.html is written by the command line, or afterwards by ``secsim report out``),
    and the event tables are streamed to disk instead of being kept in memory. A scenario
    whose run would simulate more than ``max_events`` events (default 10 million) is
    refused with a ScenarioError before anything runs.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    check_event_budget(scenario, max_events)
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


@dataclass
class Comparison:
    """Scenarios run with common random numbers, and their paired differences to a baseline.

    ``table`` is what ``secsim compare`` writes to comparison.parquet: every KPI of every
    scenario and department with its CI, and its paired difference to the baseline.
    """

    baseline: str
    table: pd.DataFrame
    results: dict[str, RunResult]

    def kpi(self, kpi: str, department: str = "ALL") -> pd.DataFrame:
        """One KPI, one row per scenario: mean, CI and paired difference to the baseline."""
        rows = self.table[(self.table.kpi == kpi) & (self.table.department == department)]
        if rows.empty:
            known = sorted(self.table.kpi.unique())
            raise KeyError(f"no KPI '{kpi}' for department '{department}'; KPIs: {known}")
        return rows.drop(columns=["kpi", "department"]).set_index("scenario")

    @property
    def scenarios(self) -> list[str]:
        """Scenario names in the order they were given."""
        return list(self.results)

    @property
    def interrupted(self) -> bool:
        """Was the run stopped early (the comparison covers the replications completed)?"""
        return any(r.interrupted for r in self.results.values())


def compare(
    scenarios: Sequence[Scenario | str | Path],
    replications: int = 20,
    seed: int = 1,
    baseline: str | None = None,
    workers: int = 1,
    executor: Executor | None = None,
    out: str | Path | None = None,
    events: bool = False,
    on_replication: Callable[[int, Replication], None] | None = None,
    headers: Sequence[str] | None = None,
    max_events: int | None = None,
) -> Comparison:
    """Run scenarios (objects or YAML paths) with common random numbers and compare them.

    The baseline defaults to the scenario named 'baseline', else the first. With ``out``,
    each scenario's tables go to ``out/<name>/`` and the comparison to
    ``out/comparison.parquet|csv|json`` (the HTML report is ``secsim report out``);
    ``headers``: a comment for each scenario.yaml written (default: the file it came from).
    """
    loaded = [s if isinstance(s, Scenario) else load_scenario(s) for s in scenarios]
    for s in loaded:
        check_event_budget(s, max_events)
    headers = list(headers) if headers is not None else [
        "" if isinstance(s, Scenario) else f"resolved from {s}" for s in scenarios]
    names = [s.name for s in loaded]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"several scenarios are named {dupes}; names must be unique")
    baseline = baseline or ("baseline" if "baseline" in names else names[0])
    if baseline not in names:
        raise ValueError(f"baseline '{baseline}' is not one of the scenarios {names}")
    executor = executor or make_executor("processes", workers)
    out = Path(out) if out is not None else None
    writers = ([RunWriter(out / s.name, s, header=h) for s, h in zip(loaded, headers)]
               if out is not None else [])

    def on_rep(j: int, rep: Replication) -> None:
        if writers:
            writers[j](rep)
        if on_replication is not None:
            on_replication(j, rep)

    try:
        results = run_many(loaded, replications, seed, executor, events=events,
                           on_replication=on_rep)
    except BaseException:
        for w in writers:
            w.close()  # what was written stays readable
        raise
    for w, r in zip(writers, results):
        w.close(r, {"replications_requested": replications, "compare_baseline": baseline})
    usable = {r.scenario.name: r.kpis for r in results if not r.kpis.empty}
    table = (compare_kpis(usable, baseline) if baseline in usable
             else pd.DataFrame(columns=COLUMNS))
    if out is not None and baseline in usable:
        table.to_parquet(out / "comparison.parquet", index=False)
        table.to_csv(out / "comparison.csv", index=False)
        pd.Series({"baseline": baseline, "seed": seed,
                   "replications": replications}).to_json(out / "comparison.json")
    return Comparison(baseline, table, {r.scenario.name: r for r in results})


def lost_workers(executor: Executor) -> dict:
    """What run.json says of workers lost by the last run (nothing when none was)."""
    incidents = getattr(executor, "incidents", None) or []
    if not incidents:
        return {}
    # One scenario from replication 0: task i is replication i.
    lost = [{"worker": r["worker"], "time": r["time"], "expected": r["expected"],
             "rerun_replications": r["tasks"]} for r in incidents]
    return {"lost_workers": lost, "rerun_tasks": sum(len(r["tasks"]) for r in incidents)}
