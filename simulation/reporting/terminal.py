"""Text and JSON views of KPI summaries for the terminal (pure formatting)."""

from __future__ import annotations

import math

import pandas as pd

# (kpi, label, unit) in the order a reader scans them; "%" values are shares shown x100.
HEADLINE = [
    ("pickup_rate", "Call pickup rate (per attempt)", "%"),
    ("pickup_rate_callers", "Callers eventually answered", "%"),
    ("service_level", "Answered within SL threshold", "%"),
    ("wait_mean_min", "Mean wait to pickup", "min"),
    ("wait_p90_min", "P90 wait to pickup", "min"),
    ("abandonment_rate", "Abandonment", "%"),
    ("closed_share", "Calls hitting a closed line", "%"),
    ("walkin_wait_mean_min", "Walk-in mean wait", "min"),
    ("interruptions_per_hour", "Interruptions per on-duty hour", "/h"),
    ("interrupted_task_share", "Deferrable tasks interrupted", "%"),
    ("interrupted_time_share", "Worked time on interrupted tasks", "%"),
    ("report_delay_mean_days", "Report delay, mean", "days"),
    ("report_delay_p90_days", "Report delay, P90", "days"),
    ("report_on_time_share", "Reports sent on time (own target)", "%"),
    ("report_within_8d_share", "Reports sent within 8 days", "%"),
    ("stage_wait_signoff_mean_days", "Wait for sign-off by the doctor, mean", "days"),
    ("doctor_hours_per_week", "Doctor hours a week on reports", "h"),
    ("report_backlog", "Reports not sent at the horizon", "n"),
    ("backlog_hours", "Deferrable backlog at end", "h"),
    ("utilisation", "Utilisation", "%"),
]


def _fmt(value: float, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if unit == "%":
        return f"{100 * value:.1f}%"
    if unit == "n":
        return f"{value:.1f}"
    return f"{value:.2f}"


def share_rows(summary: pd.DataFrame) -> list[tuple[str, str, str]]:
    """Headline rows for every audit-category time share present in a summary."""
    # Categories no scenario spends time on (e.g. 'other') would only add rows of zeros.
    shares = summary[summary.kpi.astype(str).str.startswith("share_")]
    cats = [k for k, m in shares.groupby("kpi", sort=False)["mean"] if (m.fillna(0) > 0).any()]
    return [(k, f"Time share: {k[len('share_'):].replace('_', ' ')}", "%") for k in cats]


# More departments than this and the table shows ALL only (a hospital group's 80 columns
# would make lines of ~2,000 characters); each department's figures stay in summary.csv.
MAX_DEPARTMENT_COLUMNS = 8


def kpi_table(summary: pd.DataFrame, title: str = "",
              max_departments: int = MAX_DEPARTMENT_COLUMNS) -> str:
    """KPI x department table: ALL with its 95% CI, then each department's mean (only ALL,
    and a line saying where the rest is, beyond ``max_departments`` departments)."""
    depts = list(dict.fromkeys(summary.department))
    hidden = len(depts) - 1 if len(depts) - 1 > max_departments else 0
    if hidden:
        depts = depts[:1]
    idx = summary.set_index(["department", "kpi"])
    rows = []
    for kpi, label, unit in HEADLINE + share_rows(summary):
        if ("ALL", kpi) not in idx.index:
            continue
        a = idx.loc[("ALL", kpi)]
        if isinstance(a["mean"], float) and math.isnan(a["mean"]) and unit != "%":
            continue
        ci = (f"[{_fmt(a.ci_low, unit)}, {_fmt(a.ci_high, unit)}]"
              if not math.isnan(a.ci_low) else "")
        cells = [f"{label} ({unit})" if unit not in ("%", "n") else label,
                 _fmt(a["mean"], unit), ci]
        for d in depts[1:]:
            cells.append(_fmt(idx.loc[(d, kpi)]["mean"], unit) if (d, kpi) in idx.index else "-")
        rows.append(cells)
    header = ["KPI", "ALL", "95% CI", *depts[1:]]
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    line = lambda cells: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)  # noqa: E731
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    out = [title] if title else []
    out += [line(header), line(["-" * w for w in widths]), *[line(r) for r in rows]]
    if hidden:
        out.append(f"({hidden} departments: each one's figures are in summary.csv and "
                   "report.html of the output folder, or printed by --json)")
    return "\n".join(out)


def summary_json(summary: pd.DataFrame) -> dict:
    """{department: {kpi: {mean, ci_low, ci_high, n}}} with NaN as null."""
    out: dict = {}
    for row in summary.itertuples(index=False):
        clean = lambda v: None if isinstance(v, float) and math.isnan(v) else v  # noqa: E731
        out.setdefault(row.department, {})[row.kpi] = {
            "mean": clean(float(row.mean)), "ci_low": clean(float(row.ci_low)),
            "ci_high": clean(float(row.ci_high)), "n": int(row.n)}
    return out


def _fmt_diff(value: float, unit: str) -> str:
    if value is None or math.isnan(value):
        return "-"
    if unit == "%":
        return f"{100 * value:+.1f}pt"
    return f"{value:+.2f}"


COMPARE_KPIS = [
    ("pickup_rate", "pickup", "%"),
    ("wait_mean_min", "wait min", "min"),
    ("interruptions_per_hour", "interr./h", "/h"),
    ("interrupted_time_share", "interr. time", "%"),
    ("report_delay_mean_days", "delay days", "days"),
    ("report_on_time_share", "on time", "%"),
    ("doctor_hours_per_week", "doctor h/wk", "h"),
    ("backlog_hours", "backlog h", "h"),
    ("utilisation", "utilisation", "%"),
]


def comparison_table(comp: pd.DataFrame, baseline: str, scenarios: list[str]) -> str:
    """Scenarios x key KPIs (ALL): mean and, in brackets, the paired difference to baseline."""
    c = comp[comp.department == "ALL"].set_index(["scenario", "kpi"])
    kpis = [k for k in COMPARE_KPIS if (baseline, k[0]) in c.index]
    rows = []
    for name in scenarios:
        cells = [name + (" (baseline)" if name == baseline else "")]
        for kpi, _label, unit in kpis:
            if (name, kpi) not in c.index:
                cells.append("-")
                continue
            r = c.loc[(name, kpi)]
            text = _fmt(r["mean"], unit)
            if name != baseline:
                text += f" ({_fmt_diff(r['diff'], unit)}{'*' if r['diff_significant'] else ' '})"
            cells.append(text)
        rows.append(cells)
    header = ["scenario", *[f"{label}" for _k, label, _u in kpis]]
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    return "\n".join("  ".join(str(x).ljust(w) if i == 0 else str(x).rjust(w)
                               for i, (x, w) in enumerate(zip(r, widths)))
                     for r in [header, ["-" * w for w in widths], *rows])
