"""Audit files: what a time-and-motion audit of secretariats measured, with its source.

An audit gives time shares per audit category (summing to 100%), optionally staffing,
known volumes, an interruption figure, micro-task shares and the delay of letters from
dictation to sending (what hospitals publish, and what fits the doctors' sign-off), plus
the mapping from the model's work (task kinds, categories, departments) to the audit's
categories. An audit of letters alone may leave the shares out. ``check`` tells whether
a scenario can be fitted to it; every problem names the field and the fix.
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
from .limits import DEFAULTS as LIMITS

VOLUME_TYPES = {"calls": ("call",), "walk_ins": ("walk_in",), "doctor_requests": ("doctor_request",),
                "reports": ("dictation",), "tasks": ("back_office",)}


def frozen(values) -> frozenset | None:
    """A selector's names as a picklable set (None: any)."""
    return None if values is None else frozenset(values)


class AuditError(ScenarioError):
    """An audit file that cannot be used; printed as sentences naming the field and the fix."""

    what = "the audit"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # no NaN or infinity


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


class Letters(_Strict):
    """Delay of letters from dictation to sending, as a hospital measures it (simulated target).

    The model's counterpart is the window's reports of the selected departments and
    targets, followed to their sending (``calendar.follow_up_days``): the mean delay in
    calendar days and the share sent within ``within_days`` (unsent reports past that
    count as late), as the KPIs ``report_delay_mean_days`` and ``report_within_8d_share``.
    """

    mean_days: float | None = Field(None, gt=0, description="Mean delay, calendar days.")
    within_days: float | None = Field(None, gt=0, description="Days of the published share.")
    share_within: float | None = Field(None, ge=0, le=1,
                                       description="Share of letters sent within within_days.")
    departments: list[str] | None = Field(None, min_length=1,
                                          description="Only these departments' reports.")
    target_days: list[int] | None = Field(
        None, min_length=1, description="Only reports of streams with these targets (e.g. [7] "
        "for consultation letters, [0] for discharge letters).")

    @model_validator(mode="after")
    def _figures(self):
        if (self.within_days is None) != (self.share_within is None):
            raise ValueError("gives only one of 'within_days' and 'share_within'; give both "
                             "(e.g. within_days: 8, share_within: 0.5) or neither")
        if self.mean_days is None and self.share_within is None:
            raise ValueError("gives no figure; add 'mean_days' or 'within_days' with "
                             "'share_within', or remove the section")
        return self

    def plain(self) -> tuple:
        """(within days, departments, targets) as picklable values for ``measure``."""
        return (self.within_days, frozen(self.departments), frozen(self.target_days))


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
    letters_mean_days: float = Field(0.5, gt=0, description="Mean letter delay, days.")
    letters_share: float = Field(0.02, gt=0, description="Share of letters within N days.")


class Plausibility(_Strict):
    """The operating point a calibrated scenario must keep (limits.py); CLI flags override."""

    max_utilisation: float = Field(LIMITS["max_utilisation"], gt=0, le=1,
                                   description="Busy / on-duty time.")
    max_backlog_growth: float = Field(
        LIMITS["max_backlog_growth"], ge=0, description="Growth of open deferrable work over the second half of the "
                                "window, as a share of on-duty time.")
    max_report_backlog_days: float = Field(
        LIMITS["max_report_backlog_days"], gt=0, description="Reports waiting for the secretaries (typing, sending) at the horizon, in days of dictation.")
    weight: float = Field(LIMITS["weight"], ge=0, description="Penalty per scale beyond a limit; 0: "
                                                  "report the limits without enforcing them.")


FIGURES = ("shares", "interruptions", "micro_tasks", "volumes", "letters")
NO_FIGURE = ("the audit gives no figure to fit; add 'shares' (time shares), 'interruptions', "
             "'volumes', 'micro_tasks' or 'letters'")


