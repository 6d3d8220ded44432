"""Analytic first guess: solve the targets on a cheap surrogate of the simulation.

Shares: share_c = sum over the work of category c of acts x mean duration / total work,
corrected by the ratio simulated/analytic seen in one pilot run (abandoned calls, resumption
time). Interruptions: a deferrable task of length X is hit with probability
1 - exp(-lambda X), lambda = interruptions per deferrable minute of the pilot, scaled with
the urgent arrivals; the time on hit tasks follows. Analytic targets are exact.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.optimize import least_squares

from simulation.scenario.schema import Scenario

from . import workload
from .audit import MappingRule, classify
from .measure import values_of
from .targets import Target, analytic

_SAMPLES = 4000


class Surrogate:
    """Cheap stand-in for the simulated figures, anchored on a pilot run at ``x0``."""

    def __init__(self, rules: list[MappingRule], pilot_scenario: Scenario, pilot):
        self.rules = rules
        self.pilot = pilot
        base = self.figures(pilot_scenario)
        self.base = base
        self.lam0 = values_of(pilot, "interruptions_per_deferrable_hour")[0] / 60
        self.hit0 = self._hit_share(pilot_scenario, self.lam0)
        self.ratio = {}
        for c, an in base["shares"].items():
            sim = values_of(pilot, f"share:{c}")[0]
            self.ratio[c] = sim / an if an > 0 and sim > 0 else 1.0

    def figures(self, scenario: Scenario) -> dict:
        """Analytic shares per audit category, urgent acts and deferrable minutes per day."""
        work = workload.work_items(scenario)
        total = sum(w.minutes_per_day for w in work) or math.nan
        shares: dict[str, float] = {}
        for w in work:
            c = classify(self.rules, w.kind, w.category, w.department)
            shares[c] = shares.get(c, 0.0) + w.minutes_per_day / total
        return {"shares": shares, "urgent": sum(w.acts_per_day for w in work if w.urgent),
                "deferrable": sum(w.minutes_per_day for w in work if not w.urgent),
                "total": total}

    def utilisation(self, figures: dict) -> float:
        """Pilot utilisation scaled with the total work (the staff is not fitted)."""
        pilot = values_of(self.pilot, "utilisation")[0]
        return pilot * figures["total"] / self.base["total"] if self.base["total"] else pilot

    @staticmethod
    def _hit_share(scenario: Scenario, lam: float) -> float:
        """Share of worked time on deferrable tasks hit at least once (Poisson hits)."""
        work = workload.work_items(scenario)
        total = sum(w.minutes_per_day for w in work)
        hit = 0.0
        for w in work:
            if w.urgent:
                continue
            x = w.duration.sample(np.random.default_rng(12345), _SAMPLES)
            hit += w.acts_per_day * float(np.mean(x * -np.expm1(-lam * x)))
        return hit / total if total > 0 else math.nan

    def value(self, target: Target, scenario: Scenario, figures: dict) -> float:
        """Surrogate value of one target for a scenario."""
        if not target.simulated:
            return analytic(target, scenario)
        if target.key.startswith("share:"):
            weights = {c: s * self.ratio.get(c, 1.0) for c, s in figures["shares"].items()}
            total = sum(weights.values())
            return weights.get(target.key[len("share:"):], 0.0) / total if total else math.nan
        pilot = values_of(self.pilot, target.key)[0]
        urgent = figures["urgent"] / self.base["urgent"] if self.base["urgent"] else 1.0
        if target.key == "interrupted_time_share":
            if self.hit0 <= 0:
                return pilot
            return pilot * self._hit_share(scenario, self.lam0 * urgent) / self.hit0
        if target.key == "interruptions_per_hour":
            deferrable = (figures["deferrable"] / self.base["deferrable"]
                          if self.base["deferrable"] else 1.0)
            return pilot * urgent * deferrable
        return pilot


def first_guess(x0: np.ndarray, lower: np.ndarray, upper: np.ndarray, targets: list[Target],
                scenario_at: Callable[[np.ndarray], Scenario], surrogate: Surrogate,
                max_utilisation: tuple[float, float] | None = None) -> np.ndarray:
    """Internal parameter vector solving the targets on the surrogate (x0 if it fails).

    ``max_utilisation``: (bound, weight) of the utilisation limit, a one-sided penalty of
    ``weight`` per point of surrogate utilisation above the bound.
    """
    tol = np.array([t.tolerance for t in targets])
    goal = np.array([t.value for t in targets])

    def residuals(x: np.ndarray) -> np.ndarray:
        sc = scenario_at(x)
        figures = surrogate.figures(sc)
        model = np.array([surrogate.value(t, sc, figures) for t in targets])
        res = np.nan_to_num((model - goal) / tol, nan=1e3)
        if max_utilisation is None:
            return res
        bound, weight = max_utilisation
        over = max(0.0, (surrogate.utilisation(figures) - bound) / 0.01)
        return np.append(res, weight * np.nan_to_num(over, nan=1e3))

    try:
        res = least_squares(residuals, np.clip(x0, lower, upper), bounds=(lower, upper),
                            diff_step=1e-3, max_nfev=60 * (len(x0) + 1), xtol=1e-6)
    except (ValueError, ArithmeticError):
        return x0
    return res.x if res.cost < 0.5 * float(np.sum(residuals(x0) ** 2)) else x0
