"""A killed ``secsim run`` loses only the replications still running: those finished stay
readable, no worker process outlives the run, and ``--resume`` completes it with exactly
the results of an uninterrupted run."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
BASELINE = str(ROOT / "scenarios" / "baseline.yaml")
ARGS = ["-r", "5", "--workers", "2", "--seed", "3", "--set", "calendar.horizon_days=5",
        "--set", "calendar.warmup_days=1", "-q"]

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="process groups read from /proc")


def secsim_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "simulation", *args]


def tables(out: Path) -> dict[str, bytes]:
    """Every replication file and the summary, by path (run.json holds timings)."""
    found = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
             if p.is_file() and p.suffix in (".parquet", ".csv")}
    assert "kpis.parquet/rep-0004.parquet" in found and "summary.parquet" in found
    return found


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("whole") / "run"
    done = subprocess.run(secsim_cmd("run", BASELINE, *ARGS, "--out", str(out)),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return tables(out)


def live_in_group(group: int) -> list[int]:
    """Processes of a process group that still run (zombies are dead: not counted)."""
    alive = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == group and fields[0] != "Z":
            alive.append(int(entry.name))
    return alive


def start_and_signal(out: Path, sig: int) -> subprocess.Popen:
    """Start a run in its own process group and send ``sig`` to the parent alone once two
    replications are written."""
    proc = subprocess.Popen(secsim_cmd("run", BASELINE, *ARGS, "--out", str(out)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    kpis = out / "kpis.parquet"
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if kpis.is_dir() and len(list(kpis.glob("rep-*.parquet"))) >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be killed"
    assert len(list(kpis.glob("rep-*.parquet"))) >= 2, "no replication written in 120 s"
    os.kill(proc.pid, sig)
    return proc


def assert_no_process_left(proc: subprocess.Popen) -> None:
    """The parent has ended and, within 5 s, every worker of its group (killed if not, so
    a failing test leaves no process behind)."""
    proc.wait(timeout=60)
    deadline = time.monotonic() + 5
    while live_in_group(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = live_in_group(proc.pid)
    if left:
        os.killpg(proc.pid, signal.SIGKILL)
    assert left == [], "worker processes outlived their parent"


def test_sigkill_keeps_finished_replications_leaves_no_worker_and_resumes(tmp_path,
                                                                          uninterrupted):
    out = tmp_path / "run"
    proc = start_and_signal(out, signal.SIGKILL)
    assert_no_process_left(proc)  # before reading: a live worker would hold the pipes open
    proc.communicate(timeout=10)
    saved = pd.read_parquet(out / "kpis.parquet")  # the finished ones, readable
    assert 2 <= saved.replication.nunique() < 5
    assert set(pd.read_parquet(out / "calls.parquet").replication) >= set(saved.replication)
    again = subprocess.run(secsim_cmd("run", BASELINE, *ARGS, "--out", str(out), "--resume"),
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert tables(out) == uninterrupted


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_sigterm_and_ctrl_c_say_what_was_saved_and_how_to_resume(tmp_path, uninterrupted, sig):
    out = tmp_path / "run"
    proc = start_and_signal(out, sig)
    assert_no_process_left(proc)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    saved = pd.read_parquet(out / "kpis.parquet").replication.nunique()
    assert f"{saved} of 5 replications of baseline are saved in {out}" in err
    command = shlex.split(err.split("continue with\n")[1].splitlines()[0])
    assert command[:2] == ["secsim", "run"] and "--resume" in command
    again = subprocess.run(secsim_cmd(*command[1:]), capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stderr
    assert tables(out) == uninterrupted
