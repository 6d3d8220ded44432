"""Self-contained HTML page of a sweep: a KPI against one or two swept parameters.

Figures are inline SVG (no network, no files beside the page): a line per value of a
second parameter with 95% CI error bars, a heatmap when two parameters form a grid, and
a scatter for Latin-hypercube designs. ``secsim report`` calls ``write_sweep_report`` when
the folder holds a sweep (``sweep_store.is_sweep``).
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from simulation.analysis.stats import t_interval  # noqa: E402
from simulation.errors import UsageError  # noqa: E402
from simulation.reporting.figures import svg_text  # noqa: E402
from simulation.sweeps.store import (  # noqa: E402
    RESULTS,
    is_sweep,
    read_failures,
    read_manifest,
    read_table,
    sweep_status,
)

DEFAULT_KPIS = ("pickup_rate", "wait_mean_min", "interruptions_per_hour",
                "report_delay_mean_days", "utilisation")
PERCENT = {"pickup_rate", "pickup_rate_callers", "service_level", "abandonment_rate",
           "utilisation", "interrupted_task_share", "interrupted_time_share",
           "report_on_time_share", "closed_share"}


def is_sweep_folder(folder: str | Path) -> bool:
    """Whether ``folder`` was written by ``secsim sweep`` (it has a sweep manifest)."""
    return is_sweep(folder)


def kpi_label(kpi: str) -> str:
    """Readable KPI name with its unit (from the terminal table's labels when known)."""
    try:
        from simulation.reporting.terminal import HEADLINE

        labels = {k: (label, unit) for k, label, unit in HEADLINE}
    except ImportError:  # pragma: no cover - display is optional here
        labels = {}
    label, unit = labels.get(kpi, (kpi.replace("_", " "), ""))
    return f"{label} ({unit})" if unit and unit != "n" else label


def _scale(kpi: str) -> float:
    return 100.0 if kpi in PERCENT or kpi.startswith("share_") else 1.0


def kpi_summary(results: pd.DataFrame, kpi: str, by: list[str]) -> pd.DataFrame:
    """Mean, 95% CI and n of a KPI per combination of ``by`` (replications pooled)."""
    rows = []
    for key, grp in results.groupby(by, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        mean, low, high, n = t_interval(grp[kpi])
        rows.append((*key, mean, low, high, n))
    return pd.DataFrame(rows, columns=[*by, "mean", "ci_low", "ci_high", "n"])


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def figure_lines(results: pd.DataFrame, kpi: str, x: str, by: str | None = None) -> str:
    """KPI mean against ``x``, one line per value of ``by``, with 95% CI error bars."""
    plt.rcParams.update({"svg.hashsalt": "secsim", "font.size": 9})
    keys = [x] + ([by] if by else [])
    summ = kpi_summary(results, kpi, keys)
    k = _scale(kpi)
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    numeric = _is_numeric(results[x])
    order = list(dict.fromkeys(results[x]))
    groups = summ.groupby(by, sort=True) if by else [(None, summ)]
    for i, (value, grp) in enumerate(groups):
        grp = grp.sort_values(x) if numeric else grp.set_index(x).loc[
            [o for o in order if o in set(grp[x])]].reset_index()
        xs = grp[x].to_numpy() if numeric else np.array([order.index(v) for v in grp[x]])
        mean = grp["mean"].to_numpy() * k
        err = np.nan_to_num(np.vstack([mean - grp["ci_low"] * k, grp["ci_high"] * k - mean]))
        ax.errorbar(xs, mean, yerr=err, marker="o", ms=4, capsize=3,
                    label=None if value is None else f"{by} = {value}", color=f"C{i % 10}")
    if not numeric:
        ax.set_xticks(range(len(order)), [str(o) for o in order])
    elif len(order) <= 12:
        ax.set_xticks(sorted(order), [f"{v:.4g}" for v in sorted(order)])
    ax.set_xlabel(x)
    ax.set_ylabel(kpi_label(kpi))
    ax.grid(alpha=0.3)
    if by:
        ax.legend(fontsize=8, frameon=False)
    others = [c for c in _params(results) if c not in keys]
    note = f" (pooled over {', '.join(others)})" if others else ""
    ax.set_title(f"{kpi_label(kpi)} vs {x}{note}", fontsize=9)
    return svg_text(fig)


def figure_heatmap(results: pd.DataFrame, kpi: str, x: str, y: str) -> str:
    """KPI mean over a grid of two parameters, values written in the cells."""
    summ = kpi_summary(results, kpi, [x, y])
    table = summ.pivot(index=y, columns=x, values="mean") * _scale(kpi)
    fig, ax = plt.subplots(figsize=(5.2, max(2.6, min(6.0, 0.35 * len(table) + 1.4))))
    im = ax.imshow(table.to_numpy(dtype=float), aspect="auto", cmap="viridis", origin="lower")
    ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns])
    ax.set_yticks(range(table.shape[0]), [str(i) for i in table.index])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    finite = table.to_numpy(dtype=float)
    mid = np.nanmean(finite) if np.isfinite(finite).any() else 0
    for (r, c), v in np.ndenumerate(finite):
        if np.isfinite(v):
            ax.text(c, r, f"{v:.3g}", ha="center", va="center", fontsize=7,
                    color="white" if v < mid else "black")
    fig.colorbar(im, ax=ax, label=kpi_label(kpi))
    half = ((summ.ci_high - summ.ci_low) / 2 * _scale(kpi)).median()
    noise = f"; typical 95% CI ±{half:.2g}" if np.isfinite(half) else ""
    ax.set_title(f"{kpi_label(kpi)}: mean per {x} x {y}{noise}", fontsize=9)
    return svg_text(fig)


