"""Self-contained HTML report of a comparison (or of one run): tables, plots, assumptions.

Everything is inline (SVG figures, CSS), so the file opens in any browser without network.
The report is built only from the files written in the output folder, so
``secsim report FOLDER`` can rebuild it at any time.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from simulation.analysis.compare import compare
from simulation.reporting import figures as fig
from simulation.reporting.stress import stress_des_section
from simulation.reporting.terminal import HEADLINE, share_rows
from simulation.runs.files import atomic_text
from simulation.runs.output import read_table
from simulation.runs.record import (
    COMPARISON_RECORD,
    RecordError,
    check_comparison,
    check_run_folder,
    read_record,
)
from simulation.version import __version__

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1400px;margin:24px auto;
padding:0 16px;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:0}h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:2em}
table{border-collapse:collapse;font-size:.85em;margin:8px 0}th,td{border:1px solid #ddd;padding:3px 7px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.sig-up{background:#e3f4e3}.sig-down{background:#fbe4e4}.muted{color:#777;font-size:.85em}
pre{background:#f7f7f7;padding:8px;overflow-x:auto;font-size:.8em}
details{margin:6px 0}summary{cursor:pointer;font-weight:600}
.scroll{overflow-x:auto}.fig{margin:10px 0 18px}
table.kpi{font-size:.74em}table.kpi td{padding:2px 5px;white-space:nowrap}
.ci{color:#666;font-size:.85em}.delta{font-size:.9em}
@media print{body{max-width:none}.scroll{overflow:visible}table.kpi{font-size:6.5pt}
details{display:none}h2{page-break-before:auto}}.fig svg{max-width:100%;height:auto}
"""

# KPIs where a higher value is better (for colouring significant differences).
HIGHER_IS_BETTER = {"pickup_rate", "pickup_rate_callers", "service_level", "report_on_time_share"}
LOWER_IS_BETTER = {"wait_mean_min", "wait_p90_min", "abandonment_rate", "closed_share",
                   "walkin_wait_mean_min", "interruptions_per_hour", "interrupted_task_share",
                   "interrupted_time_share", "report_delay_mean_days", "report_delay_p90_days",
                   "report_backlog", "backlog_hours"}


@dataclass
class ScenarioRun:
    """What the report needs of one scenario's output folder."""

    name: str
    folder: Path
    kpis: pd.DataFrame
    staff: pd.DataFrame
    hourly: pd.DataFrame
    delays: pd.DataFrame  # department and delay_days of each sent report
    resolved: dict
    meta: dict


# libyaml's safe loader when PyYAML has it (the same objects, ~5x faster: a hospital
# group's resolved scenario took 4 s to read).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read(folder: Path) -> ScenarioRun:
    def table(name):
        return read_table(folder, name)

    resolved = yaml.load((folder / "scenario.yaml").read_text(encoding="utf-8"), Loader=_LOADER)
    meta_path = folder / "run.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    # The figure reads the delays only: the other columns of a group's year of report
    # rows (160,000) would double the memory the report takes.
    delays = read_table(folder, "report_delays", columns=["department", "delay_days"])
    if delays.empty:
        delays = pd.DataFrame({"department": [], "delay_days": []})
    return ScenarioRun(resolved["name"], folder, table("kpis"), table("staff"), table("hourly"),
                       delays, resolved, meta)


def fmt_value(v: float, unit: str) -> str:
    """A KPI value as shown: percentages with one decimal, others with two."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{100 * v:.1f}%" if unit == "%" else f"{v:.2f}"


def fmt_diff(v: float, unit: str) -> str:
    """A paired difference as shown (points for percentages)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{100 * v:+.1f} pt" if unit == "%" else f"{v:+.2f}"


