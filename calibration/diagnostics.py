"""After a fit: parameter standard errors and identifiability warnings.

``jac`` is the Jacobian of the normalised residuals ((model - audit) / tolerance) with
respect to the internal parameters (log of scales). Sampling noise of a simulated target is
its standard error over the fit's replications, in the same normalised units.
"""

from __future__ import annotations

import math

import numpy as np

from .parameters import Parameter
from .targets import Target, Value, independent_count


def _noise(targets: list[Target], values: list[Value]) -> np.ndarray:
    """Standard error of each target's model value, in tolerances (0 for analytic targets)."""
    return np.array([(v.se if t.simulated and math.isfinite(v.se) else 0.0) / t.tolerance
                     for t, v in zip(targets, values)])


def parameter_se(jac: np.ndarray, targets: list[Target], values: list[Value]) -> np.ndarray:
    """Standard error of each internal parameter propagated from the targets' sampling noise."""
    pinv = np.linalg.pinv(jac, rcond=1e-6)
    cov = pinv @ np.diag(_noise(targets, values) ** 2) @ pinv.T
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    return np.where(se < 1e-9, 0.0, se)  # exact (analytic) targets: no sampling error


def diagnose(parameters: list[Parameter], x: np.ndarray, jac: np.ndarray,
             targets: list[Target], values: list[Value]) -> list[str]:
    """Identifiability warnings a user must read before trusting the calibrated scenario.

    Missed targets, limits and bounds are the status's job (``status.verdict``).
    """
    out: list[str] = []
    n, m = len(parameters), independent_count(targets)
    if n > m:
        out.append(f"{n} free parameters for {m} independent targets (time shares add up to "
                   f"100%): at least {n - m} combination(s) cannot be identified; fix some "
                   "parameters or add targets")
    # A 10% change (0.1 in log space) that moves the targets by less than half the sampling
    # error of the noisiest one cannot be told from noise.
    noise = float(np.max(_noise(targets, values), initial=0.0))
    flat = []
    for j, p in enumerate(parameters):
        moved = float(np.linalg.norm(jac[:, j])) * 0.1 * max(1.0, abs(x[j]))
        if moved <= max(0.5 * noise, 1e-6):
            flat.append(j)
            out.append(f"{p.name} is not identifiable from these targets: a 10% change moves "
                       f"them by {moved:.2g} tolerance(s), less than half their sampling error "
                       f"({noise:.2g}); fix it or add a target it affects")
    keep = [j for j in range(n) if j not in flat]
    if len(keep) > 1:
        sub = jac[:, keep] / np.maximum(np.linalg.norm(jac[:, keep], axis=0), 1e-12)
        _, s, vt = np.linalg.svd(sub, full_matrices=False)
        if s[-1] < 0.05 * s[0]:
            names = [parameters[keep[i]].name for i in np.nonzero(np.abs(vt[-1]) > 0.3)[0]]
            cond = s[0] / max(s[-1], 1e-12)
            shown = f"{cond:.0f}" if cond < 1e6 else "> 1e6"
            out.append(f"{', '.join(names)} move the targets in nearly the same way (condition "
                       f"{shown}): only a combination of them is identifiable; fix all but one")
    return out
