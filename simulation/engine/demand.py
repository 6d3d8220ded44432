"""Arrival streams that hit the secretaries: phone lines, desks, doctors' and back-office work.

Each stream draws its arrival times up front, and its per-arrival durations and its callers'
draws for every attempt block by block as they arrive (``engine.draws``), each from its own
named random stream: common random numbers across scenarios. A chain of SimPy events
releases the arrivals one by one.
"""

from __future__ import annotations

import math

from simpy.events import NORMAL

from simulation.engine.arrivals import profile_arrivals
from simulation.engine.context import Callback, Context, ScheduledArrivals
from simulation.engine.draws import ArrivalDraws, CallDraws, CallerBlocks
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
        self.category = stream.audit_category
        self.rng = lambda *purpose: ctx.streams.get(department, name, *purpose)
        self.times = profile_arrivals(stream.arrivals, ctx.calendar, self.rng("arrivals"))
        online: OnlineBooking | None = getattr(stream, "online", None)
        self.online = (online if online is not None
                       and online.share + online.averted_share > 0 else None)
        if self.online is not None:
            self.online_u = ArrivalDraws.uniforms(self.rng("online"))
            self.online_check = ArrivalDraws.of(self.online.check, self.rng("online_check"))
            self.online_resume = ArrivalDraws.resumption(
                ctx.policy.resumption_cost, self.rng("online_check_resumption"))
        else:
            self.arrive = self.come_in  # no online booking: arrivals come straight in

    def arrive(self, i: int) -> None:
        """Online booking first: one uniform per arrival, below ``share`` it books online (a
        check task), in the next ``averted_share`` it no longer happens, else it comes in."""
        online = self.online
        if online is not None:
            u = self.online_u[i]
            if u < online.share + online.averted_share:
                if u < online.share:
                    self.ctx.new_task("online_check", self.department, self.name,
                                      online.check_category, False, self.online_check[i],
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
        self.callers = CallerBlocks(stream, self.rng)
        tr = stream.transfer
        self.transfer = tr if tr is not None and tr.share > 0 else None
        self.waiting = 0
        self.waiting_items: dict[int, WorkItem] = {}
        self.area = 0.0
        self._last = 0.0
        self._ranks = (ctx.rank("call", True), ctx.rank("transferred_call", True))
        self._on_start, self._on_done = self._start, self._done  # bound once

    def come_in(self, i: int) -> None:
        self.offer(self.callers.at(i), i, self.ctx.next_id(), 1, "first")

    def offer(self, draws: CallDraws, i: int, caller: int, attempt: int, leg: str) -> None:
        """Caller ``i`` of ``draws`` dials: closed line, picked up at once, or waits until
        his patience for this attempt (and leg) runs out."""
        ctx = self.ctx
        now = ctx.env.now
        j, a = i - draws.offset, attempt - 1
        if leg == "first":
            patience = draws.patience[a][j]
        else:
            patience = draws.transfer_patience[a][j]
        call = CallAttempt(ctx.next_id(), caller, attempt, leg, self.department, self.name,
                           self.category, now, draws.service[j], patience,
                           draws.transfer_u[j], draws, i)
        ctx.recorder.calls.append(call)
        if not ctx.hours.is_open(now):
            call.outcome, call.ended = "closed", now
            self._maybe_redial(call)
            return
        if leg == "first":
            kind, rank, route_u = "call", self._ranks[0], draws.route_u[a][j]
        else:
            kind, rank, route_u = "transferred_call", self._ranks[1], draws.transfer_route_u[a][j]
        item = WorkItem(call.id, kind, self.department, self.name, call.category, True, now,
                        call.service, rank, on_done=self._on_done, ref=call,
                        on_start=self._on_start, route_u=route_u)
        if not ctx.secretariat.submit(item):
            call.queued = True
            self.waiting_items[item.id] = item
            self._queue_change(+1)
            if patience < math.inf:
                ctx.env.schedule(Callback(lambda _ev: self._hang_up(item)), NORMAL, patience)

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
            draws = call.draws
            item.work = draws.handling[call.attempt - 1][call.index - draws.offset]

    def _done(self, item: WorkItem, now: float) -> None:
        call: CallAttempt = item.ref
        call.ended = now
        if call.transferred:
            self.offer(call.draws, call.index, call.caller, call.attempt, "transfer")
        call.draws = None  # this attempt is over: its caller's block may go

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
        draws, call.draws = call.draws, None  # this attempt is over: its block may go
        if call.attempt >= redial.max_attempts or redial.probability <= 0:
            return
        a, i = call.attempt - 1, call.index
        j = i - draws.offset
        if draws.redial_u[a][j] >= redial.probability:
            return
        delay = draws.redial_delay[a][j]
        env = self.ctx.env
        call.redial_at = env.now + delay
        env.schedule(Callback(lambda _ev: self.offer(draws, i, call.caller, call.attempt + 1,
                                                     "first")), NORMAL, delay)

    def close_books(self, now: float) -> None:
        """Record the line's queue area up to the end of the horizon."""
        self._queue_change(0)
        self.ctx.recorder.lines.append((self.department, self.name, "call", self.area, now))


class Desk(_Source):
    """A department's reception desk for one walk-in stream."""

    def __init__(self, ctx: Context, department: str, name: str, stream: WalkInStream):
        super().__init__(ctx, department, name, stream)
        self.service = ArrivalDraws.of(stream.service, self.rng("service"))
        self.patience = (ArrivalDraws.of(stream.patience, self.rng("patience"))
                         if stream.patience is not None else None)
        self.route_u = ArrivalDraws.uniforms(self.rng("route"))
        self.waiting_items: dict[int, WorkItem] = {}
        self._rank = ctx.rank("walk_in", True)
        self._on_start, self._on_done = self._start, self._done  # bound once

    def come_in(self, i: int) -> None:
        ctx = self.ctx
        now = ctx.env.now
        visit = Visit(ctx.next_id(), self.department, self.name, self.category, now, i)
        visit.patience = self.patience[i] if self.patience is not None else math.inf
        ctx.recorder.visits.append(visit)
        service, route_u = self.service[i], self.route_u[i]
        if not ctx.hours.is_open(now):
            visit.outcome, visit.ended = "closed", now
            return
        item = WorkItem(visit.id, "walk_in", self.department, self.name, visit.category, True,
                        now, service, self._rank, on_done=self._on_done, ref=visit,
                        on_start=self._on_start, route_u=route_u)
        if not ctx.secretariat.submit(item):
            self.waiting_items[item.id] = item
            if visit.patience < math.inf:
                ctx.env.schedule(Callback(lambda _ev: self._leave(item)), NORMAL,
                                 visit.patience)

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
        self.durations = ArrivalDraws.of(dist, self.rng("service"))
        # Urgent requests: who answers (if it is whoever's phone rings); deferrable work:
        # its resumption costs.
        self.route_u = ArrivalDraws.uniforms(self.rng("route")) if self.urgent else None
        self.resume = (None if self.urgent else ArrivalDraws.resumption(
            ctx.policy.resumption_cost, self.rng("resumption_cost")))

    def come_in(self, i: int) -> None:
        urgent = self.urgent
        self.ctx.new_task(self.kind, self.department, self.name, self.category, urgent,
                          self.durations[i],
                          route_u=self.route_u[i] if urgent else math.nan,
                          resume_costs=None if urgent else self.resume[i],
                          key=f"{self.department}:{self.name}:{i}")
