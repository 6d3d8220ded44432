"""Doctors' sign-off as a resource: reports wait in a queue that doctors work through in sittings.

A sitting starts at its clock time with a budget of minutes. The doctor takes the reports
waiting in his queue (his own, or the department's), in queue order, as long as the next
one fits in the minutes left; when the queue is empty or the next report does not fit, the
sitting ends and the rest waits for the next sitting. A report longer than a whole sitting
is signed alone at the start of a sitting (the doctor stays late) so it can never block
the queue for ever. Reports reaching the queue during a sitting are taken in that sitting
if time is left.
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
                 absence_rng: np.random.Generator):
        self.env = env
        self.department = department
        self.spec = spec
        self.recorder = recorder
        self.names = spec.doctor_names(department)
        absent = absence_rng.random((len(self.names), days)) < spec.absence_rate
        # Leave comes in whole weeks (Monday to Sunday of the calendar's weeks).
        weeks = -(-days // 7)
        on_leave = absence_rng.random((len(self.names), weeks)) < spec.leave_weeks / 52
        absent |= np.repeat(on_leave, 7, axis=1)[:, :days]
        for k, name in enumerate(self.names):
            away = [d for d in spec.away.get(name, []) if d < days]
            absent[k, away] = True
        self.plans = [sitting_plan(spec, calendar, days, absent[k]) for k in range(len(self.names))]
        shared: list = []
        self.queues = [shared if spec.queue == "department" else [] for _ in self.names]
        self._seq = itertools.count()

    def start(self) -> None:
        """Begin every doctor's sittings when the clock runs."""
        for k in range(len(self.names)):
            self.env.process(self._sittings(k))

    def submit(self, report: Report, minutes: float, on_signed: Callable[[], None]) -> None:
        """Put a typed report in its doctor's queue (``minutes``: doctor time it will take)."""
        key = report.dictated if self.spec.order == "oldest_first" else self.env.now
        doctor = self.names.index(report.doctor)
        heapq.heappush(self.queues[doctor], (key, next(self._seq), _Job(report, minutes, on_signed)))

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
            left, used = available, 0.0
            while queue:
                job = queue[0][2]
                too_long_for_any = job.minutes > available and used == 0.0
                if job.minutes > left and not too_long_for_any:
                    break
                heapq.heappop(queue)
                began = env.now
                yield env.timeout(job.minutes)
                left -= job.minutes
                used += job.minutes
                job.report.doctor_minutes += job.minutes
                self.recorder.signoffs.append((name, self.department, job.report.id, SIGN,
                                               began, env.now))
                job.on_signed()
            self.recorder.sittings.append((name, self.department, start, available, used))
