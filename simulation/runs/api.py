"""``simulation.run`` and ``simulation.compare``: replications of one scenario, or paired
runs of several, optionally written to an output folder."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from simulation.analysis.compare import COLUMNS
from simulation.analysis.compare import compare as compare_kpis
from simulation.runs.compare_folder import ComparisonFolder
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
    resume: bool = False,
    on_replication: Callable[[Replication], None] | None = None,
    header: str = "",
    meta: dict | None = None,
    on_start: Callable[[int, int], None] | None = None,
    max_events: int | None = None,
) -> RunResult:
    """Run a scenario (object or YAML path) and return its KPIs with confidence intervals.

    With ``out`` each replication is written there as it finishes (see README, "Outputs";
    report.html is written by the command line, or afterwards by ``secsim report out``),
    and the event tables go to disk instead of memory. ``resume``: keep the replications
    an earlier, interrupted run of the same scenario, seed and replications wrote in
    ``out`` and run only the others (RecordError if the folder holds another run).
    ``on_replication`` is called as each replication finishes (e.g. a progress bar),
    ``on_start(replications, already_written)`` before the first starts. A scenario
    whose run would simulate more than ``max_events`` events (default 30 million) is
    refused with a ScenarioError before anything runs.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    check_event_budget(scenario, max_events)
    executor = executor or make_executor("processes", workers)
    if out is None:
        if on_start is not None:
            on_start(replications, 0)
        return run_replications(scenario, replications, seed, executor, events=events,
                                on_finished=on_replication)
    writer = RunWriter(out, scenario, header, seed, replications, events, resume, meta)
    todo = [r for r in range(replications) if r not in writer.done]
    if on_start is not None:
        on_start(replications, replications - len(todo))

    def on_finished(rep: Replication) -> None:
        writer(rep)
        if on_replication is not None:
            on_replication(rep)

    try:
        result = run_replications(scenario, replications, seed, executor, events=events,
                                  todo=todo, on_finished=on_finished,
                                  event_output=writer.event_output(shared_disk(executor)))
    except BaseException:
        writer.close()  # what was written stays, and --resume carries on from it
        raise
    return writer.close(result, {"executor": executor.name, **lost_workers(executor, todo)})


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
    resume: bool = False,
    notify: Callable[[str], None] | None = None,
    meta: dict | None = None,
    on_start: Callable[[int, int], None] | None = None,
    max_events: int | None = None,
) -> Comparison:
    """Run scenarios (objects or YAML paths) with common random numbers and compare them.

    The baseline defaults to the scenario named 'baseline', else the first. With ``out``,
    each scenario's replications go to ``out/<name>/`` as they finish and the comparison
    to ``out/comparison.parquet|csv|json`` (the HTML report is ``secsim report out``);
    ``resume`` runs only the replications missing there (see ``run``). ``headers``: a
    comment for each scenario.yaml written (default: the file it came from);
    ``on_replication(scenario_index, rep)`` is called as each replication finishes,
    ``on_start(replications of all scenarios, already written)`` before the first starts;
    ``notify(text)``: messages for the user (default: stderr).
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
    if out is None:
        if on_start is not None:
            on_start(len(loaded) * replications, 0)
        results = run_many(loaded, replications, seed, executor, events=events,
                           on_finished=on_replication)
        usable = {r.scenario.name: r.kpis for r in results if not r.kpis.empty}
        table = (compare_kpis(usable, baseline) if baseline in usable
                 else pd.DataFrame(columns=COLUMNS))
        return Comparison(baseline, table, {r.scenario.name: r for r in results})
    folder = ComparisonFolder(out, loaded, baseline, seed, replications, events, resume,
                              notify, meta)
    try:
        return _compare_into(folder, loaded, headers, executor, on_replication, on_start)
    finally:
        folder.close()


def _compare_into(folder: ComparisonFolder, loaded: list[Scenario], headers: list[str],
                  executor: Executor, on_replication, on_start) -> Comparison:
    writers: list[RunWriter] = []
    try:
        for s, h in zip(loaded, headers):
            writers.append(RunWriter(folder.out / s.name, s, h, folder.seed, folder.replications,
                                     folder.events, folder.resume,
                                     {"compare_baseline": folder.baseline}, folder.notify))
        todo = [[r for r in range(folder.replications) if r not in w.done] for w in writers]
        if on_start is not None:
            total = len(writers) * folder.replications
            on_start(total, total - sum(map(len, todo)))

        def on_finished(j: int, rep: Replication) -> None:
            writers[j](rep)
            if on_replication is not None:
                on_replication(j, rep)

        local = shared_disk(executor)
        results = run_many(loaded, folder.replications, folder.seed, executor,
                           events=folder.events, todo=todo, on_finished=on_finished,
                           event_outputs=[w.event_output(local) for w in writers])
    except BaseException:
        for w in writers:
            w.close()  # what was written stays, and --resume carries on from it
        raise
    results = [w.close(r) for w, r in zip(writers, results)]
    table = folder.finish(results)
    return Comparison(folder.baseline, table, {r.scenario.name: r for r in results})


def shared_disk(executor: Executor) -> bool:
    """Do the executor's tasks run on this machine (so they can write into ``out``)?
    An executor that does not say is taken not to: its tasks hand bytes back instead."""
    return bool(getattr(executor, "shared_disk", False))


def lost_workers(executor: Executor, replications: list[int] | None = None) -> dict:
    """What run.json says of workers lost by the last run (nothing when none was);
    ``replications``: the replication of each task (default: task i is replication i)."""
    incidents = getattr(executor, "incidents", None) or []
    if not incidents:
        return {}
    rep = (lambda t: t) if replications is None else replications.__getitem__
    lost = [{"worker": r["worker"], "time": r["time"], "expected": r["expected"],
             "rerun_replications": [rep(t) for t in r["tasks"]]} for r in incidents]
    return {"lost_workers": lost, "rerun_tasks": sum(len(r["tasks"]) for r in incidents)}
