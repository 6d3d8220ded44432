"""The queueing oracles in ``simulation.analysis.theory`` checked against independent computations.

These are exact (deterministic) checks: the simulator's statistical tests rely on them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulation.analysis.theory import (
    erlang_a,
    erlang_c_wait_probability,
    nonpreemptive_priority_response,
    preemptive_priority_response,
)

# (lambda, mu, theta, c) per minute: light, moderate, heavy and overloaded set-ups.
CASES = [
    (0.25, 1 / 3, 0.5, 1),
    (0.9, 1.0, 0.05, 1),
    (1.5, 1 / 3, 1 / 1.5, 5),
    (3.0, 1 / 3, 0.5, 8),  # offered load 9 Erlangs on 8 secretaries: only patience saves it
    (12.0, 1.0, 2.0, 10),
]


def birth_death_generator(lam: float, mu: float, theta: float, c: int, n_max: int) -> np.ndarray:
    """Generator matrix of the M/M/c+M queue truncated at ``n_max`` callers."""
    q = np.zeros((n_max + 1, n_max + 1))
    for n in range(n_max + 1):
        if n < n_max:
            q[n, n + 1] = lam
        if n > 0:
            q[n, n - 1] = min(n, c) * mu + max(n - c, 0) * theta
        q[n, n] = -q[n].sum()
    return q


def stationary(q: np.ndarray) -> np.ndarray:
    """Solve pi Q = 0, sum(pi) = 1 by replacing one balance equation with the norm."""
    a = q.T.copy()
    a[-1, :] = 1.0
    b = np.zeros(len(q))
    b[-1] = 1.0
    return np.linalg.solve(a, b)


@pytest.mark.parametrize("lam, mu, theta, c", CASES)
def test_erlang_a_matches_truncated_generator(lam, mu, theta, c):
    """P(wait), mean queue and P(abandon) equal those of the numerically solved chain."""
    n_max = c + int(20 * lam / theta) + 200  # queue beyond this has negligible mass
    pi = stationary(birth_death_generator(lam, mu, theta, c, n_max))
    queue = np.clip(np.arange(n_max + 1) - c, 0, None)
    mean_queue = float(queue @ pi)
    got = erlang_a(lam, mu, theta, c)
    assert got.p_wait == pytest.approx(pi[c:].sum(), rel=1e-8)
    assert got.mean_queue == pytest.approx(mean_queue, rel=1e-8)
    # Abandonment flow balance: theta * E[queue] = lambda * P(abandon).
    assert got.p_abandon == pytest.approx(theta * mean_queue / lam, rel=1e-8)
    # Little's law on the queue: E[queue] = lambda * E[wait].
    assert got.mean_wait == pytest.approx(mean_queue / lam, rel=1e-12)
    assert got.pickup_rate == pytest.approx(1 - got.p_abandon, rel=1e-12)


@pytest.mark.parametrize("lam, mu, c", [(0.25, 1 / 3, 1), (0.9, 1.0, 1), (1.5, 1 / 3, 5),
                                        (9.0, 1.0, 10), (40.0, 1.0, 45)])
def test_erlang_a_tends_to_erlang_c_as_patience_grows(lam, mu, c):
    """theta -> 0 (and theta = 0 exactly) gives the Erlang-C probability of waiting."""
    expected = erlang_c_wait_probability(lam, mu, c)
    assert erlang_a(lam, mu, 0.0, c).p_wait == pytest.approx(expected, rel=1e-10)
    for theta in (1e-6, 1e-9):
        assert erlang_a(lam, mu, theta, c).p_wait == pytest.approx(expected, rel=1e-4)


def test_erlang_a_tiny_patience_rate_does_not_underflow():
    """theta = 1e-9 (callers wait ~2,000 years) gives finite, Erlang-C-like figures."""
    lam, mu, c = 40.0, 1.0, 45
    got = erlang_a(lam, mu, 1e-9, c)
    assert all(math.isfinite(v) for v in (got.p_wait, got.p_abandon, got.mean_queue))
    assert 0 < got.p_wait < 1
    assert 0 <= got.p_abandon < 1e-6
    rho = lam / (c * mu)
    # Erlang-C mean queue: C * rho / (1 - rho).
    assert got.mean_queue == pytest.approx(
        erlang_c_wait_probability(lam, mu, c) * rho / (1 - rho), rel=1e-4)


@pytest.mark.parametrize("rho", [0.1, 0.5, 0.95])
def test_erlang_c_small_staff_closed_forms(rho):
    """Erlang-C: C = rho for one server and 2 rho^2 / (1 + rho) for two."""
    assert erlang_c_wait_probability(rho, 1.0, 1) == pytest.approx(rho, rel=1e-12)
    assert erlang_c_wait_probability(2 * rho, 1.0, 2) == pytest.approx(
        2 * rho**2 / (1 + rho), rel=1e-12)


def test_erlang_oracles_reject_impossible_input():
    """Unstable Erlang-C and non-positive rates are refused rather than answered."""
    with pytest.raises(ValueError):
        erlang_a(2.0, 1.0, 0.0, 2)
    with pytest.raises(ValueError):
        erlang_a(0.0, 1.0, 1.0, 2)
    with pytest.raises(ValueError):
        erlang_c_wait_probability(3.0, 1.0, 2)


def test_single_class_priority_formulas_reduce_to_pollaczek_khinchine():
    """With one class both priority formulas are the M/G/1 mean response time."""
    lam, m, s2 = 0.07, 10.0, 150.0
    pk = m + lam * s2 / (2 * (1 - lam * m))
    assert preemptive_priority_response([lam], [m], [s2])[0] == pytest.approx(pk, rel=1e-12)
    assert nonpreemptive_priority_response([lam], [m], [s2])[0] == pytest.approx(pk, rel=1e-12)


def test_preemptive_top_class_ignores_lower_classes():
    """Under preemption the top class sees an M/G/1 of its own (lower classes invisible)."""
    lams, means, s2 = [0.1, 0.03], [3.0, 10.0], [18.0, 200.0]
    alone = preemptive_priority_response(lams[:1], means[:1], s2[:1])[0]
    assert preemptive_priority_response(lams, means, s2)[0] == pytest.approx(alone, rel=1e-12)


def test_nonpreemptive_priority_obeys_kleinrock_conservation_law():
    """Non-preemptive, work-conserving: sum_k rho_k W_k = rho R / (1 - rho)."""
    lams, means, s2 = [0.1, 0.03, 0.01], [3.0, 10.0, 5.0], [18.0, 200.0, 40.0]
    t = nonpreemptive_priority_response(lams, means, s2)
    rho = [lam * m for lam, m in zip(lams, means)]
    residual = sum(lam * x / 2 for lam, x in zip(lams, s2))
    lhs = sum(r * (tk - m) for r, tk, m in zip(rho, t, means))
    assert lhs == pytest.approx(sum(rho) * residual / (1 - sum(rho)), rel=1e-12)


def test_priority_formulas_refuse_overload():
    """A class whose cumulated load reaches 1 has no steady state."""
    for f in (preemptive_priority_response, nonpreemptive_priority_response):
        with pytest.raises(ValueError):
            f([0.2, 0.1], [3.0, 5.0], [18.0, 50.0])
