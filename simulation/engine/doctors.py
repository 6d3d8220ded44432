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
        # A doctor in a sitting with an empty queue waits on this event for new reports.
        self._waiting: dict[int, simpy.Event] = {}
        self._seq = itertools.count()

    def start(self) -> None:
        """Begin every doctor's sittings when the clock runs."""
        for k in range(len(self.names)):
            self.env.process(self._sittings(k))

    def submit(self, report: Report, minutes: float, on_signed: Callable[[], None]) -> None:
        """Put a typed report in its doctor's queue (``minutes``: doctor time it will take)."""
        key = report.dictated if self.spec.order == "oldest_first" else self.env.now
        doctor = self.names.index(report.doctor)
        queue = self.queues[doctor]
        heapq.heappush(queue, (key, next(self._seq), _Job(report, minutes, on_signed)))
        for k, event in list(self._waiting.items()):
            if self.queues[k] is queue and not event.triggered:
                event.succeed()

    def correct_now(self, report: Report, minutes: float) -> None:
        """Front-end recognition corrected right after dictation, outside the sittings."""
        now = self.env.now
        report.doctor_minutes += minutes
        self.recorder.signoffs.append((report.doctor, self.department, report.id,
                                       FRONT_END_CORRECTION, now, now + minutes))

    def backlog(self) -> int:
        """Reports waiting for a signature now."""
        return sum(len(q) for q in {id(q): q for q in self.queues}.values())

    def _sittings(self, k: int):
        env, queue, name = self.env, self.queues[k], self.names[k]
        for start, available in self.plans[k]:
            if start > env.now:
                yield env.timeout(start - env.now)
            ends = start + available  # a sitting that starts late (after an overrun) is shorter
            began, used = env.now, 0.0
            while env.now < ends:
                if not queue:
                    # Wait for reports typed while the sitting lasts, or for its end.
                    self._waiting[k] = wake = env.event()
                    yield wake | env.timeout(ends - env.now)
                    del self._waiting[k]
                    continue
                job = queue[0][2]
                too_long_for_any = job.minutes > available and used == 0.0
                if job.minutes > ends - env.now and not too_long_for_any:
                    break
                heapq.heappop(queue)
                signing = env.now
                yield env.timeout(job.minutes)
                used += job.minutes
                job.report.doctor_minutes += job.minutes
                self.recorder.signoffs.append((name, self.department, job.report.id, SIGN,
                                               signing, env.now))
                job.on_signed()
            self.recorder.sittings.append((name, self.department, began,
                                           max(0.0, ends - began), used))
