"""``secsim compare`` stopped by Ctrl-C says what each scenario saved and prints the exact
command that completes it; that command gives the uninterrupted comparison."""

from __future__ import annotations

import shlex

import pytest
import yaml
from sweep_fixtures import TINY_SCENARIO, InterruptAfter

from simulation.cli.main import main
from simulation.runs import factory


@pytest.fixture
def scenarios(tmp_path):
    paths = []
    for name, per_day in (("tiny", 30), ("busier", 45)):
        data = yaml.safe_load(yaml.safe_dump(TINY_SCENARIO))
        data["name"] = name
        data["departments"]["clinic"]["streams"]["booking_calls"]["arrivals"]["per_day"] = per_day
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        paths.append(str(path))
    return paths


def tables(out):
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.suffix in (".parquet", ".csv")}


def test_interrupted_compare_prints_the_resume_command_that_completes_it(
        scenarios, tmp_path, capsys, monkeypatch):
    args = ["-r", "3", "--seed", "4", "--workers", "1", "--no-report", "-q",
            "--set", "calendar.horizon_days=4"]
    assert main(["compare", *scenarios, *args, "--out", str(tmp_path / "whole")]) == 0
    out = tmp_path / "cut"
    monkeypatch.setattr(factory, "make_executor", lambda *a, **k: InterruptAfter(3))
    assert main(["compare", *scenarios, *args, "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert "per scenario: tiny 2/3, busier 1/3" in err, err
    command = shlex.split(err.split("continue with\n")[1].splitlines()[0])
    assert command[:2] == ["secsim", "compare"] and command.count("--set") == 1
    monkeypatch.undo()
    assert main(command[1:]) == 0
    assert tables(out) == tables(tmp_path / "whole")
    # A different seed is refused by name, and nothing is run.
    assert main([*command[1:], "--seed", "5"]) == 2
    assert "seed = 4, this one has 5; resume it with --seed 4" in capsys.readouterr().err
