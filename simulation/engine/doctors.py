"""Doctors' sign-off as a resource: reports wait in a queue that doctors work through in sittings.

A sitting runs from its clock time for its minutes. The doctor takes the reports waiting
in his queue (his own, or the department's), in queue order, as long as the next one fits
in the minutes left; with an empty queue he waits for reports typed during the sitting;
when the next report does not fit, or the time is up, the rest waits for the next
sitting. A report longer than a whole sitting is signed alone at the start of a sitting
(the doctor stays late) so it can never block the queue for ever; a sitting that starts
late because of that is shorter.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

import numpy as np
import simpy
from simpy.events import NORMAL

from simulation.engine.context import Callback, call_at
from simulation.engine.records import Recorder
from simulation.engine.work import Report
from simulation.scenario.calendar import MINUTES_PER_DAY, WEEKDAYS, parse_clock, weekday_of
from simulation.scenario.doctors import Doctors
from simulation.scenario.schema import Calendar

SIGN, FRONT_END_CORRECTION = "sign", "front_end_correction"


class _Job:
    """A report waiting for a signature, with the doctor minutes it will take."""

    __slots__ = ("report", "minutes", "on_signed")

    def __init__(self, report: Report, minutes: float, on_signed: Callable[[], None]):
        self.report = report
        self.minutes = minutes
        self.on_signed = on_signed


def sitting_plan(spec: Doctors, calendar: Calendar, days: int, off: np.ndarray) -> list[tuple[float, float]]:
    """(start minute, minutes available) of one doctor's sittings over ``days`` days.

    ``off`` marks the days he is away (absence draws and declared days); the calendar's
    closed days (public holidays) have no sitting either.
    """
    open_days = [d for d in WEEKDAYS if d in calendar.opening_hours]
    by_weekday: dict[int, list[tuple[float, float]]] = {}
    for s in spec.sittings:
        for wd in s.weekdays(open_days):
            by_weekday.setdefault(wd, []).append((parse_clock(s.start), s.minutes))
    start_wd = WEEKDAYS.index(calendar.start_weekday)
    closed = set(calendar.closed_days)
    plan = []
    for day in range(days):
        if day in closed or off[day]:
            continue
        for clock, minutes in sorted(by_weekday.get(weekday_of(day, start_wd), [])):
            plan.append((day * MINUTES_PER_DAY + clock, minutes))
    return plan


class SignOff:
    """A department's doctors, their sign-off queues and their sittings."""

    def __init__(self, env: simpy.Environment, department: str, spec: Doctors,
                 calendar: Calendar, days: int, recorder: Recorder,
                 rng: Callable[..., np.random.Generator]):
        self.env = env
        self.department = department
        self.spec = spec
        self.recorder = recorder
        self.names = spec.doctor_names(department)
        # Leave comes in whole calendar weeks, Monday to Sunday.
        monday = (-WEEKDAYS.index(calendar.start_weekday)) % 7  # first Monday's day number
        self.plans = []
        for name in self.names:
            # One stream per doctor and purpose: a doctor's absences do not depend on the
            # run length or on how many colleagues he has (common random numbers).
            absent = rng(name, "absence").random(days) < spec.absence_rate
            weeks = (days - monday + 6) // 7 + 1
            leave = rng(name, "leave").random(weeks) < spec.leave_weeks / 52
            week_of_day = (np.arange(days) - monday + 7) // 7  # 0 = days before the first Monday
            absent |= leave[week_of_day]
            absent[[d for d in spec.away.get(name, []) if d < days]] = True
            self.plans.append(sitting_plan(spec, calendar, days, absent))
        shared: list = []
        self.queues = [shared if spec.queue == "department" else [] for _ in self.names]
        # A doctor in a sitting with an empty queue waits for new reports (or its end).
        self._waiting: dict[int, _Wait] = {}
        self._seq = itertools.count()
        self._doctors: list[_Sittings] = []

    def start(self) -> None:
        """Begin every doctor's sittings when the clock runs."""
        for k in range(len(self.names)):
            self._doctors.append(_Sittings(self, k))
            call_at(self.env, 0, self._doctors[-1].begin, urgent=True)

    def sitting_open(self, before: float) -> bool:
        """Whether a doctor is in a sitting that began before ``before`` (its row is written
        when it ends: the follow-up waits for it, ``engine.model``)."""
        return any(d.in_sitting and d.began < before for d in self._doctors)

    def submit(self, report: Report, minutes: float, on_signed: Callable[[], None]) -> None:
        """Put a typed report in its doctor's queue (``minutes``: doctor time it will take)."""
        key = report.dictated if self.spec.order == "oldest_first" else self.env.now
        doctor = self.names.index(report.doctor)
        queue = self.queues[doctor]
        heapq.heappush(queue, (key, next(self._seq), _Job(report, minutes, on_signed)))
        for k, wait in list(self._waiting.items()):
            if self.queues[k] is queue and not wait.woken:
                wait.wake()

    def correct_now(self, report: Report, minutes: float) -> None:
        """Front-end recognition corrected right after dictation, outside the sittings."""
        now = self.env.now
        report.doctor_minutes += minutes
        self.recorder.signoffs.append((report.doctor, self.department, report.id,
                                       FRONT_END_CORRECTION, now, now + minutes))

    def backlog(self) -> int:
        """Reports waiting for a signature now."""
        return sum(len(q) for q in {id(q): q for q in self.queues}.values())


