"""Exact queueing results used as oracles for the simulator and for first guesses.

- Erlang-A (M/M/c+M): birth-death chain evaluated in log space, so tiny patience rates do
  not underflow (the Mandelbaum-Zeltyn closed form does); theta = 0 gives Erlang-C.
- Preemptive-resume priority M/G/1: mean response time per class.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp


@dataclass(frozen=True)
class ErlangA:
    """Steady-state figures of an M/M/c+M queue (per minute rates)."""

    p_wait: float  # probability an arriving caller is not answered at once
    p_abandon: float  # probability an arriving caller hangs up before pickup
    mean_queue: float  # time-average number waiting
    mean_wait: float  # mean time waiting, over all callers (answered or not)

    @property
    def pickup_rate(self) -> float:
        """Probability an arriving caller is answered."""
        return 1.0 - self.p_abandon


def erlang_a(lam: float, mu: float, theta: float, c: int, tol: float = 1e-14) -> ErlangA:
    """M/M/c+M with arrival rate ``lam``, service rate ``mu``, patience rate ``theta``.

    theta = 0 is Erlang-C and needs lam < c*mu.
    """
    if lam <= 0 or mu <= 0 or c < 1 or theta < 0:
        raise ValueError("need lam > 0, mu > 0, theta >= 0 and c >= 1")
    if theta == 0 and lam >= c * mu:
        raise ValueError("Erlang-C (theta = 0) needs lam < c*mu")
    if lam > c * mu and (lam - c * mu) / theta > 5_000_000:
        # The queue only stops growing once n - c > (lam - c*mu)/theta: too many states.
        raise ValueError("overloaded line with almost no abandonment: the birth-death chain "
                         "would need more than 5 million states")
    log_terms = [0.0]
    n = 0
    while True:
        n += 1
        death = min(n, c) * mu + max(n - c, 0) * theta
        log_terms.append(log_terms[-1] + math.log(lam) - math.log(death))
        # Stop once past the mode and terms are negligible.
        if n > c and log_terms[-1] < log_terms[c] + math.log(tol) and lam < death:
            break
        if n > c + 10_000_000:
            raise RuntimeError("birth-death chain did not converge")
    logp = np.array(log_terms)
    logp -= logsumexp(logp)
    p = np.exp(logp)
    states = np.arange(len(p))
    queue = np.clip(states - c, 0, None)
    mean_queue = float((queue * p).sum())
    p_wait = float(p[c:].sum())
    p_abandon = theta * mean_queue / lam
    return ErlangA(p_wait=p_wait, p_abandon=p_abandon, mean_queue=mean_queue,
                   mean_wait=mean_queue / lam)


def erlang_c_wait_probability(lam: float, mu: float, c: int) -> float:
    """Erlang-C probability of waiting (closed form, for cross-checks)."""
    a = lam / mu
    rho = a / c
    if rho >= 1:
        raise ValueError("Erlang-C needs lam < c*mu")
    log_terms = [k * math.log(a) - math.lgamma(k + 1) for k in range(c)]
    log_last = c * math.log(a) - math.lgamma(c + 1) - math.log(1 - rho)
    return float(math.exp(log_last - logsumexp(log_terms + [log_last])))


def preemptive_priority_response(
    lams: list[float], means: list[float], second_moments: list[float]
) -> list[float]:
    """Mean response time (wait + service) per class in a preemptive-resume M/G/1.

    Class 0 has the highest priority. T_k = m_k / (1 - s_{k-1}) + R_k / [(1 - s_{k-1})(1 - s_k)]
    with s_k the load of classes 0..k and R_k = sum_{i<=k} lam_i E[S_i^2] / 2.
    """
    out = []
    sigma_prev = 0.0
    residual = 0.0
    for lam, m, s2 in zip(lams, means, second_moments):
        sigma = sigma_prev + lam * m
        if sigma >= 1:
            raise ValueError("the classes up to this one overload the server")
        residual += lam * s2 / 2
        out.append(m / (1 - sigma_prev) + residual / ((1 - sigma_prev) * (1 - sigma)))
        sigma_prev = sigma
    return out


def nonpreemptive_priority_response(
    lams: list[float], means: list[float], second_moments: list[float]
) -> list[float]:
    """Mean response time (wait + service) per class in a non-preemptive priority M/G/1.

    Class 0 has the highest priority; a job in service is never interrupted (Cobham's
    formula). T_k = m_k + R / [(1 - s_{k-1})(1 - s_k)] with s_k the load of classes 0..k
    and R = sum over *all* classes of lam_i E[S_i^2] / 2 (the residual work in service).
    """
    residual = sum(lam * s2 / 2 for lam, s2 in zip(lams, second_moments))
    out = []
    sigma_prev = 0.0
    for lam, m in zip(lams, means):
        sigma = sigma_prev + lam * m
        if sigma >= 1:
            raise ValueError("the classes up to this one overload the server")
        out.append(m + residual / ((1 - sigma_prev) * (1 - sigma)))
        sigma_prev = sigma
    return out
