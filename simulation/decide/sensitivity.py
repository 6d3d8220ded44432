"""Global sensitivity of KPIs to a sweep spec's parameters (Morris or Sobol, with SALib).

The spec is a sweep spec: parameters with ``low``/``high`` are continuous (``integer``
rounds them), parameters with ``values`` or ``levels`` are factors whose choice is read
from a uniform draw (the k-th of n choices for a draw in [k/n, (k+1)/n)). SALib samples the
unit design; the samples become a sweep of design ``list`` written to ``OUT/design.yaml``
and run by the sweep machinery (any executor, Dask included; ``--resume``); each point's
KPI is its mean over the replications (common random numbers across points); SALib then
computes the indices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from simulation.sweeps.spec import SweepSpec

METHODS = ("morris", "sobol")
MORRIS_LEVELS = 4


@dataclass
class Factor:
    """One parameter of the spec as a SALib factor: its bounds and how a draw maps back."""

    name: str
    low: float
    high: float
    integer: bool = False
    choices: list[Any] | None = None  # labels of a factor with values or levels

    def value(self, x: float) -> Any:
        """The spec value (or label) a draw ``x`` in [low, high] stands for."""
        if self.choices is not None:
            return self.choices[min(len(self.choices) - 1, max(0, int(math.floor(x))))]
        if self.integer:
            return int(min(math.floor(self.high), max(math.ceil(self.low), round(x))))
        return float(x)


def factors(spec: SweepSpec) -> list[Factor]:
    """The spec's parameters as SALib factors (continuous ranges and choices)."""
    out = []
    for name, p in spec.parameters.items():
        if p.low is not None and p.high is not None:
            if not p.high > p.low:
                raise ValueError(f"parameters.{name}: high must be above low for a "
                                 "sensitivity analysis")
            out.append(Factor(name, float(p.low), float(p.high), p.integer))
        else:
            labels = (list(p.levels) if p.levels is not None else list(p.labels or p.values or []))
            if len(labels) < 2:
                raise ValueError(f"parameters.{name}: give low and high, or at least two "
                                 "values or levels, for a sensitivity analysis")
            out.append(Factor(name, 0.0, float(len(labels)), choices=labels))
    return out


def problem(fs: list[Factor]) -> dict[str, Any]:
    """SALib's problem definition."""
    return {"num_vars": len(fs), "names": [f.name for f in fs],
            "bounds": [[f.low, f.high - (1e-9 if f.choices else 0.0)] for f in fs]}


def sample(fs: list[Factor], method: str, n: int, seed: int) -> np.ndarray:
    """The design matrix: Morris trajectories (``n`` of them) or Saltelli/Sobol samples
    (``n`` base samples, n x (d + 2) rows; n a power of two)."""
    prob = problem(fs)
    if method == "morris":
        from SALib.sample import morris

        return morris.sample(prob, N=n, num_levels=MORRIS_LEVELS, seed=seed)
    from SALib.sample import sobol

    return sobol.sample(prob, N=n, calc_second_order=False, seed=seed)


def design_spec(spec: SweepSpec, base: Path, fs: list[Factor], x: np.ndarray) -> dict:
    """Plain data of the sweep spec (design ``list``) that runs the sample rows."""
    data = spec.model_dump(mode="json", exclude_none=True)
    data["base"] = str(base.resolve())
    data["design"] = "list"
    data.pop("samples", None)
    data.pop("design_seed", None)
    for p in data["parameters"].values():
        if p.get("low") is not None:
            p.pop("low", None)
            p.pop("high", None)
            p.pop("integer", None)
    data["points"] = [{f.name: f.value(v) for f, v in zip(fs, row)} for row in x]
    return data


def write_design(out: Path, data: dict) -> Path:
    """``OUT/design.yaml``: the sweep actually run (a record, and what --resume reads)."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "design.yaml"
    path.write_text("# The sample of a sensitivity analysis as a sweep (design list); "
                    "generated.\n" + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def point_means(results: pd.DataFrame, kpi: str, n_points: int) -> np.ndarray:
    """Each point's mean KPI over its replications, in point order (NaN if none)."""
    means = results.groupby("point")[kpi].mean()
    return means.reindex(range(n_points)).to_numpy(dtype=float)


def analyse(fs: list[Factor], method: str, x: np.ndarray, y: np.ndarray, kpi: str,
            seed: int) -> pd.DataFrame:
    """One row per parameter: Morris mu*, sigma (mu* confidence) or Sobol S1, ST (and
    their confidence half-widths)."""
    prob = problem(fs)
    if np.isnan(y).any():
        raise ValueError(f"{kpi}: {int(np.isnan(y).sum())} sample points have no value "
                         "(failed or missing replications, or a KPI undefined there)")
    if method == "morris":
        from SALib.analyze import morris

        res = morris.analyze(prob, x, y, num_levels=MORRIS_LEVELS, conf_level=0.95,
                             seed=seed)
        return pd.DataFrame({"kpi": kpi, "parameter": prob["names"],
                             "mu_star": res["mu_star"], "sigma": res["sigma"],
                             "mu_star_conf": res["mu_star_conf"], "mu": res["mu"]})
    from SALib.analyze import sobol

    res = sobol.analyze(prob, y, calc_second_order=False, conf_level=0.95, seed=seed)
    return pd.DataFrame({"kpi": kpi, "parameter": prob["names"], "S1": res["S1"],
                         "ST": res["ST"], "S1_conf": res["S1_conf"],
                         "ST_conf": res["ST_conf"]})
