"""What every part of one replication shares: clock, calendar, queues, records, ids, hours.

Only what several parts need lives here; anything one class alone needs (its stream's
settings, its own samplers) is passed to that class directly.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable
from heapq import heappop, heappush

import simpy
from simpy.core import StopSimulation
from simpy.events import NORMAL, URGENT

from simulation.engine.draws import ResumptionRows
from simulation.engine.records import Recorder
from simulation.engine.secretariat import Secretariat, rank_of
from simulation.engine.seeding import RandomStreams
from simulation.engine.work import WorkItem
from simulation.scenario.schema import Calendar, InterruptionPolicy


class Callback:
    """A SimPy event that calls ``fn(event)`` when the clock reaches it, with no process.

    Scheduled with ``env.schedule`` exactly where the ``Timeout`` (or a process's start or
    interruption) it replaces would be, so the order of simultaneous events is unchanged;
    it saves the process switch (generator, ``Process._resume``, ``Interrupt`` exceptions).
    ``callbacks`` is emptied to cancel it.
    """

    __slots__ = ("callbacks",)
    _ok = True  # read by ``Environment.step``

    def __init__(self, fn):
        self.callbacks = [fn]


class Timer:
    """A callback event scheduled over and over, never twice at once: a stream's next
    arrival, a secretary's wake-up or end of work. One object serves the whole chain
    (making an event object costs about as much as scheduling it).

    ``set`` schedules it exactly as ``env.schedule(Callback(fn), priority, delay)`` would;
    call it only once SimPy has fired the previous one (``callbacks`` is then None). An
    event cancelled while pending (``callbacks`` emptied) stays in SimPy's queue until its
    time: replace the timer by a new one instead of setting it again.
    """

    __slots__ = ("callbacks", "_fns", "_env")
    _ok = True  # read by ``Environment.step``

    def __init__(self, env: simpy.Environment, fn: Callable[[Timer], None]):
        # SimPy only iterates over an event's callbacks: the same one-element list serves
        # every firing.
        self._env, self._fns = env, [fn]
        self.callbacks: list | None = None

    def set(self, delay: float, priority: int = NORMAL) -> None:
        """Fire ``fn(self)`` in ``delay`` minutes. Refused while pending or once cancelled:
        its entry in SimPy's queue would fire the new wait early."""
        if self.callbacks is not None:
            raise RuntimeError("a Timer is set again before it fired (or after a cancel)")
        self.callbacks = self._fns
        env = self._env  # env.schedule(self, priority, delay), without its call
        heappush(env._queue, (env._now + delay, priority, next(env._eid), self))


def call_at(env: simpy.Environment, delay: float, fn, urgent: bool = False) -> Callback:
    """Schedule ``fn(event)`` in ``delay`` minutes (as ``env.timeout(delay)`` would, or as a
    process start or interruption does when ``urgent``); return the event."""
    event = Callback(fn)
    env.schedule(event, URGENT if urgent else NORMAL, delay)
    return event


def run_until(env: simpy.Environment, until: simpy.Event) -> None:
    """``env.run(until=until)``: SimPy 4's own loop (``Environment.run`` and ``step``), the
    same steps in the same order, without a method call per event."""
    if until.callbacks is None:
        return  # already processed
    until.callbacks.append(StopSimulation.callback)
    queue = env._queue
    try:
        while True:
            if not queue:
                raise RuntimeError(f'No scheduled events left but "until" event was not '
                                   f"triggered: {until}")
            env._now, _, _, event = heappop(queue)
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:
                callback(event)
            if not event._ok and not hasattr(event, "_defused"):
                exc = type(event._value)(*event._value.args)
                exc.__cause__ = event._value
                raise exc
    except StopSimulation:
        return


class OpeningHours:
    """Is a line (or desk) open at time t? Bisection over the open intervals."""

    def __init__(self, intervals: list[tuple[float, float]]):
        self.starts = [a for a, _ in intervals]
        self.ends = [b for _, b in intervals]
        # The last answer holds over [_lo, _hi) (the clock mostly asks about the same stretch).
        self._lo, self._hi, self._open = 0.0, -1.0, False

    def intervals(self) -> list[tuple[float, float]]:
        """The open intervals [open, close), in time order."""
        return list(zip(self.starts, self.ends))

    def is_open(self, t: float) -> bool:
        """Whether lines and desks are open at minute ``t``."""
        if self._lo <= t < self._hi:
            return self._open
        starts, ends = self.starts, self.ends
        i = bisect.bisect_right(starts, t) - 1
        if i >= 0 and t < ends[i]:
            self._lo, self._hi, self._open = starts[i], ends[i], True
        else:
            self._lo = ends[i] if i >= 0 else -math.inf
            self._hi = starts[i + 1] if i + 1 < len(starts) else math.inf
            self._open = False
        return self._open


