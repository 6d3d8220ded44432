"""Arrival streams that hit the secretaries: phone lines, desks, doctors' and back-office work.

Each stream draws its arrival times and per-arrival durations up front from its own named
random streams, and so do its callers' draws for later attempts (``engine.draws``): common
random numbers across scenarios. A short SimPy process releases the arrivals one by one.
"""

from __future__ import annotations

import numpy as np

from simulation.engine.arrivals import profile_arrivals
from simulation.engine.context import Context, ScheduledArrivals
from simulation.engine.draws import CallDraws, resumption_rows
from simulation.engine.work import ABANDONED, WAITING, CallAttempt, Visit, WorkItem
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
        self.rng = lambda *purpose: ctx.streams.get(department, name, *purpose)
        self.times = profile_arrivals(stream.arrivals, ctx.calendar, self.rng("arrivals"))
        online: OnlineBooking | None = getattr(stream, "online", None)
        self.online = (online if online is not None
                       and online.share + online.averted_share > 0 else None)
        n = len(self.times)
        self.online_u = self.rng("online").random(n)
        if self.online is not None:
            self.online_check = self.online.check.sample(self.rng("online_check"), n)
            self.online_resume = resumption_rows(ctx.policy.resumption_cost,
                                                 self.rng("online_check_resumption"), n)

    def arrive(self, i: int) -> None:
        """Online booking first: one uniform per arrival, below ``share`` it books online (a
        check task), in the next ``averted_share`` it no longer happens, else it comes in."""
        u, online = self.online_u[i], self.online
        if online is not None and u < online.share + online.averted_share:
            if u < online.share:
                self.ctx.new_task("online_check", self.department, self.name,
                                  online.check_category, False, float(self.online_check[i]),
                                  resume_costs=self.online_resume[i],
                                  key=f"{self.department}:{self.name}:{i}:online_check")
            return
        self.come_in(i)

    def come_in(self, i: int) -> None:
        """Arrival ``i`` reaches the line, the desk or the secretariat."""
        raise NotImplementedError


class CallLine(_Source):
    """A department's phone line for one call stream: patience, redials, transfers."""

    def __init__(self, ctx: Context, department: str, name: str, stream: CallStream):
        super().__init__(ctx, department, name, stream)
        self.draws = CallDraws.draw(stream, self.rng, len(self.times))
        tr = stream.transfer
        self.transfer = tr if tr is not None and tr.share > 0 else None
        self.waiting = 0
        self.waiting_items: dict[int, WorkItem] = {}
        self.area = 0.0
        self._last = 0.0

    def come_in(self, i: int) -> None:
        self.offer(self.draws, i, self.ctx.next_id(), 1, "first")

    def offer(self, draws: CallDraws, i: int, caller: int, attempt: int, leg: str) -> None:
        """Caller ``i`` of ``draws`` dials: closed line, picked up at once, or waits until
        his patience for this attempt (and leg) runs out."""
        ctx = self.ctx
        now = ctx.env.now
        first = leg == "first"
        patience = float((draws.patience if first else draws.transfer_patience)[attempt - 1, i])
        call = CallAttempt(ctx.next_id(), caller, attempt, leg, self.department, self.name,
                           self.stream.audit_category, now, float(draws.service[i]), patience,
                           float(draws.transfer_u[i]), draws, i)
        ctx.recorder.calls.append(call)
        if not ctx.hours.is_open(now):
            call.outcome, call.ended = "closed", now
            self._maybe_redial(call)
            return
        kind = "call" if first else "transferred_call"
        route_u = (draws.route_u if first else draws.transfer_route_u)[attempt - 1, i]
        item = WorkItem(call.id, kind, self.department, self.name, call.category, True, now,
                        call.service, ctx.rank(kind, True), on_done=self._done, ref=call,
                        on_start=self._start, route_u=float(route_u))
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
            item.work = float(call.draws.handling[call.attempt - 1, call.index])

    def _done(self, item: WorkItem, now: float) -> None:
        call: CallAttempt = item.ref
        call.ended = now
        if call.transferred:
            self.offer(call.draws, call.index, call.caller, call.attempt, "transfer")

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
        """After a failed attempt the caller may call again: his own decision and delay for
        that attempt; the redial is recorded on the attempt (``redial_at``)."""
        redial = self.stream.redial
        if call.attempt >= redial.max_attempts or redial.probability <= 0:
            return
        a, i, draws = call.attempt - 1, call.index, call.draws
        if draws.redial_u[a, i] >= redial.probability:
            return
        delay = float(draws.redial_delay[a, i])
        call.redial_at = self.ctx.env.now + delay
        self.ctx.env.timeout(delay).callbacks.append(
            lambda _ev: self.offer(draws, i, call.caller, call.attempt + 1, "first"))

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
        self.route_u = self.rng("route").random(n)
        self.waiting_items: dict[int, WorkItem] = {}

    def come_in(self, i: int) -> None:
        ctx = self.ctx
        now = ctx.env.now
        visit = Visit(ctx.next_id(), self.department, self.name, self.stream.audit_category, now,
                      i)
        visit.patience = float(self.patience[i])
        ctx.recorder.visits.append(visit)
        if not ctx.hours.is_open(now):
            visit.outcome, visit.ended = "closed", now
            return
        item = WorkItem(visit.id, "walk_in", self.department, self.name, visit.category, True,
                        now, float(self.service[i]), ctx.rank("walk_in", True),
                        on_done=self._done, ref=visit, on_start=self._start,
                        route_u=float(self.route_u[i]))
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
        n = len(self.times)
        self.durations = dist.sample(self.rng("service"), n)
        # Urgent requests: who answers (if it is whoever's phone rings); deferrable work:
        # its resumption costs.
        self.route_u = self.rng("route").random(n) if self.urgent else None
        self.resume = (None if self.urgent else
                       resumption_rows(ctx.policy.resumption_cost, self.rng("resumption_cost"), n))

    def come_in(self, i: int) -> None:
        ctx, urgent = self.ctx, self.urgent
        ctx.new_task(self.kind, self.department, self.name, self.stream.audit_category, urgent,
                     float(self.durations[i]),
                     route_u=float(self.route_u[i]) if urgent else np.nan,
                     resume_costs=None if urgent else self.resume[i],
                     key=f"{self.department}:{self.name}:{i}")
