"""Fitting free parameters to an audit by bounded least squares on simulated replications.

Every evaluation runs the same replications with the same seed (common random numbers),
so the objective is a deterministic, nearly smooth function of the parameters and finite
differences with a wide step (``diff_step``) give usable slopes. The objective is the sum
of squared residuals, each (model - audit) / tolerance, plus the one-sided penalties of the
plausibility limits (``limits``). Every evaluation simulates the scenario as it will be
written (changed numbers rounded), so the status describes the written file.
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
from . import limits as lm
from . import targets as tg
from .diagnostics import diagnose, parameter_se
from .first_guess import Surrogate, first_guess
from .measure import LETTERS_UNFINISHED, measure, plain_rules, pool, values_of
from .operating import headline, summarise
from .parameters import Parameter, from_internal, to_internal, unshare
from .status import Miss, at_bound, verdict


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
    limits: list[lm.Limit] = field(default_factory=lambda: lm.build(
        *(lm.DEFAULTS[k] for k in ("max_utilisation", "max_backlog_growth",
                                   "max_report_backlog_days"))))
    limit_weight: float = lm.DEFAULTS["weight"]  # 0: report the limits, do not enforce them
    operating_point: bool = True  # run the scenario before and after the fit


@dataclass
class Evaluation:
    """The model at one parameter vector: pooled figures, target values and residuals."""

    x: np.ndarray
    pooled: pd.DataFrame
    values: list[tg.Value]
    residuals: np.ndarray  # of the targets, (model - audit) / tolerance
    limit_values: list[float] = field(default_factory=list)
    penalties: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def cost(self) -> float:
        return float(np.sum(self.residuals ** 2) + np.sum(self.penalties ** 2))

    @property
    def vector(self) -> np.ndarray:
        """What the optimiser minimises the squares of: target residuals, then penalties."""
        return np.concatenate([self.residuals, self.penalties])


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
    converged: bool = False
    misses: list[Miss] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # limits and bounds reached (shown in red)
    limits: list[lm.Limit] = field(default_factory=list)
    before: dict[str, tuple[float, float, float]] | None = None  # headline KPI -> mean, CI
    after: dict[str, tuple[float, float, float]] | None = None


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


def _round_trip(data: dict) -> dict:
    """``data`` as read back from the YAML file it is written to."""
    import yaml

    return yaml.safe_load(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def unfinished_letters(pooled: pd.DataFrame, follow_up_days: int) -> list[str]:
    """A warning when letters of the window were still unsent at the follow-up cap: their
    delay is missing from the fitted mean, which is then biased low."""
    n = values_of(pooled, LETTERS_UNFINISHED)[0]
    if not n > 0:
        return []
    return [f"{n:.1f} letters a replication were still unsent {follow_up_days} days after the "
            "horizon (calendar.follow_up_days), so their delay is missing from the mean letter "
            "delay, which is biased low; raise follow_up_days and recalibrate"]


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
        self._letters = audit.letters.plain() if audit.letters is not None else None
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

    def written_at(self, x: np.ndarray) -> dict:
        """The scenario data as it would be written at ``x`` (changed numbers rounded)."""
        return round_changes(self.base, self.data_at(x))

    def scenario_at(self, x: np.ndarray) -> Scenario:
        return self._compose(self.written_at(x))

    def simulate(self, scenario: Scenario, seed: int, replications: int) -> pd.DataFrame:
        """Pooled figures of ``replications`` replications (in worker processes if asked)."""
        reps = range(replications)
        args = ([scenario] * replications, [seed] * replications, reps,
                [self._rules] * replications, [self._letters] * replications)
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
        limits = self.settings.limits
        lvalues = [values_of(pooled, lim.key)[0] for lim in limits]
        pen = lm.penalties(limits, lvalues, self.settings.limit_weight)
        return Evaluation(np.array(x, dtype=float), pooled, values, np.nan_to_num(res, nan=1e3),
                          lvalues, pen)

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
        stopped = None
        start = np.clip(self.start, self.lower, self.upper)
        pilot = self.evaluate(start)
        surrogate = Surrogate(self.rules, self.scenario_at(start), pilot.pooled)
        # The surrogate is smooth: solve it on unrounded scenarios (rounding would spoil
        # its finite differences).
        guess = first_guess(start, self.lower, self.upper, self.targets,
                            lambda x: self._compose(self.data_at(x)), surrogate,
                            self._guess_limit())
        try:
            self._objective(guess)
            res = least_squares(self._objective, guess, bounds=(self.lower, self.upper),
                                jac=self._jacobian, xtol=1e-3, ftol=1e-3, gtol=1e-6,
                                max_nfev=10 * self.settings.max_evals)
            if not res.success:
                stopped = f"the search stopped: {res.message}"
        except _Reached:
            pass
        except _Budget:
            stopped = f"the budget of {self.settings.max_evals} evaluations is spent (--max-evals)"
        best = self.best()
        data = self.written_at(best.x)
        # Re-simulate the written scenario (after a YAML round trip): the status describes it.
        written = self._compose(_round_trip(data))
        final = self._evaluation(best.x, written, self.settings.seed, self.settings.replications)
        self.evaluations += 1
        ntg = len(self.targets)
        jac = self._diagnostic_jacobian(best.x)[:ntg]
        se = parameter_se(jac, self.targets, final.values)
        values = self._natural(best.x)
        se_value = np.array([v * s if p.log else s for p, v, s in zip(self.parameters, values, se)])
        warnings = diagnose(self.parameters, best.x, jac, self.targets, final.values)
        warnings += unfinished_letters(final.pooled, written.calendar.follow_up_days)
        bounds = at_bound(self.parameters, best.x, self.lower, self.upper)
        v = verdict(self.targets, final.values, self.settings.limits, final.limit_values,
                    bounds, stopped)
        result = FitResult(self.audit, self.parameters, self._natural(start),
                           self._natural(guess), values, se_value, self.targets, final, data,
                           self.settings, self.evaluations, v.status, warnings, jac,
                           converged=v.converged, misses=v.misses, flags=v.flags,
                           limits=self.settings.limits)
        if check_replications > 0:
            pooled = self.simulate(self._compose(data, fit_horizon=False),
                                   self.settings.seed + 1000, check_replications)
            result.check = tg.model_values(self.targets, self._compose(data, False), pooled)
            result.check_replications = check_replications
        if self.settings.operating_point:
            result.before = self.operating_point(self.base)
            result.after = self.operating_point(data)
        return result

    def operating_point(self, data: dict) -> dict[str, tuple[float, float, float]]:
        """Headline KPIs of a scenario as ``secsim run`` gives them, over the fit's horizon
        (the scenario's own unless ``horizon_days`` shortens it)."""
        scenario = self._compose(data)
        reps = self.settings.replications
        args = ([scenario] * reps, [self.settings.seed] * reps, range(reps))
        if self._pool is not None:
            rows = list(self._pool.map(headline, *args))
        else:
            rows = [headline(*a) for a in zip(*args)]
        return summarise(rows)

    def _guess_limit(self) -> tuple[float, float] | None:
        """(utilisation limit, weight) for the first guess, if enforced."""
        lim = next((lim for lim in self.settings.limits if lim.key == "utilisation"), None)
        if lim is None or self.settings.limit_weight <= 0:
            return None
        return lim.bound, self.settings.limit_weight

    def _natural(self, x: np.ndarray) -> np.ndarray:
        return np.array([from_internal(p, xi) for p, xi in zip(self.parameters, x)])

    def _objective(self, x: np.ndarray) -> np.ndarray:
        """Residuals and penalties at ``x``; stops the search once every target is within
        ``stop_within`` and every limit holds."""
        ev = self.evaluate(x)
        if (not self._diagnosing and np.max(np.abs(ev.residuals)) <= self.settings.stop_within
                and not any(lm.breached(lim, v)
                            for lim, v in zip(self.settings.limits, ev.limit_values))):
            raise _Reached()
        return ev.vector

    def _jacobian(self, x: np.ndarray, step: float | None = None) -> np.ndarray:
        """Forward differences of the residuals at ``x`` with a wide step (``diff_step``).

        The step is relative to max(1, |x|) and reversed at a bound, as scipy's '2-point'.
        """
        x = np.asarray(x, dtype=float)
        step = self.settings.diff_step if step is None else step
        f0 = self.evaluate(x).vector
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
