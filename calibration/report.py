"""The fit report (status, targets vs model with CIs, plausibility limits, operating point
before and after, fitted parameters, warnings) as text, JSON, CSV, and the calibrated
scenario as YAML with a header naming the audit.

Nothing here depends on the clock, so the same fit writes the same files. The terminal
text may colour what needs attention red (``colour=True``); files never carry colour.
"""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import pandas as pd
import yaml

from .fit import FitResult
from .limits import fmt as limit_fmt
from .operating import HEADLINE
from .targets import Target, Value

RED, RESET = "\033[31m", "\033[0m"


def red(line: str, colour: bool) -> str:
    """``line`` in red when ``colour`` (a terminal that accepts colour), else as is."""
    return f"{RED}{line}{RESET}" if colour else line


def use_colour(stream) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    import os

    return bool(getattr(stream, "isatty", lambda: False)()) and not os.environ.get("NO_COLOR")


def _fmt(t: Target, x: float) -> str:
    if x is None or not math.isfinite(x):
        return "-"
    return f"{100 * x:.1f}%" if t.unit == "%" else f"{x:.3g}"


def _residual(t: Target, v: Value) -> str:
    d = v.mean - t.value
    if not math.isfinite(d):
        return "-"
    return f"{100 * d:+.1f} pt" if t.unit == "%" else f"{d:+.3g}"


def _ci(t: Target, v: Value) -> str:
    if not t.simulated:
        return "(analytic)"
    return f"[{_fmt(t, v.ci_low)}, {_fmt(t, v.ci_high)}]"


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                       enumerate(zip(r, widths))).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def title(result: FitResult, scenario_name: str) -> str:
    s = result.settings
    horizon = f", horizon {s.horizon_days} days" if s.horizon_days else ""
    return (f"Calibration of '{scenario_name}' on audit '{result.audit.name}': "
            f"{s.replications} replications, seed {s.seed}{horizon}, "
            f"{result.evaluations} evaluations")


def _headline(kpi_unit: str, x: float) -> str:
    if x is None or not math.isfinite(x):
        return "-"
    return f"{100 * x:.1f}%" if kpi_unit == "%" else f"{x:.1f}" + (" h" if kpi_unit == "h" else "")


def operating_lines(result: FitResult) -> list[str]:
    """Headline KPIs before and after the fit (own horizon, the fit's seed), as a table."""
    if result.before is None or result.after is None:
        return []
    rows = [["Operating point", "Before", "95% CI", "After", "95% CI "]]
    for kpi, label, unit in HEADLINE:
        cells = [label]
        for side in (result.before, result.after):
            mean, lo, hi = side[kpi]
            ci = (f"[{_headline(unit, lo)}, {_headline(unit, hi)}]"
                  if math.isfinite(lo) else "")
            cells += [_headline(unit, mean), ci]
        rows.append(cells)
    return _table(rows)


def limit_lines(result: FitResult) -> list[str]:
    """Each plausibility limit with the written scenario's value over the fit horizon."""
    if not result.limits:
        return []
    rows = [["Plausibility limit", "Limit", "Model", "Option"]]
    for lim, v in zip(result.limits, result.final.limit_values):
        rows.append([lim.label, limit_fmt(lim, lim.bound), limit_fmt(lim, v), lim.option])
    return _table(rows)


def status_lines(result: FitResult, colour: bool = False) -> list[str]:
    """The status, each missed target and each flag (limits, bounds), red when needed."""
    out = [red(f"Status: {result.status}", colour and not result.converged)]
    if result.misses:
        out.append(red("Missed targets (the written scenario, re-simulated):", colour))
        out += [red(f"  - {m.sentence()}", colour) for m in result.misses]
    out += [red(f"  ! {f}", colour) for f in result.flags]
    return out


def text(result: FitResult, scenario_name: str, colour: bool = False) -> str:
    """The report as a terminal table (misses, limits and bounds in red when ``colour``)."""
    head = ["Target", "Audit", "Model", "95% CI", "Residual"]
    if result.check is not None:
        head += [f"Check ({result.check_replications} reps, new seed)", "95% CI "]
    rows = [head]
    for i, (t, v) in enumerate(zip(result.targets, result.final.values)):
        row = [t.label, _fmt(t, t.value), _fmt(t, v.mean), _ci(t, v), _residual(t, v)]
        if result.check is not None:
            c = result.check[i]
            row += [_fmt(t, c.mean), _ci(t, c)]
        rows.append(row)
    prow = [["Parameter", "Start", "First guess", "Fitted", "+/- SE", "Bounds"]]
    for p, a, g, f, se in zip(result.parameters, result.start, result.guess, result.fitted,
                              result.se):
        prow.append([p.name, f"{a:.4g}", f"{g:.4g}", f"{f:.4g}",
                     f"{se:.2g}" if math.isfinite(se) else "-", f"[{p.lower:g}, {p.upper:g}]"])
    out = [title(result, scenario_name), *status_lines(result, colour), ""] + _table(rows)
    for block in (limit_lines(result), operating_lines(result)):
        out += [""] + block if block else []
    out += [""] + _table(prow)
    out += ["", "Warnings:" if result.warnings else "No warnings."]
    out += [f"  - {w}" for w in result.warnings]
    return "\n".join(out)


