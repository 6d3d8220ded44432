"""Free parameters of a calibration: named, bounded, pure transforms of scenario data.

A parameter acts on the plain scenario data (what the YAML holds, after ``extends``), so
the calibrated scenario keeps the user's structure. Scales multiply what they touch (1 =
unchanged) and are fitted in log space; values set a field. The vocabulary (see
docs/calibration.md):

- ``<group>.rate_scale`` / ``<group>.<sel>.rate_scale``: arrivals (per_day, batch sizes)
- ``<group>.service_scale`` / ``<group>.<sel>.service_scale``: mean duration of one act
- ``<group>.service_cv`` / ``<group>.<sel>.service_cv``: cv of lognormal/gamma durations
  with group in calls, walk_ins, doctor_requests, dictations, back_office; ``<sel>`` is a
  model audit category (a back-office kind for back_office). Aliases:
  ``dictations.typing_mean`` = dictations.service_scale; ``back_office.duration_scale``.
- ``<category>.rate_scale`` = ``category.<category>.volume_scale``: every stream of it;
  ``category.<category>.duration_scale``: their durations.
- ``<group>.granularity`` for dictations, back_office, deferrable (both): the work is
  unchanged but comes in smaller (g < 1) pieces: back-office durations x g and volumes / g;
  dictations are typed in sittings of g x the mean typing time (g >= 1: one sitting).
- ``interruptions.resumption_mean``: mean resumption cost (minutes).
- ``doctors.absence_rate`` (share of days a doctor is away, so misses his sittings),
  ``doctors.leave_weeks`` (weeks of leave a year), ``doctors.time_scale`` (doctor minutes
  per report): every department's declared doctors (fitted to an audit's ``letters``).
- ``path:<dotted.path>``: any real-valued field, e.g. a stream's ``arrivals.per_day``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pydantic import TypeAdapter

from simulation.scenario.distributions import Dist, coerce_dist

_DIST = TypeAdapter(Dist)

GROUPS = {"calls": "call", "walk_ins": "walk_in", "doctor_requests": "doctor_request",
          "dictations": "dictation", "back_office": "back_office"}
DEFAULT_CATEGORY = {"call": "reception", "walk_in": "reception", "doctor_request": "doctor_assistance",
                    "dictation": "patient_file", "back_office": "patient_file"}
DURATION_FIELDS = {"call": ("service",), "walk_in": ("service",), "doctor_request": ("service",),
                   "dictation": ("typing", "sending"), "back_office": ("duration",)}
SCALE_BOUNDS = (0.2, 5.0)


class ParameterError(ValueError):
    """A free parameter that does not exist or touches nothing in the scenario."""


@dataclass(frozen=True)
class Parameter:
    """One free parameter: its name, bounds, starting value and transform."""

    name: str
    doc: str
    lower: float
    upper: float
    start: float
    log: bool
    apply: Callable[[dict, float], None]  # mutates unshared plain data in place

    def bounded(self, lower: float | None, upper: float | None) -> Parameter:
        lo = self.lower if lower is None else lower
        hi = self.upper if upper is None else upper
        if not (lo < hi) or (self.log and lo <= 0):
            raise ParameterError(f"{self.name}: bounds [{lo}, {hi}] are empty or not positive; "
                                 "give lower < upper (both > 0 for scales)")
        start = min(max(self.start, lo), hi)
        return Parameter(self.name, self.doc, lo, hi, start, self.log, self.apply)


def unshare(node):
    """A copy in which no dict or list is shared (YAML aliases are expanded)."""
    if isinstance(node, dict):
        return {k: unshare(v) for k, v in node.items()}
    if isinstance(node, list):
        return [unshare(v) for v in node]
    return node


def streams(data: dict) -> Iterator[tuple[str, str, dict]]:
    """(department, stream name, stream dict) of plain scenario data."""
    for dname, dept in (data.get("departments") or {}).items():
        for sname, s in ((dept or {}).get("streams") or {}).items():
            if isinstance(s, dict):
                yield dname, sname, s


def category_of(stream: dict) -> str:
    return stream.get("audit_category", DEFAULT_CATEGORY.get(stream.get("type"), ""))


def scale_dist(dist, f: float):
    """A plain distribution with every value multiplied by ``f`` (its shape unchanged)."""
    if isinstance(dist, (int, float)) and not isinstance(dist, bool):
        return dist * f
    d = dict(dist)
    for key in ("mean", "low", "mode", "high", "value"):
        if key in d:
            d[key] = d[key] * f
    if "values" in d:
        d["values"] = [v * f for v in d["values"]]
    return d


def _scale_rate(s: dict, f: float) -> None:
    if isinstance(s.get("arrivals"), dict):
        s["arrivals"]["per_day"] = s["arrivals"].get("per_day", 0) * f
    for b in s.get("batches") or []:
        b["mean_size"] = b["mean_size"] * f


def _scale_durations(s: dict, f: float, every: bool = False) -> None:
    """Scale the duration of one act (typing only for dictations, unless ``every``)."""
    fields = DURATION_FIELDS.get(s.get("type"), ())
    for key in fields if every else fields[:1]:
        if key in s:
            s[key] = scale_dist(s[key], f)
        elif key == "sending":
            s[key] = {"dist": "deterministic", "value": 3.0 * f}  # the engine's default


def _cv_field(s: dict) -> str | None:
    """The duration field of a stream whose cv can be set (lognormal or gamma), if any."""
    key = DURATION_FIELDS.get(s.get("type"), ("",))[0]
    d = s.get(key)
    return key if isinstance(d, dict) and d.get("dist") in ("lognormal", "gamma") else None


def _set_cv(s: dict, cv: float) -> None:
    key = _cv_field(s)
    if key is not None:
        s[key] = {**s[key], "cv": cv}


def _stream_parameter(name: str, doc: str, pick: Callable[[dict], bool], action: str,
                      data: dict) -> Parameter:
    chosen = [(d, n) for d, n, s in streams(data)
              if pick(s) and (action != "cv" or _cv_field(s) is not None)]
    if not chosen:
        raise ParameterError(f"{name}: no stream of the scenario matches it; check the group "
                             "and category (see docs/calibration.md)")

    def apply(d: dict, v: float) -> None:
        for dname, sname in chosen:
            s = d["departments"][dname]["streams"][sname]
            if action == "rate":
                _scale_rate(s, v)
            elif action == "duration":
                _scale_durations(s, v)
            elif action == "granularity" and s.get("type") == "dictation":
                # Reports keep their number: long ones are typed in several sittings.
                s["typing_session"] = v * dist_mean(s["typing"]) if v < 1 else None
            elif action == "granularity":
                _scale_durations(s, v, every=True)
                _scale_rate(s, 1 / v)
            else:
                _set_cv(s, v)

    if action == "cv":
        first = data["departments"][chosen[0][0]]["streams"][chosen[0][1]]
        start = first[_cv_field(first)]["cv"]
        return Parameter(name, doc, 0.05, 3.0, start, True, apply)
    lo, hi = (0.1, 3.0) if action == "granularity" else SCALE_BOUNDS
    return Parameter(name, doc, lo, hi, 1.0, True, apply)


_ACTIONS = {"rate_scale": "rate", "volume_scale": "rate", "service_scale": "duration",
            "duration_scale": "duration", "typing_mean": "duration", "granularity": "granularity",
            "service_cv": "cv"}


def resolve(name: str, data: dict) -> Parameter:
    """The parameter called ``name`` for this scenario data, or a ``ParameterError``."""
    name = name.strip()
    if name.startswith("path:"):
        return _path_parameter(name, data)
    if name == "interruptions.resumption_mean":
        return _resumption(data)
    if name in DOCTOR_FIELDS:
        return _doctors_parameter(name, data)
    parts = name.split(".")
    action = _ACTIONS.get(parts[-1])
    cats = {category_of(s) for *_, s in streams(data)}
    if action is None:
        raise ParameterError(f"unknown parameter '{name}'; it must end in one of "
                             f"{', '.join(sorted(_ACTIONS))} (see docs/calibration.md)")
    head = parts[:-1]
    if head == ["deferrable"] and action == "granularity":
        return _stream_parameter(name, "deferrable work in smaller or larger pieces", lambda s: s.get(
            "type") in ("dictation", "back_office"), action, data)
    if len(head) == 2 and head[0] == "category" or len(head) == 1 and head[0] in cats \
            and head[0] not in GROUPS:
        cat = head[-1]
        return _stream_parameter(name, f"every stream of category {cat}",
                                 lambda s: category_of(s) == cat, action, data)
    if head and head[0] in GROUPS and len(head) <= 2:
        stype = GROUPS[head[0]]
        sel = head[1] if len(head) == 2 else None
        if stype == "back_office":
            pick = lambda s: s.get("type") == stype and sel in (None, s.get("kind", "patient_file"))  # noqa: E731
        else:
            pick = lambda s: s.get("type") == stype and sel in (None, category_of(s))  # noqa: E731
        return _stream_parameter(name, f"{head[0]} streams" + (f" of {sel}" if sel else ""), pick,
                                 action, data)
    raise ParameterError(f"unknown parameter '{name}'; start it with one of "
                         f"{', '.join(GROUPS)}, deferrable, category.<name>, a category "
                         f"({', '.join(sorted(cats))}), interruptions or path:")


# name -> (field of departments.*.doctors, default, lower, upper, what it is)
DOCTOR_FIELDS = {
    "doctors.absence_rate": ("absence_rate", 0.0, 0.0, 0.95, "share of days a doctor is away"),
    "doctors.leave_weeks": ("leave_weeks", 0.0, 0.0, 26.0, "weeks of leave a year"),
    "doctors.time_scale": ("time_per_report", None, *SCALE_BOUNDS, "doctor minutes per report"),
}


def _doctors_parameter(name: str, data: dict) -> Parameter:
    """A field of every department's doctors: set (rates, weeks) or scaled (time per report)."""
    field, default, lo, hi, doc = DOCTOR_FIELDS[name]
    depts = [d for d, dept in (data.get("departments") or {}).items()
             if isinstance(dept, dict) and isinstance(dept.get("doctors"), dict)]
    if not depts:
        raise ParameterError(f"{name}: no department of the scenario declares doctors; add "
                             "departments.<name>.doctors (docs/scenario.md) or fit another "
                             "parameter")
    if default is None:  # a scale of each department's own distribution

        def scale(d: dict, v: float) -> None:
            for dept in depts:
                doctors = d["departments"][dept]["doctors"]
                if doctors.get(field) is not None:
                    doctors[field] = scale_dist(doctors[field], v)

        return Parameter(name, doc, lo, hi, 1.0, True, scale)
    values = [float(data["departments"][d]["doctors"].get(field, default)) for d in depts]

    def apply(d: dict, v: float) -> None:
        for dept in depts:
            d["departments"][dept]["doctors"][field] = v

    return Parameter(name, f"{doc} (every department's doctors)", lo, hi,
                     sum(values) / len(values), False, apply)


