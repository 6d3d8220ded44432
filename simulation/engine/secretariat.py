"""Routing of work to secretaries: the queues, who may take what, and preemption.

Urgent work goes to an idle eligible secretary (the one idle longest); if none, it
interrupts an eligible secretary doing deferrable work; if none, it waits in its queue.
Deferrable work goes to an idle eligible secretary or waits. Queues are ordered by rank
(policy priority) then age, so an item put back keeps its original place.
"""

from __future__ import annotations

import heapq
import math
from heapq import heappop
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


class WorkType:
    """One kind of work (its ``WorkKey``): its rank, its queue and who may do it.

    Items carry theirs (``WorkItem.work_type``), so handing them out, queueing them and
    finding a secretary's pace for them takes no key to build and hash.
    """

    __slots__ = ("key", "rank", "queue", "eligible")

    def __init__(self, key: WorkKey, rank: int, queue: list, eligible: list[Secretary]):
        self.key = key
        self.rank = rank
        self.queue = queue  # heap of (created, id, item), shared by work of equal rank and staff
        self.eligible = eligible


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
        self.types: dict[WorkKey, WorkType] = {}
        self._shared: dict[tuple, list] = {}
        # The policy's switches, read for every urgent item.
        self._preempt = policy.enabled
        self._idle_first = policy.idle_colleague_answers

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
        self.types[key] = WorkType(key, rank, queue, secretaries)

    def work_type(self, department: str, stream: str, kind: str, category: str) -> WorkType:
        """The declared type of work of this key."""
        return self.types[(department, stream, kind, category)]

    def type_of(self, item: WorkItem) -> WorkType:
        """The type of work of ``item`` (set on it the first time)."""
        work_type = item.work_type
        if work_type is None:  # an item made without its type: found once, by its key
            work_type = item.work_type = self.work_type(item.department, item.stream,
                                                        item.kind, item.category)
        return work_type

    # ------------------------------------------------------------------ arrivals
    def submit(self, item: WorkItem) -> bool:
        """Hand new work to a secretary or queue it; True if it started at once.

        Work goes to the eligible secretary idle longest; urgent work, failing her,
        interrupts deferrable work (``_interruptible``), unless whoever's phone rings
        answers (``idle_colleague_answers`` off: ``_ringing``).
        """
        work_type = item.work_type
        if work_type is None:  # found by its key the first time
            work_type = item.work_type = self.types[
                (item.department, item.stream, item.kind, item.category)]
        candidates = work_type.eligible
        urgent = item.urgent
        if urgent and not self._idle_first:
            target = self._ringing(candidates, item.route_u)
        else:
            target = None
            for sec in candidates:  # the one idle longest
                if sec.state == IDLE and (target is None or sec.idle_since < target.idle_since):
                    target = sec
            if target is None and urgent and self._preempt:
                target = self._interruptible(candidates)
        if target is not None:
            target.assign(item, self)
            return True
        item.status = WAITING
        heapq.heappush(work_type.queue, (item.created, item.id, item))
        return False

    def push(self, item: WorkItem) -> None:
        """Put an item in its queue at its place (rank, then age)."""
        item.status = WAITING
        heapq.heappush(self.type_of(item).queue, (item.created, item.id, item))

    @staticmethod
    def _interruptible(candidates: list[Secretary]) -> Secretary | None:
        """The secretary on deferrable work who started her stretch first, if any."""
        best = None
        for sec in candidates:
            if sec.state == DEFERRABLE and (best is None or sec.seg_start < best.seg_start):
                best = sec
        return best

    def _ringing(self, candidates: list[Secretary], u: float) -> Secretary | None:
        """Whoever's phone rings answers it, interrupting her work even if a colleague is
        idle: ``u`` picks among them."""
        preempt = self._preempt
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
    def take(lanes: list[tuple[int, list]], urgent_only: bool) -> WorkItem | None:
        """Oldest waiting item of the best rank among a secretary's queues, removed."""
        if urgent_only:
            lanes = [lane for lane in lanes if lane[0] < DEFERRABLE_RANK]
        return take_first(lanes)


def take_first(lanes: list[tuple[int, list]]) -> WorkItem | None:
    """Oldest waiting item of the best rank among ``lanes``, (rank, queue) pairs sorted by
    rank, removed: the first rank with waiting work, its oldest item across its queues.

    Queue entries are (created, id, item): ids are unique, so comparing entries compares
    (created, id) and never the items. Abandoned calls are dropped here, lazily.
    """
    best = best_q = None
    best_rank = 0
    for rank, q in lanes:
        if best_q is not None and rank != best_rank:
            break  # the queues of a worse rank are not looked at
        while q:
            head = q[0]
            if head[2].status == WAITING:
                if best is None or head < best:
                    best, best_q, best_rank = head, q, rank
                break
            heappop(q)
    return None if best_q is None else heappop(best_q)[2]