def as_json(result: FitResult, scenario_name: str) -> dict:
    """The report as plain data (NaN as null)."""
    clean = lambda x: None if x is None or not math.isfinite(x) else float(x)  # noqa: E731
    tgts = []
    for i, (t, v) in enumerate(zip(result.targets, result.final.values)):
        item = {"key": t.key, "label": t.label, "audit": t.value, "model": clean(v.mean),
                "ci_low": clean(v.ci_low), "ci_high": clean(v.ci_high), "se": clean(v.se),
                "residual": clean(v.mean - t.value), "tolerance": t.tolerance,
                "simulated": t.simulated}
        if result.check is not None:
            c = result.check[i]
            item["check"] = {"model": clean(c.mean), "ci_low": clean(c.ci_low),
                             "ci_high": clean(c.ci_high)}
        tgts.append(item)
    s = result.settings
    return {"scenario": scenario_name, "audit": result.audit.name,
            "source": result.audit.source.model_dump(exclude_none=True),
            "settings": {"replications": s.replications, "seed": s.seed,
                         "horizon_days": s.horizon_days, "max_evals": s.max_evals,
                         "diff_step": s.diff_step, "check_replications": result.check_replications},
            "evaluations": result.evaluations, "status": result.status,
            "converged": result.converged,
            "misses": [{"key": m.key, "audit": m.audit, "model": clean(m.model),
                        "tolerance": m.tolerance} for m in result.misses],
            "flags": result.flags,
            "limits": [{"key": lim.key, "option": lim.option, "bound": lim.bound,
                        "model": clean(v), "weight": s.limit_weight}
                       for lim, v in zip(result.limits, result.final.limit_values)],
            "operating_point": _operating_json(result),
            "targets": tgts,
            "parameters": [{"name": p.name, "start": clean(a), "first_guess": clean(g),
                            "fitted": clean(f), "se": clean(se), "lower": p.lower,
                            "upper": p.upper}
                           for p, a, g, f, se in zip(result.parameters, result.start,
                                                     result.guess, result.fitted, result.se)],
            "warnings": result.warnings}


def _operating_json(result: FitResult) -> dict | None:
    if result.before is None or result.after is None:
        return None
    clean = lambda x: None if x is None or not math.isfinite(x) else float(x)  # noqa: E731
    return {kpi: {side: dict(zip(("mean", "ci_low", "ci_high"), map(clean, values[kpi])))
                  for side, values in (("before", result.before), ("after", result.after))}
            for kpi, *_ in HEADLINE}


def write_report(result: FitResult, scenario_name: str, base: str | Path) -> list[Path]:
    """Write ``base``.txt, .json and .csv (targets then parameters); return the paths."""
    base = Path(base)
    base.parent.mkdir(parents=True, exist_ok=True)
    data = as_json(result, scenario_name)
    paths = [base.with_name(base.name + ext) for ext in (".txt", ".json", ".csv")]
    paths[0].write_text(text(result, scenario_name) + "\n", encoding="utf-8")
    paths[1].write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    rows = [{"type": "target", "name": t["key"], "audit": t["audit"], "model": t["model"],
             "ci_low": t["ci_low"], "ci_high": t["ci_high"], "residual": t["residual"]}
            for t in data["targets"]]
    rows += [{"type": "parameter", "name": p["name"], "model": p["fitted"], "se": p["se"],
              "lower": p["lower"], "upper": p["upper"], "start": p["start"]}
             for p in data["parameters"]]
    rows += [{"type": "limit", "name": lim["key"], "model": lim["model"], "upper": lim["bound"]}
             for lim in data["limits"]]
    for kpi, sides in (data["operating_point"] or {}).items():
        rows += [{"type": f"operating_{side}", "name": kpi, "model": v["mean"],
                  "ci_low": v["ci_low"], "ci_high": v["ci_high"]} for side, v in sides.items()]
    pd.DataFrame(rows).to_csv(paths[2], index=False)
    return paths


def scenario_yaml(result: FitResult, source: str, name: str | None = None) -> str:
    """The calibrated scenario: the original data with fitted values, and a header."""
    a, s = result.audit, result.settings
    data = dict(result.data)
    if name:
        data["name"] = name
    desc = str(data.get("description", "")).strip()
    data["description"] = (desc + " " if desc else "") + f"Calibrated on audit {a.name}."
    src = a.source
    where = ", ".join(x for x in (src.document, src.location) if x)
    lines = [f"Calibrated from {source} on audit '{a.name}': {a.title}",
             f"Source: {src.citation}" + (f" ({where})" if where else ""),
             f"Written by `secsim calibrate` (seed {s.seed}, {s.replications} replications"
             + (f", horizon {s.horizon_days} days" if s.horizon_days else "")
             + f", {result.evaluations} evaluations, {result.status}). Fitted parameters:"]
    lines += [f"  {p.name} = {f:.4g}  (bounds [{p.lower:g}, {p.upper:g}], start {st:.4g})"
              for p, f, st in zip(result.parameters, result.fitted, result.start)]
    lines.append("Targets: audit -> model (95% CI over the fit replications):")
    for t, v in zip(result.targets, result.final.values):
        lines.append(f"  {t.key}: {_fmt(t, t.value)} -> {_fmt(t, v.mean)} {_ci(t, v)}")
    lines += [f"MISSED: {m.sentence()}" for m in result.misses]
    lines += [f"WARNING: {w}" for w in result.flags + result.warnings]
    lines.append("Generated file: change the source scenario or the audit and recalibrate.")
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100,
                          default_flow_style=None)
    wrapped = [w for line in lines for w in textwrap.wrap(line, 96, subsequent_indent="    ")]
    return "".join(f"# {line}\n" for line in wrapped) + body
