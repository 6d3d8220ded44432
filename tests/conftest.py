"""Shared helpers for the engine tests: scenario builders, statistics, interval arithmetic.

Scenario builders return *plain dicts* (what a user writes in YAML); ``build`` validates
them into a resolved ``Scenario``. The "always open" calendar has lines open 00:00-24:00
every day and secretaries on one 00:00-24:00 shift, so presence plans merge into one
interval and steady-state queueing theory applies.

Statistical conventions (project standard): every stochastic check uses fixed seeds and
a tolerance derived from the sample size, never tuned by hand. Replication-based checks
use a two-sided Student t interval at ``CONFIDENCE`` = 99.9% over >= 30 independent
replications, so each check has a 0.1% false-alarm probability. Count tests (Poisson,
binomial, chi-square, KS) use the same 99.9% level. The suite holds 30 such checks, so
by Bonferroni the family-wise false-alarm rate is at most 3%.
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from simulation import load_scenario
from simulation.engine.model import simulate
from simulation.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 1440
CONFIDENCE = 0.999  # per check; see the module docstring for the family-wise rate
EPS = 1e-6  # minutes: float slack for sums of segment lengths


# ----------------------------------------------------------------------------- scenarios
def always_open(horizon_days: int, warmup_days: int = 0, **extra) -> dict:
    """Calendar with lines and desks open 24 hours a day, 7 days a week."""
    return {"horizon_days": horizon_days, "warmup_days": warmup_days,
            "opening_hours": {d: ["00:00", "24:00"] for d in WEEKDAYS}, **extra}


ROUND_THE_CLOCK = {"start": "00:00", "end": "24:00"}


def secretaries(n: int, prefix: str = "ama", shift=None, **fields) -> dict:
    """``n`` secretaries named prefix_0..prefix_{n-1} on the same shift (default 24 h)."""
    return {f"{prefix}_{i}": {"shift": dict(shift or ROUND_THE_CLOCK), **fields}
            for i in range(n)}


def exponential(mean: float) -> dict:
    return {"dist": "exponential", "mean": mean}


def call_stream(per_minute: float, service_mean: float, patience_mean: float | None = None,
                **extra) -> dict:
    """Poisson calls (rate per minute, uniform over an always-open day), exponential times."""
    s = {"type": "call", "arrivals": {"per_day": per_minute * MINUTES_PER_DAY},
         "service": exponential(service_mean), **extra}
    if patience_mean is not None:
        s["patience"] = exponential(patience_mean)
    return s


def back_office_stream(per_minute: float, duration, kind: str = "patient_file") -> dict:
    """Poisson deferrable back-office work; ``duration`` is a mean (exponential) or a dist."""
    dist = exponential(duration) if isinstance(duration, (int, float)) else duration
    return {"type": "back_office", "kind": kind,
            "arrivals": {"per_day": per_minute * MINUTES_PER_DAY}, "duration": dist}


def scenario_dict(streams: dict, n_secretaries: int = 1, horizon_days: int = 5,
                  warmup_days: int = 0, department: str = "cardiology",
                  interruptions: dict | None = None, calendar: dict | None = None,
                  name: str = "test", team_fields: dict | None = None,
                  secretary_fields: dict | None = None) -> dict:
    """One department, one team of identical secretaries, an always-open calendar."""
    data = {
        "name": name,
        "calendar": calendar or always_open(horizon_days, warmup_days),
        "departments": {department: {"streams": streams}},
        "teams": {"secretariat": {"departments": [department], **(team_fields or {}),
                                  "secretaries": secretaries(n_secretaries,
                                                             **(secretary_fields or {}))}},
    }
    if interruptions is not None:
        data["interruptions"] = interruptions
    return data


def build(data: dict) -> Scenario:
    """Validated, resolved scenario from a plain dict."""
    return load_scenario(data)


def replications(scenario: Scenario, n: int, seed: int) -> Iterable[dict[str, pd.DataFrame]]:
    """Event tables of replications 0..n-1 of ``scenario`` with ``seed``."""
    for r in range(n):
        yield simulate(scenario, seed, r)


# ----------------------------------------------------------------------------- statistics
def t_interval(values, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Two-sided Student t interval of the mean of independent replication values."""
    x = np.asarray(values, dtype=float)
    assert len(x) >= 2 and np.all(np.isfinite(x)), f"need >= 2 finite values, got {x}"
    half = stats.t.ppf(0.5 + confidence / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return float(x.mean() - half), float(x.mean() + half)


def assert_mean_matches(values, expected: float, what: str,
                        confidence: float = CONFIDENCE) -> None:
    """The t interval of the replication means contains the theoretical value."""
    low, high = t_interval(values, confidence)
    assert low <= expected <= high, (
        f"{what}: theory {expected:.5g} outside the {confidence:.1%} t interval "
        f"[{low:.5g}, {high:.5g}] of {len(values)} replications (mean {np.mean(values):.5g})")


def z_quantile(confidence: float = CONFIDENCE) -> float:
    """Two-sided standard normal quantile, e.g. 3.29 for 99.9%."""
    return float(stats.norm.ppf(0.5 + confidence / 2))


# ----------------------------------------------------------------------------- intervals
def merge(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted union of [a, b) intervals."""
    out: list[list[float]] = []
    for a, b in sorted(spans):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def subtract(spans: Iterable[tuple[float, float]],
             holes: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Parts of the (merged) ``spans`` not covered by ``holes``."""
    holes = merge(holes)
    out = []
    for a, b in merge(spans):
        cur = a
        for h0, h1 in holes:
            if h1 <= cur or h0 >= b:
                continue
            if h0 > cur:
                out.append((cur, h0))
            cur = max(cur, h1)
            if cur >= b:
                break
        if cur < b:
            out.append((cur, b))
    return out


def overlap(xs: list[tuple[float, float]], ys: list[tuple[float, float]]) -> float:
    """Total length of the intersection of two merged interval lists."""
    total, i, j = 0.0, 0, 0
    while i < len(xs) and j < len(ys):
        a, b = max(xs[i][0], ys[j][0]), min(xs[i][1], ys[j][1])
        total += max(0.0, b - a)
        if xs[i][1] < ys[j][1]:
            i += 1
        else:
            j += 1
    return total


# ----------------------------------------------------------------------------- CLI
def secsim(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the ``secsim`` command line in a subprocess (text output captured)."""
    return subprocess.run([sys.executable, "-m", "simulation", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd or ROOT, timeout=300)


# ----------------------------------------------------------------------------- white box
def at(model, time: float, action) -> None:
    """Run ``action()`` at simulated minute ``time`` of a ``simulation.engine.model.Model``."""
    def proc(env):
        yield env.timeout(time)
        action()
    model.env.process(proc(model.env))


def source(model, stream: str):
    """The arrival source (CallLine, Desk, TaskSource...) of a stream of a Model."""
    return next(s for s in model.sources if s.name == stream)


def one_caller(service: float, patience=math.inf, attempts: int = 1, transfer_u: float = 1.0,
               redial_u=1.0, redial_delay=0.0, transfer_patience=math.inf, handling=0.0,
               route_u=0.5):
    """Hand-made draws of a single caller (index 0): per-attempt values are a number (the
    same on every attempt) or a list with one value per attempt. By default he never
    redials and is never transferred."""
    from simulation.engine.draws import CallDraws

    def rows(value):
        v = np.broadcast_to(np.asarray(value, dtype=float), (attempts,))
        return v.reshape(attempts, 1).copy()

    return CallDraws(service=[service], transfer_u=[transfer_u], patience=rows(patience),
                     redial_u=rows(redial_u), redial_delay=rows(redial_delay),
                     transfer_patience=rows(transfer_patience), handling=rows(handling),
                     route_u=rows(route_u), transfer_route_u=rows(route_u))


# ----------------------------------------------------------------------------- random scenarios
def clock(minutes: int) -> str:
    """540 -> '09:00' (1440 -> '24:00')."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def specialty_factor(scenario: Scenario, secretary: str, department: str, kind: str,
                     category: str) -> float:
    """Handling-time multiplier of a secretary on a department's work of a kind/category.

    The penalty is that of the first rule of her team covering the work (the team's own
    rule, then its also_serves rules); it applies outside her home department (or
    everywhere, for a secretary without one, e.g. a float).
    """
    def covers(rule) -> bool:
        return ((rule.departments == "all" or department in rule.departments)
                and (rule.kinds == "all" or kind in rule.kinds)
                and (rule.categories is None or category in rule.categories))

    for _, name, sec in scenario.secretaries():
        if name == secretary:
            team = next(t for t in scenario.teams.values() if name in t.secretaries)
            rule = next(r for r in (team, *team.also_serves) if covers(r))
            if rule.specialty_penalty and department != sec.home_department:
                return 1.0 + rule.specialty_penalty
            return 1.0
    raise KeyError(secretary)


def line_open(scenario: Scenario, times) -> np.ndarray:
    """For each minute in ``times``: are lines and desks open (opening hours, lunch closure,
    closed days)? Written independently of ``simulation.engine.staff``."""
    cal = scenario.calendar
    t = np.asarray(times, dtype=float)
    day, minute = (t // MINUTES_PER_DAY).astype(int), t % MINUTES_PER_DAY
    weekday = (WEEKDAYS.index(cal.start_weekday) + day) % 7

    def minutes(c: str) -> int:
        h, m = c.split(":")
        return int(h) * 60 + int(m)

    opens = np.array([minutes(cal.opening_hours[d][0]) if d in cal.opening_hours else 0
                      for d in WEEKDAYS])
    closes = np.array([minutes(cal.opening_hours[d][1]) if d in cal.opening_hours else 0
                       for d in WEEKDAYS])
    out = (opens[weekday] <= minute) & (minute < closes[weekday])
    out &= ~np.isin(day, cal.closed_days)
    if cal.lunch_closure is not None:
        a, b = (minutes(c) for c in cal.lunch_closure)
        out &= ~((a <= minute) & (minute < b))
    return out


def scenario_strategy(max_days: int = 3, max_per_day: float = 30.0,
                      interruptions: bool | None = None, min_staff: int = 1):
    """Hypothesis strategy of small valid scenario dicts exercising most engine features.

    Random calendars (opening hours, lunch closure, closed days, start weekday), one or
    two departments with 2-4 streams of every type (patience, redials, transfers, online
    booking, batches, voice recognition), one team serving everything plus an optional
    narrower team, random shifts, breaks, days, absences, penalties and policies.
    ``interruptions`` forces ``interruptions.enabled`` when not None; ``min_staff`` is the
    smallest size of the team serving everything.
    """
    from hypothesis import strategies as st

    from simulation.scenario.schema import AUDIT_CATEGORIES, BUILTIN_KINDS, URGENT_KINDS

    floats = lambda lo, hi: st.floats(lo, hi, allow_nan=False, allow_infinity=False)  # noqa: E731

    @st.composite
    def duration(draw, lo: float = 0.5, hi: float = 20.0):
        mean = draw(floats(max(lo, 0.05), hi))
        kind = draw(st.sampled_from(["exponential", "lognormal", "gamma", "uniform",
                                     "triangular", "number", "empirical"]))
        if kind == "exponential":
            return {"dist": "exponential", "mean": mean}
        if kind in ("lognormal", "gamma"):
            return {"dist": kind, "mean": mean, "cv": draw(floats(0.1, 1.5))}
        if kind == "uniform":
            return {"dist": "uniform", "low": mean / 2, "high": mean * 1.5}
        if kind == "triangular":
            return {"dist": "triangular", "low": 0, "mode": mean / 2, "high": mean * 2}
        if kind == "empirical":
            return {"dist": "empirical", "values": draw(st.lists(floats(0, hi), min_size=1,
                                                                 max_size=4))}
        return round(mean, 2)  # a bare number: deterministic

    @st.composite
    def arrivals(draw):
        # Volumes from a short list: hypothesis favours small floats, which would leave
        # most examples without any work.
        per_day = draw(st.sampled_from([1.0, 0.5, 0.25]) | floats(0, 1)) * max_per_day
        prof = {"per_day": per_day}
        if draw(st.sampled_from([False, False, True])):
            hours = draw(st.lists(st.integers(0, 23), min_size=1, max_size=8, unique=True))
            prof["hourly_shape"] = {h: draw(floats(0.1, 2)) for h in hours}
        if draw(st.sampled_from([False, False, True])):
            prof["weekday_factors"] = {d: draw(floats(0.5, 2)) for d in
                                       draw(st.lists(st.sampled_from(WEEKDAYS), unique=True))}
        return prof

    @st.composite
    def online(draw):
        share = draw(floats(0, 0.5))
        return {"share": share, "averted_share": draw(floats(0, 0.5 - share / 2)),
                "check": draw(duration(0.5, 5))}

    @st.composite
    def stream(draw):
        kind = draw(st.sampled_from(["call", "call", "walk_in", "doctor_request", "dictation",
                                     "back_office"]))
        if kind == "call":
            s = {"type": "call", "arrivals": draw(arrivals()), "service": draw(duration()),
                 "audit_category": draw(st.sampled_from(["booking", "reception"]))}
            if draw(st.booleans()):
                s["patience"] = draw(duration(0.2, 10))
            s["redial"] = {"probability": draw(floats(0, 1)), "delay": draw(duration(1, 60)),
                           "max_attempts": draw(st.integers(1, 3))}
            if draw(st.booleans()):
                s["transfer"] = {"share": draw(floats(0, 1)), "handling": draw(duration(0.2, 2)),
                                 "by_teams": ["t0"]}
            if draw(st.booleans()):
                s["answered_by"] = ["t0"]
            if draw(st.booleans()):
                s["online"] = draw(online())
            return s
        if kind == "walk_in":
            s = {"type": "walk_in", "arrivals": draw(arrivals()), "service": draw(duration())}
            if draw(st.booleans()):
                s["patience"] = draw(duration(1, 30))
            if draw(st.booleans()):
                s["online"] = draw(online())
            return s
        if kind == "doctor_request":
            return {"type": "doctor_request", "arrivals": draw(arrivals()),
                    "service": draw(duration())}
        if kind == "dictation":
            s = {"type": "dictation", "typing": draw(duration(1, 30)),
                 "validation_delay": draw(duration(0, 600)), "sending": draw(duration(0.5, 5)),
                 "target_days": draw(st.integers(0, 2)),
                 "voice_recognition": {"mode": draw(st.sampled_from(["none", "back_end",
                                                                     "front_end"])),
                                       "adoption": draw(floats(0, 1))}}
            if draw(st.booleans()):
                s["arrivals"] = draw(arrivals())
            if draw(st.booleans()) or "arrivals" not in s:
                s["batches"] = [{"at": clock(draw(st.integers(0, 95)) * 15),
                                 "mean_size": draw(floats(0.5, 5))}
                                for _ in range(draw(st.integers(1, 2)))]
            return s
        return {"type": "back_office",
                "kind": draw(st.sampled_from(["patient_file", "booking_request"])),
                "audit_category": draw(st.sampled_from([*AUDIT_CATEGORIES, "coding"])),
                "arrivals": draw(arrivals()), "duration": draw(duration(1, 30))}

    @st.composite
    def scenario(draw):
        horizon = draw(st.integers(1, max_days))
        cal = {"horizon_days": horizon, "warmup_days": draw(st.integers(0, horizon - 1)),
               "start_weekday": draw(st.sampled_from(WEEKDAYS))}
        if draw(st.booleans()):
            hours = {d: (0, 1440) for d in WEEKDAYS}
        else:
            days = draw(st.lists(st.sampled_from(WEEKDAYS), min_size=3, unique=True))
            hours = {d: (draw(st.integers(0, 40)) * 15, draw(st.integers(56, 96)) * 15)
                     for d in days}
        cal["opening_hours"] = {d: [clock(a), clock(b)] for d, (a, b) in hours.items()}
        if draw(st.booleans()):
            cal["lunch_closure"] = ["12:00", "13:00"]
        cal["closed_days"] = draw(st.lists(st.integers(0, horizon - 1), max_size=1))

        depts = [f"d{i}" for i in range(draw(st.integers(1, 2)))]
        departments = {d: {"streams": {f"s{j}": draw(stream())
                                       for j in range(draw(st.integers(2, 4)))}}
                       for d in depts}
        if len(set(hours.values())) > 1:
            # Days with different hours need explicit shapes (the default would not fit).
            for dept in departments.values():
                for s in dept["streams"].values():
                    if "arrivals" in s and "hourly_shape" not in s["arrivals"]:
                        s["arrivals"]["hourly_shape"] = {h: 1.0 for h in range(8, 18)}

        def staff(prefix: str, n: int) -> dict:
            out = {}
            for i in range(n):
                days = draw(st.none() | st.lists(st.sampled_from(sorted(hours)), min_size=1,
                                                 unique=True))
                lo = max(hours[d][0] for d in (days or hours))
                hi = min(hours[d][1] for d in (days or hours))
                length = min(hi - lo, draw(st.sampled_from([480, 720, 240, 60])))
                start = draw(st.integers(lo // 15, (hi - length) // 15)) * 15
                end = start + length
                shift = {"start": clock(start), "end": clock(end)}
                if draw(st.booleans()):
                    b0 = draw(st.integers(start // 15, end // 15 - 1)) * 15
                    b1 = draw(st.integers(b0 // 15 + 1, end // 15)) * 15
                    shift["breaks"] = [[clock(b0), clock(b1)]]
                out[f"{prefix}_{i}"] = {
                    "shift": shift, "days": days,
                    "absence_rate": draw(st.sampled_from([0.0, 0.0, 0.0, 0.3])),
                    "home_department": draw(st.none() | st.sampled_from(depts))}
            return out

        teams = {"t0": {"departments": "all",
                        "specialty_penalty": draw(st.sampled_from([0.0, 0.25])),
                        "secretaries": staff("t0", draw(st.integers(min_staff, 3)))}}
        if draw(st.booleans()):
            back_office_kinds = sorted({s["kind"] for d in departments.values()
                                        for s in d["streams"].values()
                                        if s["type"] == "back_office"})
            teams["t1"] = {
                "departments": draw(st.lists(st.sampled_from(depts), min_size=1, unique=True)),
                "kinds": draw(st.just("all") | st.lists(
                    st.sampled_from([*BUILTIN_KINDS, *back_office_kinds]), min_size=1,
                    unique=True)),
                "also_serves": draw(st.just([]) | st.just([{"departments": "all",
                                                            "kinds": ["call"]}])),
                "secretaries": staff("t1", draw(st.integers(1, 2)))}
        policy = {
            "enabled": (draw(st.sampled_from([True, True, False])) if interruptions is None
                        else interruptions),
            "urgent_order": draw(st.permutations(list(URGENT_KINDS))),
            "deferrable_first": draw(st.lists(st.sampled_from(["sending", "typing"]),
                                              unique=True)),
            "resumption_cost": draw(st.sampled_from([0, 0.5, {"dist": "exponential",
                                                              "mean": 1.0}])),
            "idle_colleague_answers": draw(st.sampled_from([True, False])),
        }
        return {"name": "random", "calendar": cal, "departments": departments,
                "teams": teams, "interruptions": policy}

    return scenario()
