"""Audit files: what a time-and-motion audit of secretariats measured, with its source.

An audit gives time shares per audit category (summing to 100%), optionally staffing,
known volumes, an interruption figure and micro-task shares, plus the mapping from the
model's work (task kinds, categories, departments) to the audit's categories. ``check``
tells whether a scenario can be fitted to it; every problem names the field and the fix.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from simulation.scenario.consistency import demanded_work
from simulation.scenario.io import ScenarioError, read_yaml
from simulation.scenario.schema import Scenario

from . import workload

VOLUME_TYPES = {"calls": ("call",), "walk_ins": ("walk_in",), "doctor_requests": ("doctor_request",),
                "reports": ("dictation",), "tasks": ("back_office",)}


class AuditError(ScenarioError):
    """An audit file that cannot be used; printed as sentences naming the field and the fix."""

    what = "the audit"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Source(_Strict):
    """Where the figures come from (cited in the calibrated scenario's header)."""

    citation: str = Field(min_length=1)
    document: str | None = Field(None, description="Local copy, e.g. docs/sources/seeds/001_*.txt.")
    location: str | None = Field(None, description="Page, line or footnote in the document.")
    quote: str | None = Field(None, description="The sentence giving the figures (original language).")


class Staffing(_Strict):
    """Staff and hours of the audited secretariats (volumes are per audited FTE)."""

    fte: float | None = Field(None, gt=0, description="Audited full-time equivalents.")
    opening_hours: tuple[str, str] | None = None
    note: str = ""


class Selector(_Strict):
    """Model work picked by task kinds, model audit categories and departments (all optional)."""

    kinds: list[str] | None = None
    categories: list[str] | None = None
    departments: list[str] | None = None

    def matches(self, kind: str, category: str, department: str) -> bool:
        return ((self.kinds is None or kind in self.kinds)
                and (self.categories is None or category in self.categories)
                and (self.departments is None or department in self.departments))


class MappingRule(Selector):
    """Model work matching the selectors counts in audit category ``to`` (first rule wins)."""

    to: str


class Interruptions(_Strict):
    """Interruption figure: share of worked time on interrupted tasks, or a rate per hour."""

    time_share: float | None = Field(None, ge=0, le=1)
    per_hour: float | None = Field(None, ge=0, description="Interruptions per on-duty hour.")

    @model_validator(mode="after")
    def _one(self):
        if self.time_share is None and self.per_hour is None:
            raise ValueError("gives neither 'time_share' nor 'per_hour'; add one or remove the section")
        return self


class MicroTasks(Selector):
    """Share of acts of the selected work shorter than ``under_minutes`` (analytic target)."""

    under_minutes: float = Field(gt=0)
    share: float = Field(ge=0, le=1)


class Volume(Selector):
    """A known volume: arrivals of one type of stream per open day or per week."""

    what: Literal["calls", "walk_ins", "doctor_requests", "reports", "tasks"]
    value: float = Field(gt=0)
    per: Literal["day", "week"] = "day"


class FreeParameter(_Strict):
    """A parameter to fit, optionally with its own bounds."""

    name: str
    lower: float | None = None
    upper: float | None = None


class Tolerances(_Strict):
    """Scale of each residual: a miss of one tolerance costs 1 in the objective."""

    share: float = Field(0.01, gt=0)
    shares_sum: float = Field(0.02, ge=0, description="How far from 100% the shares may add up.")
    interrupted_time_share: float = Field(0.01, gt=0)
    interruptions_per_hour: float = Field(0.2, gt=0)
    micro_share: float = Field(0.01, gt=0)
    volume_relative: float = Field(0.02, gt=0)


class Audit(_Strict):
    """One audit file (``calibration/audits/*.yaml``)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    title: str
    source: Source
    scope: str = ""
    staffing: Staffing = Field(default_factory=Staffing)
    shares: dict[str, float] = Field(min_length=1, description="Audit category -> time share.")
    mapping: list[MappingRule] | None = Field(
        None, description="Default: each audit category is the model category of that name.")
    interruptions: Interruptions | None = None
    micro_tasks: list[MicroTasks] = Field(default_factory=list)
    volumes: list[Volume] = Field(default_factory=list)
    fit: list[str | FreeParameter] = Field(default_factory=list)
    tolerances: Tolerances = Field(default_factory=Tolerances)
    notes: str = ""

    @model_validator(mode="after")
    def _shares(self):
        bad = {c: v for c, v in self.shares.items() if not 0 <= v <= 1}
        total = sum(self.shares.values())
        if bad and math.isclose(total, 100, abs_tol=100 * self.tolerances.shares_sum):
            raise ValueError("shares look like percentages; write them as fractions (0.22 for 22%)")
        if bad:
            raise ValueError(f"shares must be between 0 and 1 (got {bad})")
        if abs(total - 1) > self.tolerances.shares_sum + 1e-9:
            raise ValueError(f"shares add up to {total:.1%}, not 100% (within "
                             f"{self.tolerances.shares_sum:.0%}); fix the figures or add the "
                             "missing category")
        return self

    def free_parameters(self) -> list[FreeParameter]:
        return [p if isinstance(p, FreeParameter) else FreeParameter(name=p) for p in self.fit]

    def rules(self) -> list[MappingRule]:
        """The mapping, or identity on the model's audit categories."""
        if self.mapping is not None:
            return self.mapping
        return [MappingRule(categories=[c], to=c) for c in self.shares]


def classify(rules: list[MappingRule], kind: str, category: str, department: str) -> str | None:
    """Audit category of a piece of model work (first matching rule), or None."""
    for rule in rules:
        if rule.matches(kind, category, department):
            return rule.to
    return None


def _sentence(err: dict) -> tuple[str, str]:
    path = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function"))
    kind, msg = err["type"], err["msg"]
    if kind == "extra_forbidden":
        return path, "unknown field; remove it (see docs/calibration.md for the audit fields)"
    if kind == "missing":
        return path, "is required but missing; add it (see docs/calibration.md)"
    msg = msg.removeprefix("Value error, ").replace("Input should be", "must be")
    return path, msg[0].lower() + msg[1:]


def load_audit(path: str | Path) -> Audit:
    """Read and check an audit file on its own (not yet against a scenario)."""
    if not Path(path).is_file():
        raise AuditError([("", f"audit file not found: '{path}'; check the path (bundled "
                               "audits live in calibration/audits/)")], str(path))
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise AuditError([("", "the audit file must hold a mapping (name, title, source, "
                               "shares...)")], str(path))
    try:
        return Audit.model_validate(data)
    except ValidationError as exc:
        raise AuditError([_sentence(e) for e in exc.errors()], str(path)) from None


def problems(audit: Audit, scenario: Scenario) -> list[tuple[str, str]]:
    """Why the scenario cannot be fitted to the audit, each with the field and the fix."""
    out: list[tuple[str, str]] = []
    work = demanded_work(scenario)
    kinds, cats = set(scenario.all_kinds()), {c for *_, c in work}
    depts = set(scenario.departments)
    known = ", ".join(sorted(cats))
    selectors = ([(f"mapping[{i}]", r) for i, r in enumerate(audit.mapping or [])]
                 + [(f"micro_tasks[{i}]", m) for i, m in enumerate(audit.micro_tasks)]
                 + [(f"volumes[{i}]", v) for i, v in enumerate(audit.volumes)])
    for where, sel in selectors:
        for field, names, allowed in (("kinds", sel.kinds, kinds), ("categories", sel.categories, cats),
                                      ("departments", sel.departments, depts)):
            for n in names or []:
                if n not in allowed:
                    out.append((f"{where}.{field}", f"unknown {field[:-1].replace('ie', 'y')} "
                                f"'{n}'; use one of: {', '.join(sorted(allowed))}"))
    if out:
        return out
    rules = audit.rules()
    targets = {r.to for r in rules}
    for c in audit.shares:
        if c not in targets:
            out.append((f"shares.{c}", f"unknown audit category '{c}': no mapping rule leads to it; "
                                       f"add a rule with 'to: {c}' (model categories: {known})"))
    for i, r in enumerate(audit.mapping or []):
        if r.to not in audit.shares:
            out.append((f"mapping[{i}].to", f"'{r.to}' has no share in 'shares'; add it there "
                                             "or fix the name"))
    if audit.mapping is None:
        for c in audit.shares:
            if c not in cats:
                out.append((f"shares.{c}", f"unknown audit category '{c}': the scenario's streams "
                                           f"use {known}; rename it or add a 'mapping'"))
    mapped: dict[str, float] = {}
    for w in workload.work_items(scenario):
        to = classify(rules, w.kind, w.category, w.department)
        if to is None:
            out.append(("mapping", f"work of department '{w.department}', kind '{w.kind}', "
                                   f"category '{w.category}' maps to no audit category; add a rule "
                                   "for it or a catch-all rule with only 'to'"))
        else:
            mapped[to] = mapped.get(to, 0.0) + w.minutes_per_day
    for c, share in audit.shares.items():
        if share > 0 and c in targets and mapped.get(c, 0.0) <= 0 and not out:
            out.append((f"shares.{c}", f"no work of the scenario maps to '{c}' so its "
                                       f"{share:.0%} cannot be reached; fix the mapping"))
    if audit.interruptions is not None and not scenario.interruptions.enabled:
        out.append(("interruptions", "the scenario disables interruptions, so the figure cannot "
                                     "be reached; set interruptions.enabled: true in the scenario"))
    out += _volume_problems(audit, scenario)
    return out


def volume_work(volume: Volume, scenario: Scenario) -> list[workload.Work]:
    """The scenario's work a volume counts (first acts of the matching streams)."""
    types = VOLUME_TYPES[volume.what]
    first_kind = {"call": "call", "walk_in": "walk_in", "doctor_request": "doctor_request",
                  "dictation": "typing"}
    out = []
    for w in workload.work_items(scenario):
        if w.stream_type not in types or not volume.matches(w.kind, w.category, w.department):
            continue
        if w.stream_type == "back_office" or w.kind == first_kind[w.stream_type]:
            out.append(w)
    return out


def _volume_problems(audit: Audit, scenario: Scenario) -> list[tuple[str, str]]:
    out = []
    n_open = max(1, len(scenario.calendar.opening_hours))
    fte = workload.scenario_fte(scenario)
    for i, v in enumerate(audit.volumes):
        where = f"volumes[{i}]"
        work = volume_work(v, scenario)
        if not work:
            out.append((where, f"no {v.what.replace('_', ' ')} stream of the scenario matches "
                               "this volume; fix 'what' or the selectors"))
            continue
        acts = sum(w.acts_per_day for w in work)
        mean = sum(w.minutes_per_day for w in work) / acts
        per_day = v.value / (n_open if v.per == "week" else 1)
        per_fte = per_day / audit.staffing.fte if audit.staffing.fte else per_day / fte
        needed = per_fte * mean
        if needed > workload.FULL_TIME_MINUTES:
            out.append((f"{where}.value", f"{v.value:g} {v.what.replace('_', ' ')} per {v.per} "
                        f"would take {needed / 60:.1f} h a day per full-time secretary at "
                        f"{mean:.1f} min each, more than the 7.6 h on duty; check the figure, "
                        "its 'per' or staffing.fte"))
    return out


def check(audit: Audit, scenario: Scenario, source: str | None = None) -> None:
    """Raise ``AuditError`` if the scenario cannot be fitted to the audit."""
    found = problems(audit, scenario)
    if found:
        raise AuditError(found, source)
