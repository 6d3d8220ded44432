"""The cheapest scenario variant that meets every target, with a statistical guarantee.

Method (documented in docs/howto-optimise.md): candidates are the grid of the variations,
taken cheapest first when the cost is the staffing (FTE). Each candidate is simulated in
batches of replications with common random numbers (replication k of every candidate uses
the same seed, hence the same callers, dictations and absences). After each batch every
target is checked on a one-sided confidence bound: a ``>=`` target is *met* when the lower
bound clears it and *missed* when the upper bound falls below it; otherwise another batch
runs, up to the maximum. The error level is split (Bonferroni) over the targets and the
interim looks, so a candidate declared feasible meets every target with at least the chosen
confidence. A candidate still undecided at the maximum counts as not feasible. The first
feasible cost level ends the search (candidates of equal cost are all evaluated and the one
with the widest margin on the first target wins). With ``minimise=KPI`` every candidate is
evaluated, feasible ones to the full replications, and the lowest mean wins.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from simulation.decide.space import Target

FTE = "fte"
MISSION_KPIS = ("pickup_rate", "interruptions_per_hour", "report_delay_mean_days")


class Evaluator(Protocol):
    """What the search needs of the model: a cost, and KPI rows per replication."""

    def cost(self, settings: dict[str, Any]) -> float: ...

    def kpis(self, settings: dict[str, Any], replications: int) -> pd.DataFrame: ...


@dataclass
class Evaluation:
    """One candidate: its settings, cost, replications run and verdict."""

    index: int
    settings: dict[str, Any]
    cost: float = math.nan
    replications: int = 0
    status: str = "not evaluated"  # feasible | infeasible | undecided | invalid | not evaluated
    reason: str = ""
    kpis: dict[str, dict[str, float]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"settings": self.settings, "fte": self.cost, "replications": self.replications,
                "status": self.status, "feasible": self.status == "feasible",
                "reason": self.reason, "kpis": self.kpis}


@dataclass
class Outcome:
    """What the search found: every candidate's evaluation and the best one, if any."""

    evaluations: list[Evaluation]
    best: Evaluation | None
    method: str
    targets: list[Target]
    objective: str

    @property
    def closest(self) -> Evaluation | None:
        """With no feasible candidate: the one whose worst relative shortfall is smallest."""
        scored = [(max(_shortfall(e, t) for t in self.targets), e.index, e)
                  for e in self.evaluations if e.kpis and all(t.key in e.kpis for t in self.targets)]
        return min(scored)[2] if scored else None


def _shortfall(e: Evaluation, t: Target) -> float:
    mean = e.kpis[t.key]["mean"]
    if math.isnan(mean):
        return math.inf
    gap = (t.value - mean) if t.op == ">=" else (mean - t.value)
    return gap / max(abs(t.value), 1e-9)


