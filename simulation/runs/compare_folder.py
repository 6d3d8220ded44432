"""A comparison's output folder: its record (``comparison.json``), lock and tables.

Layout of ``out/``::

    comparison.json     the record: baseline, seed, replications, events, version and the
                        scenarios (name and digest) that make the comparison; status
    compare.lock        while a compare writes the folder
    <scenario>/         one run folder per scenario listed in the record (runs.output)
    comparison.parquet, comparison.csv   written at the end, from the scenario folders

Only the scenarios listed in the record belong to the comparison: a folder of another
scenario left by an earlier compare is ignored (and named when a compare starts), never
read into the comparison or its report.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from simulation.analysis.compare import COLUMNS
from simulation.analysis.compare import compare as compare_kpis
from simulation.runs.files import atomic_table, atomic_text, temporary
from simulation.runs.lock import FolderLock
from simulation.runs.output import hold
from simulation.runs.record import (
    COMPARISON_KIND,
    COMPARISON_RECORD,
    IDENTITY,
    RUN_RECORD,
    RecordError,
    read_record,
    scenario_digest,
    to_json,
)
from simulation.runs.runner import RunResult
from simulation.scenario.schema import Scenario
from simulation.version import __version__

LOCK = "compare.lock"


class ComparisonFolder:
    """The top folder of a comparison, locked from creation to ``close``."""

    def __init__(self, out: str | Path, scenarios: list[Scenario], baseline: str, seed: int,
                 replications: int, events: bool, resume: bool,
                 notify: Callable[[str], None] | None = None, meta: dict[str, Any] | None = None):
        self.out = Path(out)
        self.baseline, self.seed, self.replications = baseline, seed, replications
        self.events, self.resume = bool(events), resume
        self.notify = notify or (lambda text: print(text, file=sys.stderr, flush=True))
        self.record: dict[str, Any] = {
            "kind": COMPARISON_KIND, "baseline": baseline, "seed": seed,
            "replications": replications, "replications_requested": replications,
            "events": self.events, "secsim_version": __version__,
            "scenarios": [{"name": s.name, "scenario_digest": scenario_digest(s)}
                          for s in scenarios]}
        self.out.mkdir(parents=True, exist_ok=True)
        self.lock = FolderLock(self.out, LOCK, "compare", self.notify)
        hold(self.lock, lambda: self._open(meta or {}))

    def _open(self, meta: dict[str, Any]) -> None:
        old = read_record(self.out / COMPARISON_RECORD)
        if self.resume and old is not None:
            self._check_same(old)
        elif self.resume:
            self.notify(f"{self.out}: no earlier comparison to resume; starting it")
        for name in ("comparison.parquet", "comparison.csv", "report.html"):
            (self.out / name).unlink(missing_ok=True)  # stale until this run ends
        listed = {s["name"] for s in self.record["scenarios"]}
        stale = sorted(p.name for p in self.out.iterdir()
                       if p.is_dir() and p.name not in listed and (p / RUN_RECORD).exists())
        if stale:
            self.notify(f"{self.out}: ignoring scenario folder(s) {', '.join(stale)} left by "
                        f"an earlier compare: not part of this comparison (the report reads "
                        f"only the scenarios listed in {COMPARISON_RECORD}); delete them if "
                        "you no longer need them")
        self.record.update(status="running", started=time.strftime("%Y-%m-%dT%H:%M:%S"), **meta)
        atomic_text(self.out / COMPARISON_RECORD, to_json(self.record))

    def _check_same(self, old: dict[str, Any]) -> None:
        if old.get("kind") != COMPARISON_KIND:
            raise RecordError(f"{self.out}/{COMPARISON_RECORD} was written by an older secsim; "
                              "run without --resume to start the comparison again, or choose "
                              "another --out")
        for name in ("seed", "replications_requested", "events", "secsim_version"):
            if old.get(name) != self.record[name]:
                raise RecordError(f"{self.out} holds a comparison with {name} = "
                                  f"{old.get(name)}, this one has {self.record[name]}; resume "
                                  f"it with {IDENTITY[name](old.get(name))}, or choose another "
                                  "--out")
        before = [s["name"] for s in old.get("scenarios", [])]
        now = [s["name"] for s in self.record["scenarios"]]
        if before != now:
            raise RecordError(f"{self.out} holds a comparison of the scenarios {before}, this "
                              f"one has {now}; resume it with the same scenario files, or "
                              "choose another --out")
        for a, b in zip(old["scenarios"], self.record["scenarios"]):
            if a.get("scenario_digest") != b["scenario_digest"]:
                raise RecordError(f"scenario {b['name']} is not the one the comparison in "
                                  f"{self.out} started with (scenario_digest differs: its file "
                                  "or the --set overrides changed); resume it with the same "
                                  "files and overrides, or choose another --out")

    def finish(self, results: list[RunResult]) -> pd.DataFrame:
        """Write the comparison table (when the baseline has replications) and the record."""
        usable = {r.scenario.name: r.kpis for r in results if not r.kpis.empty}
        table = (compare_kpis(usable, self.baseline) if self.baseline in usable
                 else pd.DataFrame(columns=COLUMNS))
        if self.baseline in usable:
            atomic_table(table, self.out / "comparison.parquet")
            tmp = temporary(self.out / "comparison.csv")
            table.to_csv(tmp, index=False)
            tmp.replace(self.out / "comparison.csv")
        interrupted = any(r.interrupted for r in results)
        failures = any(r.failures for r in results)
        complete = all(len(r.kpis.replication.unique() if not r.kpis.empty else []) >=
                       self.replications for r in results)
        self.record.update(
            status="interrupted" if interrupted else "failures" if failures
            else "complete" if complete else "incomplete",
            finished=time.strftime("%Y-%m-%dT%H:%M:%S"),
            replications_completed={r.scenario.name: (sorted(int(x) for x in
                                                             r.kpis.replication.unique())
                                                      if not r.kpis.empty else [])
                                    for r in results})
        atomic_text(self.out / COMPARISON_RECORD, to_json(self.record))
        return table

    def close(self) -> None:
        """Release the folder's lock."""
        self.lock.release()
