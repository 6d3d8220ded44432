"""The scenario-file reference (docs/scenario.md), generated from the pydantic models.

Run ``python -m simulation.scenario.reference > docs/scenario.md``; a test checks the file is current,
so the reference can never drift from what the validator accepts.
"""

from __future__ import annotations

import types
import typing

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from simulation.scenario import distributions as di
from simulation.scenario import doctors as dr
from simulation.scenario import fields as fi
from simulation.scenario import lever_specs as ls
from simulation.scenario import schema as sc
from simulation.scenario.bounds import BOUNDS_TABLE, Bound

DIST_TYPES = {di.Exponential, di.LogNormal, di.Gamma, di.Triangular, di.Uniform,
              di.Deterministic, di.Empirical}
SECTIONS: list[tuple[str, list[type[BaseModel]]]] = [
    ("Scenario (top level)", [sc.Scenario]),
    ("Calendar", [sc.Calendar]),
    ("Departments and streams", [sc.Department, sc.CallStream, sc.WalkInStream,
                                 sc.DoctorRequestStream, sc.DictationStream,
                                 sc.BackOfficeStream]),
    ("Stream parts", [sc.ArrivalProfile, sc.Batch, sc.Redial, sc.Transfer, sc.OnlineBooking,
                      sc.VoiceRecognition]),
    ("Doctors' sign-off (`departments.X.doctors`)", [dr.Doctors, dr.Sitting, dr.FrontEndCost,
                                                     dr.Rework]),
    ("Staff", [sc.Shift, sc.Team, sc.ServiceRule, sc.Secretary]),
    ("Policies", [sc.InterruptionPolicy, sc.KpiSettings]),
    ("Levers (list under `levers:`)", [ls.Pooling, ls.BookingDesk, ls.FrontBackSplit,
                                       ls.FloatPool, ls.VoiceRecognitionLever,
                                       ls.OnlineBookingLever, ls.Absences]),
    ("Distributions (durations in minutes; a bare number = deterministic)",
     [di.Exponential, di.LogNormal, di.Gamma, di.Triangular, di.Uniform, di.Deterministic,
      di.Empirical]),
]


def _bound_in(metadata) -> Bound | None:
    """The bound among a field's validators (``PerDay``, ``Minutes``...), if any."""
    for m in metadata:
        owner = getattr(getattr(m, "func", None), "__self__", None)
        if isinstance(owner, Bound):
            return owner
    return None


def _bound_of(t) -> Bound | None:
    """The bound of a bounded number type, if ``t`` is one."""
    return _bound_in(getattr(t, "__metadata__", ()))


def _range_text(b: Bound) -> str:
    lo = f"{'>' if b.low_open else '≥'} {b.low:g}"
    hi = f"{'<' if b.high_open else '≤'} {b.high:g}"
    return f"{lo}, {hi}" + (f" {b.unit}" if b.unit else "")


def _type_name(t) -> str:
    """A readable name for a field's type annotation."""
    bound = _bound_of(t)
    if bound is not None:
        return f"{'int' if bound.integer else 'float'} ({_range_text(bound)})"
    if t == fi.TaskDist:
        return f"distribution (≤ {fi.TASK.high:g} min)"
    if t == fi.DelayDist:
        return f"distribution (≤ {fi.DELAY.high:g} min)"
    if t == sc.Clock:
        return "HH:MM"
    if t == sc.ClockRange:
        return "[HH:MM, HH:MM]"
    if t in (sc.DistField, ls.DistField, di.Dist) or set(typing.get_args(t)) == DIST_TYPES:
        return "distribution"
    if t == sc.Stream:
        return "stream"
    if t == ls.Lever:
        return "lever"
    origin, args = typing.get_origin(t), typing.get_args(t)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args)
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return f"mapping {_type_name(args[0])} -> {_type_name(args[1])}"
    if origin is tuple:
        return "[" + ", ".join(_type_name(a) for a in args) + "]"
    if t is type(None):
        return "null"
    if isinstance(t, type) and issubclass(t, BaseModel):
        return f"`{t.__name__}`"
    return getattr(t, "__name__", str(t))


def _default(field) -> str:
    if field.default is not PydanticUndefined:
        value = field.default
        if isinstance(value, BaseModel):
            return f"`{value.model_dump(by_alias=True)}`"
        return f"`{value!r}`" if value is not None else "`null`"
    if field.default_factory is not None:
        value = field.default_factory()
        if isinstance(value, BaseModel):
            value = value.model_dump(by_alias=True)
        return f"`{value!r}`"
    return "**required**"


def model_table(model: type[BaseModel]) -> str:
    """Markdown table of one model's fields: name, type, default, meaning."""
    doc = (model.__doc__ or "").strip().splitlines()
    lines = [f"### `{model.__name__}`", "", " ".join(x.strip() for x in doc), "",
             "| field | type | default | meaning |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        key = field.alias or name
        desc = (field.description or "").replace("|", "\\|")
        if not desc and key in ("type", "lever", "dist"):
            desc = "Selects this kind (the tag)."
        typ = _type_name(field.annotation)
        bound = _bound_in(field.metadata)
        if bound is not None:
            typ = f"{'int' if bound.integer else 'float'} ({_range_text(bound)})"
        if any(getattr(m, "func", None) is sc._clock for m in field.metadata):
            typ = "HH:MM"
        lines.append(f"| `{key}` | {typ} | {_default(field)} | {desc} |")
    return "\n".join(lines) + "\n"


def render() -> str:
    """The whole reference page."""
    parts = [
        "# Scenario file reference",
        "",
        "Generated from the validator (`python -m simulation.scenario.reference > docs/scenario.md`);",
        "every field the validator accepts is here. Times are minutes, clock times 'HH:MM'.",
        "Unknown fields are errors. Top-level keys starting with `x-` are ignored: use them",
        "to hold YAML anchors (shared shapes, durations). `extends: file.yaml` merges this",
        "file over another (mappings key by key, lists replaced, `levers` appended);",
        "`--set dotted.path=value` overrides one field from the command line.",
        "",
    ]
    for title, models in SECTIONS:
        parts += [f"## {title}", ""] + [model_table(m) for m in models]
    parts += bounds_table()
    return "\n".join(parts)


def bounds_table() -> list[str]:
    """The bounds every number is checked against (``scenario/bounds.py``)."""
    lines = ["## Bounds", "",
             "Every number must be finite (no `.nan`, `.inf`), a whole number where a count "
             "is meant, and inside", "these bounds, which no hospital could exceed: a value "
             "outside them is a typo or a unit", "mistake, reported with the field's path "
             "and the fix. Before a run, the expected number of", "events is also checked "
             "against a budget (`--max-events`, default 30 million), and a warning",
             "says when the work demanded is at least the secretaries' time on duty "
             "(docs/model.md,", "\"Checks before a run\"). Names of the scenario, departments, "
             "streams, teams, shifts and", "secretaries must be safe file names: not `.` or "
             "`..`, no `/ \\ : * ? \" < > |`, no leading dot, no", "control character, "
             "not a Windows device name (`con`, `nul`, `aux`, `prn`, `com1`...).", "",
             "| quantity | range | why the limit |", "|---|---|---|"]
    for what, bound, _name in BOUNDS_TABLE:
        lines.append(f"| {what} | {_range_text(bound)} | {bound.why} |")
    return lines + [""]


if __name__ == "__main__":
    print(render(), end="")
