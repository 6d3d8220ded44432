"""Composing scenario files: ``extends`` another file, and ``--set key=value`` overrides.

A scenario may start with ``extends: other.yaml`` (path relative to the file): the other
file is loaded first and this file's fields are merged over it (mappings merge key by
key; lists and values replace). Overrides then set single fields by dotted path.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from simulation.scenario.io import ScenarioError, parse_yaml, read_yaml, validate
from simulation.scenario.schema import Scenario

# Sections whose keys are names chosen in the scenario (not field names).
NAMED = ("departments", "streams", "teams", "secretaries", "shifts")


# Keys that say which kind a mapping is (a distribution, a stream): a child that changes
# the kind replaces the mapping, since the parent's other fields belong to the old kind.
KIND_KEYS = ("dist", "type")


def deep_merge(base: Any, over: Any) -> Any:
    """``over`` merged onto ``base``: mappings key by key, anything else replaced (and a
    mapping whose kind changes, e.g. ``dist: lognormal`` -> ``dist: exponential``)."""
    if isinstance(base, Mapping) and isinstance(over, Mapping):
        if any(k in over and k in base and over[k] != base[k] for k in KIND_KEYS):
            return over
        out = dict(base)
        for key, value in over.items():
            out[key] = deep_merge(base[key], value) if key in base else value
        return out
    return over


def read_composed(path: str | Path, _chain: tuple[Path, ...] = ()) -> dict:
    """The file's data with its ``extends`` chain merged in (not yet validated)."""
    p = Path(path).resolve()
    if p in _chain:
        cycle = " -> ".join(str(x.name) for x in (*_chain, p))
        raise ScenarioError([("extends", f"files extend each other in a loop ({cycle}); "
                                         "remove one of the 'extends'")], str(path))
    data = read_yaml(path)
    if not isinstance(data, Mapping):
        return data
    data = dict(data)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError([("extends", "must be the path of another scenario file")], str(path))
    parent_path = (p.parent / parent)
    if not parent_path.exists():
        raise ScenarioError([("extends", f"file '{parent}' not found next to {p.name}; give its "
                                         "path relative to this file")], str(path))
    base = read_composed(parent_path, (*_chain, p))
    base.pop("name", None)
    base.pop("description", None)
    merged = deep_merge(base, data)
    # Levers accumulate along the chain: a child adds its levers after its parent's.
    if "levers" in base and "levers" in data:
        merged["levers"] = list(base["levers"] or []) + list(data["levers"] or [])
    return merged


def set_path(data: dict, assignment: str) -> dict:
    """Apply one ``dotted.path=value`` override (value parsed as YAML) to plain data."""
    if "=" not in assignment:
        raise ScenarioError([("--set", f"'{assignment}' is not KEY=VALUE, e.g. "
                                       "calendar.horizon_days=60")])
    key, raw = assignment.split("=", 1)
    parts = [k for k in key.strip().split(".") if k]
    if not parts:
        raise ScenarioError([("--set", f"'{assignment}' has an empty key")])
    try:
        value, duplicates = parse_yaml(raw) if raw.strip() else ("", [])
    except yaml.YAMLError as exc:
        raise ScenarioError([(key, f"--set {key}: the value is not valid YAML "
                                   f"({getattr(exc, 'problem', None) or exc}); quote it")]) from None
    if duplicates:
        raise ScenarioError([(key, f"--set {key}: {duplicates[0][1]}")])
    node = data
    for i, part in enumerate(parts[:-1]):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
            continue
        if not isinstance(node, dict):
            where = ".".join(parts[: i + 1])
            raise ScenarioError([(where, f"--set {key}: '{'.'.join(parts[:i])}' is a value, "
                                         "not a section; check the path")])
        if i > 0 and parts[i - 1] in NAMED and part not in node:
            # A misspelt department, stream, team... would otherwise create a new one.
            close = difflib.get_close_matches(part, list(node), n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"use one of {sorted(node)}"
            raise ScenarioError([(".".join(parts[: i + 1]), f"--set {key}: there is no "
                                                            f"'{part}' here; {hint}")])
        node = node.setdefault(part, {})
    last = parts[-1]
    if isinstance(node, list) and last.isdigit() and int(last) < len(node):
        node[int(last)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise ScenarioError([(key, f"--set {key}: its parent is not a section; check the path")])
    return data


def unshared(node: Any) -> Any:
    """A copy of plain data in which no mapping or list is reachable twice."""
    if isinstance(node, Mapping):
        return {k: unshared(v) for k, v in node.items()}
    if isinstance(node, list):
        return [unshared(v) for v in node]
    return node


def compose(data: Mapping, overrides: list[str] = (), source: str | None = None) -> Scenario:
    """Validate composed data after applying overrides and levers."""
    from simulation.scenario.levers import apply_levers

    if not isinstance(data, Mapping):
        what = "empty" if data is None else f"a {type(data).__name__}, not a mapping of fields"
        raise ScenarioError([("", f"the scenario is {what}; it needs name, calendar, "
                                  "departments and teams (see docs/scenario.md)")], source)
    # YAML anchors share one object between their uses: an override of one use must not
    # change the others, so overrides act on a copy where nothing is shared.
    data = unshared(data) if overrides else dict(data)
    for assignment in overrides:
        data = set_path(data, assignment)
    return apply_levers(validate(data, source), source)


def load_composed(path: str | Path, overrides: list[str] = ()) -> Scenario:
    """Load a scenario file following ``extends``, apply ``--set`` overrides and levers."""
    return compose(read_composed(path), overrides, str(path))


def load_scenario(source: str | Path | Mapping, overrides: list[str] = ()) -> Scenario:
    """Load a scenario from a YAML file path or a mapping, as the command line does.

    Follows ``extends``, applies ``overrides`` (``dotted.path=value``) and the levers, and
    validates: the scenario a run uses, whatever the entry point.
    """
    if isinstance(source, Mapping):
        return compose(source, overrides)
    return compose(read_composed(source), overrides, str(source))
