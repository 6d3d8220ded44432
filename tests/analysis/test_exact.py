"""Correctly rounded sums fed chunk by chunk equal ``math.fsum`` of all the values."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.analysis.exact import ExactSum, expansion, fmean_values, fsum_values

finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300)
values = st.lists(st.one_of(finite, st.floats(-1e3, 1e3), st.floats(-1e-300, 1e-300)),
                  max_size=60)


@settings(max_examples=300, deadline=None)
@given(values=values, cuts=st.lists(st.integers(0, 60), max_size=8), data=st.data())
def test_exact_sum_of_chunks_is_fsum_of_the_whole(values, cuts, data):
    order = data.draw(st.permutations(range(len(values))))
    shuffled = [values[i] for i in order]
    bounds = sorted({0, len(shuffled), *[min(c, len(shuffled)) for c in cuts]})
    total = ExactSum()
    parts = []
    for a, b in zip(bounds, bounds[1:]):
        chunk = ExactSum(np.array(shuffled[a:b]))
        parts.append(chunk)
        total.add(shuffled[a:b])
    merged = ExactSum()
    for p in parts:
        merged.merge(p)
    expected = math.fsum(values)
    assert total.value == expected and merged.value == expected
    assert total.n == merged.n == len(values)
    assert len(total.parts) <= 40  # non-overlapping doubles: a handful unless exponents span far


def test_cancellation_that_plain_sums_lose():
    x = [1e100, 1.0, -1e100, 1e-3]
    assert sum(x) != math.fsum(x)
    s = ExactSum([1e100, 1.0])
    s.add([-1e100])
    s.add([1e-3])
    assert s.value == math.fsum(x) == 1.001


def test_nan_is_skipped_like_pandas():
    x = np.array([1.0, np.nan, 2.5])
    assert fsum_values(x) == 3.5 and fmean_values(x) == 1.75
    assert ExactSum(x).n == 2 and ExactSum(x).mean() == 1.75
    assert math.isnan(fmean_values([np.nan])) and fsum_values([]) == 0.0
    assert math.isnan(ExactSum().mean())


@given(st.lists(finite, max_size=30))
def test_expansion_sums_exactly_to_the_values(xs):
    r = expansion(xs)
    assert math.fsum(r) == math.fsum(xs)
    assert all(v != 0.0 for v in r)
