"""Sweep specs: a base scenario, the parameters to vary, and the points they make.

A spec is checked in full before any simulation: its fields (pydantic), then every point
is built (parameter values written at dotted scenario paths with ``composition.set_path``)
and validated as a scenario, so a bad path or value fails at once, naming the parameter
and the point. See docs/sweeps.md for the file format.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import itertools
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from simulation.scenario.bounds import SafeName
from simulation.scenario.composition import compose, read_composed, set_path, unshared
from simulation.scenario.io import ScenarioError, read_yaml, to_plain, validate
from simulation.scenario.schema import Scenario
from simulation.scenario.volumes import check_event_budget

RESERVED = {"point", "replication", "department", "seconds", "error", "kpi", "mean",
            "ci_low", "ci_high", "n"}
Scalar = bool | int | float | str


class Parameter(BaseModel):
    """One swept parameter: where it goes in the scenario and which values it takes."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    description: str = ""
    path: str | list[str] | None = Field(
        None, description="Dotted scenario path(s), as with --set; all get the same value.")
    values: list[Any] | None = Field(None, description="Values taken (grid, list or lhs).")
    labels: list[int | float | str] | None = Field(
        None, description="Column values naming the values (needed if not scalar).")
    levels: dict[int | float | str, dict[str, Any]] | None = Field(
        None, description="Named alternatives, each a mapping {dotted path: value}.")
    low: float | None = Field(None, description="Lower bound (design lhs).")
    high: float | None = Field(None, description="Upper bound (design lhs).")
    integer: bool = Field(False, description="Round lhs draws to integers in [low, high].")

    @property
    def paths(self) -> list[str]:
        """The dotted paths this parameter writes (empty for levels)."""
        if self.path is None:
            return []
        return [self.path] if isinstance(self.path, str) else list(self.path)


class SweepSpec(BaseModel):
    """The sweep file: base scenario, design, parameters, replications and seed."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: SafeName = Field(pattern=r"^[A-Za-z0-9_.\-]+$",
                           description="Sweep name: the default output folder is outputs/<name>.")
    description: str = ""
    base: str = Field(description="Base scenario file, relative to the spec file.")
    fixed: dict[str, Any] = Field(default_factory=dict,
                                  description="Overrides applied to every point {path: value}.")
    design: Literal["grid", "list", "lhs"] = "grid"
    parameters: dict[str, Parameter] = Field(min_length=1)
    points: list[dict[str, Any]] | None = Field(None, description="Design list: the points.")
    samples: int | None = Field(None, ge=1, description="Design lhs: number of points.")
    design_seed: int | None = Field(None, description="Design lhs: seed (default: seed).")
    replications: int = Field(10, ge=1)
    seed: int = Field(1, ge=0, description="Random seed (>= 0).")

    @field_validator("parameters")
    @classmethod
    def _names(cls, v):
        for name in v:
            if name in RESERVED or not name.replace("_", "a").isalnum() or name[0].isdigit():
                raise ValueError(f"'{name}' cannot name a parameter (it becomes a column); use "
                                 f"letters, digits and '_', and none of {sorted(RESERVED)}")
        return v


@dataclass(frozen=True)
class Point:
    """One configuration: its number, its parameter values (columns) and what it sets."""

    index: int
    params: dict[str, Scalar]
    settings: tuple[tuple[str, str, Any], ...]  # (parameter, dotted path, value)

    def describe(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.params.items())


@dataclass
class SweepPlan:
    """A checked spec with its points; builds each point's scenario on demand."""

    spec: SweepSpec
    source: str
    base_path: Path
    base_data: dict  # composed base with 'fixed' applied
    resolved: dict  # the same, resolved: defaults for sections the base leaves out
    points: list[Point]
    hashes: list[str] = field(default_factory=list)  # one per point: its resolved scenario

    def scenario(self, point: Point) -> Scenario:
        """The validated scenario of a point (levers applied)."""
        return compose(apply_point(self.base_data, self.resolved, point),
                       source=f"{self.source} point {point.index}")

    def param_columns(self) -> dict[str, str]:
        """Parameter name -> column type ('float', 'int', 'bool' or 'str')."""
        return {name: column_type([p.params[name] for p in self.points])
                for name in self.spec.parameters}


