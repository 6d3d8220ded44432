"""Correctly rounded sums that do not depend on how the values were split or ordered.

A KPI summed over a whole table and the same KPI summed chunk by chunk (``analysis.streaming``)
must agree to the last bit. Floating-point addition is not associative, so both use
correctly rounded sums (``math.fsum``): ``fsum_values`` for a column, ``ExactSum`` for a sum
fed chunk by chunk. ``ExactSum`` keeps the exact running total as a few doubles (an
expansion: their exact sum is the exact sum of every value added), so its ``value`` is
``math.fsum`` of all the values, whatever the chunks.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np


def finite_values(values) -> np.ndarray:
    """The values as a float array, NaN left out (as pandas ``.sum()`` and ``.mean()`` do)."""
    x = np.asarray(values, dtype=float).ravel()
    return x[~np.isnan(x)]


def fsum_values(values) -> float:
    """Correctly rounded sum of the values, NaN skipped (0.0 when there are none)."""
    return math.fsum(finite_values(values).tolist())


def fmean_values(values) -> float:
    """Correctly rounded sum over the count of the values, NaN skipped (NaN when none)."""
    x = finite_values(values)
    return math.fsum(x.tolist()) / len(x) if len(x) else float("nan")


def expansion(values: list[float]) -> list[float]:
    """Doubles whose exact sum is the exact sum of ``values``: r1 = fsum(x), r2 = fsum(x, -r1),
    ... until a residual is 0 (each r is the correctly rounded remaining residual)."""
    out: list[float] = []
    work = list(values)
    while True:
        r = math.fsum(work)
        if r == 0.0:
            return out
        out.append(r)
        if not math.isfinite(r):  # an infinite sum has no residual worth keeping
            return out
        work.append(-r)


class ExactSum:
    """A sum fed chunk by chunk: ``value`` equals ``math.fsum`` of every value added.

    ``n`` counts the values added (NaN skipped), for means.
    """

    __slots__ = ("parts", "n")

    def __init__(self, values: Iterable[float] | np.ndarray = ()):
        self.parts: list[float] = []
        self.n = 0
        self.add(values)

    def add(self, values) -> ExactSum:
        """Add a chunk of values (NaN skipped)."""
        x = finite_values(values)
        if len(x):
            self.n += len(x)
            self.parts = expansion(self.parts + expansion(x.tolist()))
        return self

    def merge(self, other: ExactSum) -> ExactSum:
        """Add another sum's values."""
        self.n += other.n
        self.parts = expansion(self.parts + other.parts)
        return self

    @property
    def value(self) -> float:
        return math.fsum(self.parts)

    def mean(self) -> float:
        return self.value / self.n if self.n else float("nan")

    def __repr__(self) -> str:
        return f"ExactSum({self.value!r}, n={self.n})"
