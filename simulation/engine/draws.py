"""Per-entity random draws: the same caller or task in every scenario.

Draws that used to come from shared streams in the order events happen (redials, later
patience, transfer handling, resumption costs, routing) are keyed by the entity instead:
a caller's by his arrival index and attempt number, a task's by its arrival index (or its
rank among its stream's tasks) and pause number. Two scenarios that differ only in
staffing then give each caller the same patience on every attempt (common random numbers).

The draws are made lazily, ``BLOCK`` entities at a time as they arrive, from the same
generators: numpy's ``Generator`` methods consume the bit stream sequentially, so blocks
drawn one after the other are the very numbers of one draw for the whole horizon
(``tests/engine/test_draws.py`` checks it for every distribution), and memory does not grow
with the horizon.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from simulation.scenario.schema import CallStream

# Resumption costs pre-drawn per task (its first pauses); later pauses draw from the
# secretary's own stream. 16 covers all but a handful of tasks in the bundled scenarios.
RESUMPTION_DRAWS = 16
# Entities whose draws are made at a time (any size gives the same numbers).
BLOCK = 256

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
                 "transfer_patience", "handling", "route_u", "transfer_route_u", "offset")

    def __init__(self, service, transfer_u, patience, redial_u, redial_delay,
                 transfer_patience, handling, route_u, transfer_route_u, offset: int = 0):
        self.offset = offset  # the callers are [offset, offset + len(service))
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
        """The draws of ``n`` callers of ``stream`` from its named random streams, all at
        once (the reference that ``CallerBlocks`` reproduces block by block)."""
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


class CallerBlocks:
    """A line's callers' draws, made ``block`` callers at a time as they arrive.

    ``at(i)`` is the ``CallDraws`` of the block holding caller ``i`` (Python lists, indexed
    by ``i - offset``; per-attempt tables are lists of rows). Callers arrive in index order,
    so only the current block is kept here; a caller's attempts keep a reference to their
    block until his last attempt ends. Every purpose (and attempt) draws from its own
    generator, kept from block to block, so the numbers are those of ``CallDraws.draw``.
    Rows that can never be read (redials when a caller never redials, transfer legs
    without transfers) are not drawn; their generators are used by nothing else.
    """

    __slots__ = ("current", "_block", "_next", "_plan")

    def __init__(self, stream: CallStream, rng: Rng, block: int = BLOCK):
        attempts = stream.redial.max_attempts
        redials = attempts > 1 and stream.redial.probability > 0
        tr = stream.transfer
        transfers = tr is not None and tr.share > 0
        later = range(2, attempts + 1) if redials else range(0)
        legs = range(1, attempts + 1) if transfers else range(0)
        dials = range(1, attempts) if redials else range(0)  # attempts that may be redialled

        def one(dist: Sampling | None, *names, default: float = np.inf):
            if dist is None:
                return lambda size: [default] * size
            gen = rng(*names)
            return lambda size: dist.sample(gen, size).tolist()

        def rows(dist, purpose, which, first=None, default=np.inf):
            # Row a-1 for attempt a: drawn for the attempts in ``which``, else None.
            samplers = {a: one(dist, purpose, a, default=default) for a in which}
            if first is not None:
                samplers[1] = first
            return [samplers.get(a) for a in range(1, attempts + 1)]

        # (slot, samplers): one sampler for per-caller values, a list of row samplers for
        # per-attempt ones.
        self._plan = [
            ("service", one(stream.service, "service")),
            ("transfer_u", one(_UNIFORM, "transfer")),
            ("patience", rows(stream.patience, "patience", later,
                              first=one(stream.patience, "patience"))),
            ("redial_u", rows(_UNIFORM, "redial", dials)),
            ("redial_delay", rows(stream.redial.delay, "redial_delay", dials)),
            ("transfer_patience", rows(stream.patience, "transfer_patience", legs)),
            ("handling", rows(tr.handling if transfers else None, "transfer_handling", legs,
                              default=0.0)),
            ("route_u", rows(_UNIFORM, "route", later, first=one(_UNIFORM, "route", 1))),
            ("transfer_route_u", rows(_UNIFORM, "transfer_route", legs)),
        ]
        self._block = block
        self._next = 0  # first caller of the next block
        self.current: CallDraws | None = None

    def at(self, i: int) -> CallDraws:
        """The draws of the block holding caller ``i`` (callers come in index order)."""
        while self._next <= i:
            self.current = self._draw()
        return self.current

    def _draw(self) -> CallDraws:
        size, draws = self._block, CallDraws.__new__(CallDraws)
        for slot, sampler in self._plan:
            if isinstance(sampler, list):
                setattr(draws, slot, [None if row is None else row(size) for row in sampler])
            else:
                setattr(draws, slot, sampler(size))
        draws.offset = self._next
        self._next += size
        return draws


class ArrivalDraws:
    """One value per arrival of a stream, drawn ``block`` arrivals at a time and read in
    arrival order (``draws[i]`` for non-decreasing ``i``): the numbers of one draw for
    the whole horizon, with only the current block in memory.

    ``sample(size)`` returns the next ``size`` values: a list, or an array whose rows are
    the values (resumption rows: each task keeps a view of its row).
    """

    __slots__ = ("_sample", "_block", "_values", "_start", "_next")

    def __init__(self, sample: Callable[[int], object], block: int = BLOCK):
        self._sample, self._block = sample, block
        self._values: object = []
        self._start = self._next = 0

    @classmethod
    def of(cls, dist: Sampling, rng: np.random.Generator, block: int = BLOCK) -> ArrivalDraws:
        """Draws of ``dist`` from ``rng``, as Python floats."""
        return cls(lambda size: dist.sample(rng, size).tolist(), block)

    @classmethod
    def uniforms(cls, rng: np.random.Generator, block: int = BLOCK) -> ArrivalDraws:
        """Uniform(0, 1) draws from ``rng``, as Python floats."""
        return cls(lambda size: rng.random(size).tolist(), block)

    @classmethod
    def resumption(cls, dist: Sampling, rng: np.random.Generator,
                   block: int = BLOCK) -> ArrivalDraws:
        """Each arrival's row of RESUMPTION_DRAWS resumption costs (``resumption_rows``)."""
        return cls(lambda size: resumption_rows(dist, rng, size), block)

    def __getitem__(self, i: int):
        if i >= self._next:
            self._advance(i)
        return self._values[i - self._start]

    def _advance(self, i: int) -> None:
        """Draw blocks until the current one holds arrival ``i``."""
        while self._next <= i:
            self._start = self._next
            self._values = self._sample(self._block)
            self._next += self._block


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
