"""Figures of the HTML report, each a pure function returning inline SVG text.

SVG is written with fixed ids and no date so the same results give the same report.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

plt.rcParams.update({"svg.hashsalt": "secsim", "svg.fonttype": "none", "font.size": 9,
                     "axes.spines.top": False, "axes.spines.right": False})
BASELINE_COLOR = "#444444"
_TAB20 = plt.get_cmap("tab20")
# Strong hues first, then their light variants: 20 distinct colours before any repeat.
COLORS = [_TAB20(i) for i in range(0, 20, 2)] + [_TAB20(i) for i in range(1, 20, 2)]


def svg_text(fig) -> str:
    """The figure as inline SVG text (no XML header), and the figure closed."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _color(i: int, name: str, baseline: str):
    return BASELINE_COLOR if name == baseline else COLORS[i % len(COLORS)]


def _legend_outside(ax) -> None:
    """Legend to the right of the plot (never over the lines), if anything is labelled."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))


def headline_bars(comp: pd.DataFrame, scenarios: list[str], baseline: str,
                  kpis: list[tuple[str, str, float]]) -> str:
    """One panel per KPI: mean per scenario with its 95% CI (ALL departments)."""
    c = comp[comp.department == "ALL"].set_index(["scenario", "kpi"])
    fig, axes = plt.subplots(1, len(kpis), figsize=(4.2 * len(kpis), 0.35 * len(scenarios) + 1.2),
                             sharey=True)
    axes = np.atleast_1d(axes)
    y = np.arange(len(scenarios))[::-1]
    for ax, (kpi, title, scale) in zip(axes, kpis):
        means, lows, highs = [], [], []
        for s in scenarios:
            r = c.loc[(s, kpi)] if (s, kpi) in c.index else None
            means.append(np.nan if r is None else r["mean"] * scale)
            lows.append(np.nan if r is None else r["ci_low"] * scale)
            highs.append(np.nan if r is None else r["ci_high"] * scale)
        means, lows, highs = map(np.asarray, (means, lows, highs))
        err = np.vstack([means - lows, highs - means])
        ax.barh(y, means, xerr=np.nan_to_num(err), capsize=2,
                color=[_color(i, s, baseline) for i, s in enumerate(scenarios)])
        ax.set_title(title)
        ax.grid(axis="x", alpha=0.3)
        top = np.nanmax(np.concatenate([highs, means])) if np.isfinite(means).any() else 1.0
        ax.set_xlim(0, top * 1.08 if top > 0 else 1.0)  # whiskers stay inside the axes
    axes[0].set_yticks(y, scenarios)
    return svg_text(fig)


def pickup_by_hour(hourly: dict[str, pd.DataFrame], baseline: str) -> str:
    """Pickup rate by hour of day, all departments, one line per scenario."""
    fig, ax = plt.subplots(figsize=(8, 3.6))
    for i, (name, h) in enumerate(hourly.items()):
        h = h[h.department == "ALL"].groupby("hour")[["offered", "answered"]].sum()
        h = h[h.offered > 0]
        ax.plot(h.index, 100 * h.answered / h.offered, marker="o", ms=3,
                lw=2.5 if name == baseline else 1.3, color=_color(i, name, baseline), label=name)
    ax.set_xlabel("hour of day (call arrival)")
    ax.set_ylabel("pickup rate (%)")
    ax.grid(alpha=0.3)
    _legend_outside(ax)
    return svg_text(fig)


def delay_cdf(delays: dict[str, pd.DataFrame], baseline: str) -> str:
    """Empirical CDF of report delay (days from dictation to sending), per scenario."""
    fig, ax = plt.subplots(figsize=(8, 3.6))
    upper = 0.0
    for i, (name, d) in enumerate(delays.items()):
        x = np.sort(d.delay_days.to_numpy())
        if len(x) == 0:
            continue
        upper = max(upper, float(np.percentile(x, 99)))
        # 400 quantiles draw the same curve as every report, at a fraction of the size.
        probs = np.linspace(0, 1, min(len(x), 400))
        ax.step(np.quantile(x, probs, method="inverted_cdf"), 100 * probs, where="post",
                lw=2.5 if name == baseline else 1.3, color=_color(i, name, baseline), label=name)
    ax.set_xlim(0, max(upper, 1.0))
    ax.set_xlabel("report delay (calendar days, dictation to sending)")
    ax.set_ylabel("reports sent within (%)")
    ax.grid(alpha=0.3)
    _legend_outside(ax)
    return svg_text(fig)


def category_shares(comp: pd.DataFrame, scenarios: list[str]) -> str:
    """Stacked shares of worked time per audit category, per scenario."""
    c = comp[(comp.department == "ALL") & comp.kpi.str.startswith("share_")]
    table = c.pivot(index="scenario", columns="kpi", values="mean").reindex(scenarios).fillna(0)
    table = table.loc[:, table.sum() > 0]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(scenarios) + 1.2))
    left = np.zeros(len(table))
    y = np.arange(len(table))[::-1]
    for i, col in enumerate(table.columns):
        vals = 100 * table[col].to_numpy()
        ax.barh(y, vals, left=left, color=COLORS[i % len(COLORS)],
                label=col[len("share_"):].replace("_", " "))
        for yy, lft, v in zip(y, left, vals):
            if v >= 6:
                ax.text(lft + v / 2, yy, f"{v:.0f}", ha="center", va="center", fontsize=7,
                        color="white")
        left += vals
    ax.set_yticks(y, table.index)
    ax.set_xlim(0, 100)
    ax.set_xlabel("share of worked time (%)")
    _legend_outside(ax)
    return svg_text(fig)


STAGE_LABELS = (("stage_wait_typing_mean_days", "wait for typing"),
                ("stage_typing_mean_days", "typing"),
                ("stage_wait_signoff_mean_days", "wait for sign-off"),
                ("stage_sending_mean_days", "signed -> sent"))


def report_stages(comp: pd.DataFrame, scenarios: list[str]) -> str:
    """Stacked mean stage delays of the report pipeline (days), per scenario."""
    c = comp[comp.department == "ALL"].set_index(["scenario", "kpi"])["mean"]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(scenarios) + 1.2))
    y = np.arange(len(scenarios))[::-1]
    left = np.zeros(len(scenarios))
    for i, (kpi, label) in enumerate(STAGE_LABELS):
        vals = np.array([c.get((s, kpi), np.nan) for s in scenarios], dtype=float)
        vals = np.nan_to_num(vals)
        ax.barh(y, vals, left=left, color=COLORS[i % len(COLORS)], label=label)
        left += vals
    for yy, total in zip(y, left):
        ax.text(total, yy, f" {total:.1f}", va="center", fontsize=7)
    ax.set_yticks(y, scenarios)
    ax.set_xlabel("mean delay from dictation to sending (calendar days), by stage")
    ax.grid(axis="x", alpha=0.3)
    _legend_outside(ax)
    return svg_text(fig)


def team_utilisation(staff: dict[str, pd.DataFrame], baseline: str) -> str:
    """Mean utilisation (busy / on-duty time) of each team, grouped by scenario."""
    labels, values, colors = [], [], []
    for i, (name, s) in enumerate(staff.items()):
        t = s[s.level == "team"].groupby("name").utilisation.mean()
        for team, u in t.items():
            labels.append(f"{name} / {team}")
            values.append(100 * u)
            colors.append(_color(i, name, baseline))
    fig, ax = plt.subplots(figsize=(8, 0.26 * len(labels) + 1.0))
    y = np.arange(len(labels))[::-1]
    ax.barh(y, values, color=colors)
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_xlabel("utilisation (%)")
    ax.grid(axis="x", alpha=0.3)
    return svg_text(fig)
