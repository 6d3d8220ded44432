"""Candidates of an optimisation simulated, with their replications cached on disk.

A candidate is the base scenario's plain data with ``--vary`` settings written at their
paths (as ``--set`` does). Replication k of every candidate uses (seed, k): common random
numbers. KPI rows are kept per candidate in ``cache/<scenario digest>-s<seed>.parquet``
(written atomically after each batch), so a rerun with the same folder resumes and a
candidate met again is not simulated twice.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from simulation.decide.space import fte
from simulation.runs.executors import Executor
from simulation.runs.runner import run
from simulation.scenario.composition import compose, set_path, unshared
from simulation.scenario.schema import Scenario
from simulation.scenario.volumes import check_event_budget
from simulation.sweeps.spec import scenario_hash


class ReplicationFailed(RuntimeError):
    """A replication of a candidate raised: the search cannot judge it."""


class ScenarioEvaluator:
    """Simulates candidates of one base scenario on an executor, caching KPI rows."""

    def __init__(self, base: dict, source: str, seed: int, executor: Executor | None = None,
                 cache: Path | None = None, max_events: int | None = None):
        self.base, self.source, self.seed = base, source, seed
        self.executor, self.cache, self.max_events = executor, cache, max_events
        self._scenarios: dict[str, Scenario] = {}
        self._rows: dict[str, pd.DataFrame] = {}
        self.simulated = 0  # replications actually run (not read from the cache)

    def scenario(self, settings: dict[str, Any]) -> Scenario:
        """The resolved scenario of a candidate (ScenarioError if a value is refused)."""
        key = json.dumps(settings, sort_keys=True, default=str)
        if key not in self._scenarios:
            data = unshared(self.base)
            for path, value in settings.items():
                data = set_path(data, f"{path}={json.dumps(value)}")
            scenario = compose(data, source=self.source)
            check_event_budget(scenario, self.max_events, self.source)
            self._scenarios[key] = scenario
        return self._scenarios[key]

    def cost(self, settings: dict[str, Any]) -> float:
        return fte(self.scenario(settings))

    def kpis(self, settings: dict[str, Any], replications: int) -> pd.DataFrame:
        """KPI rows (every department and ALL) of replications 0..replications-1."""
        scenario = self.scenario(settings)
        key = f"{scenario_hash(scenario)}-s{self.seed}"
        rows = self._rows.get(key)
        if rows is None:
            rows = self._read(key)
        have = int(rows.replication.nunique()) if not rows.empty else 0
        if have < replications:
            result = run(scenario, replications - have, self.seed, executor=self.executor,
                         events=False, first_replication=have)
            if result.failures or result.interrupted:
                why = "; ".join(f"replication {r}: {e}" for r, e in result.failures) or \
                    (result.stopped or "interrupted")
                raise ReplicationFailed(f"{scenario.name} {settings}: {why}")
            self.simulated += replications - have
            rows = pd.concat([rows, result.kpis], ignore_index=True) if have else result.kpis
            self._write(key, rows)
        self._rows[key] = rows
        return rows[rows.replication < replications]

    def _read(self, key: str) -> pd.DataFrame:
        if self.cache is not None and (self.cache / f"{key}.parquet").exists():
            return pd.read_parquet(self.cache / f"{key}.parquet")
        return pd.DataFrame()

    def _write(self, key: str, rows: pd.DataFrame) -> None:
        if self.cache is None:
            return
        self.cache.mkdir(parents=True, exist_ok=True)
        tmp = self.cache / f".{key}.parquet.tmp"
        rows.to_parquet(tmp, index=False)
        os.replace(tmp, self.cache / f"{key}.parquet")
