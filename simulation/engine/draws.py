"""Per-entity random draws, made up front: the same caller or task in every scenario.

Draws that used to come from shared streams in the order events happen (redials, later
patience, transfer handling, resumption costs, routing) are keyed by the entity instead:
a caller's by his arrival index and attempt number, a task's by its arrival index (or its
rank among its stream's tasks) and pause number. Two scenarios that differ only in
staffing then give each caller the same patience on every attempt (common random numbers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from simulation.scenario.schema import CallStream

# Resumption costs pre-drawn per task (its first pauses); later pauses draw from the
# secretary's own stream. 16 covers all but a handful of tasks in the bundled scenarios.
RESUMPTION_DRAWS = 16

Rng = Callable[..., np.random.Generator]  # purpose names -> the stream's generator


class Sampling(Protocol):
    """A distribution: ``size`` independent draws from a generator."""

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray: ...


def per_attempt(dist: Sampling | None, rng: Rng, purpose: str, attempts: int, n: int,
                default: float = np.inf) -> np.ndarray:
    """Shape (attempts, n): row a-1 holds every caller's draw for attempt a, each row from
    its own stream (so changing ``max_attempts`` keeps the other rows)."""
    if dist is None:
        return np.full((attempts, n), default)
    return np.stack([dist.sample(rng(purpose, a), n) for a in range(1, attempts + 1)])


class CallDraws:
    """Every draw a line's callers need, by caller (arrival index) and attempt.

    Attempt 1's patience is the line's per-arrival patience; row a-1 of the per-attempt
    tables is for attempt a: its patience, the redial decision and delay after it fails,
    the patience of its transfer leg, the first line's handling before the transfer, and
    the uniforms choosing who answers (when whoever's phone rings answers).
    """

    __slots__ = ("service", "transfer_u", "patience", "redial_u", "redial_delay",
                 "transfer_patience", "handling", "route_u", "transfer_route_u")

    def __init__(self, service, transfer_u, patience, redial_u, redial_delay,
                 transfer_patience, handling, route_u, transfer_route_u):
        self.service = np.asarray(service, dtype=float)
        self.transfer_u = np.asarray(transfer_u, dtype=float)
        self.patience = np.asarray(patience, dtype=float)
        self.redial_u = np.asarray(redial_u, dtype=float)
        self.redial_delay = np.asarray(redial_delay, dtype=float)
        self.transfer_patience = np.asarray(transfer_patience, dtype=float)
        self.handling = np.asarray(handling, dtype=float)
        self.route_u = np.asarray(route_u, dtype=float)
        self.transfer_route_u = np.asarray(transfer_route_u, dtype=float)

    @classmethod
    def draw(cls, stream: CallStream, rng: Rng, n: int) -> CallDraws:
        """The draws of ``n`` callers of ``stream`` from its named random streams."""
        attempts = stream.redial.max_attempts
        first = (stream.patience.sample(rng("patience"), n) if stream.patience is not None
                 else np.full(n, np.inf))
        later = per_attempt(stream.patience, rng, "patience", attempts, n)[1:]
        tr = stream.transfer
        uniforms = lambda purpose: per_attempt(_UNIFORM, rng, purpose, attempts, n)  # noqa: E731
        return cls(
            service=stream.service.sample(rng("service"), n),
            transfer_u=rng("transfer").random(n),
            patience=np.vstack([first[None, :], later]),
            redial_u=uniforms("redial"),
            redial_delay=per_attempt(stream.redial.delay, rng, "redial_delay", attempts, n),
            transfer_patience=per_attempt(stream.patience, rng, "transfer_patience",
                                          attempts, n),
            handling=per_attempt(tr.handling if tr is not None else None, rng,
                                 "transfer_handling", attempts, n, default=0.0),
            route_u=uniforms("route"),
            transfer_route_u=uniforms("transfer_route"),
        )


class _Uniform:
    """Uniform(0, 1) with the ``sample`` interface of a duration distribution."""

    @staticmethod
    def sample(rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.random(size)


_UNIFORM = _Uniform()


def resumption_rows(dist: Sampling, rng: np.random.Generator, n: int) -> np.ndarray:
    """Shape (n, RESUMPTION_DRAWS): task i's resumption costs for its first pauses."""
    return dist.sample(rng, n * RESUMPTION_DRAWS).reshape(n, RESUMPTION_DRAWS)


class ResumptionRows:
    """Rows of pre-drawn resumption costs handed out in creation order, for tasks created
    without their own (the k-th task of a stream and kind gets the k-th row)."""

    __slots__ = ("_dist", "_rng", "_rows", "_i")

    BLOCK = 64

    def __init__(self, dist: Sampling, rng: np.random.Generator):
        self._dist, self._rng = dist, rng
        self._rows = np.empty((0, RESUMPTION_DRAWS))
        self._i = 0

    def __call__(self) -> np.ndarray:
        if self._i >= len(self._rows):
            self._rows = resumption_rows(self._dist, self._rng, self.BLOCK)
            self._i = 0
        self._i += 1
        return self._rows[self._i - 1]