class Audit(_Strict):
    """One audit file (``calibration/audits/*.yaml``)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    title: str
    source: Source
    scope: str = ""
    staffing: Staffing = Field(default_factory=Staffing)
    shares: dict[str, float] = Field(
        default_factory=dict, description="Audit category -> time share (may be left out by "
        "an audit of letters alone).")
    mapping: list[MappingRule] | None = Field(
        None, description="Default: each audit category is the model category of that name.")
    interruptions: Interruptions | None = None
    micro_tasks: list[MicroTasks] = Field(default_factory=list)
    volumes: list[Volume] = Field(default_factory=list)
    letters: Letters | None = None
    fit: list[str | FreeParameter] = Field(default_factory=list)
    tolerances: Tolerances = Field(default_factory=Tolerances)
    plausibility: Plausibility = Field(default_factory=Plausibility)
    notes: str = ""

    @model_validator(mode="after")
    def _shares(self):
        found = share_problems(self.shares, self.tolerances.shares_sum)
        if found:
            raise ValueError(f"{found[0][0]}: {found[0][1]}")
        if not any(getattr(self, k) for k in FIGURES):
            raise ValueError(NO_FIGURE)
        return self

    def free_parameters(self) -> list[FreeParameter]:
        return [p if isinstance(p, FreeParameter) else FreeParameter(name=p) for p in self.fit]

    def rules(self) -> list[MappingRule]:
        """The mapping, or identity on the model's audit categories."""
        if self.mapping is not None:
            return self.mapping
        return [MappingRule(categories=[c], to=c) for c in self.shares]


def share_problems(shares, shares_sum: float = 0.02) -> list[tuple[str, str]]:
    """Shares that are not fractions adding up to 100%; works on raw file data too."""
    if not isinstance(shares, dict):
        return []
    numbers = {c: v for c, v in shares.items()
               if isinstance(v, (int, float)) and not isinstance(v, bool)}
    if len(numbers) < len(shares):  # pydantic names the non-numbers
        return []
    bad = {c: v for c, v in numbers.items() if not 0 <= v <= 1}
    total = sum(numbers.values())
    if bad and math.isclose(total, 100, abs_tol=100 * shares_sum):
        return [("shares", "shares look like percentages; write them as fractions (0.22 for 22%)")]
    if bad:
        return [(f"shares.{c}", f"must be between 0 and 1 (got {v:g}); write it as a fraction")
                for c, v in bad.items()]
    if numbers and abs(total - 1) > shares_sum + 1e-9:
        return [("shares", f"shares add up to {total:.1%}, not 100% (within {shares_sum:.0%}); "
                           "fix the figures or add the missing category")]
    return []


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
    if ";" not in msg:
        msg += "; fix the value (see docs/calibration.md)"
    return path, msg[0].lower() + msg[1:]


# Sections that can be left out for the checks against the scenario when they are broken
# (their own problems are reported anyway); name, title and source get placeholders.
_OPTIONAL = ("scope", "staffing", "interruptions", "micro_tasks", "volumes", "letters", "fit",
             "tolerances", "plausibility", "notes")
_PLACEHOLDERS = {"name": "audit", "title": "audit", "source": {"citation": "-"}}


def read_audit(path: str | Path) -> tuple[Audit | None, list[tuple[str, str]]]:
    """An audit file read with every problem of the file itself, not only the first.

    The audit is None when even its shares and mapping cannot be read; otherwise it is the
    file with its broken optional sections left out, for the checks against a scenario.
    """
    if not Path(path).is_file():
        return None, [("", f"audit file not found: '{path}'; check the path (bundled "
                           "audits live in calibration/audits/)")]
    data = read_yaml(path)
    if not isinstance(data, dict):
        return None, [("", "the audit file must hold a mapping (name, title, source, shares...)")]
    try:
        return Audit.model_validate(data), []
    except ValidationError as exc:
        errors = exc.errors()
    found = [_sentence(e) for e in errors if e["loc"]]  # the model-level one: the shares
    sums = (data.get("tolerances") or {}).get("shares_sum", 0.02) \
        if isinstance(data.get("tolerances"), dict) else 0.02
    found += share_problems(data.get("shares"), sums if isinstance(sums, (int, float)) else 0.02)
    # No figure at all, unless a figure's own section was refused above (e.g. letters: {}).
    if not any(data.get(k) for k in FIGURES) and not any(
            e["loc"] and str(e["loc"][0]) in FIGURES for e in errors):
        found.append(("", NO_FIGURE))
    broken = {str(e["loc"][0]) for e in errors if e["loc"]}
    partial = {k: v for k, v in data.items() if k not in broken or k not in _OPTIONAL}
    partial.update({k: v for k, v in _PLACEHOLDERS.items() if k in broken or k not in data})
    partial = {k: v for k, v in partial.items() if k in Audit.model_fields}
    if "shares" in partial and isinstance(partial["shares"], dict):
        partial["shares"] = {c: v for c, v in partial["shares"].items()
                             if isinstance(v, (int, float)) and 0 <= v <= 1}
    partial["tolerances"] = {**(partial.get("tolerances") or {}), "shares_sum": 1.0}
    try:
        return Audit.model_validate(partial), found
    except ValidationError:
        return None, found