def figure_scatter(results: pd.DataFrame, kpi: str, x: str, by: str | None = None) -> str:
    """Point means against ``x`` (Latin hypercube), coloured by ``by``, with 95% CIs."""
    summ = kpi_summary(results, kpi, ["point", x] + ([by] if by else []))
    k = _scale(kpi)
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    mean = summ["mean"].to_numpy() * k
    err = np.nan_to_num(np.vstack([mean - summ["ci_low"] * k, summ["ci_high"] * k - mean]))
    ax.errorbar(summ[x], mean, yerr=err, fmt="none", ecolor="#999999", capsize=2, zorder=1)
    if by and _is_numeric(summ[by]):
        sc = ax.scatter(summ[x], mean, c=summ[by], cmap="viridis", s=18, zorder=2)
        fig.colorbar(sc, ax=ax, label=by)
    elif by:
        for i, value in enumerate(dict.fromkeys(summ[by])):
            sel = (summ[by] == value).to_numpy()
            ax.scatter(summ[x][sel], mean[sel], s=18, zorder=2, color=f"C{i % 10}",
                       label=f"{by} = {value}")
        ax.legend(fontsize=8, frameon=False)
    else:
        ax.scatter(summ[x], mean, s=18, zorder=2)
    ax.set_xlabel(x)
    ax.set_ylabel(kpi_label(kpi))
    ax.grid(alpha=0.3)
    ax.set_title(f"{kpi_label(kpi)} per point vs {x}", fontsize=9)
    return svg_text(fig)


def _params(results: pd.DataFrame) -> list[str]:
    return list(results.attrs.get("parameters", []))


def sweep_figures(results: pd.DataFrame, kpi: str, x: str, by: str | None,
                  design: str) -> list[str]:
    """The figures for one KPI: lines (or scatter for lhs), and a heatmap for a 2-D grid."""
    if design == "lhs" or results[x].nunique() > 30:
        return [figure_scatter(results, kpi, x, by)]
    figs = [figure_lines(results, kpi, x, by)]
    if by and results[by].nunique() <= 30 and results[by].nunique() > 1:
        figs.append(figure_heatmap(results, kpi, x, by))
    return figs


CSS = """body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#222}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;
text-align:right}th{background:#f2f2f2}.fig{display:inline-block;margin:6px}
.fig svg{max-width:100%;height:auto}.note{color:#666;font-size:13px}"""


