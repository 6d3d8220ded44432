"""The "model and run details" section of the HTML reports, following STRESS-DES.

STRESS-DES (Monks et al. 2019, "Strengthening the reporting of empirical simulation
studies") lists what a discrete-event simulation study must report so others can judge
and reproduce it: objectives, logic, data, experimentation, implementation, code access.
The section is filled from the resolved scenarios and the run records, collapsed by default.
"""

from __future__ import annotations

import html
import platform
from importlib import metadata

from simulation.version import __version__

PACKAGES = ("simpy", "numpy", "pandas", "scipy", "pyarrow", "pydantic", "SALib")


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def software() -> str:
    """Python, secsim and the libraries that shape results, as installed now."""
    libs = ", ".join(f"{p} {_version(p)}" for p in PACKAGES)
    return (f"secsim {__version__}; Python {platform.python_version()} "
            f"({platform.system()} {platform.machine()}); {libs}")


def _row(item: str, text: str) -> str:
    return f"<tr><td>{html.escape(item)}</td><td>{text}</td></tr>"


def stress_des_section(scenarios: list[tuple[str, dict, dict]], experiment: str = "") -> str:
    """A collapsed STRESS-DES checklist for ``(name, resolved scenario, run record)`` items."""
    esc = html.escape
    names = ", ".join(esc(n) for n, _, _ in scenarios)
    described = "".join(f"<li><b>{esc(n)}</b>: {esc(r.get('description') or '(no description)')}"
                        "</li>" for n, r, _ in scenarios)
    levers = "".join(
        f"<li><b>{esc(n)}</b>: {esc(', '.join(lv['lever'] for lv in r.get('applied_levers') or [])) or 'none'}</li>"
        for n, r, _ in scenarios)
    runs = []
    for n, r, meta in scenarios:
        cal = r["calendar"]
        done = meta.get("replications_completed")
        reps = len(done) if isinstance(done, list) else meta.get("replications_requested", "?")
        # Nothing that changes from one identical run to the next (times, executor): the
        # same results give the same report, byte for byte; run.json has those.
        runs.append(f"<li><b>{esc(n)}</b>: horizon {cal['horizon_days']} days, warm-up "
                    f"{cal['warmup_days']} days discarded, follow-up up to "
                    f"{cal.get('follow_up_days', 0)} days after the horizon; {reps} replications, "
                    f"seed {esc(str(meta.get('seed', '?')))}</li>")
    rows = [
        _row("1.1 Purpose", f"Compare secretariat organisations on the mission KPIs (pickup "
             f"rate, interruptions, report delay) for: <ul>{described}</ul>"),
        _row("1.2 Outputs", "KPIs per replication and department (README, KPI definitions); "
             "95% t-intervals over replications; paired differences to the baseline."),
        _row("1.3 Experimentation aims", esc(experiment) or
             f"Scenarios {names}, each against the baseline with common random numbers."),
        _row("2.1 Base model", "Discrete-event simulation in SimPy: arrival streams (calls "
             "with patience and redials, walk-ins, doctors' requests, dictations, back-office "
             "work) on hourly profiles; secretaries on shifts in dedicated or pooled teams; "
             "urgent work preempts deferrable work, which resumes at a cost; reports go "
             "dictated → typed → signed by doctors in sittings → sent (docs/model.md)."),
        _row("2.2 Scenario logic", f"Levers applied: <ul>{levers}</ul>"),
        _row("2.3 Algorithms", "Preemptive-resume priority with per-pause resumption costs; "
             "routing by eligibility and rank; Poisson arrivals with piecewise-constant hourly "
             "rates (exact); see docs/model.md."),
        _row("2.4 Components", "Entities: callers, walk-ins, tasks, reports; resources: "
             "secretaries (teams, shifts, absences), doctors (sittings); queues per line, desk "
             "and task kind."),
        _row("3.1 Data sources", "Audit time shares and interruption figures (AP-HP 2016–2018, "
             "docs/sources.md, docs/sources/domain.md); each scenario file cites its sources and "
             "marks assumptions ASSUMPTION in comments."),
        _row("3.2 Pre-processing", "None at run time; calibration (secsim calibrate) fits free "
             "parameters to audit shares (docs/calibration.md)."),
        _row("3.3 Input parameters", "Every parameter is in the resolved scenario (section "
             "'Assumptions and lever settings' above, and each folder's scenario.yaml)."),
        _row("3.4 Assumptions", "Listed in the scenario comments (ASSUMPTION) and docs/model.md."),
        _row("4.1 Initialisation", "Empty start (no work in progress); the warm-up is "
             "discarded (secsim advise checks its length with MSER-5)."),
        _row("4.2 Run length", f"<ul>{''.join(runs)}</ul>"),
        _row("4.3 Estimation", "Independent replications; 95% Student-t intervals; paired "
             "t-intervals of differences (common random numbers)."),
        _row("5.1 Software", esc(software())),
        _row("5.2 Random sampling", "numpy PCG64 generators from SeedSequence(seed, "
             "spawn_key=(replication, digest of the stream's typed name)): one stream per "
             "purpose and entity, so replication k of every scenario shares its draws."),
        _row("5.3 Model execution", "Event-driven (SimPy), one replication per task on the "
             "executor recorded in each folder's run.json (with start and end times); the same "
             "scenario and seed give identical results on any executor."),
        _row("5.4 System", esc(f"{platform.system()} {platform.release()}, "
                               f"{platform.machine()}") + " (where this report was built)"),
        _row("6 Code access", f"secsim {__version__}; the resolved scenarios and run "
             "records are in the output folder."),
    ]
    return ("<details><summary><b>Model and run details</b> (STRESS-DES reporting "
            "checklist)</summary><table><tr><th>item</th><th>details</th></tr>"
            + "".join(rows) + "</table></details>")
