"""Every code example of the README and docs runs, so the docs cannot drift from the code.

Python blocks are executed (replication counts cut to 2 to stay fast); every ``secsim``
command line is parsed by the real command line (an unknown flag or command fails) and
the files it reads must exist; the cheap ones (validate, schema, a sweep's --dry-run) are
run; YAML blocks that are scenarios or sweep specs are validated. Commands run in a copy
of the project's scenario, sweep and audit folders, so nothing bundled is overwritten.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from pathlib import Path

import pytest
import yaml

from simulation.cli.main import build_parser, main
from simulation.scenario.composition import load_scenario
from simulation.sweeps.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Placeholders the docs use, and a real value to check the command with.
PLACEHOLDERS = {"SPEC": "sweeps/pool_size_vs_online_booking.yaml", "FOLDER": "outputs/x",
                "FILE": "scenarios/baseline.yaml", "OUT": "outputs/x",
                "my.yaml": "scenarios/baseline.yaml"}
RUN_CHEAP = ("validate", "schema")


def blocks(lang: str) -> list[tuple[str, str]]:
    """(id, code) of every fenced block of that language in the docs."""
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for k, m in enumerate(re.finditer(r"^```(\w*)\n(.*?)^```", text, re.S | re.M)):
            if m.group(1) == lang:
                found.append((f"{doc.name}#{k}", m.group(2)))
    return found


def command_lines(code: str) -> list[str]:
    """The secsim command lines of a shell block (continuations joined, comments dropped)."""
    code = code.replace("\\\n", " ")
    lines = []
    for raw in code.splitlines():
        for part in raw.split("&&"):
            line = part.split(" #")[0].strip()
            if line.startswith("secsim "):
                lines.append(line)
    return lines


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A scratch copy of what the examples read, as the current directory."""
    for folder in ("scenarios", "sweeps", "calibration", "benchmarks"):
        shutil.copytree(ROOT / folder, tmp_path / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


SHELL = [(f"{i}:{n}", line) for i, code in blocks("bash") for n, line in
         enumerate(command_lines(code))]


@pytest.mark.parametrize("line", [line for _, line in SHELL], ids=[i for i, _ in SHELL])
def test_every_command_line_example_parses_and_its_files_exist(project, line, capsys):
    argv = [PLACEHOLDERS.get(a, a) for a in shlex.split(line)[1:]]
    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:
        pytest.fail(f"'{line}' is refused by the command line ({capsys.readouterr().err})"
                    f" [exit {exc.code}]")
    inputs = [a for a in argv if a.endswith((".yaml", ".yml")) and not a.startswith("--")]
    outputs = {argv[k + 1] for k, a in enumerate(argv[:-1]) if a in ("--out", "-o")}
    missing = [a for a in inputs if a not in outputs and not (project / a).exists()]
    assert not missing, f"'{line}' reads files that do not exist: {missing}"
    if argv[0] in RUN_CHEAP or "--dry-run" in argv:
        assert main(argv) == 0, f"'{line}' failed"


PYTHON = blocks("python")


@pytest.mark.parametrize("code", [c for _, c in PYTHON], ids=[i for i, _ in PYTHON])
def test_every_python_example_runs(project, code):
    code = re.sub(r"replications=\d+", "replications=2", code)
    exec(compile(code, "<docs example>", "exec"), {"__name__": "docs_example"})


YAML = blocks("yaml")


@pytest.mark.parametrize("code", [c for _, c in YAML], ids=[i for i, _ in YAML])
def test_every_yaml_example_is_a_valid_scenario_or_sweep(project, code):
    data = yaml.safe_load(code)
    if "parameters" in data:  # a sweep spec; its paths are relative to sweeps/
        path = project / "sweeps" / "example.yaml"
        path.write_text(code, encoding="utf-8")
        assert load_spec(path)
    else:  # a scenario; 'extends' is relative to scenarios/
        path = project / "scenarios" / "example.yaml"
        path.write_text(code, encoding="utf-8")
        assert load_scenario(path).name == data.get("name", "example")


def test_the_examples_are_found():
    assert len(SHELL) >= 10 and len(PYTHON) >= 1 and len(YAML) >= 2
    assert os.path.exists(ROOT / "README.md")
