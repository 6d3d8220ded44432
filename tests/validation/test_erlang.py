"""Phone lines against Erlang-A (M/M/c+M): pickup rate, P(wait), mean wait, Little's law.

One always-open department with only calls: Poisson arrivals, exponential service and
patience, no redials, c secretaries on a 24 h shift in one team. Each replication
discards the first hours (the line starts empty) and the last two hours (so every
counted caller has been answered or hung up); the estimate of each replication is one
value, and the mean over replications is checked with a t interval (see conftest).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_mean_matches, build, call_stream, replications, scenario_dict

from simulation.analysis.theory import erlang_a

REPLICATIONS = 40
TRANSIENT_MIN = 240.0  # > 20 relaxation times of these lines (patience means <= 2 min)
TAIL_MIN = 120.0  # P(an exponential patience of mean <= 2 min exceeds 2 h) < 1e-26

# (lambda per min, mean service, mean patience, c, horizon days): c = 1, c = 5 and an
# overloaded line (9 Erlangs offered to 8 secretaries) kept stable only by abandonment.
CASES = {
    "one_secretary": (0.25, 3.0, 2.0, 1, 3),
    "five_secretaries": (1.5, 3.0, 1.5, 5, 2),
    "eight_overloaded": (3.0, 3.0, 2.0, 8, 2),
}


def line_statistics(calls, horizon: float) -> dict[str, float]:
    """Per-replication estimates from the calls table, over [transient, horizon - tail)."""
    start, end = TRANSIENT_MIN, horizon - TAIL_MIN
    c = calls[(calls.arrival >= start) & (calls.arrival < end)]
    assert (c.outcome.isin(["answered", "abandoned"])).all(), "a counted call is unresolved"
    answered = c.outcome == "answered"
    waits = np.where(answered, c.answered - c.arrival, c.ended - c.arrival)
    waited = ~answered | (c.answered > c.arrival)
    # Time-average number waiting over the window, from each caller's waiting interval
    # (callers arriving before the window may still be waiting inside it).
    w = calls[calls.outcome.isin(["answered", "abandoned"])]
    left_queue = np.where(w.outcome == "answered", w.answered, w.ended)
    inside = np.clip(np.minimum(left_queue, end) - np.maximum(w.arrival.to_numpy(), start), 0, None)
    return {
        "pickup": float(answered.mean()),
        "p_wait": float(waited.mean()),
        "mean_wait": float(waits.mean()),
        "queue_time_average": float(inside.sum() / (end - start)),
        "arrival_rate_x_wait": float(len(c) / (end - start) * waits.mean()),
    }


@pytest.fixture(scope="module", params=list(CASES))
def erlang_case(request):
    """(theory, per-replication statistics) of one Erlang-A set-up."""
    lam, service, patience, c, days = CASES[request.param]
    scenario = build(scenario_dict({"calls": call_stream(lam, service, patience)},
                                   n_secretaries=c, horizon_days=days, name=request.param))
    horizon = days * 1440.0
    rows = [line_statistics(t["calls"], horizon)
            for t in replications(scenario, REPLICATIONS, seed=20240601)]
    theory = erlang_a(lam, 1 / service, 1 / patience, c)
    return request.param, theory, {k: [r[k] for r in rows] for k in rows[0]}


def test_pickup_rate_matches_erlang_a(erlang_case):
    """answered / (answered + abandoned) = 1 - P(abandon) of M/M/c+M."""
    name, theory, stats = erlang_case
    assert_mean_matches(stats["pickup"], theory.pickup_rate, f"{name} pickup rate")


def test_probability_of_waiting_matches_erlang_a(erlang_case):
    """Share of callers not answered on arrival = P(all c busy) (PASTA)."""
    name, theory, stats = erlang_case
    assert_mean_matches(stats["p_wait"], theory.p_wait, f"{name} P(wait)")


def test_mean_wait_matches_erlang_a(erlang_case):
    """Mean time in queue over all callers (answered or not) = E[queue] / lambda."""
    name, theory, stats = erlang_case
    assert_mean_matches(stats["mean_wait"], theory.mean_wait, f"{name} mean wait")


def test_littles_law_queue_length(erlang_case):
    """L = lambda W: the time-average queue and lambda x mean wait both equal E[queue]."""
    name, theory, stats = erlang_case
    assert_mean_matches(stats["queue_time_average"], theory.mean_queue, f"{name} L")
    assert_mean_matches(stats["arrival_rate_x_wait"], theory.mean_queue, f"{name} lambda W")
