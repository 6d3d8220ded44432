"""The HTML page of a sensitivity analysis: one bar chart of the indices per KPI."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd


def index_bars(rows: pd.DataFrame, method: str) -> str:
    """Morris mu* (with its 95% half-width) and sigma, or Sobol S1 and ST with theirs."""
    import matplotlib.pyplot as plt
    import numpy as np

    from simulation.reporting.figures import COLORS, svg_text

    pairs = ([("mu_star", "mu_star_conf", "mu*"), ("sigma", None, "sigma")]
             if method == "morris" else [("S1", "S1_conf", "S1"), ("ST", "ST_conf", "ST")])
    rows = rows.sort_values(pairs[0][0], ascending=True)
    fig, ax = plt.subplots(figsize=(6.4, 0.45 * len(rows) + 1.0))
    y = np.arange(len(rows))
    for k, (col, conf, label) in enumerate(pairs):
        err = rows[conf].to_numpy() if conf else None
        ax.barh(y + (k - 0.5) * 0.38, rows[col].to_numpy(), height=0.38, xerr=err,
                color=COLORS[k], label=label, capsize=2)
    ax.set_yticks(y, rows.parameter.tolist())
    ax.axvline(0, color="grey", linewidth=0.8)
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    return svg_text(fig)


def write_sensitivity_report(path: Path, indices: pd.DataFrame, method: str, source: str,
                             points: int, replications: int) -> None:
    """One self-contained HTML page."""
    esc = html.escape
    what = ("Morris elementary effects: mu* = mean absolute effect of moving a parameter "
            "across its range (ranks importance), sigma = spread of the effects "
            "(interactions or non-linearity)" if method == "morris" else
            "Sobol indices: S1 = share of the KPI's variance due to the parameter alone, "
            "ST = including its interactions; bars show 95% confidence half-widths")
    sections = [f"<h2>{esc(kpi)}</h2>{index_bars(rows, method)}"
                f"{rows.drop(columns='kpi').to_html(index=False, float_format=lambda v: f'{v:.4g}')}"
                for kpi, rows in indices.groupby("kpi", sort=False)]
    page = f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>secsim sensitivity: {esc(source)}</title><style>body{{font-family:sans-serif;
max-width:70em;margin:1em auto}} td,th{{padding:2px 6px;font-size:90%}}</style></head><body>
<h1>Sensitivity of {esc(source)}</h1>
<p>{esc(what)}. {points} sample points x {replications} replications (common random
numbers); each point's KPI is its mean over the replications.</p>
{''.join(sections)}</body></html>"""
    path.write_text(page, encoding="utf-8")
