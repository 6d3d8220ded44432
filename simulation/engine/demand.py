"""Arrival streams that hit the secretaries: phone lines, desks, doctors' and back-office work.

Each stream draws its arrival times and per-arrival durations up front from its own named
random streams (common random numbers across scenarios), then a short SimPy process
releases the arrivals one by one.
"""

from __future__ import annotations

import numpy as np

from simulation.engine.arrivals import profile_arrivals
from simulation.engine.context import Context, ScheduledArrivals
from simulation.engine.work import ABANDONED, WAITING, CallAttempt, Visit, WorkItem
from simulation.scenario.distributions import Sampler
from simulation.scenario.schema import (
    BackOfficeStream,
    CallStream,
    DoctorRequestStream,
    OnlineBooking,
    WalkInStream,
)


class _Source(ScheduledArrivals):
    """Common set-up: arrival times and the online-booking diversion of a stream."""

    def __init__(self, ctx: Context, department: str, name: str, stream):
        self.ctx = ctx
        self.department = department
        self.name = name
        self.stream = stream
        self.rng = lambda purpose: ctx.streams.get(department, name, purpose)
        self.times = profile_arrivals(stream.arrivals, ctx.calendar, self.rng("arrivals"))
        online: OnlineBooking | None = getattr(stream, "online", None)
        self.online = (online if online is not None
                       and online.share + online.averted_share > 0 else None)
        self.online_u = self.rng("online").random(len(self.times))
        if self.online is not None:
            self.online_check = Sampler(self.online.check, self.rng("online_check"))

    def arrive(self, i: int) -> None:
        """Online booking first: one uniform per arrival, below ``share`` it books online (a
        check task), in the next ``averted_share`` it no longer happens, else it comes in."""
        u, online = self.online_u[i], self.online
        if online is not None and u < online.share + online.averted_share:
            if u < online.share:
                self.ctx.new_task("online_check", self.department, self.name,
                                  online.check_category, False, self.online_check())
            return
        self.come_in(i)

    def come_in(self, i: int) -> None:
        """Arrival ``i`` reaches the line, the desk or the secretariat."""
        raise NotImplementedError


class CallLine(_Source):
    """A department's phone line for one call stream: patience, redials, transfers."""

    def __init__(self, ctx: Context, department: str, name: str, stream: CallStream):
        super().__init__(ctx, department, name, stream)
        n = len(self.times)
        self.service = stream.service.sample(self.rng("service"), n)
        self.patience = (stream.patience.sample(self.rng("patience"), n)
                         if stream.patience is not None else np.full(n, np.inf))
        self.transfer_u = self.rng("transfer").random(n)
        self.redial_u = self.rng("redial").random
        self.redial_delay = Sampler(stream.redial.delay, self.rng("redial_delay"))
        self.later_patience = (Sampler(stream.patience, self.rng("later_patience"))
                               if stream.patience is not None else (lambda: float("inf")))
        tr = stream.transfer
        self.transfer = tr if tr is not None and tr.share > 0 else None
        if self.transfer is not None:
            self.handling = Sampler(tr.handling, self.rng("transfer_handling"))
        self.waiting = 0
        self.waiting_items: dict[int, WorkItem] = {}
        self.area = 0.0
        self._last = 0.0

    def come_in(self, i: int) -> None:
        self.offer(self.ctx.next_id(), 1, "first", self.service[i], self.patience[i],
                   self.transfer_u[i])

    def offer(self, caller: int, attempt: int, leg: str, service: float, patience: float,
              transfer_u: float) -> None:
        """A caller dials: closed line, picked up at once, or waits until patience runs out."""
        ctx = self.ctx
        now = ctx.env.now
        call = CallAttempt(ctx.next_id(), caller, attempt, leg, self.department, self.name,
                           self.stream.audit_category, now, service, patience, transfer_u)
        ctx.recorder.calls.append(call)
        if not ctx.hours.is_open(now):
            call.outcome, call.ended = "closed", now
            self._maybe_redial(call)
            return
        kind = "call" if leg == "first" else "transferred_call"
        item = WorkItem(call.id, kind, self.department, self.name, call.category, True, now,
                        service, ctx.rank(kind, True), on_done=self._done, ref=call,
                        on_start=self._start)
        if not ctx.secretariat.submit(item):
            call.queued = True
            self.waiting_items[item.id] = item
            self._queue_change(+1)
            if patience < np.inf:
                ctx.env.timeout(patience).callbacks.append(lambda _ev: self._hang_up(item))

    def _queue_change(self, delta: int) -> None:
        now = self.ctx.env.now
        self.area += self.waiting * (now - self._last)
        self._last = now
        self.waiting += delta

    def _start(self, item: WorkItem, secretary) -> None:
        call: CallAttempt = item.ref
        call.outcome, call.answered, call.secretary = "answered", self.ctx.env.now, secretary.name
        if call.queued:
            self.waiting_items.pop(item.id, None)
            self._queue_change(-1)
        tr = self.transfer
        if tr is not None and call.leg == "first" and secretary.team in tr.by_teams \
                and call.transfer_u < tr.share:
            call.transferred = True
            item.work = self.handling()

    def _done(self, item: WorkItem, now: float) -> None:
        call: CallAttempt = item.ref
        call.ended = now
        if call.transferred:
            self.offer(call.caller, call.attempt, "transfer", call.service, self.later_patience(),
                       1.0)

    def _hang_up(self, item: WorkItem) -> None:
        if item.status != WAITING:
            return
        item.status = ABANDONED
        call: CallAttempt = item.ref
        call.outcome, call.ended = "abandoned", self.ctx.env.now
        self.waiting_items.pop(item.id, None)
        self._queue_change(-1)
        self._maybe_redial(call)

    def close_queue(self) -> None:
        """The line closes: callers still waiting are cut off (and may call back later)."""
        for item in list(self.waiting_items.values()):
            if item.status == WAITING:
                item.status = ABANDONED
                call: CallAttempt = item.ref
                call.outcome, call.ended = "cut_off", self.ctx.env.now
                self._queue_change(-1)
                self._maybe_redial(call)
        self.waiting_items.clear()

    def _maybe_redial(self, call: CallAttempt) -> None:
        redial = self.stream.redial
        if call.attempt >= redial.max_attempts or redial.probability <= 0:
            return
        if self.redial_u() >= redial.probability:
            return
        delay = self.redial_delay()
        patience = self.later_patience()
        call.redial_at = self.ctx.env.now + delay
        self.ctx.env.timeout(delay).callbacks.append(
            lambda _ev: self.offer(call.caller, call.attempt + 1, "first", call.service,
                                   patience, call.transfer_u))

    def close_books(self, now: float) -> None:
        """Record the line's queue area up to the end of the horizon."""
        self._queue_change(0)
        self.ctx.recorder.lines.append((self.department, self.name, "call", self.area, now))