class Context:
    """Shared services of one replication (one per ``Model``)."""

    def __init__(self, calendar: Calendar, policy: InterruptionPolicy, env: simpy.Environment,
                 secretariat: Secretariat, recorder: Recorder, streams: RandomStreams,
                 hours: OpeningHours):
        self.calendar = calendar
        self.policy = policy
        self.env = env
        self.secretariat = secretariat
        self.recorder = recorder
        self.streams = streams
        self.hours = hours
        # A new id, increasing in creation order (ties in queues break on it).
        self.next_id = itertools.count().__next__
        self._ranks: dict[tuple[str, bool], int] = {}
        self._rows: dict[tuple[str, str, str], ResumptionRows] = {}

    def rank(self, kind: str, urgent: bool) -> int:
        """Service rank of a kind of work (lower = taken first)."""
        key = (kind, urgent)
        if key not in self._ranks:
            self._ranks[key] = rank_of(kind, urgent, self.policy)
        return self._ranks[key]

    def new_task(self, kind: str, department: str, stream: str, category: str, urgent: bool,
                 work: float, on_done=None, ref=None, resume_costs=None,
                 route_u: float = math.nan, on_start=None, key: str = "") -> WorkItem:
        """Create a task (not a call or a visit), record it and hand it to the secretariat.

        ``resume_costs``: the task's pre-drawn resumption costs (``engine.draws``); without
        them a deferrable task gets the next row of its stream and kind, in creation order.
        ``key`` names the task the same way in every scenario (``department:stream:index``,
        plus ``:role`` for a report's or a booking's tasks).
        """
        if resume_costs is None and not urgent:
            resume_costs = self._resumption_rows(department, stream, kind)()
        work_type = self.secretariat.work_type(department, stream, kind, category)
        item = WorkItem(self.next_id(), kind, department, stream, category, urgent,
                        self.env.now, work, work_type.rank, on_done=on_done, ref=ref,
                        resume_costs=resume_costs, route_u=route_u,
                        on_start=on_start, key=key, work_type=work_type)
        self.recorder.tasks.append(item)
        self.secretariat.submit(item)
        return item

    def _resumption_rows(self, department: str, stream: str, kind: str) -> ResumptionRows:
        key = (department, stream, kind)
        rows = self._rows.get(key)
        if rows is None:
            rows = self._rows[key] = ResumptionRows(
                self.policy.resumption_cost, self.streams.get(*key, "resumption_cost"))
        return rows


class ScheduledArrivals:
    """Releases a stream's pre-drawn arrival times one by one.

    A chain of callbacks that schedules the same events in the same order as the process
    it replaces (``for i, t in enumerate(times): if t > now: yield env.timeout(t - now);
    arrive(i)``): an urgent start at time 0, then one timeout per distinct arrival time.
    """

    ctx: Context
    times: object  # sorted numpy array of minutes
    _BLOCK = 1024  # arrival times converted to Python floats this many at a time

    def start(self) -> None:
        """Begin releasing arrivals when the clock runs."""
        self._next = 0
        self._count = len(self.times)
        self._block: list[float] = []
        self._block_start = 0
        self._env = self.ctx.env
        self._timer = Timer(self._env, self._due)  # the next arrival time
        call_at(self._env, 0, self._release, urgent=True)

    def _release(self, _event=None) -> None:
        """Arrivals due now happen; the next one is awaited."""
        env, i = self._env, self._next
        block, first = self._block, self._block_start
        while i < self._count:
            if i - first >= len(block):
                first = self._block_start = i
                block = self._block = self.times[i:i + self._BLOCK].tolist()
            t = block[i - first]
            now = env.now
            if t > now:
                self._next = i
                self._timer.set(t - now)
                return
            self.arrive(i)
            i += 1
        self._next = i

    def _due(self, _event) -> None:
        i = self._next
        self.arrive(i)
        self._next = i + 1
        self._release()

    def arrive(self, i: int) -> None:
        """Arrival number ``i`` happens now."""
        raise NotImplementedError
