"""One run per sweep folder (sweep.lock), a killed run read as interrupted, and a resume
command that repeats every option given."""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from sweep_fixtures import InterruptAfter, write_spec

from simulation.cli.main import build_parser, main
from simulation.cli.sweep import resume_command
from simulation.runs.executors import SerialExecutor
from simulation.sweeps.lock import LOCK, SweepLock
from simulation.sweeps.run import run_sweep
from simulation.sweeps.spec import load_spec
from simulation.sweeps.store import StoreError, read_manifest, read_table, sweep_status


@pytest.fixture
def spec(tmp_path):
    return write_spec(tmp_path, name="spec.yaml")


# ----------------------------------------------------------------------------- resume hint
def _sweep_parser() -> argparse.ArgumentParser:
    return build_parser().parse_args(["sweep", "x.yaml"]).sweep_parser


def _value(action: argparse.Action) -> list[str]:
    """A non-default value for an option, whatever its type."""
    if action.nargs == 0:
        return []
    if action.type is int or getattr(action.type, "__name__", "") in ("seed_type",
                                                                       "max_events_type"):
        return ["3"]
    if action.type is not None and action.type is not str:
        return ["7.5"]
    return ["tcp://10.0.0.1:8786" if action.dest == "scheduler" else "some value"]


def test_the_resume_command_repeats_every_option_given():
    """Each option of ``secsim sweep`` (one executor option at a time: they exclude each
    other) is given; parsing the resume command gives the same options back."""
    parser = _sweep_parser()
    skip = {"help", "resume", "overwrite", "dry_run", "out"}
    options = [a for a in parser._actions if a.option_strings and a.dest not in skip]
    exclusive = {a.dest for g in parser._mutually_exclusive_groups for a in g._group_actions}
    shared = [a for a in options if a.dest not in exclusive]
    assert {"seed", "replications", "worker_timeout", "quiet"} <= {a.dest for a in shared}
    assert exclusive == {"workers", "serial", "scheduler", "dask_local"}
    for chosen in [a for a in options if a.dest in exclusive]:
        argv = ["sweep", "s p.yaml", "--out", "outputs/my sweep"]
        for action in [chosen, *shared]:
            argv += [action.option_strings[-1], *_value(action)]
        args = build_parser().parse_args(["--debug", *argv])
        command = resume_command(args, Path("outputs/my sweep"))
        words = shlex.split(command)
        assert words[:3] == ["secsim", "--debug", "sweep"], command
        again = build_parser().parse_args(words[1:])
        for action in [chosen, *shared]:
            assert getattr(again, action.dest) == getattr(args, action.dest), (
                f"{action.option_strings[-1]} is not repeated by: {command}")
        assert again.resume and not again.overwrite and again.out == "outputs/my sweep"
        assert again.spec == "s p.yaml"


def test_the_resume_command_has_no_option_that_was_not_given():
    args = build_parser().parse_args(["sweep", "a.yaml"])
    assert resume_command(args, Path("outputs/a")) == "secsim sweep a.yaml --resume --out outputs/a"


def test_ctrl_c_prints_the_resume_command_with_the_options_given(spec, tmp_path, capsys,
                                                                 monkeypatch):
    from simulation.sweeps import run as sweep_run

    original = sweep_run.run_sweep
    monkeypatch.setattr(sweep_run, "run_sweep",
                        lambda plan, out, _executor, **kw: original(plan, out, InterruptAfter(2),
                                                                    **kw))
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--serial", "--seed", "7", "-r", "2", "-q",
                 "--out", str(out)]) == 130
    err = capsys.readouterr().err
    line = err.split("continue with\n")[1].splitlines()[0].strip()
    assert line == shlex.join(["secsim", "sweep", str(spec), "--resume", "--out", str(out),
                               "--serial", "--seed", "7", "--replications", "2", "--quiet"])


# ----------------------------------------------------------------------------- the lock
def test_a_second_run_on_the_same_folder_is_refused(spec, tmp_path, capsys):
    out = tmp_path / "out"
    held = SweepLock(out)
    held.acquire()  # this live process writes the folder
    try:
        with pytest.raises(StoreError, match="being written by another sweep .*pid"):
            run_sweep(load_spec(spec), out, SerialExecutor())
        assert main(["sweep", str(spec), "--serial", "-q", "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert str(out) in err and "another --out" in err and "wait for it" in err
        assert not (out / "sweep.json").exists() and not (out / "results").exists()
    finally:
        held.release()
    assert not (out / LOCK).exists()
    run_sweep(load_spec(spec, replications=1), out, SerialExecutor())
    assert not (out / LOCK).exists(), "a finished run leaves its lock behind"


def test_a_lock_from_another_machine_is_refused_with_how_to_clear_it(spec, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / LOCK).write_text(json.dumps({"pid": 1, "host": "elsewhere-" + platform.node(),
                                        "started": "2026-01-01T00:00:00",
                                        "command": "secsim sweep x"}))
    with pytest.raises(StoreError, match=f"another machine.*delete {out / LOCK}"):
        run_sweep(load_spec(spec), out, SerialExecutor())


def test_a_stale_lock_of_a_dead_process_is_taken_over_with_a_message(spec, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)
    (out / LOCK).write_text(json.dumps({"pid": pid, "host": platform.node(),
                                        "started": "2026-01-01T00:00:00",
                                        "command": "secsim sweep old"}))
    said: list[str] = []
    outcome = run_sweep(load_spec(spec, replications=1), out, SerialExecutor(),
                        notify=said.append)
    assert outcome.completed == 4
    assert any("took over the lock" in s and f"pid {pid}" in s and "no longer running" in s
               for s in said), said
    assert not (out / LOCK).exists()


# ----------------------------------------------------------------------------- killed runs
def test_a_manifest_left_running_reads_as_interrupted_and_resume_says_so(spec, tmp_path,
                                                                          capsys):
    """What a killed client leaves: status 'running' and its lock (pid gone)."""
    out = tmp_path / "out"
    run_sweep(load_spec(spec), out, InterruptAfter(3))
    manifest = read_manifest(out)
    manifest["status"] = "running"
    (out / "sweep.json").write_text(json.dumps(manifest))
    assert sweep_status(out) == "interrupted"
    assert main(["sweep", str(spec), "--serial", "-q", "--out", str(out)]) == 2
    assert "last run: interrupted" in capsys.readouterr().err
    assert main(["sweep", str(spec), "--serial", "-q", "--resume", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "did not close the sweep (killed or crashed); read as interrupted" in err, err
    manifest = read_manifest(out)
    assert manifest["status"] == "complete"
    assert manifest["previous_run"]["status"] == "interrupted"
    assert "killed or crashed" in manifest["previous_run"]["note"]
    assert len(read_table(out)) == 8
