"""What a scenario asks of the model before it runs: events to simulate, work against staff.

Pure estimates from the validated scenario (no draws). ``check_event_budget`` refuses a
scenario whose run would simulate more events than a budget (a typo such as 10^5 calls a
day would otherwise run for hours); ``utilisation_warnings`` warns when the work demanded
over the horizon is at least the secretaries' on-duty time (queues then grow without
limit, and KPIs depend on the horizon), ``signoff_warnings`` when a department's reports
need at least the doctors' sitting time. docs/model.md, "Checks before a run", explains them.
"""

from __future__ import annotations

from simulation.scenario.calendar import WEEKDAYS
from simulation.scenario.consistency import open_weekdays
from simulation.scenario.cover import on_duty
from simulation.scenario.errors import ScenarioError
from simulation.scenario.schema import (
    ArrivalProfile,
    BackOfficeStream,
    CallStream,
    DictationStream,
    DoctorRequestStream,
    Scenario,
    WalkInStream,
)
from simulation.scenario.streams import hourly_rates

# Expected events (calls, visits, tasks, report steps, counted over the horizon and the
# whole follow-up cap) run at roughly 200,000 a second on one core (the 80-secretariat
# group year, 13 million, in 42-56 s on a 2-core Intel Xeon VM; ~80 s on an AMD EPYC).
# 30 million, a few minutes a replication, leaves two years of that group; a typo such as
# 100,000 calls a day in one stream of the baseline is 80 million.
DEFAULT_MAX_EVENTS = 30_000_000
EVENTS_PER_SECOND = 200_000  # for the time a refused run would take, in the message
SPREAD_SHARE = 0.05  # no contributor above this share: the size is the horizon's or the model's
# SimPy bookkeeping per secretary-day (arrive, breaks, leave) and per doctor sitting.
EVENTS_PER_STAFF_DAY = 4
EVENTS_PER_SITTING = 2


def _day_weights(scenario: Scenario, days: int) -> list[tuple[int, str]]:
    """(day number, weekday) of the open days among the first ``days`` days."""
    start = WEEKDAYS.index(scenario.calendar.start_weekday)
    closed = set(scenario.calendar.closed_days)
    return [(d, WEEKDAYS[(start + d) % 7]) for d in range(days) if d not in closed]


def expected_arrivals(scenario: Scenario, stream, days: int) -> float:
    """Expected first arrivals of a stream over the first ``days`` days: the engine's own
    hourly rates (``hourly_rates``) and batches, summed over the days that are not closed."""
    calendar_days = _day_weights(scenario, days)
    total = 0.0
    profile: ArrivalProfile | None = getattr(stream, "arrivals", None)
    if profile is not None:
        per_weekday = hourly_rates(profile).sum(axis=1)
        total += sum(per_weekday[WEEKDAYS.index(wd)] for _d, wd in calendar_days)
    open_days = open_weekdays(scenario)
    for batch in getattr(stream, "batches", []):
        wanted = set(batch.weekdays or open_days)
        total += batch.mean_size * sum(1 for _d, wd in calendar_days if wd in wanted)
    return total


def _events_per_arrival(stream, has_doctors: bool) -> float:
    """Events one arrival brings about, counted generously (every redial made)."""
    if isinstance(stream, CallStream):
        p, m = stream.redial.probability, stream.redial.max_attempts
        attempts = sum(p ** k for k in range(m))
        extra = (stream.transfer.share if stream.transfer else 0.0) + \
            (stream.online.share if stream.online else 0.0)
        return 2 * attempts + extra
    if isinstance(stream, WalkInStream):
        return 2 + (stream.online.share if stream.online else 0.0)
    if isinstance(stream, DictationStream):
        session = stream.typing_session
        sittings = 1.0 if session is None else min(100.0, max(1.0, stream.typing.mean / session))
        return sittings + 3 + (1 if has_doctors else 0)  # typing, sign-off, sending
    return 2.0  # a request or back-office task: arrival and end


