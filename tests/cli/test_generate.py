"""``secsim generate group``: writes the group and its variants; clear one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from simulation.cli.main import main
from simulation.scenario.composition import load_composed
from simulation.scenario.group_yaml import group_files
from simulation.scenario.io import read_yaml


def secsim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simulation", *args], capture_output=True,
                          text=True)


def test_the_command_writes_the_group_and_its_variants(tmp_path):
    out = tmp_path / "groups" / "small_group.yaml"
    result = secsim("generate", "group", "--secretariats", "12", "--seed", "3", "--poles", "2",
                    "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    names = ["small_group.yaml", "small_group_pole_phones.yaml", "small_group_call_platform.yaml"]
    assert result.stdout.split() == [str(out.parent / n) for n in names]
    expected = group_files(12, 3, poles=2, out=str(out))
    for name in names:
        assert (out.parent / name).read_text(encoding="utf-8") == expected[name]
        scenario = load_composed(out.parent / name)
        assert len(scenario.departments) == 12
    assert load_composed(out).name == "small_group"
    assert len(load_composed(out.parent / names[1]).applied_levers) == 2  # one per pole


def test_help_names_the_options():
    result = secsim("generate", "group", "--help")
    assert result.returncode == 0
    for flag in ("--secretariats", "--seed", "--poles", "--pole-size", "--utilisation", "--out"):
        assert flag in result.stdout


@pytest.mark.parametrize("args, words", [
    (["--secretariats", "0"], ["--secretariats", "not positive"]),
    (["--secretariats", "abc"], ["--secretariats", "'abc' is not a whole number"]),
    (["--secretariats", "-4"], ["--secretariats", "not positive"]),
    (["--secretariats", "5000"], ["--secretariats", "more than 1000"]),
    (["--seed", "x"], ["--seed", "not a whole number"]),
    (["--poles", "0"], ["--poles", "not positive"]),
    (["--poles", "3", "--pole-size", "5"], ["--pole-size", "not allowed with"]),
    (["--utilisation", "1.5"], ["--utilisation", "between 0.05 and 0.99"]),
])
def test_bad_input_is_one_clear_line(tmp_path, capsys, args, words):
    with pytest.raises(SystemExit) as stop:
        main(["generate", "group", *args, "--out", str(tmp_path / "g.yaml")])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert last.startswith("secsim generate group: error: argument")
    for word in words:
        assert word in last, (word, err)
    assert "Traceback" not in err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("args, words", [
    (["--secretariats", "5", "--poles", "10"], ["--poles 10", "at most 2 poles", "pools nothing"]),
    (["--secretariats", "6", "--poles", "4"], ["--poles 4", "give --poles 3 or fewer"]),
    (["--pole-size", "1"], ["--pole-size 1", "give 2 or more"]),
])
def test_poles_that_would_pool_nothing_are_refused(tmp_path, capsys, args, words):
    assert main(["generate", "group", *args, "--out", str(tmp_path / "g.yaml")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("secsim generate: ")
    for word in words:
        assert word in err, (word, err)
    assert not list(tmp_path.iterdir())


def test_the_most_poles_allowed_still_pool_two_secretariats_each(tmp_path):
    assert main(["generate", "group", "--secretariats", "6", "--poles", "3", "--quiet",
                 "--out", str(tmp_path / "g.yaml")]) == 0
    poles = read_yaml(tmp_path / "g.yaml")["x-poles"]
    assert len(poles) == 3 and all(len(members) == 2 for members in poles.values())


@pytest.mark.parametrize("out, words", [
    ("g.txt", ["--out", "must be a .yaml file"]),
    ("bad name.yaml", ["--out", "names the scenario"]),
])
def test_bad_output_file_is_one_clear_line(tmp_path, capsys, out, words):
    assert main(["generate", "group", "--out", str(tmp_path / out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("secsim generate: ")
    for word in words:
        assert word in err
    assert not list(tmp_path.iterdir())


def test_a_folder_as_output_is_refused(tmp_path, capsys):
    (tmp_path / "taken.yaml").mkdir()
    assert main(["generate", "group", "--out", str(tmp_path / "taken.yaml")]) == 2
    assert "is a folder" in capsys.readouterr().err
