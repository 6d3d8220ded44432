"""Fitting free parameters to an audit by bounded least squares on simulated replications.

Every evaluation runs the same replications with the same seed (common random numbers),
so the objective is a deterministic, nearly smooth function of the parameters and finite
differences with a wide step (``diff_step``) give usable slopes. The objective is the sum
of squared residuals, each (model - audit) / tolerance.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from simulation.scenario.composition import compose
from simulation.scenario.schema import Scenario

from . import audit as audit_mod
from . import targets as tg
from .diagnostics import diagnose, parameter_se
from .first_guess import Surrogate, first_guess
from .measure import measure, plain_rules, pool
from .parameters import Parameter, from_internal, to_internal, unshare


@dataclass
class Settings:
    """How the fit runs: replications, seed, horizon, budget, workers, progress output."""

    replications: int = 4
    seed: int = 1
    horizon_days: int | None = None
    max_evals: int = 40
    workers: int = 1
    diff_step: float = 0.1
    stop_within: float = 0.5  # stop once every residual is within this many tolerances
    diagnostic_step: float = 0.25  # wider than diff_step: slopes well above the CRN noise
    progress: Callable[[str], None] | None = None


@dataclass
class Evaluation:
    """The model at one parameter vector: pooled figures, target values and residuals."""

    x: np.ndarray
    pooled: pd.DataFrame
    values: list[tg.Value]
    residuals: np.ndarray

    @property
    def cost(self) -> float:
        return float(np.sum(self.residuals ** 2))


@dataclass
class FitResult:
    """Fitted values, the final evaluation, diagnostics and the calibrated scenario data."""

    audit: audit_mod.Audit
    parameters: list[Parameter]
    start: np.ndarray
    guess: np.ndarray
    fitted: np.ndarray
    se: np.ndarray
    targets: list[tg.Target]
    final: Evaluation
    data: dict
    settings: Settings
    evaluations: int
    status: str
    warnings: list[str] = field(default_factory=list)
    jacobian: np.ndarray | None = None  # of normalised residuals w.r.t. internal parameters
    check: list[tg.Value] | None = None
    check_replications: int = 0


class _Budget(Exception):
    """The evaluation budget is spent."""


class _Reached(Exception):
    """Every target is within ``stop_within`` tolerances: further steps only chase noise."""


def round_changes(original, new, digits: int = 4):
    """``new`` with every number that differs from ``original`` rounded to ``digits`` figures."""
    if isinstance(new, dict):
        return {k: round_changes(original.get(k) if isinstance(original, dict) else None, v, digits)
                for k, v in new.items()}
    if isinstance(new, list):
        olds = original if isinstance(original, list) and len(original) == len(new) else [None] * len(new)
        return [round_changes(o, v, digits) for o, v in zip(olds, new)]
    if isinstance(new, float) and new != original and math.isfinite(new):
        return float(f"{new:.{digits}g}")
    return new


class Calibration:
    """One calibration problem: base scenario data, audit, free parameters and settings."""

    def __init__(self, data: dict, audit: audit_mod.Audit, parameters: list[Parameter],
                 settings: Settings, source: str | None = None, audit_source: str | None = None):
        self.base = {k: v for k, v in unshare(dict(data)).items() if not str(k).startswith("x-")}
        self.audit = audit
        self.parameters = parameters
        self.settings = settings
        self.source = source
        self.start = np.array([to_internal(p, p.start) for p in parameters])
        self.lower = np.array([to_internal(p, p.lower) for p in parameters])
        self.upper = np.array([to_internal(p, p.upper) for p in parameters])
        scenario = self.scenario_at(self.start)
        audit_mod.check(audit, scenario, audit_source)
        self.targets = tg.build(audit, scenario)
        self.rules = audit.rules()
        self._rules = plain_rules(self.rules)
        self._cache: dict[tuple, Evaluation] = {}
        self._pool: ProcessPoolExecutor | None = None
        self._diagnosing = False
        self.evaluations = 0
        self._t0 = time.perf_counter()

    # ------------------------------------------------------------ the model at x
    def data_at(self, x: np.ndarray) -> dict:
        """Plain scenario data with the parameters at internal values ``x``."""
        data = unshare(self.base)
        for p, xi in zip(self.parameters, x):
            p.apply(data, from_internal(p, float(xi)))
        return data

    def _compose(self, data: dict, fit_horizon: bool = True) -> Scenario:
        data = unshare(data)
        if fit_horizon and self.settings.horizon_days is not None:
            data["calendar"]["horizon_days"] = self.settings.horizon_days
        return compose(data, [], self.source)

    def scenario_at(self, x: np.ndarray) -> Scenario:
        return self._compose(self.data_at(x))

    def simulate(self, scenario: Scenario, seed: int, replications: int) -> pd.DataFrame:
        """Pooled figures of ``replications`` replications (in worker processes if asked)."""
        reps = range(replications)
        args = ([scenario] * replications, [seed] * replications, reps, [self._rules] * replications)
        if self.settings.workers > 1:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=self.settings.workers)
            rows = list(self._pool.map(measure, *args))
        else:
            rows = [measure(*a) for a in zip(*args)]
        return pool(rows)

    def _evaluation(self, x: np.ndarray, scenario: Scenario, seed: int, reps: int) -> Evaluation:
        pooled = self.simulate(scenario, seed, reps)
        values = tg.model_values(self.targets, scenario, pooled)
        res = np.array([(v.mean - t.value) / t.tolerance for v, t in zip(values, self.targets)])
        return Evaluation(np.array(x, dtype=float), pooled, values, np.nan_to_num(res, nan=1e3))

    def evaluate(self, x: np.ndarray) -> Evaluation:
        """The model at internal ``x`` with the fit's seed and replications (cached)."""
        key = tuple(np.round(np.asarray(x, dtype=float), 12))
        if key in self._cache:
            return self._cache[key]
        if self.evaluations >= self.settings.max_evals and not self._diagnosing:
            raise _Budget()
        self.evaluations += 1
        ev = self._evaluation(x, self.scenario_at(np.asarray(x)), self.settings.seed,
                              self.settings.replications)
        self._cache[key] = ev
        self._report_progress(ev)
        return ev

    def _report_progress(self, ev: Evaluation) -> None:
        if self.settings.progress is None:
            return
        params = " ".join(f"{p.name}={from_internal(p, xi):.4g}"
                          for p, xi in zip(self.parameters, ev.x))
        what = " (diagnostics)" if self._diagnosing else f"/{self.settings.max_evals}"
        self.settings.progress(f"eval {self.evaluations}{what} "
                               f"cost {ev.cost:.4g} ({time.perf_counter() - self._t0:.0f}s) {params}")

    def best(self) -> Evaluation:
        return min(self._cache.values(), key=lambda e: (e.cost, tuple(e.x)))

    # ------------------------------------------------------------ the fit
    def run(self, check_replications: int = 0) -> FitResult:
        """Pilot run, analytic first guess, bounded least squares, diagnostics."""
        try:
            return self._run(check_replications)
        finally:
            if self._pool is not None:
                self._pool.shutdown(cancel_futures=True)
                self._pool = None

    def _run(self, check_replications: int) -> FitResult:
        status = "converged"
        start = np.clip(self.start, self.lower, self.upper)
        pilot = self.evaluate(start)
        surrogate = Surrogate(self.rules, self.scenario_at(start), pilot.pooled)
        guess = first_guess(start, self.lower, self.upper, self.targets, self.scenario_at,
                            surrogate)
        try:
            self._objective(guess)
            res = least_squares(self._objective, guess, bounds=(self.lower, self.upper),
                                jac=self._jacobian, xtol=1e-3, ftol=1e-3, gtol=1e-6,
                                max_nfev=10 * self.settings.max_evals)
            status = "converged" if res.success else f"stopped: {res.message}"
        except _Reached:
            status = f"converged (every target within {self.settings.stop_within:g} tolerance)"
        except _Budget:
            status = f"stopped after {self.settings.max_evals} evaluations (--max-evals)"
        best = self.best()
        data = round_changes(self.base, self.data_at(best.x))
        final = self._evaluation(best.x, self._compose(data), self.settings.seed,
                                 self.settings.replications)
        self.evaluations += 1  # the written (rounded) scenario, which the report describes
        jac = self._diagnostic_jacobian(best.x)
        se = parameter_se(jac, self.targets, final.values)
        values = np.array([from_internal(p, xi) for p, xi in zip(self.parameters, best.x)])
        se_value = np.array([v * s if p.log else s for p, v, s in zip(self.parameters, values, se)])
        warnings = diagnose(self.parameters, best.x, self.lower, self.upper, jac, self.targets,
                            final.values)
        if status.startswith("stopped"):
            warnings.insert(0, f"the fit {status}; the best point so far is kept: raise "
                               "--max-evals or start from better values")
        result = FitResult(self.audit, self.parameters, self._natural(start),
                           self._natural(guess), values, se_value, self.targets, final, data,
                           self.settings, self.evaluations, status, warnings, jac)
        if check_replications > 0:
            pooled = self.simulate(self._compose(data, fit_horizon=False),
                                   self.settings.seed + 1000, check_replications)
            result.check = tg.model_values(self.targets, self._compose(data, False), pooled)
            result.check_replications = check_replications
        return result

    def _natural(self, x: np.ndarray) -> np.ndarray:
        return np.array([from_internal(p, xi) for p, xi in zip(self.parameters, x)])

    def _objective(self, x: np.ndarray) -> np.ndarray:
        """Residuals at ``x``; stops the search once they are all within ``stop_within``."""
        ev = self.evaluate(x)
        if not self._diagnosing and np.max(np.abs(ev.residuals)) <= self.settings.stop_within:
            raise _Reached()
        return ev.residuals

    def _jacobian(self, x: np.ndarray, step: float | None = None) -> np.ndarray:
        """Forward differences of the residuals at ``x`` with a wide step (``diff_step``).

        The step is relative to max(1, |x|) and reversed at a bound, as scipy's '2-point'.
        """
        x = np.asarray(x, dtype=float)
        step = self.settings.diff_step if step is None else step
        f0 = self.evaluate(x).residuals
        jac = np.zeros((len(f0), len(x)))
        for j in range(len(x)):
            h = step * max(1.0, abs(x[j])) * (1 if x[j] >= 0 else -1)
            xj = x.copy()
            xj[j] = x[j] + h
            if xj[j] > self.upper[j] or xj[j] < self.lower[j]:
                xj[j] = x[j] - h
            if xj[j] > self.upper[j] or xj[j] < self.lower[j]:  # bounds narrower than a step
                xj[j] = max((self.lower[j], self.upper[j]), key=lambda b: abs(b - x[j]))
            jac[:, j] = (self._objective(xj) - f0) / (xj[j] - x[j])
        return jac

    def _diagnostic_jacobian(self, x: np.ndarray) -> np.ndarray:
        """Slopes at the fitted point for the diagnostics, beyond the evaluation budget."""
        self._diagnosing = True
        try:
            return self._jacobian(x, self.settings.diagnostic_step)
        finally:
            self._diagnosing = False
