"""A secretary's working life as a SimPy process: come in, take work, get interrupted, leave.

The dispatcher (``Secretariat``) decides who gets new work and marks the secretary's state
at once; this process only lets time pass and appends records. An urgent task runs to its
end (even past the end of the shift); a deferrable task stops when interrupted (it is
resumed first once the urgent work is done) or at the end of the on-duty period (it goes
back to its queue at its original place). Either way whoever takes it up again first pays
one resumption cost for that pause; the specialty penalty stretches the work, not the cost.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappush
from math import isnan
from typing import TYPE_CHECKING

import simpy
from simpy.events import NORMAL, URGENT

from simulation.engine.context import Callback, Timer, call_at
from simulation.engine.secretariat import (
    DEFERRABLE,
    DEFERRABLE_RANK,
    IDLE,
    OFF,
    Secretariat,
    WorkType,
    take_first,
)
from simulation.engine.secretariat import URGENT as URGENT_WORK
from simulation.engine.work import DONE, IN_SERVICE, WAITING, WorkItem

if TYPE_CHECKING:
    from simulation.engine.records import Recorder

_EPS = 1e-9
# What she waits for (``Secretary._waiting``): her shift, the end of her idle time, the end
# of urgent work, the end of a stretch of deferrable work.
_SHIFT, _IDLE, _URGENT, _WORK = "shift", "idle", "urgent", "work"


class Secretary:
    """One secretary: her on-duty plan, her queues by rank, and what she is doing now."""

    def __init__(self, env: simpy.Environment, name: str, team: str, home: str | None,
                 plan: list[tuple[float, float]], recorder: Recorder,
                 resumption_cost: Callable[[], float]):
        self.env = env
        self.name = name
        self.team = team
        self.home = home
        # Specialty penalty per kind of work (department, stream, kind, category) she takes.
        self.penalties: dict[tuple[str, str, str, str], float] = {}
        self.plan = plan
        self.recorder = recorder
        self.resumption_cost = resumption_cost
        # Her queues as (rank, queue), by rank: urgent ones, then deferrable ones.
        self.lanes: list[tuple[int, list]] = []
        self._urgent_lanes: list[tuple[int, list]] = []
        self._deferrable_lanes: list[tuple[int, list]] = []
        self._factors: dict[WorkType, float] = {}  # her pace factor per type of work
        self.state = OFF
        self.idle_since = 0.0
        self.seg_start = 0.0
        self.period_end = 0.0
        self.duty_start = 0.0
        self.current: WorkItem | None = None
        self.paused: WorkItem | None = None
        self.next_item: WorkItem | None = None
        self.wake_pending = False
        self.secretariat: Secretariat | None = None
        self._k = 0  # next on-duty period in her plan
        self._waiting: str | None = None  # what she waits for (_SHIFT, _IDLE, ...)
        self._wait: Timer | Callback | None = None  # ... the event she waits on
        self._work_factor = 1.0  # specialty factor of the work in progress
        self._run = 0.0  # minutes of the stretch of deferrable work in progress
        # Her events, one object each for her whole working life (Timer).
        self._wake = Timer(env, self._woken)
        self._shift = Timer(env, self._shift_starts)
        self._urgent_end = Timer(env, self._urgent_done)
        self._work_end = Timer(env, self._work_ends)  # replaced when cancelled
        self._on_idle_ends = self._idle_ends
        self._on_alarm = self._alarm_rings
        # Her idle alarm (see _idle_until): it places events by SimPy's own queue and ids.
        self._alarms = hasattr(env, "_eid") and hasattr(env, "_queue")
        self._alarm: Callback | None = None
        self._alarm_key: tuple[float, int] | None = None  # (time, id) of her alarm
        self._idle_key: tuple[float, int] | None = None  # where her idle timeout would be

    def add_queue(self, rank: int, queue: list) -> None:
        """Make a queue hers, at its rank (queues of one rank are scanned together)."""
        self.lanes.append((rank, queue))
        self.lanes.sort(key=lambda lane: lane[0])
        self._urgent_lanes = [lane for lane in self.lanes if lane[0] < DEFERRABLE_RANK]
        self._deferrable_lanes = [lane for lane in self.lanes if lane[0] >= DEFERRABLE_RANK]

    def start(self, secretariat: Secretariat) -> None:
        """Start her working life in the simulation."""
        self.secretariat = secretariat
        call_at(self.env, 0, self._begin, urgent=True)

    # ------------------------------------------------------------ called by the dispatcher
    def assign(self, item: WorkItem, secretariat: Secretariat) -> None:
        """Give her ``item`` now: she is idle, or doing deferrable work that ``item`` preempts."""
        if self.wake_pending:
            # Already woken for a deferrable task she has not started: that one goes back
            # (to an idle colleague if there is one).
            secretariat.submit(self.next_item)
        else:
            self.wake_pending = True
            self._wake.set(0, URGENT)
        self.next_item = item
        self.state = URGENT_WORK if item.urgent else DEFERRABLE
        item.status = IN_SERVICE

    # ------------------------------------------------------------ her working life
    # A state machine driven by SimPy events. It schedules the very events the process it
    # replaces scheduled, in the same order and with the same priorities (an urgent start,
    # a timeout per wait, an urgent wake-up where the process was interrupted), so the
    # order of simultaneous events is unchanged; it only saves the process switches.
    #
    #   for start, end in plan:                      _periods
    #       wait until start                         _shift_starts
    #       while True:                              _duty
    #           item = next work, or
    #               wait idle until end              _idle_ends / _woken
    #               (woken: next item; else leave)
    #           work on it (one timeout; deferrable  _work_on, _urgent_done,
    #               work may be interrupted)         _work_ends / _woken
    #       leave                                    _leave
    def _begin(self, _event=None) -> None:
        self._k = 0
        self._periods()

    def _periods(self) -> None:
        """From the end of an on-duty period: wait for the next one (or start it now)."""
        env, plan = self.env, self.plan
        while self._k < len(plan):
            start, end = plan[self._k]
            self._k += 1
            now = env.now
            if now < start:
                self.period_end = end
                self._waiting, self._wait = _SHIFT, self._shift
                self._shift.set(start - now)
                return
            self.period_end = end
            if self._on_duty():
                return
        self._waiting, self._wait = None, None

    def _shift_starts(self, _event) -> None:
        if not self._on_duty():
            self._periods()

    def _on_duty(self) -> bool:
        """The on-duty period starts now: take work until it ends. True while she waits
        for an event, False once she has left."""
        now = self.env.now
        self.duty_start = now
        self.state, self.idle_since = IDLE, now
        return self._duty(now)

    def _duty(self, now: float) -> bool:
        """Take her next work at ``now``, or wait idle until the period ends: True while she
        waits for an event (idle or working), False once she has left."""
        on_duty = now < self.period_end
        item = self.next_item
        if item is not None:
            # Assigned to her (her state is set): she takes it, unless her period is over
            # and it can wait (then it goes back).
            self.next_item = None
            if not (on_duty or item.urgent):
                self.secretariat.submit(item)
                item = None
        if item is None and on_duty:
            # Urgent work first, then her paused task, then deferrable work.
            item = take_first(self._urgent_lanes)
            if item is None:
                if self.paused is not None:
                    item, self.paused = self.paused, None
                else:
                    item = take_first(self._deferrable_lanes)
            if item is not None:
                item.status = IN_SERVICE
                self.state = URGENT_WORK if item.urgent else DEFERRABLE
        if item is not None:
            self._work_on(item, now)
            return True
        if not on_duty:
            self._leave()
            return False
        self.state, self.idle_since = IDLE, now
        self._waiting = _IDLE
        env = self.env
        if self._alarms:
            self._idle_until(env, now + (self.period_end - now))
        else:
            self._wait = event = Callback(self._on_idle_ends)
            env.schedule(event, NORMAL, self.period_end - now)
        return True

    # Idle until the end of the period. The process scheduled a timeout each time she fell
    # idle, and most were cancelled (interrupted) soon after, staying in SimPy's queue until
    # the end of the period (the whole horizon for round-the-clock staff). Instead she keeps
    # one alarm in the queue: falling idle takes the place in the order the timeout would
    # have taken (its time and the next event id), and the alarm is moved there when it
    # rings early. It only ends her period if it rings exactly where her last idle timeout
    # would have: simultaneous events keep their order.
    def _idle_until(self, env: simpy.Environment, t: float) -> None:
        eid = next(env._eid)  # the id the timeout would have had
        self._idle_key = (t, eid)
        alarm = self._alarm_key
        if alarm is None or t < alarm[0]:
            self._arm(env, t, eid)

    def _arm(self, env: simpy.Environment, t: float, eid: int) -> None:
        self._alarm = event = Callback(self._on_alarm)
        self._alarm_key = (t, eid)
        heappush(env._queue, (t, NORMAL, eid, event))

    def _alarm_rings(self, event) -> None:
        if event is not self._alarm:
            return  # replaced by an earlier alarm
        key, self._alarm, self._alarm_key = self._alarm_key, None, None
        if self._waiting is not _IDLE:
            return  # she was woken: the process's timeout was cancelled
        if self._idle_key == key:
            self._idle_ends(event)
        else:
            self._arm(self.env, *self._idle_key)  # later: she fell idle again since

    def _idle_ends(self, _event) -> None:
        self._leave()
        self._periods()

    def _woken(self, _event) -> None:
        """New work was assigned to her while she was idle or on deferrable work (the
        process's interruption): her pending timeout is cancelled."""
        self.wake_pending = False
        now = self.env.now
        if self._waiting is _WORK:
            self._cancel_wait()
            self._interrupted(now)
        elif not self._alarms:
            self._cancel_wait()
        if not self._duty(now):
            self._periods()

    def _cancel_wait(self) -> None:
        """The event she waits on will not happen: emptied, it stays in SimPy's queue until
        its time, so her next stretch of work needs a new one."""
        self._wait.callbacks = []
        if self._wait is self._work_end:
            self._work_end = Timer(self.env, self._work_ends)

    def _factor(self, item: WorkItem) -> float:
        """Her pace on ``item``'s type of work: 1 + her specialty penalty away from home."""
        work_type = self.secretariat.type_of(item)
        factor = self._factors.get(work_type)
        if factor is None:
            # A secretary without a home department (a float) is a generalist everywhere.
            penalty = self.penalties.get(work_type.key)
            factor = self._factors[work_type] = (
                1.0 + penalty if penalty and item.department != self.home else 1.0)
        return factor

    def _work_on(self, item: WorkItem, now: float) -> None:
        """Start (or resume) ``item`` at ``now``; its end is one timeout."""
        if isnan(item.first_start):
            item.first_start = now
            if item.on_start is not None:
                item.on_start(item, self)
        if item.pending_resume:
            self._charge_resumption(item)
        factor = self._factors.get(item.work_type) or self._factor(item)
        self.current, self.seg_start, self._work_factor = item, now, factor
        if item.urgent:
            self._waiting, self._wait = _URGENT, self._urgent_end
            self._urgent_end.set(item.work * factor)
            return
        work_left, period_left = item.resume_left + item.work * factor, self.period_end - now
        run = period_left if period_left < work_left else work_left  # min(), without a call
        self._run = run
        self._waiting, self._wait = _WORK, self._work_end
        self._work_end.set(run)

    def _urgent_done(self, _event) -> None:
        item, now = self.current, self.env.now
        self.recorder.segment(self, item, self.seg_start, now, "done")
        self._finish(item, now)
        if not self._duty(now):
            self._periods()

    def _interrupted(self, now: float) -> None:
        """Urgent work came in while she was on the deferrable task ``current``."""
        item, start = self.current, self.seg_start
        if _progress(item, now - start, self._work_factor):
            # Urgent work arrived the very instant the task ended: no interruption.
            self.recorder.segment(self, item, start, now, "done")
            self._finish(item, now)
            return
        item.n_interruptions += 1
        _pause(item)
        self.paused, self.current = item, None
        self.recorder.segment(self, item, start, now, "interrupted")
        self.recorder.interruption(self, item, self.next_item, now)

    def _work_ends(self, _event) -> None:
        """Her deferrable task is done, or her on-duty period is over."""
        item, start, now = self.current, self.seg_start, self.env.now
        if _progress(item, self._run, self._work_factor):
            self.recorder.segment(self, item, start, now, "done")
            self._finish(item, now)
        else:
            self.current = None
            _pause(item)
            self.recorder.segment(self, item, start, now, "off_duty")
            # Back in its queue at its place, or straight to an idle colleague.
            self.secretariat.submit(item)
        if not self._duty(now):
            self._periods()

    def _charge_resumption(self, item: WorkItem) -> None:
        """Getting back into a paused task: one cost per pause, the task's own pre-drawn
        cost for that pause (or, past them, one from her own stream)."""
        costs, k = item.resume_costs, item.pauses - 1
        cost = float(costs[k]) if costs is not None and k < len(costs) else \
            self.resumption_cost()
        item.pending_resume = False
        item.resume_left += cost
        item.resumption += cost

    def _finish(self, item: WorkItem, now: float) -> None:
        item.work = item.resume_left = 0.0
        item.status = DONE
        item.finished = now
        item.secretary = self.name
        self.current = None
        if item.on_done is not None:
            item.on_done(item, now)

    def _leave(self) -> None:
        self.state = OFF  # first, so that she is not handed her own paused task
        if self.paused is not None:
            item, self.paused = self.paused, None
            self.secretariat.submit(item)
        self.recorder.presence(self, self.duty_start, self.env.now)

    # ------------------------------------------------------------ end of the horizon
    def work_left(self, item: WorkItem, now: float) -> float:
        """Work left (nominal work plus resumption cost owed) on the deferrable ``item`` she
        has been doing since ``seg_start``, without changing it."""
        minutes = now - self.seg_start
        paid = min(minutes, item.resume_left)
        work = max(0.0, item.work - (minutes - paid) / self._factor(item))
        return work + item.resume_left - paid

    def close_books(self, now: float) -> None:
        """Record the work in progress and the presence open at the end of the horizon."""
        if self.state == OFF:
            return
        item = self.current
        if item is not None and item.status == IN_SERVICE:
            if not item.urgent:
                _progress(item, now - self.seg_start, self._factor(item))
            self.recorder.segment(self, item, self.seg_start, now, "horizon")
        self.recorder.presence(self, self.duty_start, now)


def _progress(item: WorkItem, minutes: float, factor: float) -> bool:
    """``minutes`` spent on a deferrable task: the resumption cost owed first (the same for
    everybody), then the work itself at the secretary's pace (``factor``). True if the
    task is finished."""
    # min() and max() written out: this runs at every end of deferrable work.
    owed = item.resume_left
    paid = owed if owed < minutes else minutes
    left = item.resume_left = owed - paid
    work = item.work - (minutes - paid) / factor
    work = item.work = work if work > 0.0 else 0.0
    return work <= _EPS and left <= _EPS


def _pause(item: WorkItem) -> None:
    """The task stops before its end: whoever takes it up again owes a resumption cost."""
    item.status = WAITING
    item.pauses += 1
    item.pending_resume = True
