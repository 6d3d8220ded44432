"""Rules spanning several parts of a scenario, and the filling-in of computed defaults.

``problems`` lists every inconsistency as (field path, sentence with the fix);
``resolve`` returns the scenario with every default written out, which is what a run
records beside its results.
"""

from __future__ import annotations

from simulation.scenario.calendar import WEEKDAYS, parse_clock
from simulation.scenario.schema import (
    URGENT_KINDS,
    BackOfficeStream,
    CallStream,
    DictationStream,
    DoctorRequestStream,
    Scenario,
    WalkInStream,
)

Problem = tuple[str, str]


def open_weekdays(scenario: Scenario) -> list[str]:
    """Weekdays with opening hours, in week order."""
    return [d for d in WEEKDAYS if d in scenario.calendar.opening_hours]


def demanded_work(scenario: Scenario) -> list[tuple[str, str, str, str]]:
    """(department, stream, kind, audit category) for every kind of work the streams create."""
    out = []
    for dname, dept in scenario.departments.items():
        for sname, s in dept.streams.items():
            if isinstance(s, CallStream):
                out.append((dname, sname, "call", s.audit_category))
                if s.transfer is not None and s.transfer.share > 0:
                    out.append((dname, sname, "transferred_call", s.audit_category))
            elif isinstance(s, WalkInStream):
                out.append((dname, sname, "walk_in", s.audit_category))
            elif isinstance(s, DoctorRequestStream):
                out.append((dname, sname, "doctor_request", s.audit_category))
            elif isinstance(s, DictationStream):
                vr = s.voice_recognition
                all_front_end = vr.mode == "front_end" and vr.adoption >= 1
                if not all_front_end:
                    out.append((dname, sname, "typing", s.audit_category))
                if not all_front_end or dept.doctors is not None:
                    # With doctors, a secretary sends even a front-end report.
                    out.append((dname, sname, "sending", s.audit_category))
            elif isinstance(s, BackOfficeStream):
                out.append((dname, sname, s.kind, s.audit_category))
            if isinstance(s, (CallStream, WalkInStream)) and s.online and s.online.share > 0:
                out.append((dname, sname, "online_check", s.online.check_category))
    return out


def _rule_covers(rule, dept: str, kind: str, category: str) -> bool:
    if rule.departments != "all" and dept not in rule.departments:
        return False
    if rule.kinds != "all" and kind not in rule.kinds:
        return False
    return rule.categories is None or category in rule.categories


def serving_penalty(scenario: Scenario, team_name: str, dept: str, kind: str, category: str,
                    stream: str | None = None) -> float | None:
    """The specialty penalty under which a team takes this work, or None if it does not.

    The team's own rule comes first, then its ``also_serves`` rules in order. For first-leg
    calls of a stream with ``answered_by``, only the listed teams answer.
    """
    team = scenario.teams[team_name]
    if kind == "call" and stream is not None:
        s = scenario.departments[dept].streams[stream]
        if getattr(s, "answered_by", None) is not None and team_name not in s.answered_by:
            return None
    for rule in (team, *team.also_serves):
        if _rule_covers(rule, dept, kind, category):
            return rule.specialty_penalty
    return None


def team_serves(scenario: Scenario, team_name: str, dept: str, kind: str, category: str,
                stream: str | None = None) -> bool:
    """Whether a team takes this department's work of this kind and category."""
    return serving_penalty(scenario, team_name, dept, kind, category, stream) is not None


