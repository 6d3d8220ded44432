"""Doctors' sign-off against bulk-service queue theory.

One doctor signs in one daily sitting at 18:00 of ``m`` minutes, each report taking a
deterministic ``s`` minutes, so a sitting signs at most K = floor(m / s) reports (first in,
first out). Reports are dictated as a Poisson stream between 08:00 and 16:00 (a = Poisson(λ)
a day) and typed at once (zero typing time, secretaries always on duty), so none reaches
the queue during a sitting. The reports left after sitting n, X, follow the bulk-service
chain X' = max(X + a - K, 0), whose stationary law we compute exactly by iterating the
transition matrix on a truncated state space (the truncated mass is checked to be nil).

A report dictated on day d at clock time t joins behind the X reports left over and the J
reports dictated before it that day; J is the number of earlier arrivals of a Poisson
day seen by a random arrival, Uniform{0..A'} with A' ~ Poisson(λ) (size-biased count).
It waits W = floor((X + J) / K) extra days and is the ((X + J) mod K + 1)-th of its
sitting, so its wait from typed to signed is

    (18:00 - t) + 1440 W + s ((X + J) mod K + 1),   E[18:00 - t] = 6 h.
"""

from __future__ import annotations

import math

import numpy as np
from conftest import MINUTES_PER_DAY, WEEKDAYS, assert_mean_matches, build
from scipy import stats

from simulation.runs.runner import replicate

LAMBDA, S, M = 8.0, 3.0, 30.0  # reports a day, minutes a report, minutes a sitting
K = int(M // S)  # 10 reports a sitting: load 0.8
N_STATES = 200


def stationary_leftover(lam: float, k: int, n: int = N_STATES) -> np.ndarray:
    """Stationary law of the reports left after a sitting (bulk-service chain)."""
    a = stats.poisson.pmf(np.arange(n), lam)
    p = np.zeros((n, n))
    for x in range(n):
        for arrivals in range(n):
            y = max(x + arrivals - k, 0)
            if y < n:
                p[x, y] += a[arrivals]
    pi = np.zeros(n)
    pi[0] = 1.0
    for _ in range(5000):
        pi = pi @ p
    assert pi.sum() > 1 - 1e-9, "truncated state space loses mass"
    return pi / pi.sum()


def expected_parts(lam: float, s: float, k: int) -> tuple[float, float]:
    """(E[W] extra days waited, E[s ((X + J) mod K + 1)] minutes of signing in the sitting)."""
    pi = stationary_leftover(lam, k)
    a = stats.poisson.pmf(np.arange(N_STATES), lam)
    # J: uniform on 0..A' with A' ~ Poisson(lam)
    j = np.array([sum(a[m] / (m + 1) for m in range(i, N_STATES)) for i in range(N_STATES)])
    pos = np.convolve(pi, j)[:N_STATES]  # law of X + J
    n = np.arange(N_STATES)
    return float(pos @ (n // k)), s * float(pos @ (n % k + 1))


def expected_wait_minutes(lam: float, s: float, k: int) -> float:
    """E[typed -> signed] of a random report, from the exact chain (see module docstring)."""
    days, signing = expected_parts(lam, s, k)
    return 6 * 60 + MINUTES_PER_DAY * days + signing


def bulk_scenario(horizon_days: int, warmup_days: int) -> dict:
    shape = {h: (1.0 if 8 <= h < 16 else 0.0) for h in range(24)}
    return {
        "name": "signoff_bulk",
        "calendar": {"horizon_days": horizon_days, "warmup_days": warmup_days,
                     "opening_hours": {d: ["00:00", "24:00"] for d in WEEKDAYS},
                     "follow_up_days": 30},
        "departments": {"cardiology": {
            "streams": {"letters": {
                "type": "dictation", "arrivals": {"per_day": LAMBDA, "hourly_shape": shape},
                "typing": 0, "sending": 0, "target_days": 7}},
            "doctors": {"count": 1, "sittings": [{"start": "18:00", "minutes": M}],
                        "time_per_report": S}}},
        "teams": {"secretariat": {"departments": ["cardiology"], "secretaries": {
            "ama": {"shift": {"start": "00:00", "end": "24:00"}}}}},
    }


def test_the_exact_chain_is_right_in_a_case_done_by_hand():
    """With K >= every possible daily count the queue empties each sitting: W = 0."""
    wait = expected_wait_minutes(0.5, 1.0, 50)
    # E[J] = E[A'] / 2 = lam / 2, position J + 1 -> 1 + lam / 2 minutes of signing.
    assert math.isclose(wait, 360 + 1.0 * (1 + 0.25), rel_tol=1e-9)


def test_sign_off_wait_matches_the_bulk_service_queue():
    """Mean total wait, and separately its two parts: whole days waited (queue beyond K) and
    the position within the sitting (so an off-by-one in the batch order shows too)."""
    scenario = build(bulk_scenario(horizon_days=100, warmup_days=20))
    waits, days, signing = [], [], []
    for rep in range(30):
        r = replicate(scenario, seed=11, replication=rep, events=True).events["reports"]
        r = r[(r.dictated >= 20 * MINUTES_PER_DAY) & (r.dictated < 100 * MINUTES_PER_DAY)]
        wait = r.validated - r.typed
        rest = wait - (18 * 60 - r.typed % MINUTES_PER_DAY)  # 1440 W + s (position + 1)
        waits.append(wait.mean())
        days.append((rest // MINUTES_PER_DAY).mean())
        signing.append((rest % MINUTES_PER_DAY).mean())
    e_days, e_signing = expected_parts(LAMBDA, S, K)
    assert_mean_matches(waits, expected_wait_minutes(LAMBDA, S, K),
                        "mean wait from typed to signed (min)")
    assert_mean_matches(days, e_days, "mean extra days waited for a sitting")
    assert_mean_matches(signing, e_signing, "mean minutes into the sitting when signed")
