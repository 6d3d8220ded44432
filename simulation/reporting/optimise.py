"""The HTML page of an optimisation: the Pareto view (cost vs the first target's KPI) and
the table of evaluated candidates. Reads an outcome; never runs a model."""

from __future__ import annotations

import html
import math
from pathlib import Path

from simulation.reporting.settings import describe_settings


def pareto_figure(outcome) -> str:
    """Cost (FTE) against the first target's KPI, with 95% intervals; the target as a line."""
    import matplotlib.pyplot as plt

    from simulation.reporting.figures import svg_text

    first = outcome.targets[0]
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    styles = {"feasible": ("#1b9e77", "o"), "infeasible": ("#d95f02", "x"),
              "undecided": ("#7570b3", "s")}
    for status, (color, marker) in styles.items():
        pts = [e for e in outcome.evaluations if e.status == status and first.key in e.kpis]
        if not pts:
            continue
        x = [e.cost for e in pts]
        y = [e.kpis[first.key]["mean"] for e in pts]
        err = [[max(0.0, k["mean"] - k["low"]) if math.isfinite(k["low"]) else 0.0
                for k in (e.kpis[first.key] for e in pts)],
               [max(0.0, k["high"] - k["mean"]) if math.isfinite(k["high"]) else 0.0
                for k in (e.kpis[first.key] for e in pts)]]
        ax.errorbar(x, y, yerr=err, fmt=marker, color=color, label=status, capsize=2,
                    linestyle="none")
    best = outcome.best
    if best is not None and first.key in best.kpis:
        ax.scatter([best.cost], [best.kpis[first.key]["mean"]], s=160, facecolors="none",
                   edgecolors="black", label="best", zorder=5)
    ax.axhline(first.value, color="grey", linestyle="--", linewidth=1, label=str(first))
    ax.set_xlabel("secretary FTE")
    ax.set_ylabel(first.key)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return svg_text(fig)


def write_optimise_report(path: Path, outcome, source: str,
                          scenario: dict | None = None, meta: dict | None = None) -> None:
    """One self-contained HTML file: verdict, method, Pareto figure, candidates."""
    best = outcome.best
    esc = html.escape
    if best is not None:
        verdict = (f"<p><b>Best:</b> {esc(describe_settings(best.settings))} — {best.cost:g} FTE "
                   f"({best.replications} replications). The resolved scenario is "
                   "<code>best.yaml</code>.</p>")
    else:
        verdict = "<p><b>No candidate meets every target.</b></p>"
    head = ["candidate", "FTE", "replications", "status", "why"] + \
        [f"{t.key} [95% CI]" for t in outcome.targets]
    rows = []
    for e in sorted((e for e in outcome.evaluations if e.status != "not evaluated"),
                    key=lambda e: (e.cost, e.index)):
        cells = [describe_settings(e.settings), f"{e.cost:g}", str(e.replications), e.status, e.reason]
        for t in outcome.targets:
            k = e.kpis.get(t.key)
            cells.append(f"{k['mean']:.4g} [{k['low']:.4g}, {k['high']:.4g}]" if k else "-")
        style = ' style="font-weight:bold"' if e is best else ""
        rows.append(f"<tr{style}>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
    details = ""
    if scenario is not None:
        from simulation.reporting.stress import stress_des_section

        details = stress_des_section([(scenario["name"], scenario, meta or {})],
                                     "Find the cheapest candidate meeting every target: "
                                     + outcome.method)
    page = f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>secsim optimise: {esc(source)}</title><style>
body{{font-family:sans-serif;max-width:70em;margin:1em auto}} td,th{{border-bottom:1px solid
#ddd;padding:2px 6px;font-size:90%;text-align:left}} table{{border-collapse:collapse}}
</style></head><body>
<h1>Optimisation of {esc(source)}</h1>
<p>Targets: {esc(', '.join(map(str, outcome.targets)))}; minimise: {esc(outcome.objective)}.</p>
{verdict}
<h2>Cost against the first target</h2>{pareto_figure(outcome)}
<h2>Evaluated candidates</h2><table><tr>{''.join(f'<th>{esc(h)}</th>' for h in head)}</tr>
{''.join(rows)}</table>
<h2>Method and guarantee</h2><p>{esc(outcome.method)}</p>
{details}
</body></html>"""
    path.write_text(page, encoding="utf-8")
