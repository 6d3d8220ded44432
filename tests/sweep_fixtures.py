"""A tiny scenario and sweep specs for the sweep tests (fast: 5 simulated days), and an
executor interrupted after a few tasks (for the resume tests of sweeps, runs, compare)."""

from __future__ import annotations

from pathlib import Path

import yaml

from simulation.runs.executors import SerialExecutor

TINY_SCENARIO = {
    "name": "tiny",
    "calendar": {"horizon_days": 5, "warmup_days": 1},
    "shifts": {"day": {"start": "08:30", "end": "17:00", "breaks": [["12:00", "12:45"]]}},
    "departments": {"clinic": {"streams": {
        "booking_calls": {"type": "call", "audit_category": "booking",
                          "arrivals": {"per_day": 30},
                          "service": {"dist": "exponential", "mean": 3},
                          "patience": {"dist": "exponential", "mean": 2},
                          "online": {"share": 0.0}},
        "reports": {"type": "dictation", "arrivals": {"per_day": 6},
                    "typing": {"dist": "exponential", "mean": 12},
                    "validation_delay": {"dist": "exponential", "mean": 600},
                    "target_days": 2},
        "files": {"type": "back_office", "arrivals": {"per_day": 20},
                  "duration": {"dist": "exponential", "mean": 5}},
    }}},
    "teams": {"clinic_team": {"departments": ["clinic"], "secretaries": {
        "ama_1": {"shift": "day"}, "ama_2": {"shift": "day"}}}},
}

class InterruptAfter:
    """Serial executor hit by Ctrl-C after ``n`` tasks."""

    name = "serial, interrupted"

    def __init__(self, n: int):
        self.n = n

    def run(self, tasks):
        for k, item in enumerate(SerialExecutor().run(tasks)):
            if k == self.n:
                raise KeyboardInterrupt
            yield item


CALLS = "departments.clinic.streams.booking_calls"


def tiny_spec(**over) -> dict:
    """A 2 x 2 grid (online share x call volume), 2 replications: 8 short tasks."""
    spec = {
        "name": "tiny_sweep",
        "base": "tiny.yaml",
        "design": "grid",
        "parameters": {
            "online_share": {"path": f"{CALLS}.online.share", "values": [0.0, 0.3]},
            "calls_per_day": {"path": f"{CALLS}.arrivals.per_day", "values": [20, 40]},
        },
        "replications": 2,
        "seed": 7,
    }
    spec.update(over)
    return spec


def write_spec(folder: Path, spec: dict | None = None, name: str = "spec.yaml") -> Path:
    """Write the tiny scenario and a spec next to it; return the spec's path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny.yaml").write_text(yaml.safe_dump(TINY_SCENARIO), encoding="utf-8")
    path = folder / name
    path.write_text(yaml.safe_dump(spec if spec is not None else tiny_spec(), sort_keys=False),
                    encoding="utf-8")
    return path


def kill_worker_once(marker: str, scenario, seed: int, replication: int, delay: float = 0.5):
    """A sweep task that kills its own worker process the first time it runs point 1
    (online share 0, 40 calls a day), replication 0: ``marker`` (created atomically) says
    it was done. Every other run, that task's second one included, is ``run_task``."""
    import os
    import time

    from simulation.sweeps.run import run_task

    calls = scenario.departments["clinic"].streams["booking_calls"]
    if (calls.arrivals.per_day, calls.online.share, replication) == (40, 0.0, 0):
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            pass
        else:
            time.sleep(delay)  # lets the driver fetch results the worker already holds
            os._exit(1)
    return run_task(scenario, seed, replication)