class SpecError(ScenarioError):
    """A sweep spec that cannot be run: (field, message) pairs, like scenario errors."""

    what = "the sweep spec"


# ----------------------------------------------------------------------------- loading
def load_spec(path: str | Path, seed: int | None = None,
              replications: int | None = None, max_events: int | None = None) -> SweepPlan:
    """Read, check and expand a sweep spec; every point is validated (and its event count
    checked against ``max_events``) before returning."""
    source = str(path)
    data = read_yaml(path)
    if not isinstance(data, Mapping):
        raise SpecError([("", "a sweep spec is a mapping (name, base, parameters...)")], source)
    data = dict(data)
    if seed is not None:
        data["seed"] = seed
    if replications is not None:
        data["replications"] = replications
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError([_sentence(e) for e in exc.errors()], source) from None
    _check_parameters(spec, source)
    base_path = (Path(path).parent / spec.base)
    if not base_path.exists():
        raise SpecError([("base", f"scenario '{spec.base}' not found (looked for {base_path}); "
                                  "give its path relative to the spec file")], source)
    base = read_composed(base_path)
    for key, value in spec.fixed.items():
        base = _set(base, None, key, value, ("fixed", key), source)
    try:
        resolved = to_plain(validate(base, str(base_path)))
    except ScenarioError as exc:
        raise SpecError([("base", f"the base scenario with 'fixed' is invalid: {exc}")],
                        source) from None
    plan = SweepPlan(spec, source, base_path, base, resolved, list(generate_points(spec)))
    for point in plan.points:
        try:
            scenario = compose(apply_point(base, resolved, point, source))
            check_event_budget(scenario, max_events)
        except SpecError:
            raise
        except ScenarioError as exc:
            where = f"(point {point.index}: {point.describe()})"
            raise SpecError([(f"{_blame(point, p)}{where}", f"{p}: {m}" if p else m)
                             for p, m in exc.problems], source) from None
        plan.hashes.append(scenario_hash(scenario))
    return plan


def _sentence(err: dict) -> tuple[str, str]:
    path = ".".join(str(x) for x in err["loc"])
    msg = err["msg"].removeprefix("Value error, ").replace("Input should be", "must be")
    msg = msg.replace("greater than or equal to", ">=").replace("less than or equal to", "<=")
    if err["type"] == "too_short":
        return path, "is empty; give at least one"
    if "input" in err and not isinstance(err["input"], (dict, list)):
        msg += f" (got {err['input']!r})"
    if err["type"] == "extra_forbidden":
        return path, "unknown field; see docs/sweeps.md for the fields of a sweep spec"
    if err["type"] == "missing":
        return path, "is required but missing; add it (see docs/sweeps.md)"
    return path, msg[0].lower() + msg[1:]


