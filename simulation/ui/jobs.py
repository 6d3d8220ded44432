"""A workbench run in a worker process: ``simulation.compare`` into a folder, then its report.

The page starts a ``Job`` and polls it: the worker writes ``progress.json`` (replications
done of all) and ``status.json`` (running, done, or failed with the message) next to the
comparison folder, so the page stays responsive, knows a run is going on, and can cancel
it by ending the process. The numbers are those of ``secsim compare`` (and, scenario by
scenario, of ``secsim run``) with the same scenarios and seed.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from simulation.scenario.errors import ScenarioError

# The worker's events per second on one core (baseline, 2-core machine, 2026): for the
# time estimate shown before a run.
EVENTS_PER_SECOND = 30_000
# The most events one workbench run may simulate (all scenarios and replications): about
# 8 minutes; larger studies belong to `secsim compare` on the command line.
MAX_RUN_EVENTS = 15_000_000


def estimate(scenarios: list, replications: int) -> tuple[float, float]:
    """(events, seconds) a run of these resolved scenarios would take."""
    from simulation.scenario.volumes import expected_events

    events = replications * sum(sum(n for _p, n in expected_events(s)) for s in scenarios)
    return events, events / EVENTS_PER_SECOND


def check_size(scenarios: list, replications: int, limit: float = MAX_RUN_EVENTS) -> float:
    """The estimated seconds of a run; a ScenarioError saying what to lower above the cap."""
    events, seconds = estimate(scenarios, replications)
    if events > limit:
        days = max(s.calendar.horizon_days for s in scenarios)
        raise ScenarioError([("replications", (
            f"{replications} replications of {len(scenarios)} scenario(s) over {days} days "
            f"would simulate about {events / 1e6:.0f} million events (about "
            f"{seconds / 60:.0f} minutes); the workbench runs up to {limit / 1e6:.0f} million: "
            f"lower the replications or the horizon, or run it with 'secsim compare'"))])
    return seconds


def _write(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def work(folder: str, scenarios: list[dict], baseline: str, replications: int,
         seed: int) -> None:
    """The worker: compare the scenarios (plain data) into ``folder/out`` and write the
    report; progress and status go to ``folder``."""
    from simulation.reporting.html import write_comparison_report
    from simulation.runs.api import compare
    from simulation.scenario.composition import load_scenario

    root = Path(folder)
    # Warnings go to the job's log, not to the server's terminal (or a pipe nobody reads).
    log = (root / "worker.log").open("a", encoding="utf-8", buffering=1)
    sys.stdout = sys.stderr = log
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    status = root / "status.json"
    progress = root / "progress.json"
    total = [0]
    done = [0]
    try:
        loaded = [load_scenario(d) for d in scenarios]

        def on_start(n: int, already: int) -> None:
            total[0], done[0] = n, already
            _write(progress, {"done": done[0], "total": total[0]})

        def on_replication(_j: int, _rep) -> None:
            done[0] += 1
            _write(progress, {"done": done[0], "total": total[0]})

        compare(loaded, replications, seed, baseline=baseline, workers=1, out=root / "out",
                events=False, on_replication=on_replication, on_start=on_start,
                headers=["edited in secsim ui"] * len(loaded), notify=lambda _m: None,
                meta={"command": "secsim ui"})
        write_comparison_report(root / "out")
        _write(status, {"state": "done"})
    except ScenarioError as exc:
        _write(status, {"state": "failed", "message": str(exc)})
    except Exception as exc:  # noqa: BLE001 - shown in the page, never a traceback
        _write(status, {"state": "failed", "message": f"{type(exc).__name__}: {exc}"})


@dataclass
class Job:
    """A run in a worker process, and where it writes."""

    folder: Path
    process: multiprocessing.process.BaseProcess
    scenarios: list[str]
    baseline: str
    replications: int
    seed: int

    @property
    def out(self) -> Path:
        """The comparison folder (``secsim compare --out``)."""
        return self.folder / "out"

    def progress(self) -> tuple[int, int]:
        """(replications done, replications in all)."""
        p = _read(self.folder / "progress.json")
        return int(p.get("done", 0)), int(p.get("total", 0))

    def state(self) -> str:
        """running, done, failed or cancelled."""
        s = _read(self.folder / "status.json").get("state")
        if s in ("done", "failed", "cancelled"):
            return s
        if self.process.is_alive():
            return "running"
        return "failed"

    def message(self) -> str:
        """Why it failed (or the exit code of a worker that died)."""
        s = _read(self.folder / "status.json")
        return s.get("message") or f"the worker stopped (exit code {self.process.exitcode})"

    def cancel(self) -> None:
        """End the worker now (its replications so far stay in the folder)."""
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(10)
        _write(self.folder / "status.json", {"state": "cancelled"})


def start(folder: str | Path, scenarios: list[Mapping], baseline: str, replications: int,
          seed: int) -> Job:
    """Start a worker comparing these scenarios (plain data) against ``baseline``."""
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    _write(root / "status.json", {"state": "running"})
    _write(root / "progress.json", {"done": 0, "total": replications * len(scenarios)})
    data = [dict(s) for s in scenarios]
    # spawn: the page's server runs threads, which a forked child must not inherit.
    ctx = multiprocessing.get_context("spawn")
    process = ctx.Process(target=work, args=(str(root), data, baseline, replications, seed),
                          daemon=True, name="secsim-ui-run")
    process.start()
    return Job(root, process, [str(s.get("name")) for s in data], baseline, replications, seed)