def _kpi_table(comp: pd.DataFrame, runs: list[str], baseline: str, dept: str = "ALL") -> str:
    c = comp[comp.department == dept].set_index(["scenario", "kpi"])
    head = "".join(f"<th>{html.escape(n)}</th>" for n in runs)
    rows = []
    for kpi, label, unit in HEADLINE + share_rows(comp):
        if (baseline, kpi) not in c.index:
            continue
        cells = []
        for n in runs:
            if (n, kpi) not in c.index:
                cells.append("<td>–</td>")
                continue
            r = c.loc[(n, kpi)]
            text = (f"{fmt_value(r['mean'], unit)}<br><span class=ci>[{fmt_value(r.ci_low, unit)}, "
                    f"{fmt_value(r.ci_high, unit)}]</span>")
            tip = f"95% CI [{fmt_value(r.ci_low, unit)}, {fmt_value(r.ci_high, unit)}]"
            cls = ""
            if n != baseline:
                star = "*" if r.diff_significant else ""
                text += f"<br><span class=delta>Δ {fmt_diff(r['diff'], unit)}{star}</span>"
                tip += (f"; paired difference to {baseline}: {fmt_diff(r['diff'], unit)} "
                        f"[{fmt_diff(r.diff_ci_low, unit)}, {fmt_diff(r.diff_ci_high, unit)}]")
                if r.diff_significant and (kpi in HIGHER_IS_BETTER or kpi in LOWER_IS_BETTER):
                    better = (r["diff"] > 0) == (kpi in HIGHER_IS_BETTER)
                    cls = " class=sig-up" if better else " class=sig-down"
            cells.append(f'<td{cls} title="{html.escape(tip)}">{text}</td>')
        unit_txt = "" if unit in ("%", "n") else f" ({unit})"
        rows.append(f"<tr><td>{html.escape(label)}{unit_txt}</td>{''.join(cells)}</tr>")
    note = ("Each cell: mean, [95% confidence interval]" + (
        ", Δ paired difference to the baseline (* = its 95% interval excludes 0; hover a "
        "cell for that interval). Green = significantly better, red = significantly worse."
        if len(runs) > 1 else "."))
    return (f"<div class=scroll><table class=kpi><tr><th>KPI</th>{head}</tr>{''.join(rows)}"
            f"</table></div><p class=muted>{note}</p>")


def _dept_pickup_table(comp: pd.DataFrame, runs: list[str]) -> str:
    c = comp[comp.kpi == "pickup_rate"]
    depts = [d for d in dict.fromkeys(c.department) if d != "ALL"]
    head = "".join(f"<th>{html.escape(d)}</th>" for d in depts)
    rows = []
    for n in runs:
        cells = "".join(
            f"<td>{fmt_value(v.iloc[0], '%')}</td>" if len(v := c[(c.scenario == n) & (c.department == d)]["mean"])
            else "<td>–</td>" for d in depts)
        rows.append(f"<tr><td>{html.escape(n)}</td>{cells}</tr>")
    return f"<table><tr><th>scenario</th>{head}</tr>{''.join(rows)}</table>"


def _pipeline_table(comp: pd.DataFrame, runs: list[str]) -> str:
    """Doctor time and on-time shares per target, per scenario (ALL)."""
    c = comp[comp.department == "ALL"].set_index(["scenario", "kpi"])["mean"]
    targets = sorted({k for k in comp.kpi.unique() if k.startswith("report_on_time_share_j")},
                     key=lambda k: int(k.rsplit("j", 1)[1]))
    cols = [("doctor_hours_per_week", "doctor h/week", "h"),
            ("doctor_minutes_per_report", "doctor min/report", "min"),
            ("sitting_use", "sittings used", "%"),
            ("signoff_backlog", "awaiting sign-off at end", "n"),
            ("report_within_8d_share", "sent within 8 days", "%"),
            *[(k, f"on time J{k.rsplit('j', 1)[1]}", "%") for k in targets]]
    head = "".join(f"<th>{html.escape(label)}</th>" for _k, label, _u in cols)
    rows = []
    for name in runs:
        cells = "".join(f"<td>{fmt_value(c.get((name, k), float('nan')), u)}</td>" for k, _l, u in cols)
        rows.append(f"<tr><th>{html.escape(name)}</th>{cells}</tr>")
    return f"<table><tr><th>scenario</th>{head}</tr>{''.join(rows)}</table>"


def describe_dist(d) -> str:
    """'exponential(mean=1.0)' for a distribution mapping."""
    if not isinstance(d, dict):
        return str(d)
    params = ", ".join(f"{k}={v}" for k, v in d.items() if k != "dist")
    return f"{d.get('dist')}({params}) min"