def problems(scenario: Scenario) -> list[Problem]:
    """Every cross-field inconsistency, each with the field path and the fix."""
    out: list[Problem] = []
    depts = set(scenario.departments)
    kinds = set(scenario.all_kinds())
    cal = scenario.calendar
    categories = {c for *_, c in demanded_work(scenario)}

    seen: dict[str, str] = {}
    named_shift: dict[tuple[str, str], list[str]] = {}
    for tname, team in scenario.teams.items():
        where = f"teams.{tname}"
        rules = [(where, team)] + [(f"{where}.also_serves[{i}]", r)
                                   for i, r in enumerate(team.also_serves)]
        for rpath, rule in rules:
            for field in ("departments", "kinds"):
                if getattr(rule, field) == []:
                    out.append((f"{rpath}.{field}", f"is empty, so the team would take no "
                                                    f"work; list some {field} or write 'all'"))
            if rule.departments != "all":
                for d in rule.departments:
                    if d not in depts:
                        out.append((f"{rpath}.departments", _unknown("department", d, depts)))
            if rule.kinds != "all":
                for k in rule.kinds:
                    if k not in kinds:
                        out.append((f"{rpath}.kinds", _unknown("task kind", k, kinds)))
            for c in rule.categories or []:
                if c not in categories:
                    out.append((f"{rpath}.categories",
                                _unknown("audit category", c, categories)))
        for sname, sec in team.secretaries.items():
            spath = f"{where}.secretaries.{sname}"
            if sname in seen:
                out.append((spath, f"secretary '{sname}' is also in team '{seen[sname]}'; "
                                   "give each secretary a unique name"))
            seen[sname] = tname
            if sec.home_department is not None and sec.home_department not in depts:
                out.append((f"{spath}.home_department",
                            _unknown("department", sec.home_department, depts)))
            if isinstance(sec.shift, str) and sec.shift not in scenario.shifts:
                out.append((f"{spath}.shift", _unknown("shift", sec.shift, set(scenario.shifts))))
                continue
            for path, msg in _shift_problems(scenario, spath, sec):
                if isinstance(sec.shift, str) and path.endswith(".shift"):
                    # Report a named shift once, not once per secretary using it.
                    named_shift.setdefault((sec.shift, msg), []).append(sname)
                else:
                    out.append((path, msg))
    for (shift, msg), names in named_shift.items():
        out.append((f"shifts.{shift}", f"{msg} (secretaries {', '.join(names)})"))

    for dname, dept in scenario.departments.items():
        for sname, s in dept.streams.items():
            if isinstance(s, CallStream) and s.answered_by is not None:
                for t in s.answered_by:
                    if t not in scenario.teams:
                        out.append((f"departments.{dname}.streams.{sname}.answered_by",
                                    _unknown("team", t, set(scenario.teams))))
            if isinstance(s, CallStream) and s.transfer is not None:
                for t in s.transfer.by_teams:
                    path = f"departments.{dname}.streams.{sname}.transfer.by_teams"
                    if t not in scenario.teams:
                        out.append((path, _unknown("team", t, set(scenario.teams))))
                    elif not team_serves(scenario, t, dname, "call", s.audit_category, sname):
                        out.append((path, f"team '{t}' does not answer these calls; "
                                          "list only first-line teams that serve them"))

    out += doctor_problems(scenario)

    hours = {tuple(v) for v in cal.opening_hours.values()}
    if len(hours) > 1:
        # The default shape follows the opening hours, which differ between weekdays.
        for dname, dept in scenario.departments.items():
            for sname, s in dept.streams.items():
                prof = getattr(s, "arrivals", None)
                if prof is not None and prof.hourly_shape is None:
                    out.append((f"departments.{dname}.streams.{sname}.arrivals.hourly_shape",
                                "opening hours differ between weekdays, so no default shape "
                                "fits every day; give an hourly_shape (and weekday_factors), "
                                "or one stream per group of days with the same hours"))

    # Coverage is only meaningful once every name resolves.
    for dname, sname, kind, cat in ([] if out else demanded_work(scenario)):
        if not any(team_serves(scenario, t, dname, kind, cat, sname) for t in scenario.teams):
            out.append((
                f"departments.{dname}.streams.{sname}",
                f"no team serves its '{kind}' work (department '{dname}', category '{cat}'); "
                f"add '{dname}' and '{kind}' to a team's departments and kinds",
            ))

    for k in scenario.interruptions.deferrable_first:
        if k not in kinds or k in URGENT_KINDS:
            out.append(("interruptions.deferrable_first",
                        _unknown("deferrable task kind", k, kinds - set(URGENT_KINDS))))
    return out


