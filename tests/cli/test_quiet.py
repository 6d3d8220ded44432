"""``-q/--quiet`` on every command: no progress bar or status lines, results stay."""

from __future__ import annotations

import argparse
import json

from conftest import BASELINE

from simulation.cli.main import build_parser, main


def _leaves(parser: argparse.ArgumentParser, name: str = ""):
    """(name, parser) of every command that runs, sub-commands included (generate group)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield name, parser
        return
    for child, p in subs[0].choices.items():
        yield from _leaves(p, f"{name} {child}".strip())


def test_every_command_takes_quiet():
    leaves = dict(_leaves(build_parser()))
    missing = [name for name, p in leaves.items()
               if not any("--quiet" in a.option_strings and "-q" in a.option_strings
                          for a in p._actions)]
    assert len(leaves) > 10 and not missing, f"commands without -q/--quiet: {missing}"


def test_quiet_validate_prints_problems_only(capsys):
    assert main(["validate", "-q", str(BASELINE)]) == 0
    out = capsys.readouterr()
    assert out.out == "" and "warning" in out.err  # rheumatology's uncovered hours stay
    assert main(["validate", str(BASELINE)]) == 0
    assert "OK" in capsys.readouterr().out


def test_quiet_schema_still_writes_the_schema(tmp_path, capsys):
    target = tmp_path / "schema.json"
    assert main(["schema", "-q", "--out", str(target)]) == 0
    assert capsys.readouterr().out == "" and json.loads(target.read_text())["title"]