def expected_events(scenario: Scenario) -> list[tuple[str, float]]:
    """(field path, expected events) of every stream and of the staff, largest first,
    over the horizon and the whole follow-up (the longest the run can last)."""
    cal = scenario.calendar
    days = cal.horizon_days + cal.follow_up_days
    out = []
    for dname, dept in scenario.departments.items():
        for sname, s in dept.streams.items():
            n = expected_arrivals(scenario, s, days) * _events_per_arrival(
                s, dept.doctors is not None)
            out.append((f"departments.{dname}.streams.{sname}", n))
        if dept.doctors is not None:
            doctors = len(dept.doctors.doctor_names(dname))
            per_week = sum(len(x.weekdays(open_weekdays(scenario))) for x in dept.doctors.sittings)
            out.append((f"departments.{dname}.doctors",
                        doctors * per_week * days / 7 * EVENTS_PER_SITTING))
    for tname, team in scenario.teams.items():
        out.append((f"teams.{tname}", len(team.secretaries) * days * EVENTS_PER_STAFF_DAY))
    return sorted(out, key=lambda x: -x[1])


def _millions(n: float) -> str:
    return f"{n / 1e6:.3g} million" if n >= 1e6 else f"{n:,.0f}"


def check_event_budget(scenario: Scenario, max_events: int | None = None,
                       source: str | None = None) -> float:
    """The expected event count of a run; a ScenarioError if it exceeds ``max_events``
    (default ``DEFAULT_MAX_EVENTS``), naming the biggest contributors."""
    budget = DEFAULT_MAX_EVENTS if max_events is None else max_events
    parts = expected_events(scenario)
    total = sum(n for _p, n in parts)
    if total > budget:
        cal = scenario.calendar
        minutes = total / EVENTS_PER_SECOND / 60
        size = (f"about {minutes:.0f} minutes per replication" if minutes >= 1.5
                else "about a minute per replication" if minutes >= 0.5
                else "under a minute per replication")
        if parts[0][1] >= SPREAD_SHARE * total:
            field = parts[0][0]
            top = ", ".join(f"{p} ({_millions(n)})" for k, (p, n) in enumerate(parts[:3])
                            if k == 0 or n >= SPREAD_SHARE * total)
            where = f"the biggest are {top}; check these volumes and the horizon"
        else:  # a big model or a long horizon, not one stream
            field = "calendar.horizon_days"
            where = (f"they are spread over {len(parts)} streams, staff and doctors (the "
                     f"biggest, {parts[0][0]}, is {parts[0][1] / total:.0%}); check the horizon")
        raise ScenarioError([(field, (
            f"a run would simulate about {_millions(total)} events over up to "
            f"{cal.horizon_days + cal.follow_up_days} days (horizon and follow-up), more than "
            f"the budget of {_millions(budget)} ({size}); {where}, or raise the budget "
            f"with --max-events {int(total * 1.1) + 1}"))], source)
    return total


# ----------------------------------------------------------------------------- utilisation
def _mean_typing(stream: DictationStream) -> float:
    vr = stream.voice_recognition
    adoption = vr.adoption if vr.mode != "none" else 0.0
    typed = stream.typing.mean * (1 - adoption)
    if vr.mode == "back_end":
        typed += stream.typing.mean * vr.proofreading_factor * adoption
    return typed


def work_minutes(scenario: Scenario, stream, days: int, has_doctors: bool) -> float:
    """Secretary minutes a stream demands over ``days`` days (redials, abandonment and
    specialty penalties left out: a lower bound)."""
    n = expected_arrivals(scenario, stream, days)
    if isinstance(stream, (CallStream, WalkInStream)):
        online = stream.online
        minutes = 0.0
        if online is not None:
            minutes += n * online.share * online.check.mean
            n *= 1 - online.share - online.averted_share
        minutes += n * stream.service.mean
        if isinstance(stream, CallStream) and stream.transfer is not None:
            minutes += n * stream.transfer.share * stream.transfer.handling.mean
        return minutes
    if isinstance(stream, DoctorRequestStream):
        return n * stream.service.mean
    if isinstance(stream, BackOfficeStream):
        return n * stream.duration.mean
    if isinstance(stream, DictationStream):
        vr = stream.voice_recognition
        sent = 1.0 if vr.mode != "front_end" or has_doctors else 1 - vr.adoption
        return n * (_mean_typing(stream) + sent * stream.sending.mean)
    return 0.0


def on_duty_minutes(scenario: Scenario, days: int) -> float:
    """Secretaries' expected on-duty minutes over ``days`` days (absences taken out)."""
    calendar_days = _day_weights(scenario, days)
    total = 0.0
    for _t, _n, sec in scenario.secretaries():
        spans = on_duty(scenario, sec)
        per_weekday = {wd: sum(b - a for a, b in s) for wd, s in spans.items()}
        worked = sum(per_weekday.get(wd, 0) for _d, wd in calendar_days
                     if wd in scenario.calendar.opening_hours)
        total += worked * (1 - sec.absence_rate)
    return total


