"""Reading and writing scenario files, and turning validation failures into sentences.

Every failure becomes a ``ScenarioError`` whose lines each name the field (as a dotted
path such as ``departments.cardiology.streams.calls.arrivals.per_day``) and the fix.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from simulation.scenario import schema as sc
from simulation.scenario.consistency import problems, resolve
from simulation.scenario.distributions import DIST_NAMES
from simulation.scenario.errors import ScenarioError
from simulation.scenario.schema import Scenario


def _all_field_names() -> set[str]:
    names: set[str] = set()
    for obj in vars(sc).values():
        if isinstance(obj, type) and issubclass(obj, BaseModel):
            for fname, f in obj.model_fields.items():
                names.add(f.alias or fname)
    return names | {"dist", "mean", "cv", "low", "mode", "high", "value", "values", "weights"}


_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _is_union_label(item: Any) -> bool:
    """pydantic's name for the member of a union that failed ('str', 'Shift', 'list[str]',
    'function-after[_ordered(), Shift]'...): a location step that is not a key."""
    return isinstance(item, str) and (item in ("str", "int", "float", "bool", "none")
                                      or not _FIELD_NAME.match(item))


def _is_type_mismatch(kind: str) -> bool:
    return kind.endswith("_type") or kind == "literal_error"


def _walk(data: Any, loc: tuple) -> tuple[str, Any]:
    """Dotted path of a pydantic error location, skipping union tags that are not keys."""
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(node, Mapping):
            if item in node:
                node = node[item]
                parts.append(str(item))
                continue
            tag = node.get("type", node.get("dist", node.get("lever")))
            if item == tag or item in DIST_NAMES or _is_union_label(item):
                continue
            parts.append(str(item))
            node = None
        elif isinstance(node, list) and isinstance(item, int) and item < len(node):
            parts[-1:] = [f"{parts[-1]}[{item}]"] if parts else [f"[{item}]"]
            node = node[item]
        elif _is_union_label(item):
            continue
        else:
            parts.append(str(item))
            node = None
    return ".".join(parts), node


def _sentence(err: dict, data: Any) -> tuple[str, str]:
    path, _ = _walk(data, err["loc"])
    kind = err["type"]
    got = err.get("input")
    if kind == "extra_forbidden":
        field = path.rsplit(".", 1)[-1]
        names = _all_field_names()
        close = difflib.get_close_matches(field, [n for n in names if n != field], n=1)
        if field in names:
            hint = (f"; this kind has no '{field}' (other kinds do): remove it, or change "
                    "the kind (see docs/scenario.md)")
        else:
            hint = (f"; did you mean '{close[0]}'?" if close
                    else "; remove it (see docs/scenario.md)")
        return path, f"unknown field '{field}'{hint}"
    if kind == "missing":
        return path, "is required but missing; add it (see docs/scenario.md)"
    if kind == "union_tag_invalid":
        ctx = err.get("ctx", {})
        field = str(ctx.get("discriminator", "type")).strip("'")
        return path, (f"'{ctx.get('tag')}' is not one of {ctx.get('expected_tags')}; "
                      f"fix the '{field}' field")
    if kind == "union_tag_not_found":
        field = str(err.get("ctx", {}).get("discriminator", "type")).strip("'")
        return path, f"needs a '{field}' field saying which kind it is"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    msg = msg.replace("Input should be", "must be").replace("greater than or equal to", ">=")
    msg = msg.replace("less than or equal to", "<=").replace("greater than", ">")
    msg = msg.replace("less than", "<")
    shown = "" if isinstance(got, (dict, list)) or "(got " in msg else f" (got {got!r})"
    return path, f"{msg[0].lower() + msg[1:]}{shown}"


def validate(data: Any, source: str | None = None) -> Scenario:
    """A checked, resolved ``Scenario`` from plain data, or a ``ScenarioError``."""
    if not isinstance(data, Mapping):
        raise ScenarioError([("", "the file must hold a mapping of fields (name, calendar, "
                                  "departments, teams...), not a " + type(data).__name__)], source)
    # Top-level 'x-...' keys only hold YAML anchors (shapes, durations) reused below.
    data = {k: v for k, v in data.items() if not str(k).startswith("x-")}
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        sentences = [(_sentence(err, data), err["type"]) for err in exc.errors()]
        found = []
        for (path, msg), kind in sentences:
            # A union (e.g. a shift name or an inline shift) reports every member; when one
            # member got past the type check, the others' type mismatches are noise.
            if _is_type_mismatch(kind) and any(
                    not _is_type_mismatch(k) and (p == path or p.startswith(path + "."))
                    for (p, _), k in sentences):
                continue
            if (path, msg) not in found:
                found.append((path, msg))
        raise ScenarioError(_merge_alternatives(found), source) from None
    issues = problems(scenario)
    if issues:
        raise ScenarioError(issues, source)
    return resolve(scenario)


def _merge_alternatives(found: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """One sentence per field when a union reports each of its types ('must be a valid
    list', "must be 'all'") for the same value: "must be a valid list or 'all' (got ...)"."""
    out: list[tuple[str, str]] = []
    for path, msg in found:
        prev = next((i for i, (p, m) in enumerate(out) if p == path), None)
        if prev is not None and msg.startswith("must be ") and out[prev][1].startswith("must be "):
            head, _, got = out[prev][1].partition(" (got ")
            this = msg.partition(" (got ")[0][len("must be "):]
            out[prev] = (path, f"{head} or {this}" + (f" (got {got}" if got else ""))
            continue
        out.append((path, msg))
    return out


def read_yaml(path: str | Path) -> Any:
    """Parse a YAML file, turning a missing file or a syntax error into a ScenarioError."""
    p = Path(path)
    if not p.exists():
        raise ScenarioError([("", f"file not found: '{p}'; check the path and the folder "
                                  "you run the command from")], str(p))
    if p.is_dir():
        raise ScenarioError([("", f"'{p}' is a folder; give a scenario file inside it")], str(p))
    try:
        data, duplicates = parse_yaml(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError([("", f"not valid YAML{where}: {problem}; fix the indentation or "
                                  "quoting there")], str(p)) from None
    if duplicates:
        raise ScenarioError(duplicates, str(p))
    return data


_MERGE = "tag:yaml.org,2002:merge"


# libyaml's parser when PyYAML has it: the same data, ten times faster on a big file (the
# generated hospital group, 1,500 lines, took seconds to parse in pure Python).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> tuple[Any, list[tuple[str, str]]]:
    """YAML text as plain data, and every key written twice in one mapping as
    (dotted path, sentence): YAML would silently keep the last. Anchors and merge keys
    (``<<: *x``) work as usual; a key beside a merge key overrides the merged one."""
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, []
        duplicates: list[tuple[str, str]] = []
        _find_duplicates(node, "", duplicates, set())
        return loader.construct_document(node), duplicates
    finally:
        loader.dispose()


def _find_duplicates(node: yaml.Node, path: str, out: list, seen: set[int]) -> None:
    if id(node) in seen:  # an alias: its anchor was checked where it was written
        return
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _find_duplicates(item, f"{path}[{i}]", out, seen)
    elif isinstance(node, yaml.MappingNode):
        lines: dict[tuple[str, str], int] = {}
        for key, value in node.value:
            if key.tag == _MERGE or not isinstance(key, yaml.ScalarNode):
                _find_duplicates(value, path, out, seen)
                continue
            line = key.start_mark.line + 1
            where = f"{path}.{key.value}" if path else str(key.value)
            if (key.tag, key.value) in lines:
                first = lines[(key.tag, key.value)]
                out.append((where, f"the key '{key.value}' is written twice, at lines {first} "
                                  f"and {line} (only the last would count); keep one of them"))
            lines.setdefault((key.tag, key.value), line)
            _find_duplicates(value, where, out, seen)


def to_plain(scenario: Scenario) -> dict:
    """The scenario as plain data (lists, not tuples; hour keys as integers)."""
    return json.loads(scenario.model_dump_json(by_alias=True), object_hook=_int_keys)


def _int_keys(obj: dict) -> dict:
    if obj and all(isinstance(k, str) and k.isdigit() for k in obj):
        return {int(k): v for k, v in obj.items()}
    return obj


def dump_yaml(scenario: Scenario, header: str = "") -> str:
    """YAML text of a scenario, with an optional comment header."""
    text = yaml.safe_dump(to_plain(scenario), sort_keys=False, allow_unicode=True, width=100)
    comment = "".join(f"# {line}\n" for line in header.splitlines()) if header else ""
    return comment + text


def json_schema() -> dict:
    """JSON Schema of the scenario file (for editors and external validators)."""
    return Scenario.model_json_schema(by_alias=True)
