"""Work items and the customer-side records they belong to (call attempts, visits, reports).

A ``WorkItem`` is a piece of secretary work; ``urgent`` items (calls, walk-ins, doctor
requests) may interrupt deferrable ones (typing, files) and are never interrupted.
Plain slotted classes: they are created by the hundred thousand.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

# Status values shared by items and records.
WAITING, IN_SERVICE, DONE, ABANDONED = "waiting", "in_service", "done", "abandoned"
_NAN, _INF = math.nan, math.inf  # not float("nan") per record: a string parsed each time


class WorkItem:
    """One task for a secretary; ``work`` is the nominal minutes still to do."""

    __slots__ = (
        "id", "kind", "department", "stream", "category", "urgent", "created", "work",
        "nominal", "resumption", "n_interruptions", "first_start", "finished", "status",
        "rank", "on_start", "on_done", "ref", "secretary", "pending_resume", "resume_left",
        "pauses", "resume_costs", "route_u", "remaining_at_horizon", "key", "worked",
        "work_type",
    )

    def __init__(self, id: int, kind: str, department: str, stream: str, category: str,
                 urgent: bool, created: float, work: float, rank: int,
                 on_done: Callable[[WorkItem, float], None] | None = None, ref: object = None,
                 on_start: Callable[[WorkItem, object], None] | None = None,
                 resume_costs: Sequence[float] | None = None, route_u: float = math.nan,
                 key: str = "", work_type: object = None):
        self.id = id
        self.key = key  # the same task in every scenario: 'department:stream:index[:role]'
        self.worked = 0.0  # minutes worked on it, penalties and resumption included
        self.kind = kind
        self.department = department
        self.stream = stream
        self.category = category
        self.urgent = urgent
        self.created = created
        self.work = work
        self.nominal = work
        self.resumption = 0.0
        self.n_interruptions = 0
        self.first_start = _NAN
        self.finished = _NAN
        self.status = WAITING
        self.rank = rank
        self.on_start = on_start
        self.on_done = on_done
        self.ref = ref
        self.secretary = ""
        # Pauses (interrupted, or put back at the end of an on-duty period): each one owes
        # a resumption cost, the k-th drawn as resume_costs[k-1] (pre-drawn for this task).
        self.pending_resume = False
        self.resume_left = 0.0  # minutes of resumption cost still to pay (not penalised)
        self.pauses = 0
        self.resume_costs = resume_costs
        self.route_u = route_u  # uniform choosing among secretaries whose phone rings
        self.remaining_at_horizon = _NAN  # set for work still open at the horizon
        # Its ``secretariat.WorkType`` (queue, who may do it), found by its key if not given.
        self.work_type = work_type

    def sort_key(self) -> tuple[float, int]:
        """Oldest first; ties by creation order (ids are increasing)."""
        return (self.created, self.id)


class CallAttempt:
    """One attempt by a caller to reach a line (a redial is a new attempt)."""

    __slots__ = (
        "id", "caller", "attempt", "leg", "department", "stream", "category", "arrival",
        "outcome", "answered", "ended", "secretary", "service", "patience", "transfer_u",
        "queued", "transferred", "redial_at", "draws", "index", "worked",
    )

    def __init__(self, id, caller, attempt, leg, department, stream, category, arrival,
                 service, patience, transfer_u, draws, index):
        self.id = id
        self.caller = caller
        self.attempt = attempt
        self.leg = leg
        self.department = department
        self.stream = stream
        self.category = category
        self.arrival = arrival
        self.outcome = WAITING
        self.answered = _NAN
        self.ended = _NAN
        self.secretary = ""
        self.service = service
        self.patience = patience
        self.transfer_u = transfer_u
        self.queued = False
        self.transferred = False
        self.redial_at = _NAN  # when the caller will call again, if he will
        self.draws = draws  # the caller's draws for every attempt (engine.draws.CallDraws)
        self.index = index  # ... at this index
        self.worked = 0.0  # minutes the secretary spent on it (specialty penalty included)


class Visit:
    """A patient coming to the desk."""

    __slots__ = ("id", "department", "stream", "category", "arrival", "outcome", "started",
                 "ended", "secretary", "patience", "index", "worked")

    def __init__(self, id, department, stream, category, arrival, index=-1):
        self.id = id
        self.index = index  # rank of the visit in its stream (the same in every scenario)
        self.worked = 0.0
        self.department = department
        self.stream = stream
        self.category = category
        self.arrival = arrival
        self.outcome = WAITING
        self.started = _NAN
        self.ended = _NAN
        self.secretary = ""
        self.patience = _INF


class Report:
    """A dictated report on its way: dictated -> typed -> validated -> sent."""

    __slots__ = ("id", "department", "stream", "mode", "dictated", "typing_started", "typed",
                 "validated", "sent", "target_days", "sittings_left", "doctor", "doctor_minutes",
                 "reworks", "status_at_horizon", "in_rework", "index")

    def __init__(self, id, department, stream, mode, dictated, target_days, doctor="", index=-1):
        self.id = id
        self.index = index  # rank of the dictation in its stream (the same in every scenario)
        self.department = department
        self.stream = stream
        self.mode = mode
        self.dictated = dictated
        self.typing_started = _NAN  # first typing sitting started
        self.typed = _NAN  # last typing sitting ended (first pass; rework not counted)
        self.validated = _NAN  # final signature
        self.sent = _NAN
        self.target_days = target_days
        self.sittings_left = 0
        self.doctor = doctor  # who dictated it (and signs it); '' when doctors are not modelled
        self.doctor_minutes = 0.0
        self.reworks = 0
        self.status_at_horizon = ""  # stage at the end of the measured window
        self.in_rework = False  # back at the secretary for corrections after a sign-off
