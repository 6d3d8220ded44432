"""Analytic workload of a scenario: expected acts per open day and their durations.

Used where a formula is enough (first guess, volumes, micro-task shares, feasibility):
share of category c = sum over its work of acts x mean duration / total work. Calls and
walk-ins arriving while lines are closed create no work; redials and abandonment are
ignored (the simulation has them, the pilot run corrects for them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.scenario.calendar import WEEKDAYS, parse_clock, subtract_intervals
from simulation.scenario.consistency import open_weekdays
from simulation.scenario.distributions import (
    Deterministic,
    Empirical,
    Exponential,
    Gamma,
    LogNormal,
    Triangular,
    Uniform,
)
from simulation.scenario.schema import (
    URGENT_KINDS,
    BackOfficeStream,
    CallStream,
    DictationStream,
    DoctorRequestStream,
    Scenario,
    WalkInStream,
)
from simulation.scenario.streams import hourly_rates

FULL_TIME_MINUTES = 456.0  # 7h36 a day, 5 days a week [DAY]: the FTE unit


@dataclass(frozen=True)
class Work:
    """One kind of work of one stream: expected acts per open day and the duration of one."""

    department: str
    stream: str
    stream_type: str
    kind: str
    category: str
    acts_per_day: float
    duration: object  # a simulation.distributions dist

    @property
    def urgent(self) -> bool:
        return self.kind in URGENT_KINDS

    @property
    def minutes_per_day(self) -> float:
        return self.acts_per_day * self.duration.mean


def _open_fraction(scenario: Scenario) -> np.ndarray:
    """7 x 24 share of each hour during which lines and desks are open."""
    cal = scenario.calendar
    lunch = ([(parse_clock(cal.lunch_closure[0]), parse_clock(cal.lunch_closure[1]))]
             if cal.lunch_closure else [])
    out = np.zeros((7, 24))
    for day, (o, c) in cal.opening_hours.items():
        for a, b in subtract_intervals([(parse_clock(o), parse_clock(c))], lunch):
            for h in range(24):
                out[WEEKDAYS.index(day), h] += max(0.0, min(b, 60 * h + 60) - max(a, 60 * h)) / 60
    return out


def _per_open_day(scenario: Scenario, stream, needs_open_line: bool) -> float:
    """Expected arrivals of a stream per open day (a week's arrivals over its open days)."""
    n_open = max(1, len(open_weekdays(scenario)))
    total = 0.0
    if getattr(stream, "arrivals", None) is not None:
        rates = hourly_rates(stream.arrivals)
        if needs_open_line:
            rates = rates * _open_fraction(scenario)
        total += rates.sum()
    for batch in getattr(stream, "batches", []):
        days = batch.weekdays or open_weekdays(scenario)
        total += batch.mean_size * len([d for d in days if d in scenario.calendar.opening_hours])
    return total / n_open


def work_items(scenario: Scenario) -> list[Work]:
    """Every kind of work the scenario's streams create, with expected daily acts."""
    out: list[Work] = []
    for dname, dept in scenario.departments.items():
        for sname, s in dept.streams.items():
            out.extend(_stream_work(scenario, dname, sname, s))
    return [w for w in out if w.acts_per_day > 0]


def _stream_work(scenario: Scenario, dname: str, sname: str, s) -> list[Work]:
    out: list[Work] = []

    def add(kind: str, acts: float, dist, category: str | None = None) -> None:
        out.append(Work(dname, sname, s.type, kind, category or s.audit_category, acts, dist))

    if isinstance(s, (CallStream, WalkInStream)):
        acts = _per_open_day(scenario, s, needs_open_line=True)
        online = s.online
        if online is not None:
            if online.share > 0:
                add("online_check", acts * online.share, online.check, online.check_category)
            acts *= 1 - online.share - online.averted_share
        if isinstance(s, WalkInStream):
            add("walk_in", acts, s.service)
            return out
        tr = s.transfer.share if s.transfer is not None else 0.0
        add("call", acts * (1 - tr), s.service)
        if tr > 0:
            add("call", acts * tr, s.transfer.handling)
            add("transferred_call", acts * tr, s.service)
    elif isinstance(s, DoctorRequestStream):
        add("doctor_request", _per_open_day(scenario, s, False), s.service)
    elif isinstance(s, BackOfficeStream):
        add(s.kind, _per_open_day(scenario, s, False), s.duration)
    elif isinstance(s, DictationStream):
        acts = _per_open_day(scenario, s, False)
        vr = s.voice_recognition
        a = vr.adoption if vr.mode != "none" else 0.0
        add("typing", acts * (1 - a), s.typing)
        if vr.mode == "back_end":
            if a > 0:
                add("typing", acts * a, s.typing.scaled(vr.proofreading_factor))
            add("sending", acts, s.sending)
        else:  # front-end recognition: the doctor sends the report himself
            add("sending", acts * (1 - a), s.sending)
    return out


def cdf(dist, x: float) -> float:
    """P(duration < x) for a scenario duration distribution."""
    from scipy import stats

    if isinstance(dist, Exponential):
        return float(stats.expon.cdf(x, scale=dist.mean))
    if isinstance(dist, LogNormal):
        s2 = np.log1p(dist.cv ** 2)
        return float(stats.lognorm.cdf(x, np.sqrt(s2), scale=dist.mean * np.exp(-s2 / 2)))
    if isinstance(dist, Gamma):
        k = 1 / dist.cv ** 2
        return float(stats.gamma.cdf(x, k, scale=dist.mean / k))
    if isinstance(dist, Uniform):
        return float(np.clip((x - dist.low) / (dist.high - dist.low), 0, 1))
    if isinstance(dist, Triangular):
        c = (dist.mode - dist.low) / (dist.high - dist.low)
        return float(stats.triang.cdf(x, c, loc=dist.low, scale=dist.high - dist.low))
    if isinstance(dist, Deterministic):
        return float(dist.value < x)
    if isinstance(dist, Empirical):
        v = np.asarray(dist.values, dtype=float)
        w = np.ones_like(v) if dist.weights is None else np.asarray(dist.weights, dtype=float)
        return float(w[v < x].sum() / w.sum())
    raise TypeError(f"no CDF for {type(dist).__name__}")


def on_duty_minutes_per_day(scenario: Scenario, absences: bool = True) -> float:
    """Secretaries' on-duty minutes (shifts minus breaks) per open day."""
    n_open = max(1, len(open_weekdays(scenario)))
    total = 0.0
    for _, _, sec in scenario.secretaries():
        shift = scenario.shift_of(sec)
        spans = subtract_intervals([(parse_clock(shift.start), parse_clock(shift.end))],
                                   [(parse_clock(a), parse_clock(b)) for a, b in shift.breaks])
        days = sec.days or open_weekdays(scenario)
        present = 1 - sec.absence_rate if absences else 1.0
        total += sum(b - a for a, b in spans) * len(days) * present
    return total / n_open


def scenario_fte(scenario: Scenario) -> float:
    """Full-time equivalents of the scenario's staff (7h36 a day, 5 days a week)."""
    minutes_per_week = on_duty_minutes_per_day(scenario, absences=False) * max(1, len(open_weekdays(scenario)))
    return minutes_per_week / (5 * FULL_TIME_MINUTES)