class Desk(_Source):
    """A department's reception desk for one walk-in stream."""

    def __init__(self, ctx: Context, department: str, name: str, stream: WalkInStream):
        super().__init__(ctx, department, name, stream)
        n = len(self.times)
        self.service = stream.service.sample(self.rng("service"), n)
        self.patience = (stream.patience.sample(self.rng("patience"), n)
                         if stream.patience is not None else np.full(n, np.inf))
        self.waiting_items: dict[int, WorkItem] = {}

    def come_in(self, i: int) -> None:
        ctx = self.ctx
        now = ctx.env.now
        visit = Visit(ctx.next_id(), self.department, self.name, self.stream.audit_category, now)
        visit.patience = float(self.patience[i])
        ctx.recorder.visits.append(visit)
        if not ctx.hours.is_open(now):
            visit.outcome, visit.ended = "closed", now
            return
        item = WorkItem(visit.id, "walk_in", self.department, self.name, visit.category, True,
                        now, float(self.service[i]), ctx.rank("walk_in", True),
                        on_done=self._done, ref=visit, on_start=self._start)
        if not ctx.secretariat.submit(item):
            self.waiting_items[item.id] = item
            if visit.patience < np.inf:
                ctx.env.timeout(visit.patience).callbacks.append(lambda _ev: self._leave(item))

    def _start(self, item: WorkItem, secretary) -> None:
        visit: Visit = item.ref
        visit.outcome, visit.started, visit.secretary = "served", self.ctx.env.now, secretary.name
        self.waiting_items.pop(item.id, None)

    def _done(self, item: WorkItem, now: float) -> None:
        item.ref.ended = now

    def _leave(self, item: WorkItem) -> None:
        if item.status == WAITING:
            item.status = ABANDONED
            item.ref.outcome, item.ref.ended = "left", self.ctx.env.now
            self.waiting_items.pop(item.id, None)

    def close_queue(self) -> None:
        """The desk closes: patients still waiting are sent away."""
        for item in list(self.waiting_items.values()):
            if item.status == WAITING:
                item.status = ABANDONED
                item.ref.outcome, item.ref.ended = "sent_away", self.ctx.env.now
        self.waiting_items.clear()


class TaskSource(_Source):
    """Doctors' requests (urgent) or back-office work (deferrable) of one stream."""

    def __init__(self, ctx: Context, department: str, name: str,
                 stream: DoctorRequestStream | BackOfficeStream):
        super().__init__(ctx, department, name, stream)
        self.urgent = isinstance(stream, DoctorRequestStream)
        self.kind = "doctor_request" if self.urgent else stream.kind
        dist = stream.service if self.urgent else stream.duration
        self.durations = dist.sample(self.rng("service"), len(self.times))

    def come_in(self, i: int) -> None:
        self.ctx.new_task(self.kind, self.department, self.name, self.stream.audit_category,
                          self.urgent, float(self.durations[i]))