def render_sweep_html(out: str | Path, kpis: list[str] | None = None, x: str | None = None,
                      y: str | None = None) -> str:
    """The HTML page of the sweep in ``out``: parameters, figures, per-point table.

    ``x`` is the parameter on the x axis (default the first), ``y`` the one drawn as one
    line each and as heatmap rows (default the next); other parameters are pooled.
    """
    by = y
    manifest = read_manifest(out)
    params: list[str] = manifest["parameters"]
    wanted = list(kpis or DEFAULT_KPIS)
    results = read_table(out, RESULTS, None if kpis else ["point", "replication", *params,
                                                          *wanted])
    results.attrs["parameters"] = params
    x = x or params[0]
    by = by if by is not None else next((p for p in params if p != x), None)
    for name in (x, by):
        if name is not None and name not in params:
            raise UsageError(f"'{name}' is not a parameter of this sweep; use one of {params}")
    if by == x:
        raise UsageError(f"--x and --y are both '{x}'; give two different parameters")
    unknown = [k for k in wanted if k not in results.columns] if not results.empty else []
    if kpis and unknown:
        known = [c for c in results.columns if c not in ("point", "replication", *params)]
        raise UsageError(f"unknown KPI(s) {unknown}; this sweep has e.g. {known[:12]}")
    esc = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Sweep "
             f"{esc(manifest['name'])}</title><style>{CSS}</style></head><body>",
             f"<h1>Sweep: {esc(manifest['name'])}</h1>",
             f"<p>{esc(manifest['spec'].get('description', ''))}</p>",
             f"<p class='note'>Base scenario {esc(os.path.normpath(manifest['base']))}; design "
             f"{esc(manifest['design'])}, {manifest['points']} points x "
             f"{manifest['replications']} replications, seed {manifest['seed']}; status "
             f"{esc(sweep_status(out))}{esc(_lost_note(manifest))}. Every point uses the "
             "same seeds (common random numbers). Error bars: 95% t confidence intervals "
             "over replications.</p>"]
    parts.append(_parameter_table(manifest))
    if results.empty:
        parts.append("<p><b>No finished task yet.</b></p>")
    else:
        for kpi in [k for k in wanted if k in results.columns]:
            if results[kpi].notna().sum() == 0:
                continue
            parts.append(f"<h2>{esc(kpi_label(kpi))}</h2>")
            parts += [f"<div class='fig'>{svg}</div>"
                      for svg in sweep_figures(results, kpi, x, by, manifest["design"])]
        parts.append(_point_table(results, params, wanted))
    failures = read_failures(out)
    if failures:
        rows = "".join(f"<tr><td>{f['point']}</td><td>{f['replication']}</td>"
                       f"<td style='text-align:left'>{esc(str(f['error']))}</td></tr>"
                       for f in failures[:200])
        parts.append(f"<h2>Failed tasks ({len(failures)})</h2><table><tr><th>point</th>"
                     f"<th>replication</th><th>error</th></tr>{rows}</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _lost_note(manifest: dict) -> str:
    lost = manifest.get("lost_workers") or []
    if not lost:
        return ""
    return (f"; {len(lost)} Dask worker(s) lost, {manifest.get('rerun_tasks', 0)} task(s) "
            "ran again (same results: each task has its own seed)")


def _parameter_table(manifest: dict) -> str:
    rows = []
    for name, p in manifest["spec"]["parameters"].items():
        where = p.get("path") or ", ".join(map(str, (p.get("levels") or {}).keys()))
        values = p.get("labels") or p.get("values") or list((p.get("levels") or {}).keys())
        if p.get("low") is not None:
            values = f"[{p['low']}, {p['high']}]" + (" integers" if p.get("integer") else "")
        rows.append(f"<tr><td style='text-align:left'>{html.escape(name)}</td>"
                    f"<td style='text-align:left'>{html.escape(str(where))}</td>"
                    f"<td style='text-align:left'>{html.escape(str(values))}</td></tr>")
    return ("<h2>Parameters</h2><table><tr><th>parameter</th><th>path / levels</th>"
            f"<th>values</th></tr>{''.join(rows)}</table>")


def _mean_pm(mean: float, half: float) -> str:
    """'91.0 ±0.4': the mean shown to the precision its confidence interval supports."""
    if np.isnan(mean):
        return "-"
    if np.isnan(half) or half <= 0:
        return f"{mean:.3g}"
    decimals = max(0, 1 - int(np.floor(np.log10(half))))
    return f"{mean:.{decimals}f} ±{half:.{decimals}f}"


def _point_table(results: pd.DataFrame, params: list[str], kpis) -> str:
    kpis = [k for k in kpis if k in results.columns]
    head = "".join(f"<th>{html.escape(h)}</th>"
                   for h in ["point", *params, "n", *map(kpi_label, kpis)])
    rows = []
    for point, grp in list(results.groupby("point", sort=True))[:500]:
        cells = [str(point), *[str(grp[p].iloc[0]) for p in params], str(len(grp))]
        for k in kpis:
            mean, low, high, _ = t_interval(grp[k])
            s = _scale(k)
            cells.append(_mean_pm(s * mean, s * (high - low) / 2))
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    return (f"<h2>Per point (mean ±95% CI half-width)</h2><div style='overflow-x:auto'><table>"
            f"<tr>{head}</tr>{''.join(rows)}</table></div>")


def write_sweep_report(out: str | Path, path: str | Path | None = None, **options) -> Path:
    """Write the sweep's page (default ``out/report.html``) and return its path."""
    target = Path(path) if path else Path(out) / "report.html"
    target.write_text(render_sweep_html(out, **options), encoding="utf-8")
    return target