def utilisation(scenario: Scenario) -> tuple[float, float]:
    """(work demanded, on-duty time) in minutes over the horizon."""
    days = scenario.calendar.horizon_days
    demand = sum(work_minutes(scenario, s, days, dept.doctors is not None)
                 for dept in scenario.departments.values() for s in dept.streams.values())
    return demand, on_duty_minutes(scenario, days)


def utilisation_warnings(scenario: Scenario) -> list[tuple[str, str]]:
    """(field path, sentence) when the work demanded is at least the time on duty."""
    demand, capacity = utilisation(scenario)
    if demand <= 0 or (capacity > 0 and demand < capacity):
        return []
    rho = "infinite" if capacity <= 0 else f"{demand / capacity:.2f}"
    return [("teams", (
        f"the streams demand at least {demand / 60:,.0f} hours of work over the "
        f"{scenario.calendar.horizon_days}-day horizon but the secretaries are on duty "
        f"{capacity / 60:,.0f} hours (utilisation {rho} >= 1), so queues and delays grow "
        "until the end and the KPIs depend on the horizon; add secretaries or lower the "
        "volumes or durations"))]


# ----------------------------------------------------------------------------- sign-off
def signoff_need(scenario: Scenario, dname: str) -> float:
    """Doctor minutes a week a department's reports need over the horizon: the time per
    report, once more after rework (not with front-end recognition), plus the front-end
    correction when it is made in a sitting."""
    doctors, days = scenario.departments[dname].doctors, scenario.calendar.horizon_days
    sign, rework = doctors.time_per_report.mean, doctors.rework.share
    extra = doctors.front_end.extra_minutes.mean if doctors.front_end.when == "next_sitting" \
        else 0.0
    need = 0.0
    for stream in scenario.departments[dname].streams.values():
        if isinstance(stream, DictationStream):
            vr = stream.voice_recognition
            front = vr.adoption if vr.mode == "front_end" else 0.0
            per_report = sign * (1 + rework * (1 - front)) + front * extra
            need += expected_arrivals(scenario, stream, days) * per_report
    return float(need * 7 / days)


def signoff_time(scenario: Scenario, dname: str) -> float:
    """Sitting minutes a week a department's doctors give over the horizon: their sittings
    on the days that are not closed nor declared away, less the absence rate and leave."""
    doctors, days = scenario.departments[dname].doctors, scenario.calendar.horizon_days
    open_days = open_weekdays(scenario)
    per_weekday: dict[str, float] = {}
    for sitting in doctors.sittings:
        for wd in sitting.weekdays(open_days):
            per_weekday[WEEKDAYS[wd]] = per_weekday.get(WEEKDAYS[wd], 0.0) + sitting.minutes
    calendar_days = _day_weights(scenario, days)
    total = 0.0
    for name in doctors.doctor_names(dname):
        away = set(doctors.away.get(name, []))
        total += sum(per_weekday.get(wd, 0.0) for d, wd in calendar_days if d not in away)
    present = (1 - doctors.absence_rate) * (1 - doctors.leave_weeks / 52)
    return float(total * present * 7 / days)


def signoff_load(scenario: Scenario) -> dict[str, tuple[float, float]]:
    """Per department with doctors: (doctor minutes a week its reports need, sitting minutes
    a week its doctors give), both averaged over the horizon: an estimate, not a bound."""
    return {d: (signoff_need(scenario, d), signoff_time(scenario, d))
            for d, dept in scenario.departments.items() if dept.doctors is not None}


def signoff_warnings(scenario: Scenario) -> list[tuple[str, str]]:
    """(field path, sentence) for each department whose reports need at least the doctors'
    sitting time: their queue then grows until the end."""
    out = []
    for dname, (need, have) in signoff_load(scenario).items():
        if need <= 0 or (have > 0 and need < have):
            continue
        load = "infinite" if have <= 0 else f"{need / have:.2f}"
        out.append((f"departments.{dname}.doctors", (
            f"the reports need about {need:.0f} doctor minutes a week but the doctors' sittings "
            f"give {have:.0f} once absences and leave are taken out (load {load} >= 1), so "
            "reports pile up until the end and the report delay depends on the horizon; add "
            "or lengthen sittings, add doctors, or lower absence_rate or the time per report")))
    return out
