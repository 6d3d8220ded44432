"""Writing a run to its output folder: Parquet tables, the resolved scenario, metadata.

Tables are streamed replication by replication (one Parquet row group each), so memory
does not grow with the number of replications and an interrupted run keeps what it wrote.
"""

from __future__ import annotations

import json
import math
import platform
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from simulation.engine.records import TABLES
from simulation.runs.runner import Replication, RunResult
from simulation.scenario.io import dump_yaml
from simulation.scenario.schema import Scenario
from simulation.version import __version__

OUTPUT_FILES = [f"{name}.parquet" for name in
                (*TABLES, "kpis", "staff", "hourly", "report_delays", "summary")] + [
    "summary.csv", "run.json", "report.html", "scenario.yaml"]


class TableStream:
    """Appends DataFrames with identical columns to one Parquet file."""

    def __init__(self, path: Path):
        self.path = path
        self.writer: pq.ParquetWriter | None = None

    def write(self, df: pd.DataFrame) -> None:
        """Append one DataFrame (one replication) to the file."""
        table = pa.Table.from_pandas(df, preserve_index=False)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema)
        elif table.schema != self.writer.schema:
            table = table.cast(self.writer.schema)
        self.writer.write_table(table)

    def close(self) -> None:
        """Close the files (and, given a result, write the summary and run.json)."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class RunWriter:
    """Streams a scenario's replications into ``out`` and writes the summary at the end."""

    def __init__(self, out: str | Path, scenario: Scenario, header: str = ""):
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        # A reused folder must not mix this run's tables with an earlier run's.
        for name in OUTPUT_FILES:
            (self.out / name).unlink(missing_ok=True)
        (self.out / "scenario.yaml").write_text(dump_yaml(scenario, header), encoding="utf-8")
        self.streams: dict[str, TableStream] = {}

    def _stream(self, name: str) -> TableStream:
        if name not in self.streams:
            self.streams[name] = TableStream(self.out / f"{name}.parquet")
        return self.streams[name]

    def __call__(self, rep: Replication) -> None:
        self._stream("kpis").write(rep.kpis)
        self._stream("staff").write(rep.staff)
        self._stream("hourly").write(rep.hourly)
        self._stream("report_delays").write(rep.report_delays)
        for name, df in (rep.events or {}).items():
            self._stream(name).write(df)

    def close(self, result: RunResult | None = None, meta: dict[str, Any] | None = None) -> None:
        """Close the files (and, given a result, write the summary and run.json)."""
        for stream in self.streams.values():
            stream.close()
        if result is None:
            return
        result.summary.to_parquet(self.out / "summary.parquet", index=False)
        result.summary.to_csv(self.out / "summary.csv", index=False)
        info = {
            "secsim_version": __version__,
            "python": platform.python_version(),
            "scenario": result.scenario.name,
            "seed": result.seed,
            "replications_completed": sorted(int(r) for r in result.kpis.get("replication", [])
                                             .unique()) if not result.kpis.empty else [],
            "failures": [{"replication": r, "error": e} for r, e in result.failures],
            "interrupted": result.interrupted,
            **({"stopped": result.stopped} if result.stopped else {}),
            "seconds": round(result.seconds, 3),
            "replication_seconds": round(result.replication_seconds, 3),
            **(meta or {}),
        }
        (self.out / "run.json").write_text(json.dumps(info, indent=2, default=_json_default),
                                           encoding="utf-8")


def _json_default(obj):
    if isinstance(obj, float) and math.isnan(obj):
        return None
    return str(obj)


def read_events(out: str | Path, name: str) -> pd.DataFrame:
    """One event table of a written run (e.g. 'calls')."""
    path = Path(out) / f"{name}.parquet"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found; was the run written with events?")
    return pd.read_parquet(path)