def one_sided(values: np.ndarray, alpha: float) -> tuple[float, float, float]:
    """Mean and one-sided (1 - alpha) lower and upper t bounds of replication values."""
    from scipy import stats

    x = values[~np.isnan(values)]
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if n < 2:
        return mean, -math.inf, math.inf
    half = float(stats.t.ppf(1 - alpha, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half


def two_sided(values: np.ndarray, level: float) -> dict[str, float]:
    """Mean and two-sided ``level`` t interval, for reporting."""
    mean, low, high = one_sided(values, (1 - level) / 2)
    return {"mean": mean, "low": low, "high": high}


class UnknownKpi(ValueError):
    """A target or objective names a KPI or department the results do not have."""


def check_names(rows: pd.DataFrame, targets: list[Target], objective: str) -> None:
    """Refuse targets and objectives that name no KPI column or department of ``rows``."""
    import difflib

    known = [c for c in rows.columns if c not in ("replication", "department")]
    for kpi in [t.kpi for t in targets] + ([] if objective == FTE else [objective]):
        if kpi not in known:
            close = difflib.get_close_matches(kpi, known, n=3)
            hint = f"did you mean {', '.join(close)}?" if close else \
                "see the README's KPI table for the names"
            raise UnknownKpi(f"there is no KPI '{kpi}'; {hint}")
    departments = sorted(set(rows.department))
    for t in targets:
        if t.department not in departments:
            raise UnknownKpi(f"{t}: there is no department '{t.department}'; use one of "
                             f"{', '.join(departments)}")


def verdict(rows: pd.DataFrame, targets: list[Target], alpha: float) -> tuple[str, str]:
    """feasible / infeasible / undecided, and why (the target that decided)."""
    pending = []
    for t in targets:
        values = _values(rows, t.kpi, t.department)
        mean, low, high = one_sided(values, alpha)
        if math.isnan(mean):
            return "infeasible", f"{t}: the KPI is undefined (no such work in the scenario?)"
        met = low >= t.value if t.op == ">=" else high <= t.value
        missed = high < t.value if t.op == ">=" else low > t.value
        if missed:
            return "infeasible", f"{t} missed (mean {mean:.4g})"
        if not met:
            pending.append(f"{t} not settled (mean {mean:.4g})")
    return ("undecided", "; ".join(pending)) if pending else ("feasible", "every target met")


def _values(rows: pd.DataFrame, kpi: str, department: str) -> np.ndarray:
    sel = rows[rows.department == department]
    return sel.sort_values("replication")[kpi].to_numpy(dtype=float)


def optimise(candidates: list[dict[str, Any]], targets: list[Target], evaluator: Evaluator,
             replications: int = 20, initial: int = 5, batch: int = 5, level: float = 0.95,
             objective: str = FTE,
             on_evaluation: Callable[[Evaluation], None] | None = None) -> Outcome:
    """Search ``candidates`` for the best one meeting every target (see module docstring)."""
    if not targets:
        raise ValueError("give at least one target")
    initial = max(2, min(initial, replications))
    batch = max(1, batch)
    looks = 1 + math.ceil((replications - initial) / batch)
    alpha = (1 - level) / (len(targets) * looks)
    evals = [Evaluation(i, dict(s)) for i, s in enumerate(candidates)]
    for e in evals:
        try:
            e.cost = float(evaluator.cost(e.settings))
        except Exception as exc:  # an invalid combination (e.g. a value the schema refuses)
            e.status, e.reason = "invalid", str(exc)
    by_cost = objective == FTE
    order = sorted((e for e in evals if e.status != "invalid"),
                   key=(lambda e: (e.cost, e.index)) if by_cost else (lambda e: e.index))
    best_cost = math.inf
    for e in order:
        if by_cost and e.cost > best_cost + 1e-9:
            e.reason = "costlier than a feasible candidate"
            continue
        n = initial
        while True:
            rows = evaluator.kpis(e.settings, n)
            check_names(rows, targets, objective)
            e.replications = n
            e.status, e.reason = verdict(rows, targets, alpha)
            if e.status != "undecided" or n >= replications:
                break
            n = min(replications, n + batch)
        if e.status == "feasible" and not by_cost and n < replications:
            rows = evaluator.kpis(e.settings, replications)  # the objective on every seed
            e.replications = replications
        e.kpis = _report(rows, targets, objective, level)
        if e.status == "feasible":
            best_cost = min(best_cost, e.cost)
        if on_evaluation is not None:
            on_evaluation(e)
    feasible = [e for e in evals if e.status == "feasible"]
    best = None
    if feasible:
        if by_cost:
            first = targets[0]
            sign = 1 if first.op == ">=" else -1
            cheapest = min(e.cost for e in feasible)
            ties = [e for e in feasible if e.cost <= cheapest + 1e-9]
            best = max(ties, key=lambda e: (sign * (e.kpis[first.key]["mean"] - first.value),
                                            -e.index))
        else:
            best = min(feasible, key=lambda e: (e.kpis[objective]["mean"], e.index))
    method = (f"grid of {len(candidates)} candidates, "
              + ("cheapest FTE first, stopping at the first feasible cost level; "
                 if by_cost else f"every candidate evaluated, lowest mean {objective} wins; ")
              + f"sequential replications ({initial} then batches of {batch} up to "
              f"{replications}, common random numbers); each target checked on a one-sided "
              f"bound at level {level:g}, Bonferroni-split over {len(targets)} target(s) and "
              f"{looks} look(s) (alpha {alpha:.2g} each); undecided at the maximum = not "
              "feasible")
    return Outcome(evals, best, method, targets, objective)


def _report(rows: pd.DataFrame, targets: list[Target], objective: str,
            level: float) -> dict[str, dict[str, float]]:
    """Two-sided intervals of the targets' KPIs, the objective and the mission KPIs."""
    out = {t.key: two_sided(_values(rows, t.kpi, t.department), level) for t in targets}
    for k in (objective, *MISSION_KPIS):
        if k == FTE or k not in rows.columns:
            continue
        out.setdefault(k, two_sided(_values(rows, k, "ALL"), level))
    return out
