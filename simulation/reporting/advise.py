"""The page of ``secsim advise``: the daily series from an empty start and the MSER-5 cut."""

from __future__ import annotations

import html
from pathlib import Path


def warmup_figure(advice) -> str:
    """One panel per KPI: its daily mean over replications, the cut and the scenario's."""
    import matplotlib.pyplot as plt
    import numpy as np

    from simulation.reporting.figures import svg_text

    n = len(advice.warmup)
    fig, axes = plt.subplots(n, 1, figsize=(6.4, 2.0 * n + 0.4), squeeze=False)
    for ax, w in zip(axes[:, 0], advice.warmup):
        days = np.arange(len(w.series))
        ok = ~np.isnan(w.series)
        ax.plot(days[ok], w.series[ok], marker=".", linewidth=0.8, color="#1f77b4")
        ax.axvline(w.truncate_days, color="#d62728", linestyle="--",
                   label=f"MSER-5 cut: {w.truncate_days} d")
        ax.axvline(advice.scenario_warmup_days, color="grey", linestyle=":",
                   label=f"scenario warm-up: {advice.scenario_warmup_days} d")
        ax.set_ylabel(w.kpi, fontsize=7)
        ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axes[-1, 0].set_xlabel("day of the run (started empty)")
    return svg_text(fig)


def write_advise_report(path: Path, advice, source: str) -> None:
    esc = html.escape
    body = (f"<p>{esc(advice.kpi)} = {advice.mean:.4g} ± {advice.half_width:.3g} with "
            f"{advice.replications_run} replications; about {advice.replications_needed} "
            f"needed for ± {advice.precision:g}{' of the mean' if advice.relative else ''}.</p>")
    if advice.warmup:
        body += ("<h2>Warm-up (MSER-5 on the daily series, run from empty)</h2>"
                 + warmup_figure(advice))
    path.write_text(f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>secsim advise:
{esc(source)}</title><style>body{{font-family:sans-serif;max-width:60em;margin:1em auto}}
</style></head><body><h1>Run-length advice for {esc(source)}</h1>{body}</body></html>""",
                    encoding="utf-8")
