"""Phone and desk cover: is someone on duty whenever a line or desk is open (pure).

Worked out on the weekly pattern (opening hours minus the lunch closure, against each
secretary's shift minus breaks on her working days); random absences and closed days are
left out, since they close the secretariat or are nobody's plan. A gap is an open minute
of a call line or walk-in desk when no secretary of a team answering it is on duty.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from simulation.scenario.calendar import (
    WEEKDAYS,
    format_clock,
    merge_intervals,
    parse_clock,
    subtract_intervals,
)
from simulation.scenario.consistency import team_serves
from simulation.scenario.schema import CallStream, Scenario, WalkInStream

Span = tuple[int, int]
LINE_NAMES = {"call": "phone line", "walk_in": "walk-in desk"}


@dataclass(frozen=True)
class Gap:
    """Open minutes of one line or desk with nobody on duty, on one weekday."""

    department: str
    stream: str
    kind: str  # 'call' or 'walk_in'
    weekday: str
    spans: tuple[Span, ...]

    @property
    def minutes(self) -> int:
        return sum(b - a for a, b in self.spans)


def open_spans(scenario: Scenario) -> dict[str, list[Span]]:
    """Per open weekday, when lines and desks are open (opening hours minus lunch closure)."""
    cal = scenario.calendar
    lunch = [tuple(parse_clock(t) for t in cal.lunch_closure)] if cal.lunch_closure else []
    return {d: subtract_intervals([(parse_clock(h[0]), parse_clock(h[1]))], lunch)
            for d, h in cal.opening_hours.items()}


def on_duty(scenario: Scenario, secretary) -> dict[str, list[Span]]:
    """Per weekday she works, her on-duty spans (shift minus breaks)."""
    shift = scenario.shift_of(secretary)
    spans = subtract_intervals([(parse_clock(shift.start), parse_clock(shift.end))],
                               [(parse_clock(a), parse_clock(b)) for a, b in shift.breaks])
    days = secretary.days if secretary.days is not None else list(scenario.calendar.opening_hours)
    return {d: spans for d in days}


def lines(scenario: Scenario) -> list[tuple[str, str, str, str]]:
    """(department, stream, kind, audit category) of every call line and walk-in desk."""
    return [(d, n, "call" if isinstance(s, CallStream) else "walk_in", s.audit_category)
            for d, dept in scenario.departments.items() for n, s in dept.streams.items()
            if isinstance(s, (CallStream, WalkInStream))]


def cover_gaps(scenario: Scenario, away: Iterable[str] = ()) -> list[Gap]:
    """Every open weekday span of a line or desk with nobody on duty to answer it.

    ``away``: secretaries left out, e.g. those a front/back split would move.
    """
    away = set(away)
    opened = open_spans(scenario)
    duty = {name: on_duty(scenario, sec) for _t, name, sec in scenario.secretaries()
            if name not in away}
    members = {t: [n for n in team.secretaries if n in duty] for t, team in scenario.teams.items()}
    out = []
    for dept, stream, kind, cat in lines(scenario):
        answering = [n for t, names in members.items()
                     if team_serves(scenario, t, dept, kind, cat, stream) for n in names]
        for day in (d for d in WEEKDAYS if d in opened):
            covered = merge_intervals([s for n in answering for s in duty[n].get(day, [])])
            missing = subtract_intervals(opened[day], covered)
            if missing:
                out.append(Gap(dept, stream, kind, day, tuple(missing)))
    return out


def gap_minutes(scenario: Scenario, away: Iterable[str] = ()) -> int:
    """Open line-and-desk minutes a week with nobody on duty (summed over lines)."""
    return sum(g.minutes for g in cover_gaps(scenario, away))


def _days_text(days: list[str]) -> str:
    """['mon', 'tue', 'wed', 'fri'] -> 'mon-wed, fri': runs of three weekdays or more joined."""
    idx = sorted(WEEKDAYS.index(d) for d in days)
    runs: list[list[int]] = []
    for i in idx:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    parts = []
    for r in runs:
        parts += ([f"{WEEKDAYS[r[0]]}-{WEEKDAYS[r[-1]]}"] if len(r) >= 3
                  else [WEEKDAYS[i] for i in r])
    return ", ".join(parts)


def _spans_text(spans: tuple[Span, ...]) -> str:
    return ", ".join(f"{format_clock(a)}-{format_clock(b)}" for a, b in spans)


def cover_warnings(scenario: Scenario) -> list[tuple[str, str]]:
    """(field path, sentence) for each department's lines and desks left with nobody on duty.

    E.g. "cardiology phone lines (booking_calls, info_calls) and walk-in desk (walk_ins):
    nobody on duty mon-fri 12:00-12:45, 16:51-17:00"; lines with the same gaps, and
    weekdays with the same hours, are grouped.
    """
    pattern: dict[tuple[str, str, str], dict[str, tuple[Span, ...]]] = {}
    for g in cover_gaps(scenario):
        pattern.setdefault((g.department, g.stream, g.kind), {})[g.weekday] = g.spans
    groups: dict[tuple, list[tuple[str, str]]] = {}
    for (dept, stream, kind), by_day in pattern.items():
        groups.setdefault((dept, tuple(by_day.items())), []).append((stream, kind))
    out = []
    for (dept, by_day), members in groups.items():
        days_of: dict[tuple[Span, ...], list[str]] = {}
        for day, spans in by_day:
            days_of.setdefault(spans, []).append(day)
        when = "; ".join(f"{_days_text(days)} {_spans_text(spans)}"
                         for spans, days in days_of.items())
        what = []
        for kind in LINE_NAMES:
            names = [n for n, k in members if k == kind]
            if names:
                what.append(f"{LINE_NAMES[kind]}{'s' if len(names) > 1 else ''} "
                            f"({', '.join(names)})")
        path = f"departments.{dept}.streams" + (f".{members[0][0]}" if len(members) == 1 else "")
        out.append((path, f"{dept} {' and '.join(what)}: nobody on duty {when}, so calls and "
                          "patients wait unanswered; cover those hours with shifts or "
                          "staggered breaks, or let another team answer (pooling)"))
    return out