def _check_parameters(spec: SweepSpec, source: str) -> None:
    """Design-level rules: each parameter has values fitting the design; nothing empty."""
    problems: list[tuple[str, str]] = []
    for name, p in spec.parameters.items():
        where = f"parameters.{name}"
        kinds = [k for k, given in (("values", p.values is not None),
                                    ("levels", p.levels is not None),
                                    ("low/high", p.low is not None or p.high is not None))
                 if given]
        if p.levels is not None and p.path is not None:
            problems.append((where, "give either 'path' with 'values', or 'levels' (which "
                                    "name their own paths), not both"))
        if p.levels is None and not p.paths:
            problems.append((where, "needs a 'path' (dotted scenario field, as with --set) "
                                    "or 'levels'"))
        if len(kinds) > 1:
            problems.append((where, f"gives {' and '.join(kinds)}; keep only one"))
        if p.values is not None and not p.values:
            problems.append((f"{where}.values", "is empty; give at least one value"))
        if p.levels is not None and not p.levels:
            problems.append((f"{where}.levels", "is empty; give at least one level"))
        if p.labels is not None and (p.values is None or len(p.labels) != len(p.values)):
            problems.append((f"{where}.labels", "must give one label per value"))
        elif p.labels is not None and len(set(p.labels)) != len(p.labels):
            problems.append((f"{where}.labels", "labels must be distinct"))
        if p.values and p.labels is None and not all(_is_scalar(v) for v in p.values):
            problems.append((f"{where}.values", "holds lists or mappings; add 'labels' naming "
                                                "each value (they become the column values)"))
        if spec.design == "grid" and not kinds:
            problems.append((where, "design grid needs 'values' or 'levels'"))
        if spec.design != "lhs" and "low/high" in kinds:
            problems.append((where, "'low'/'high' are for design: lhs; give 'values' instead"))
        if "low/high" in kinds and (p.low is None or p.high is None or not p.low < p.high):
            problems.append((where, "needs both 'low' and 'high', with low < high"))
        if spec.design == "lhs" and not kinds:
            problems.append((where, "design lhs needs 'low'/'high', 'values' or 'levels'"))
    if spec.design == "list":
        if not spec.points:
            problems.append(("points", "design list needs a non-empty 'points' list, e.g. "
                                       "[{param: value, ...}, ...]"))
        for i, pt in enumerate(spec.points or []):
            extra = set(pt) - set(spec.parameters)
            missing = set(spec.parameters) - set(pt)
            if extra:
                problems.append((f"points[{i}]", f"unknown parameter(s) {sorted(extra)}; "
                                                 f"declare them under 'parameters'"))
            if missing:
                problems.append((f"points[{i}]", f"gives no value for {sorted(missing)}"))
    elif spec.points is not None:
        problems.append(("points", f"only used by design: list (this spec is {spec.design})"))
    if spec.design == "lhs" and spec.samples is None:
        problems.append(("samples", "design lhs needs 'samples' (number of points)"))
    if problems:
        raise SpecError(problems, source)


def _blame(point: Point, problem_path: str) -> str:
    """'parameters.NAME ' for the parameters whose paths lead to a scenario problem."""
    dotted = problem_path.replace("[", ".").replace("]", "")
    names = [n for n, path, _ in point.settings
             if dotted.startswith(path) or path.startswith(dotted)] if dotted else []
    names = list(dict.fromkeys(names))
    return f"parameters.{'/'.join(names)} " if names else ""


def _is_scalar(v: Any) -> bool:
    return v is None or isinstance(v, (bool, int, float, str))


# ----------------------------------------------------------------------------- points
def generate_points(spec: SweepSpec) -> Iterator[Point]:
    """The points of the design, numbered from 0 (grid: last parameter varies fastest)."""
    names = list(spec.parameters)
    if spec.design == "grid":
        choices = [_choices(spec.parameters[n]) for n in names]
        rows = itertools.product(*choices)
    elif spec.design == "list":
        rows = ([_choice_of(spec.parameters[n], pt[n], n, i) for n in names]
                for i, pt in enumerate(spec.points or []))
    else:
        rows = _latin_hypercube(spec, names)
    for index, row in enumerate(rows):
        params = {n: label for n, (label, _) in zip(names, row)}
        settings = tuple((n, path, value) for n, (_, sets) in zip(names, row)
                         for path, value in sets)
        yield Point(index, params, settings)


Choice = tuple[Scalar, list[tuple[str, Any]]]  # (column value, [(path, value)])


def _choices(p: Parameter) -> list[Choice]:
    if p.levels is not None:
        return [(label, list(sets.items())) for label, sets in p.levels.items()]
    labels = p.labels or p.values
    return [(label, [(path, v) for path in p.paths]) for label, v in zip(labels, p.values)]


def _choice_of(p: Parameter, given: Any, name: str, i: int) -> Choice:
    if p.levels is not None or p.labels is not None:
        for label, sets in _choices(p):
            if label == given:
                return label, sets
        raise SpecError([(f"points[{i}].{name}", f"'{given}' is not one of "
                                                 f"{[c[0] for c in _choices(p)]}")])
    if not _is_scalar(given):
        raise SpecError([(f"points[{i}].{name}", "lists or mappings need 'levels' or 'labels'")])
    return given, [(path, given) for path in p.paths]