def load_audit(path: str | Path) -> Audit:
    """Read and check an audit file on its own (not yet against a scenario)."""
    audit, found = read_audit(path)
    if found or audit is None:
        raise AuditError(found, str(path))
    return audit


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
    # Work left unmapped may follow from a misnamed selector of a rule: say so.
    misnamed = any(where.startswith("mapping") for where, _ in out)
    if audit.shares or audit.mapping is not None:  # an audit of letters may have none
        out += _share_problems_vs(audit, scenario, misnamed, known, cats)
    if audit.interruptions is not None and not scenario.interruptions.enabled:
        out.append(("interruptions", "the scenario disables interruptions, so the figure cannot "
                                     "be reached; set interruptions.enabled: true in the scenario"))
    out += _volume_problems(audit, scenario)
    return out + _letters_problems(audit, scenario)


def _share_problems_vs(audit: Audit, scenario: Scenario, misnamed: bool, known: str,
                       cats: set[str]) -> list[tuple[str, str]]:
    """Time shares that the scenario's work cannot reach through the mapping."""
    out: list[tuple[str, str]] = []
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
    unmapped: dict[tuple[str, str], list[str]] = {}
    for w in workload.work_items(scenario):
        to = classify(rules, w.kind, w.category, w.department)
        if to is None:
            depts_of = unmapped.setdefault((w.kind, w.category), [])
            if w.department not in depts_of:
                depts_of.append(w.department)
        else:
            mapped[to] = mapped.get(to, 0.0) + w.minutes_per_day
    if audit.mapping is None and unmapped:
        missing = sorted({cat for _, cat in unmapped})
        out.append(("shares", f"the scenario's work of categor{'y' if len(missing) == 1 else 'ies'}"
                              f" {', '.join(missing)} has no share; add "
                              f"{'it' if len(missing) == 1 else 'them'} to 'shares' or write a "
                              "'mapping' with a catch-all rule"))
        unmapped = {}
    for (kind, cat), where in unmapped.items():
        out.append(("mapping", f"work of kind '{kind}', category '{cat}' (department(s) "
                               f"{', '.join(where)}) maps to no audit category; add a rule for "
                               "it or a catch-all rule with only 'to'"
                               + (" (or fix the unknown names above)" if misnamed else "")))
    for c, share in audit.shares.items():
        unknown = audit.mapping is None and c not in cats  # already said above
        if share > 0 and c in targets and mapped.get(c, 0.0) <= 0 and not unknown:
            out.append((f"shares.{c}", f"no work of the scenario maps to '{c}' so its "
                                       f"{share:.0%} cannot be reached; fix the mapping"))
    return out


def _letters_problems(audit: Audit, scenario: Scenario) -> list[tuple[str, str]]:
    """Why the scenario's reports cannot be compared with the audit's letters."""
    letters = audit.letters
    if letters is None:
        return []
    out = []
    for d in letters.departments or []:
        if d not in scenario.departments:
            out.append(("letters.departments", f"unknown department '{d}'; use one of: "
                        f"{', '.join(scenario.departments)}"))
    picked = [(d, s) for d, dept in scenario.departments.items() for s in dept.streams.values()
              if s.type == "dictation" and (letters.departments is None or d in letters.departments)
              and (letters.target_days is None or s.target_days in letters.target_days)]
    if not picked and not out:
        targets = sorted({s.target_days for dept in scenario.departments.values()
                          for s in dept.streams.values() if s.type == "dictation"})
        out.append(("letters", "no dictation stream of the scenario matches it; fix "
                               "'departments' or 'target_days' (the scenario's reports have "
                               f"targets {', '.join(map(str, targets)) or 'none'}), or add "
                               "dictations"))
    if scenario.calendar.follow_up_days <= 0:
        out.append(("letters", "the scenario's calendar.follow_up_days is 0, so letters unsent "
                               "at the horizon would be dropped and the delay biased low; "
                               "remove follow_up_days: 0 (default 60)"))
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
