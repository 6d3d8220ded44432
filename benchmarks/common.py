"""Helpers shared by the benchmarks: child processes, peak memory, machine description.

Each measurement that reports memory runs in a fresh Python process, which prints one
JSON line with its results and its own peak resident memory (``ru_maxrss``), so one
measurement's allocations never inflate the next one's figure.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"


def peak_rss_mb() -> float:
    """Peak resident memory of this process since it started (exec), in MiB.

    Linux's VmHWM, not ``ru_maxrss``: the latter also counts the parent's memory at the
    time of the fork, which would make every child look as big as the benchmark driver.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def emit(result: dict) -> None:
    """Print a child's result as the last line of its output (read by ``run_child``)."""
    result.setdefault("peak_rss_mb", round(peak_rss_mb(), 1))
    print(json.dumps(result))


def run_child(module: str, *args: str, timeout: float = 1800) -> dict:
    """Run ``python benchmarks/<module>.py --child ARGS`` and return its JSON result."""
    cmd = [sys.executable, str(BENCH / f"{module}.py"), "--child", *args]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def machine() -> dict:
    """What the figures were measured on, and how busy it was."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    import numpy
    import pandas
    import simpy

    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem,
            "python": platform.python_version(), "simpy": simpy.__version__,
            "numpy": numpy.__version__, "pandas": pandas.__version__,
            "load_average_1min": round(os.getloadavg()[0], 2),
            "date": time.strftime("%Y-%m-%d %H:%M")}


def mode_args(argv: list[str] | None = None):
    """Parse the shared ``--quick`` (default) / ``--full`` and ``--child`` options."""
    import argparse

    p = argparse.ArgumentParser()
    p.add_argument("--full", action="store_true", help="longer runs, steadier figures")
    p.add_argument("--quick", action="store_true", help="short runs (default)")
    p.add_argument("--json", help="also write the results to this JSON file")
    p.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    return p.parse_args(argv)