def _latin_hypercube(spec: SweepSpec, names: list[str]) -> Iterator[list[Choice]]:
    from scipy.stats import qmc

    seed = spec.design_seed if spec.design_seed is not None else spec.seed
    try:
        sampler = qmc.LatinHypercube(d=len(names), rng=seed)
    except TypeError:  # scipy < 1.15
        sampler = qmc.LatinHypercube(d=len(names), seed=seed)
    for u in sampler.random(spec.samples or 1):
        row = []
        for name, x in zip(names, u):
            p = spec.parameters[name]
            if p.low is not None and p.high is not None:
                if p.integer:
                    lo, hi = math.ceil(p.low), math.floor(p.high)
                    v: Scalar = int(min(hi, lo + math.floor(x * (hi - lo + 1))))
                else:
                    v = float(p.low + x * (p.high - p.low))
                row.append((v, [(path, v) for path in p.paths]))
            else:
                options = _choices(p)
                row.append(options[min(len(options) - 1, int(x * len(options)))])
        yield row


# ----------------------------------------------------------------------------- applying
def apply_point(base: dict, resolved: dict, point: Point, source: str | None = None) -> dict:
    """A copy of the base data with the point's values written at their paths."""
    data = unshared(base)  # a deep copy that also unshares YAML anchors: a parameter on an
    for name, path, value in point.settings:  # anchored value changes only its own path
        where = (f"parameters.{name}", f"(point {point.index}: {point.describe()})")
        data = _set(data, resolved, path, value, where, source)
    return data


def _set(data: dict, resolved: dict | None, path: str, value: Any,
         where: tuple[str, ...], source: str | None) -> dict:
    """``set_path`` after checking that the path's parent exists in the base scenario."""
    parts = [k for k in str(path).split(".") if k]
    node, ref = data, resolved
    for i, part in enumerate(parts[:-1]):
        nxt, ref = _child(node, part), _child(ref, part)
        if nxt is None and isinstance(node, dict) and isinstance(ref, (dict, list)):
            node[part] = nxt = copy.deepcopy(ref)  # a section left to its defaults
        if not isinstance(nxt, (dict, list)):
            known = list(node) if isinstance(node, dict) else []
            close = difflib.get_close_matches(part, [str(k) for k in known], n=1)
            hint = (f"; did you mean '{'.'.join([*parts[:i], close[0]])}'?" if close
                    else f"; known here: {', '.join(map(str, known)) or 'nothing'}"
                    if known else "; check the path against the scenario file")
            head = ".".join(parts[: i + 1])
            raise SpecError([(" ".join(where), f"path '{path}': '{head}' is not in the base "
                                               f"scenario{hint}")], source)
        node = nxt
    try:
        return set_path(data, f"{path}={_yaml_value(value)}")
    except ScenarioError as exc:
        raise SpecError([(" ".join(where), f"path '{path}': {m}") for _, m in exc.problems],
                        source) from None


def _child(node: Any, part: str) -> Any:
    if isinstance(node, dict):
        if part in node:
            return node[part]
        if part.isdigit() and int(part) in node:
            return node[int(part)]
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    return None


def _yaml_value(value: Any) -> str:
    """One-line YAML for a value (round-trips through ``set_path``'s YAML parsing)."""
    text = yaml.safe_dump(value, default_flow_style=True, width=1_000_000, allow_unicode=True)
    return text.removesuffix("\n").removesuffix("\n...").strip()


# ----------------------------------------------------------------------------- identity
def scenario_hash(scenario: Scenario) -> str:
    """A short digest of a resolved scenario (resume refuses a changed point)."""
    text = json.dumps(to_plain(scenario), sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def column_type(values: list[Any]) -> str:
    """Parquet column type of a parameter: every point's files must agree."""
    if all(isinstance(v, bool) for v in values):
        return "bool"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "int"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return "float"
    return "str"


def cast_value(value: Any, kind: str) -> Scalar:
    """A parameter value in its column type."""
    if kind == "float":
        return float(value)
    if kind == "int":
        return int(value)
    if kind == "bool":
        return bool(value)
    return "" if value is None else str(value)