# A doctor's sittings as callbacks on SimPy events: the very events, in the same order, that
# the process they replace scheduled (its start, a timeout per wait and per signature, and
# for a wait on "a new report or the end of the sitting", the wake-up, the timeout and the
# condition's own event), so simultaneous events keep their order; only the process
# switches are saved. The process was:
#
#   for start, available in plan:                            _Sittings.next_sitting
#       if start > now: wait until start                     .starts
#       ends, began, used = start + available, now, 0
#       while now < ends:                                    .sign_next
#           if queue empty: wait for a report or the end     _Wait
#               (wake | timeout), then loop
#           job = head; if it does not fit (and could fit a sitting): break
#           sign it (one timeout), record, job.on_signed()   .signed
#       record the sitting
class _Sittings:
    """One doctor working through his queue, sitting after sitting."""

    def __init__(self, signoff: SignOff, k: int):
        self.signoff, self.k = signoff, k
        self.env, self.queue, self.name = signoff.env, signoff.queues[k], signoff.names[k]
        self.plan, self.next = signoff.plans[k], 0  # the sitting to come
        self.start = self.available = self.ends = self.began = self.used = 0.0
        self.job: _Job | None = None  # the report being signed
        self.signing = 0.0
        self.in_sitting = False  # from its start until its row is written

    def begin(self, _event=None) -> None:
        self.next_sitting()

    def next_sitting(self) -> None:
        """Wait for the next sitting of his plan (or start it now)."""
        if self.next >= len(self.plan):
            return
        self.start, self.available = self.plan[self.next]
        self.next += 1
        now = self.env.now
        if self.start > now:
            self.env.schedule(Callback(self.starts), NORMAL, self.start - now)
        else:
            self.starts()

    def starts(self, _event=None) -> None:
        """A sitting begins (late if the last one overran): it is shorter then."""
        self.ends = self.start + self.available
        self.began, self.used = self.env.now, 0.0
        self.in_sitting = True
        self.sign_next()

    def sign_next(self, _event=None) -> None:
        """Sign the next report if it fits, or wait for one; else the sitting is over."""
        env, queue = self.env, self.queue
        now = env.now
        if now < self.ends:
            if not queue:
                self.signoff._waiting[self.k] = _Wait(self)
                return
            job = queue[0][2]
            too_long_for_any = job.minutes > self.available and self.used == 0.0
            if not (job.minutes > self.ends - now and not too_long_for_any):
                heapq.heappop(queue)
                self.job, self.signing = job, now
                env.schedule(Callback(self.signed), NORMAL, job.minutes)
                return
        signoff = self.signoff
        signoff.recorder.sittings.append((self.name, signoff.department, self.began,
                                          max(0.0, self.ends - self.began), self.used))
        self.in_sitting = False
        self.next_sitting()

    def signed(self, _event) -> None:
        job, signoff = self.job, self.signoff
        self.job = None
        self.used += job.minutes
        job.report.doctor_minutes += job.minutes
        signoff.recorder.signoffs.append((self.name, signoff.department, job.report.id, SIGN,
                                          self.signing, self.env.now))
        job.on_signed()
        self.sign_next()

    def resume(self) -> None:
        """His wait is over (a report came in, or the sitting's time is up)."""
        del self.signoff._waiting[self.k]
        self.sign_next()


class _Wait:
    """A doctor with an empty queue waits for a new report or the end of his sitting.

    The process waited on ``wake | env.timeout(ends - now)``: the timeout scheduled now,
    the wake-up event when a report comes in (``wake``), and whichever fires first
    triggered the condition, whose own event then resumed him. The same events here.
    """

    __slots__ = ("sittings", "woken", "over")

    def __init__(self, sittings: _Sittings):
        self.sittings = sittings
        self.woken = False  # a report came in (the wake-up event is scheduled)
        self.over = False  # the condition is met (its event is scheduled)
        env = sittings.env
        env.schedule(Callback(self._fires), NORMAL, sittings.ends - env.now)

    def wake(self) -> None:
        """A report came in for him."""
        self.woken = True
        self.sittings.env.schedule(Callback(self._fires), NORMAL, 0)

    def _fires(self, _event) -> None:
        # The wake-up or the timeout: the first one meets the condition.
        if not self.over:
            self.over = True
            self.sittings.env.schedule(Callback(self._met), NORMAL, 0)

    def _met(self, _event) -> None:
        self.sittings.resume()
