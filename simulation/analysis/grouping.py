"""Rows of an event table split by department, for KPIs computed for every department in
one pass over the rows.

The KPI pieces of ``analysis.kpis`` are counts, correctly rounded sums and kept values per
department. Filtering a table once per department costs a pass over the rows per
department, which made a group of 80 secretariats quadratic; ``ByDepartment`` gives each
row its department's number once, and every count, sum and value list per department is
then one vectorised step (``np.bincount``, a stable sort and a split).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from simulation.analysis.exact import ExactSum


class ByDepartment:
    """Which department each row of a table belongs to, as numbers 0..n-1.

    Rows of a department not among the ``n`` asked for are counted nowhere (they are put in
    an extra group that is never returned).
    """

    __slots__ = ("codes", "n")

    def __init__(self, codes: np.ndarray, n: int):
        self.codes = codes
        self.n = n

    @classmethod
    def of(cls, department: pd.Series, index: dict[str, int]) -> ByDepartment:
        """Rows grouped by their ``department`` column, numbered as in ``index``."""
        local, labels = pd.factorize(department)
        n = len(index)
        lut = np.array([index.get(label, n) for label in labels.tolist()] + [n], dtype=np.intp)
        return cls(lut[local], n)  # a missing department (code -1) takes the extra group

    @classmethod
    def whole(cls, rows: int) -> ByDepartment:
        """Every row in one group (the ALL row, or a table of one department)."""
        return cls(np.zeros(rows, dtype=np.intp), 1)

    def count(self, mask: ArrayLike) -> list[int]:
        """Rows where ``mask`` holds, per department."""
        codes = self.codes[np.asarray(mask, dtype=bool)]
        return np.bincount(codes, minlength=self.n + 1)[: self.n].tolist()

    def values(self, values: ArrayLike, mask: ArrayLike | None = None) -> list[np.ndarray]:
        """The ``values`` of the rows where ``mask`` holds, per department, in row order."""
        v = np.asarray(values, dtype=float)
        codes = self.codes
        if mask is not None:
            keep = np.asarray(mask, dtype=bool)
            v, codes = v[keep], codes[keep]
        order = np.argsort(codes, kind="stable")
        counts = np.bincount(codes, minlength=self.n + 1)
        return np.split(v[order], np.cumsum(counts)[:-1])[: self.n]

    def sums(self, values: ArrayLike, mask: ArrayLike | None = None) -> list[ExactSum]:
        """Correctly rounded sums of ``values`` where ``mask`` holds, per department."""
        return [ExactSum(x) for x in self.values(values, mask)]
