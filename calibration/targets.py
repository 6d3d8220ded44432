"""Calibration targets: what the audit measured and how the model's counterpart is obtained.

Time shares, interruption figures and letter delays come from simulated replications;
volumes and micro-task shares are analytic (expected arrivals and duration distributions of the
scenario), so they carry no sampling noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from simulation.scenario.schema import Scenario

from . import workload
from .audit import Audit, MicroTasks, Volume, volume_work
from .measure import LETTERS_MEAN, LETTERS_WITHIN, values_of


@dataclass(frozen=True)
class Target:
    """One figure to reproduce, with the scale of its residual."""

    key: str          # e.g. 'share:booking', 'interrupted_time_share', 'volumes[0]'
    label: str
    value: float
    tolerance: float  # residual scale: a miss of one tolerance costs 1
    unit: str         # '%' (fraction shown x100), '/h', '/day', '/week', ' days'
    simulated: bool
    source: object = None  # the audit's MicroTasks or Volume for analytic targets


@dataclass(frozen=True)
class Value:
    """The model's value of a target, with its 95% CI and standard error (simulated only)."""

    mean: float
    ci_low: float = math.nan
    ci_high: float = math.nan
    se: float = 0.0


def build(audit: Audit, scenario: Scenario) -> list[Target]:
    """Targets of an audit for a scenario (volumes rescaled by FTE when the audit gives it)."""
    tol = audit.tolerances
    out = [Target(f"share:{c}", f"time share {c.replace('_', ' ')}", v, tol.share, "%", True)
           for c, v in audit.shares.items()]
    inter = audit.interruptions
    if inter is not None and inter.time_share is not None:
        out.append(Target("interrupted_time_share", "time on interrupted tasks", inter.time_share,
                          tol.interrupted_time_share, "%", True))
    if inter is not None and inter.per_hour is not None:
        out.append(Target("interruptions_per_hour", "interruptions per on-duty hour",
                          inter.per_hour, tol.interruptions_per_hour, "/h", True))
    for i, m in enumerate(audit.micro_tasks):
        what = "/".join(m.categories or m.kinds or ["all"])
        out.append(Target(f"micro_tasks[{i}]", f"{what} acts under {m.under_minutes:g} min",
                          m.share, tol.micro_share, "%", False, m))
    out += _letter_targets(audit)
    ratio = workload.scenario_fte(scenario) / audit.staffing.fte if audit.staffing.fte else 1.0
    for i, v in enumerate(audit.volumes):
        value = v.value * ratio
        out.append(Target(f"volumes[{i}]", f"{v.what.replace('_', ' ')} per {v.per}", value,
                          tol.volume_relative * value, f"/{v.per}", False, v))
    return out


def _letter_targets(audit: Audit) -> list[Target]:
    """The letters' mean delay and share within N days, if the audit gives them."""
    letters, tol = audit.letters, audit.tolerances
    if letters is None:
        return []
    which = []
    if letters.target_days is not None:
        which.append("J" + "/J".join(str(t) for t in letters.target_days))
    if letters.departments is not None:
        which.append(", ".join(letters.departments))
    of = f" ({'; '.join(which)})" if which else ""
    out = []
    if letters.mean_days is not None:
        out.append(Target(LETTERS_MEAN, f"mean letter delay{of}", letters.mean_days,
                          tol.letters_mean_days, " days", True))
    if letters.share_within is not None:
        out.append(Target(LETTERS_WITHIN, f"letters sent within {letters.within_days:g} days{of}",
                          letters.share_within, tol.letters_share, "%", True))
    return out


def micro_share(m: MicroTasks, scenario: Scenario) -> float:
    """Share of the selected acts shorter than ``m.under_minutes`` (expected, per open day)."""
    work = [w for w in workload.work_items(scenario)
            if m.matches(w.kind, w.category, w.department)]
    acts = sum(w.acts_per_day for w in work)
    if acts <= 0:
        return math.nan
    return sum(w.acts_per_day * workload.cdf(w.duration, m.under_minutes) for w in work) / acts


def volume(v: Volume, scenario: Scenario) -> float:
    """Expected arrivals of the selected streams per open day or week."""
    per_day = sum(w.acts_per_day for w in volume_work(v, scenario))
    return per_day * (len(scenario.calendar.opening_hours) if v.per == "week" else 1)


def analytic(target: Target, scenario: Scenario) -> float:
    """The model's value of an analytic target."""
    if isinstance(target.source, MicroTasks):
        return micro_share(target.source, scenario)
    return volume(target.source, scenario)


def model_values(targets: list[Target], scenario: Scenario,
                 pooled: pd.DataFrame | None) -> list[Value]:
    """The model's value of every target (simulated ones from pooled replications)."""
    out = []
    for t in targets:
        if t.simulated:
            out.append(Value(*values_of(pooled, t.key)) if pooled is not None
                       else Value(math.nan))
        else:
            out.append(Value(analytic(t, scenario)))
    return out


def independent_count(targets: list[Target]) -> int:
    """Number of independent targets (time shares sum to 1, so one of them is implied)."""
    shares = sum(1 for t in targets if t.key.startswith("share:"))
    return len(targets) - (1 if shares > 1 else 0)