def _assumptions(run: ScenarioRun) -> str:
    r = run.resolved
    cal = r["calendar"]
    hours = "; ".join(f"{d} {v[0]}–{v[1]}" for d, v in cal["opening_hours"].items())
    teams = "".join(
        f"<tr><td>{html.escape(t)}</td><td>{html.escape(str(team['departments']))}</td>"
        f"<td>{html.escape(str(team['kinds']))}</td><td>{len(team['secretaries'])}</td>"
        f"<td>{team['specialty_penalty']}</td></tr>" for t, team in r["teams"].items())
    volumes = []
    for d, dept in r["departments"].items():
        for s, stream in dept["streams"].items():
            per_day = (stream.get("arrivals") or {}).get("per_day")
            batches = sum(b["mean_size"] for b in stream.get("batches", []))
            vol = (per_day or 0) + batches
            volumes.append(f"<tr><td>{html.escape(d)}</td><td>{html.escape(s)}</td>"
                           f"<td>{stream['type']}</td><td>{stream['audit_category']}</td>"
                           f"<td>{vol:g}</td></tr>")
    levers = r.get("applied_levers") or []
    lever_rows = "".join(
        f"<tr><td>{html.escape(lv['lever'])}</td><td>"
        + html.escape("; ".join(f"{k} = {describe_dist(v) if isinstance(v, dict) and 'dist' in v else v}"
                                for k, v in lv.items() if k != "lever" and v not in ("", None)))
        + "</td></tr>" for lv in levers)
    lever_txt = (f"<table><tr><th>lever</th><th>settings (defaults included)</th></tr>"
                 f"{lever_rows}</table>" if levers
                 else "<p>No lever: the scenario as described.</p>")
    pol = r["interruptions"]
    full = yaml.safe_dump(r, sort_keys=False, allow_unicode=True)  # libyaml's would escape emoji
    return f"""
<h3>{html.escape(run.name)}</h3>
<p>{html.escape(r.get('description') or '')}</p>
<p class=muted>Horizon {cal['horizon_days']} days, warm-up {cal['warmup_days']} days (excluded);
opening hours {html.escape(hours)}; lunch closure
{html.escape('–'.join(cal['lunch_closure']) if cal.get('lunch_closure') else 'none')}.
Interruptions {'enabled' if pol['enabled'] else 'disabled'}; resumption cost
{html.escape(describe_dist(pol['resumption_cost']))}; an idle colleague answers first:
{'yes' if pol['idle_colleague_answers'] else 'no'}.</p>
<p><b>Levers applied</b></p>{lever_txt}
<details><summary>Teams ({len(r['teams'])})</summary><table><tr><th>team</th><th>departments</th>
<th>kinds</th><th>secretaries</th><th>specialty penalty</th></tr>{teams}</table></details>
<details><summary>Demand: mean arrivals per day (factor-1 weekday)</summary><table><tr><th>department</th>
<th>stream</th><th>type</th><th>audit category</th><th>per day</th></tr>{''.join(volumes)}</table></details>
<details><summary>Full resolved scenario (YAML)</summary><pre>{html.escape(full)}</pre></details>"""


GLOSSARY = """
<ul>
<li><b>Call pickup rate</b>: answered / (answered + abandoned) first-leg call attempts arriving
while the line is open; callers who hit a closed line are counted apart.</li>
<li><b>Callers eventually answered</b>: share of callers served on some attempt (redials included;
a call lost after a transfer is not served), among callers no longer in the system.</li>
<li><b>Interruptions per on-duty hour</b>: urgent work (call, walk-in, doctor's request) preempting
deferrable work (typing, files...), per hour a secretary is on duty.</li>
<li><b>Worked time on interrupted tasks</b>: share of busy time spent on deferrable tasks that were
interrupted at least once (compare with the audit's "29% of time affected by interruptions").</li>
<li><b>Report delay</b>: calendar days from dictation to sending, for every report dictated in the
measured window, followed to its end after the horizon; on time = sent within the stream's target
(0 = same day, J0). Stages: wait for typing, typing, wait for sign-off (typed to signed, rework
included), signed to sent. <b>Doctor hours per week</b>: doctor time reading, correcting and signing
reports (and correcting front-end drafts) in the measured window.</li>
<li><b>Utilisation</b>: busy time / on-duty time. <b>Time shares</b>: busy time per audit category / busy time.</li>
<li>Intervals are 95% t-intervals over replications; Δ is the paired difference to the baseline
(common random numbers); coloured cells are differences whose interval excludes 0
(green = better, red = worse).</li>
</ul>"""


