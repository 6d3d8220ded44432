"""A secretary's working life as a SimPy process: come in, take work, get interrupted, leave.

The dispatcher (``Secretariat``) decides who gets new work and marks the secretary's state
at once; this process only lets time pass and appends records. An urgent task runs to its
end (even past the end of the shift); a deferrable task stops when interrupted (it is
resumed first once the urgent work is done) or at the end of the on-duty period (it goes
back to its queue at its original place). Either way whoever takes it up again first pays
one resumption cost for that pause; the specialty penalty stretches the work, not the cost.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import simpy

from simulation.engine.secretariat import DEFERRABLE, IDLE, OFF, URGENT, Secretariat
from simulation.engine.work import DONE, IN_SERVICE, WAITING, WorkItem

if TYPE_CHECKING:
    from simulation.engine.records import Recorder

_EPS = 1e-9


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
        self.groups: list[tuple[int, list[list]]] = []
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
        self.process: simpy.Process | None = None

    def add_queue(self, rank: int, queue: list) -> None:
        """Make a queue hers, at its rank (queues of one rank are scanned together)."""
        for r, queues in self.groups:
            if r == rank:
                queues.append(queue)
                return
        self.groups.append((rank, [queue]))
        self.groups.sort(key=lambda g: g[0])

    def start(self, secretariat: Secretariat) -> None:
        """Start her working life in the simulation."""
        self.secretariat = secretariat
        self.process = self.env.process(self.working_life())

    # ------------------------------------------------------------ called by the dispatcher
    def assign(self, item: WorkItem, secretariat: Secretariat) -> None:
        """Give her ``item`` now: she is idle, or doing deferrable work that ``item`` preempts."""
        if self.wake_pending:
            # Already woken for a deferrable task she has not started: that one goes back
            # (to an idle colleague if there is one).
            secretariat.submit(self.next_item)
        else:
            self.wake_pending = True
            self.process.interrupt()
        self.next_item = item
        self.state = URGENT if item.urgent else DEFERRABLE
        item.status = IN_SERVICE

    # ------------------------------------------------------------ the process
    def working_life(self):
        """The SimPy process: each on-duty period, take work until it ends."""
        env = self.env
        for start, end in self.plan:
            if env.now < start:
                yield env.timeout(start - env.now)
            self.period_end = end
            self.duty_start = env.now
            self.state, self.idle_since = IDLE, env.now
            while True:
                item = self._take_next(env.now < end)
                if item is None:
                    if env.now >= end:
                        break
                    self.state, self.idle_since = IDLE, env.now
                    try:
                        yield env.timeout(end - env.now)
                    except simpy.Interrupt:
                        self.wake_pending = False
                        continue
                    break
                yield from self._work_on(item)
            self._leave()

    def _take_next(self, on_duty: bool) -> WorkItem | None:
        item = self.next_item
        if item is not None:
            self.next_item = None
            if on_duty or item.urgent:
                return item
            self.secretariat.submit(item)
        if not on_duty:
            return None
        item = Secretariat.take(self.groups, urgent_only=True)
        if item is None and self.paused is not None:
            item, self.paused = self.paused, None
        if item is None:
            item = Secretariat.take(self.groups, urgent_only=False)
        if item is not None:
            item.status = IN_SERVICE
            self.state = URGENT if item.urgent else DEFERRABLE
        return item

    def _factor(self, item: WorkItem) -> float:
        # A secretary without a home department (a float) is a generalist everywhere.
        penalty = self.penalties.get((item.department, item.stream, item.kind, item.category))
        if penalty and item.department != self.home:
            return 1.0 + penalty
        return 1.0

    def _work_on(self, item: WorkItem):
        env = self.env
        now = env.now
        if math.isnan(item.first_start):
            item.first_start = now
            if item.on_start is not None:
                item.on_start(item, self)
        if item.pending_resume:
            self._charge_resumption(item)
        factor = self._factor(item)
        self.current, self.seg_start = item, now
        if item.urgent:
            yield env.timeout(item.work * factor)
            self.recorder.segment(self, item, now, env.now, "done")
            self._finish(item)
            return
        run = min(item.resume_left + item.work * factor, self.period_end - now)
        try:
            yield env.timeout(run)
        except simpy.Interrupt:
            self.wake_pending = False
            _progress(item, env.now - now, factor)
            if _finished(item):
                # Urgent work arrived the very instant the task ended: no interruption.
                self.recorder.segment(self, item, now, env.now, "done")
                self._finish(item)
                return
            item.n_interruptions += 1
            _pause(item)
            self.paused, self.current = item, None
            self.recorder.segment(self, item, now, env.now, "interrupted")
            self.recorder.interruption(self, item, self.next_item, env.now)
            return
        _progress(item, run, factor)
        if _finished(item):
            self.recorder.segment(self, item, now, env.now, "done")
            self._finish(item)
        else:
            self.current = None
            _pause(item)
            self.recorder.segment(self, item, now, env.now, "off_duty")
            # Back in its queue at its place, or straight to an idle colleague.
            self.secretariat.submit(item)

    def _charge_resumption(self, item: WorkItem) -> None:
        """Getting back into a paused task: one cost per pause, the task's own pre-drawn
        cost for that pause (or, past them, one from her own stream)."""
        costs, k = item.resume_costs, item.pauses - 1
        cost = float(costs[k]) if costs is not None and k < len(costs) else \
            self.resumption_cost()
        item.pending_resume = False
        item.resume_left += cost
        item.resumption += cost

    def _finish(self, item: WorkItem) -> None:
        item.work = item.resume_left = 0.0
        item.status = DONE
        item.finished = self.env.now
        item.secretary = self.name
        self.current = None
        if item.on_done is not None:
            item.on_done(item, self.env.now)

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


def _progress(item: WorkItem, minutes: float, factor: float) -> None:
    """``minutes`` spent on a deferrable task: the resumption cost owed first (the same for
    everybody), then the work itself at the secretary's pace (``factor``)."""
    paid = min(minutes, item.resume_left)
    item.resume_left -= paid
    item.work = max(0.0, item.work - (minutes - paid) / factor)


def _finished(item: WorkItem) -> bool:
    return item.work <= _EPS and item.resume_left <= _EPS


def _pause(item: WorkItem) -> None:
    """The task stops before its end: whoever takes it up again owes a resumption cost."""
    item.status = WAITING
    item.pauses += 1
    item.pending_resume = True
