"""Routing of work to secretaries: the queues, who may take what, and preemption.

Urgent work goes to an idle eligible secretary (the one idle longest); if none, it
interrupts an eligible secretary doing deferrable work; if none, it waits in its queue.
Deferrable work goes to an idle eligible secretary or waits. Queues are ordered by rank
(policy priority) then age, so an item put back keeps its original place.
"""

from __future__ import annotations

import heapq
import math
from typing import Protocol

import numpy as np

from simulation.engine.work import WAITING, WorkItem
from simulation.scenario.schema import InterruptionPolicy

OFF, IDLE, URGENT, DEFERRABLE = "off", "idle", "urgent", "deferrable"
DEFERRABLE_RANK = 100  # ranks below this are urgent


def rank_of(kind: str, urgent: bool, policy: InterruptionPolicy) -> int:
    """Position of a kind in the service order (lower = taken first)."""
    if urgent:
        return policy.urgent_order.index(kind)
    first = policy.deferrable_first
    return DEFERRABLE_RANK + (first.index(kind) if kind in first else len(first))


WorkKey = tuple[str, str, str, str]  # (department, stream, kind, audit category)


class Secretary(Protocol):
    """What routing needs of a secretary (``engine.secretary.Secretary`` provides it)."""

    state: str
    idle_since: float
    seg_start: float

    def add_queue(self, rank: int, queue: list) -> None: ...

    def assign(self, item: WorkItem, secretariat: Secretariat) -> None: ...


class Secretariat:
    """The waiting work of every department and the rules that hand it out."""

    def __init__(self, policy: InterruptionPolicy, routing_rng: np.random.Generator):
        self.policy = policy
        self.rng = routing_rng
        self.queues: dict[WorkKey, list] = {}
        self.eligible: dict[WorkKey, list[Secretary]] = {}
        self._shared: dict[tuple, list] = {}

    def add_work_key(self, key: WorkKey, secretaries: list[Secretary], rank: int) -> None:
        """Declare a kind of work, who may do it, and its rank.

        Work with the same rank and the same eligible secretaries shares one queue (its
        order is age either way), which keeps the number of queues scanned small.
        """
        group = (rank, tuple(id(s) for s in secretaries))
        queue = self._shared.get(group)
        if queue is None:
            queue = self._shared[group] = []
            for sec in secretaries:
                sec.add_queue(rank, queue)
        self.queues[key] = queue
        self.eligible[key] = secretaries

    # ------------------------------------------------------------------ arrivals
    def submit(self, item: WorkItem) -> bool:
        """Hand new work to a secretary or queue it; True if it started at once."""
        key = (item.department, item.stream, item.kind, item.category)
        candidates = self.eligible[key]
        if item.urgent:
            target = self._urgent_target(candidates, item.route_u)
        else:
            target = None
            for sec in candidates:  # the one idle longest (_longest_idle, inlined)
                if sec.state == IDLE and (target is None or sec.idle_since < target.idle_since):
                    target = sec
        if target is not None:
            target.assign(item, self)
            return True
        item.status = WAITING
        heapq.heappush(self.queues[key], (item.created, item.id, item))
        return False

    def push(self, item: WorkItem) -> None:
        """Put an item in its queue at its place (rank, then age)."""
        item.status = WAITING
        heapq.heappush(self.queues[(item.department, item.stream, item.kind, item.category)],
                       (item.created, item.id, item))

    def _longest_idle(self, candidates: list[Secretary]) -> Secretary | None:
        best = None
        for sec in candidates:
            if sec.state == IDLE and (best is None or sec.idle_since < best.idle_since):
                best = sec
        return best

    def _urgent_target(self, candidates: list[Secretary], u: float) -> Secretary | None:
        """Who takes urgent work; ``u``, the item's own uniform, picks among the secretaries
        whose phone rings (the routing stream stands in for items without one)."""
        preempt = self.policy.enabled
        if self.policy.idle_colleague_answers:
            best = self._longest_idle(candidates)
            if best is not None or not preempt:
                return best
            for sec in candidates:
                if sec.state == DEFERRABLE and (best is None or sec.seg_start < best.seg_start):
                    best = sec
            return best
        # Whoever's phone rings answers it, interrupting her work even if a colleague is idle.
        free = [s for s in candidates if s.state == IDLE or (preempt and s.state == DEFERRABLE)]
        if not free:
            return None
        if len(free) == 1:
            return free[0]
        if math.isnan(u):
            u = self.rng.random()
        return free[min(int(u * len(free)), len(free) - 1)]

    # ------------------------------------------------------------------ pulling
    @staticmethod
    def take(groups: list[tuple[int, list[list]]], urgent_only: bool) -> WorkItem | None:
        """Oldest waiting item of the best rank among a secretary's queues, removed."""
        if urgent_only:
            groups = [g for g in groups if g[0] < DEFERRABLE_RANK]
        return take_first(groups)


def take_first(groups: list[tuple[int, list[list]]]) -> WorkItem | None:
    """Oldest waiting item of the best rank among ``groups`` (sorted by rank), removed.

    Queue entries are (created, id, item): ids are unique, so comparing entries compares
    (created, id) and never the items. Abandoned calls are dropped here, lazily.
    """
    heappop = heapq.heappop
    for _rank, queues in groups:
        best_q = None
        best = None
        for q in queues:
            while q:
                head = q[0]
                if head[2].status == WAITING:
                    if best is None or head < best:
                        best, best_q = head, q
                    break
                heappop(q)
        if best_q is not None:
            return heappop(best_q)[2]
    return None
