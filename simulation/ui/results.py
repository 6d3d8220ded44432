"""What the workbench shows of a finished run: KPI cards, side-by-side table, figures,
and the files to download. Pure functions over the comparison folder's tables."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd

from simulation.reporting.html import fmt_diff
from simulation.reporting.html import fmt_value as fmt  # the report's formats, shared

# The mission's three KPIs, first on the page: (column, label, unit).
MISSION = [
    ("pickup_rate", "Call pickup rate", "%"),
    ("interruptions_per_hour", "Interruptions per on-duty hour", "/h"),
    ("report_delay_mean_days", "Report delay, mean (days)", "days"),
]
# The side-by-side view adds a few more.
SIDE_BY_SIDE = MISSION + [
    ("pickup_rate_callers", "Callers eventually answered", "%"),
    ("walkin_wait_mean_min", "Walk-in mean wait (min)", "min"),
    ("interrupted_time_share", "Worked time on interrupted tasks", "%"),
    ("report_within_8d_share", "Reports sent within 8 days", "%"),
    ("utilisation", "Secretary utilisation", "%"),
]


def kpi_cards(comp: pd.DataFrame, scenario: str) -> list[dict]:
    """The mission KPIs of one scenario (department ALL): value, 95% CI and, unless it is
    the baseline, the paired difference to it with its CI and whether it excludes zero."""
    rows = comp[(comp.scenario == scenario) & (comp.department == "ALL")].set_index("kpi")
    cards = []
    for kpi, label, unit in MISSION:
        if kpi not in rows.index:
            continue
        r = rows.loc[kpi]
        card = {"kpi": kpi, "label": label, "mean": float(r["mean"]),
                "value": fmt(r["mean"], unit),
                "ci": f"95% CI [{fmt(r.ci_low, unit)}, {fmt(r.ci_high, unit)}]", "diff": None}
        if r["baseline"] != scenario and not pd.isna(r["diff"]):
            sig = "*" if bool(r["diff_significant"]) else ""
            card["diff"] = (f"{fmt_diff(r['diff'], unit)}{sig} vs {r['baseline']} "
                            f"[{fmt_diff(r.diff_ci_low, unit)}, {fmt_diff(r.diff_ci_high, unit)}]")
        cards.append(card)
    return cards


def kpi_table(comp: pd.DataFrame, scenarios: list[str]) -> pd.DataFrame:
    """Headline KPIs side by side: one row per KPI, per scenario its mean and 95% CI and
    (except the baseline) the paired difference to the baseline."""
    c = comp[comp.department == "ALL"].set_index(["scenario", "kpi"])
    rows = []
    for kpi, label, unit in SIDE_BY_SIDE:
        row = {"KPI": label}
        for s in scenarios:
            if (s, kpi) not in c.index:
                row[s] = "–"
                continue
            r = c.loc[(s, kpi)]
            text = f"{fmt(r['mean'], unit)} [{fmt(r.ci_low, unit)}, {fmt(r.ci_high, unit)}]"
            if r["baseline"] != s and not pd.isna(r["diff"]):
                text += f" ({fmt_diff(r['diff'], unit)}{'*' if r['diff_significant'] else ''})"
            row[s] = text
        if any(row[s] != "–" for s in scenarios):
            rows.append(row)
    return pd.DataFrame(rows)


def comparison(out: str | Path) -> pd.DataFrame:
    """The comparison table of a finished run folder."""
    return pd.read_parquet(Path(out) / "comparison.parquet")


def figures(out: str | Path, scenarios: list[str], baseline: str) -> list[tuple[str, str]]:
    """(title, inline SVG) of the report's main figures for these scenarios."""
    from simulation.reporting import figures as fig
    from simulation.runs.output import read_table

    out = Path(out)
    comp = comparison(out)
    hourly = {s: read_table(out / s, "hourly") for s in scenarios}
    delays = {}
    for s in scenarios:
        d = read_table(out / s, "report_delays")
        delays[s] = d if not d.empty else pd.DataFrame({"department": [], "delay_days": []})
    return [
        ("Call pickup rate by hour of day", fig.pickup_by_hour(hourly, baseline)),
        ("Report delay distribution", fig.delay_cdf(delays, baseline)),
        ("Time share per audit category", fig.category_shares(comp, scenarios)),
    ]


def svg_img(svg: str, title: str) -> str:
    """An inline SVG figure as an <img> (a data URI: the page shows it as it is)."""
    import base64
    import html

    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return (f'<img src="data:image/svg+xml;base64,{data}" alt="{html.escape(title)}" '
            'style="max-width: 100%">')


def parquet_zip(out: str | Path) -> bytes:
    """The run's Parquet results (every scenario folder and the comparison) as one zip."""
    out = Path(out)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(out.rglob("*")):
            if p.is_file() and (".parquet" in p.as_posix() or p.suffix in (".yaml", ".json")):
                z.write(p, p.relative_to(out).as_posix())
    return buf.getvalue()