def doctor_problems(scenario: Scenario) -> list[Problem]:
    """Sign-off rules: a delay or doctors for every report, and reports that fit a sitting."""
    out: list[Problem] = []
    for dname, dept in scenario.departments.items():
        doctors = dept.doctors
        dictations = [(n, s) for n, s in dept.streams.items() if isinstance(s, DictationStream)]
        if doctors is None:
            for sname, s in dictations:
                if s.validation_delay is None:
                    out.append((f"departments.{dname}.streams.{sname}.validation_delay",
                                "is missing; give the delay from typed to signed, or declare "
                                f"departments.{dname}.doctors to model sign-off sittings"))
            continue
        path = f"departments.{dname}.doctors"
        longest = max(s.minutes for s in doctors.sittings)
        shortest_report = lowest_value(doctors.time_per_report)
        if shortest_report > longest:
            out.append((f"{path}.time_per_report",
                        f"every report takes at least {shortest_report:g} min but the longest "
                        f"sitting lasts {longest:g} min, so no report can ever be signed; "
                        "lengthen the sittings or shorten the time per report"))
        names = set(doctors.doctor_names(dname))
        for who in doctors.away:
            if who not in names:
                out.append((f"{path}.away", _unknown("doctor", who, names)))
    return out


def lowest_value(dist) -> float:
    """The smallest duration a distribution can give (0 when unbounded below)."""
    for attr in ("value", "low"):
        if hasattr(dist, attr):
            return float(getattr(dist, attr))
    if hasattr(dist, "values"):
        return float(min(dist.values))
    return 0.0


def _shift_problems(scenario: Scenario, spath: str, sec) -> list[Problem]:
    cal = scenario.calendar
    shift = scenario.shift_of(sec)
    s0, s1 = parse_clock(shift.start), parse_clock(shift.end)
    closed, outside = [], []
    for day in sec.days or open_weekdays(scenario):
        hours = cal.opening_hours.get(day)
        if hours is None:
            closed.append(day)
        elif s0 < parse_clock(hours[0]) or s1 > parse_clock(hours[1]):
            outside.append(f"{day} {hours[0]}-{hours[1]}")
    out = []
    if closed:
        out.append((f"{spath}.days", f"works on {', '.join(closed)} but the secretariat is "
                                     "closed then; remove those days or add opening hours"))
    if outside:
        out.append((f"{spath}.shift", f"shift {shift.start}-{shift.end} is outside the opening "
                                      f"hours ({'; '.join(outside)}); move the shift inside them "
                                      "or widen calendar.opening_hours"))
    return out


def _unknown(what: str, name: str, known: set[str]) -> str:
    choices = ", ".join(sorted(known)) or "none defined"
    return f"unknown {what} '{name}'; use one of: {choices}"


def default_hourly_shape(scenario: Scenario) -> dict[int, float]:
    """Weight of each hour = the largest share of it open on any weekday."""
    shape: dict[int, float] = {}
    for o, c in scenario.calendar.opening_hours.values():
        o0, c0 = parse_clock(o), parse_clock(c)
        for h in range(24):
            overlap = max(0, min(c0, (h + 1) * 60) - max(o0, h * 60)) / 60
            if overlap > 0:
                shape[h] = max(shape.get(h, 0.0), round(overlap, 6))
    return dict(sorted(shape.items()))


def resolve(scenario: Scenario) -> Scenario:
    """The scenario with every computed default written out explicitly."""
    data = scenario.model_dump(mode="json", by_alias=True)
    open_days = open_weekdays(scenario)
    factors = {d: (1.0 if d in open_days else 0.0) for d in WEEKDAYS}
    shape = default_hourly_shape(scenario)
    for dept in data["departments"].values():
        for s in dept["streams"].values():
            prof = s.get("arrivals")
            if prof is not None:
                if prof["hourly_shape"] is None:
                    prof["hourly_shape"] = dict(shape)
                if prof["weekday_factors"] is None:
                    prof["weekday_factors"] = dict(factors)
                else:
                    prof["weekday_factors"] = {d: prof["weekday_factors"].get(d, 0.0) for d in WEEKDAYS}
            for batch in s.get("batches", []):
                if batch["weekdays"] is None:
                    batch["weekdays"] = list(open_days)
    for team in data["teams"].values():
        for sec in team["secretaries"].values():
            if sec["days"] is None:
                sec["days"] = list(open_days)
            if sec["home_department"] is None and isinstance(team["departments"], list) \
                    and len(team["departments"]) == 1:
                sec["home_department"] = team["departments"][0]
    return Scenario.model_validate(data)