def render(runs: list[ScenarioRun], comp: pd.DataFrame, baseline: str, title: str) -> str:
    """The report's HTML text."""
    names = [r.name for r in runs]
    reps = sorted({int(r.kpis.replication.nunique()) for r in runs if not r.kpis.empty})
    seeds = sorted({str(r.meta.get("seed")) for r in runs})
    headline = fig.headline_bars(comp, names, baseline, [
        ("pickup_rate", "Call pickup rate (%)", 100),
        ("interruptions_per_hour", "Interruptions per on-duty hour", 1),
        ("report_delay_mean_days", "Mean report delay (days)", 1)])
    role = "baseline" if len(runs) > 1 else "scenario"
    sections = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p class=muted>secsim {__version__} · {role} <b>{html.escape(baseline)}</b> · "
        f"replications per scenario: {', '.join(map(str, reps))} · seed {', '.join(seeds)} · "
        f"all departments unless stated</p>",
        "<h2>Headline KPIs</h2><p>Mean with 95% confidence interval over replications.</p>",
        f"<div class=fig>{headline}</div>",
        "<h2>KPI table</h2>", _kpi_table(comp, names, baseline),
        "<h2>Call pickup rate by hour of day</h2>",
        f"<div class=fig>{fig.pickup_by_hour({r.name: r.hourly for r in runs}, baseline)}</div>",
        "<h3>Pickup rate per department</h3>", _dept_pickup_table(comp, names),
        "<h2>Report delay distribution</h2>",
        "<p>Share of reports sent within x days of dictation (all replications pooled).</p>",
        f"<div class=fig>{fig.delay_cdf({r.name: r.delays for r in runs}, baseline)}</div>",
        "<h2>Report pipeline</h2>",
        "<p>Where the time goes from dictation to sending (reports of the measured window, "
        "followed to the end), what the doctors' sign-off costs them, and the share sent "
        "on time per target (J0 = same day).</p>",
        f"<div class=fig>{fig.report_stages(comp, names)}</div>",
        _pipeline_table(comp, names),
        "<h2>Time share per audit category</h2>",
        "<p>Compare with the AP-HP Saint-Louis–Lariboisière 2016 audit: 22% doctor assistance, "
        "43% patient file, 21% reception, 14% booking.</p>",
        f"<div class=fig>{fig.category_shares(comp, names)}</div>",
        "<h2>Utilisation per team</h2>",
        f"<div class=fig>{fig.team_utilisation({r.name: r.staff for r in runs}, baseline)}</div>",
        "<h2>Assumptions and lever settings</h2>",
        *[_assumptions(r) for r in runs],
        "<h2>KPI definitions</h2>", GLOSSARY,
        stress_des_section([(r.name, r.resolved, r.meta) for r in runs]),
    ]
    return (f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}"
            f"</title><style>{CSS}</style></head><body>{''.join(sections)}</body></html>")


def write_comparison_report(out: str | Path) -> Path:
    """Build ``report.html`` in a ``secsim compare`` output folder, from the scenarios its
    record lists (RecordError if a scenario folder does not belong to the comparison)."""
    out = Path(out)
    record = read_record(out / COMPARISON_RECORD) or {}
    names = check_comparison(out, record)
    runs = [_read(out / n) for n in names]
    baseline = record["baseline"]
    if (out / "comparison.parquet").exists():  # written at the end from these very folders
        comp = pd.read_parquet(out / "comparison.parquet")
    else:  # the compare was killed: compare the replications it saved
        usable = {r.name: r.kpis for r in runs if not r.kpis.empty}
        if baseline not in usable:
            raise RecordError(f"{out}: the baseline '{baseline}' has no finished replication "
                              "yet; resume the comparison (secsim compare ... --resume)")
        comp = compare(usable, baseline)
        runs = [r for r in runs if r.name in usable]
    path = out / "report.html"
    atomic_text(path, render(runs, comp, baseline,
                             "Secretariat reorganisation: scenario comparison"))
    return path


def write_run_report(out: str | Path) -> Path:
    """Build ``report.html`` for a single ``secsim run`` output folder."""
    out = Path(out)
    check_run_folder(out)
    run = _read(out)
    comp = compare({run.name: run.kpis}, run.name)
    path = out / "report.html"
    atomic_text(path, render([run], comp, run.name, f"Secretariat simulation: {run.name}"))
    return path