def _resumption(data: dict) -> Parameter:
    inter = data.get("interruptions") or {}
    cost = inter.get("resumption_cost", {"dist": "exponential", "mean": 1.0})
    current = cost if isinstance(cost, (int, float)) else dist_mean(cost)

    def apply(d: dict, v: float) -> None:
        section = d.setdefault("interruptions", {})
        old = section.get("resumption_cost", {"dist": "exponential", "mean": 1.0})
        section["resumption_cost"] = scale_dist(old, v / current) if current > 0 else v

    return Parameter("interruptions.resumption_mean", "mean resumption cost (min)", 0.05, 15.0,
                     max(current, 0.05), True, apply)


def dist_mean(d) -> float:
    """Exact mean of a plain distribution (or a bare number)."""
    return _DIST.validate_python(coerce_dist(d)).mean


def _walk(data, parts: list[str]):
    node = data
    for p in parts:
        if isinstance(node, dict) and p in node:
            node = node[p]
        elif isinstance(node, list) and p.isdigit() and int(p) < len(node):
            node = node[int(p)]
        else:
            return None
    return node


def _path_parameter(name: str, data: dict) -> Parameter:
    parts = [p for p in name[len("path:"):].split(".") if p]
    value = _walk(data, parts)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterError(f"{name}: the scenario has no number at this path; give the full "
                             "dotted path of a numeric field, e.g. "
                             "path:departments.cardiology.streams.info_calls.arrivals.per_day")
    if isinstance(value, int):
        value = float(value)

    def apply(d: dict, v: float) -> None:
        parent = _walk(d, parts[:-1])
        key = int(parts[-1]) if isinstance(parent, list) else parts[-1]
        parent[key] = v

    positive = value > 0
    lo, hi = (value / 5, value * 5) if positive else (value - 1, value + 1)
    return Parameter(name, "field at " + ".".join(parts), min(lo, hi), max(lo, hi), value,
                     positive, apply)


def to_internal(p: Parameter, value: float) -> float:
    return math.log(value) if p.log else value


def from_internal(p: Parameter, x: float) -> float:
    return math.exp(x) if p.log else x
