"""``secsim calibrate``: fit a scenario's free parameters to an audit and write the result.

Registered by ``simulation.cli.main`` through ``register(subparsers)``; user errors are
``UsageError`` or ``ScenarioError`` (incl. ``AuditError``), printed without a traceback.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from simulation.cli.common import add_quiet, seed_type
from simulation.errors import UsageError

if TYPE_CHECKING:
    from .parameters import Parameter

EXAMPLE = ("secsim calibrate scenarios/baseline.yaml --audit calibration/audits/"
           "aphp_sls_lrb_2016.yaml --out scenarios/calibrated_sls_2016.yaml")


def register(subparsers) -> None:
    """Add the ``calibrate`` sub-command."""
    p = subparsers.add_parser(
        "calibrate", help="fit free parameters so that a scenario reproduces an audit",
        description="Fit free parameters of a scenario to an audit (time shares, interruption "
                    "figure, volumes, letter delays) by least squares on simulated replications with common "
                    "random numbers, within plausibility limits on utilisation and backlogs, "
                    "then write the calibrated scenario and a fit report; 'converged' only "
                    "when every target of the written scenario is within its tolerance.",
        epilog=f"Example: {EXAMPLE}. See docs/calibration.md.")
    p.add_argument("scenario", help="scenario YAML file to calibrate")
    p.add_argument("--audit", "-a", required=True, help="audit YAML file (calibration/audits/)")
    p.add_argument("--fit", default=None, metavar="P1,P2[=LO:HI],...",
                   help="free parameters, comma-separated, optionally with bounds "
                        "(default: the audit's 'fit' list)")
    p.add_argument("--out", "-o", default=None,
                   help="calibrated scenario to write (default outputs/calibrated_<scenario>.yaml)")
    p.add_argument("--report", default=None, metavar="PATH",
                   help="fit report base path; writes PATH.txt/.json/.csv "
                        "(default: next to --out, <out>.fit.*)")
    p.add_argument("--replications", "-r", type=int, default=4,
                   help="replications per evaluation, same seed each time (default 4)")
    p.add_argument("--seed", type=seed_type, default=1, help="random seed of the fit (default 1)")
    p.add_argument("--max-evals", type=int, default=40,
                   help="budget of objective evaluations (default 40)")
    p.add_argument("--horizon-days", type=int, default=None,
                   help="simulate this many days during the fit (the output keeps the "
                        "scenario's own horizon)")
    p.add_argument("--stop-within", type=float, default=0.5, metavar="TOL",
                   help="stop once every target is within TOL of its tolerance and every "
                        "plausibility limit holds (default 0.5; 0 = run until scipy converges "
                        "or the budget is spent)")
    p.add_argument("--check-replications", type=int, default=0, metavar="N",
                   help="after the fit, rerun the calibrated scenario with N replications "
                        "and a new seed, and report those values too (default 0: skip)")
    p.add_argument("--workers", "-w", type=int, default=None,
                   help="worker processes (default: min(replications, CPUs))")
    p.add_argument("--max-utilisation", type=float, default=None, metavar="U",
                   help="plausibility limit: busy / on-duty time of the fitted scenario "
                        "(default: the audit's plausibility.max_utilisation, else 0.90)")
    p.add_argument("--max-backlog-growth", type=float, default=None, metavar="G",
                   help="plausibility limit: growth of open deferrable work over the second "
                        "half of the window, share of on-duty time (default 0.02)")
    p.add_argument("--max-report-backlog-days", type=float, default=None, metavar="D",
                   help="plausibility limit: reports unsent at the horizon, in days of "
                        "dictation (default 15)")
    p.add_argument("--limit-weight", type=float, default=None, metavar="W",
                   help="penalty per scale beyond a plausibility limit (default 10; 0 reports "
                        "the limits without enforcing them)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario field before calibrating (repeatable)")
    add_quiet(p)
    p.set_defaults(func=cmd_calibrate)


def _parse_fit(text: str) -> list[tuple[str, float | None, float | None]]:
    out = []
    for item in (x.strip() for x in text.split(",")):
        if not item:
            continue
        m = re.fullmatch(r"([^=]+?)(?:=([-+0-9.eE]+):([-+0-9.eE]+))?", item)
        if m is None:
            raise UsageError(f"--fit: '{item}' is not NAME or NAME=LOW:HIGH, e.g. "
                             "deferrable.granularity=0.2:2")
        try:
            lo = float(m.group(2)) if m.group(2) else None
            hi = float(m.group(3)) if m.group(3) else None
        except ValueError:
            raise UsageError(f"--fit: bounds of '{item}' are not numbers; write NAME=LOW:HIGH") from None
        out.append((m.group(1).strip(), lo, hi))
    return out


def _parameters(args, audit, data: dict) -> tuple[list[Parameter], list[tuple[str, str]]]:
    """The free parameters, and every problem with them as (field, sentence)."""
    from .parameters import ParameterError, resolve

    from_cli = args.fit is not None
    wanted = (_parse_fit(args.fit) if from_cli
              else [(p.name, p.lower, p.upper) for p in audit.free_parameters()])
    if not wanted:
        return [], [("fit", "no free parameters: name them with --fit (e.g. --fit "
                            "booking.rate_scale,deferrable.granularity) or in the audit's "
                            "'fit' list")]
    out, problems, seen = [], [], set()
    for i, (name, lo, hi) in enumerate(wanted):
        where = "--fit" if from_cli else f"fit[{i}]"
        if name in seen:
            problems.append((where, f"'{name}' is given twice; list each parameter once"))
            continue
        seen.add(name)
        try:
            out.append(resolve(name, data).bounded(lo, hi))
        except ParameterError as exc:
            problems.append((where, str(exc)))
    return out, problems


def _limits(args, audit):
    """Plausibility limits and weight: the CLI flags over the audit's ``plausibility``."""
    from pydantic import ValidationError

    from . import limits
    from .audit import Plausibility

    base = audit.plausibility if audit is not None and audit.plausibility is not None \
        else Plausibility()
    flags = {"max_utilisation": "--max-utilisation", "max_backlog_growth":
             "--max-backlog-growth", "max_report_backlog_days": "--max-report-backlog-days",
             "weight": "--limit-weight"}
    given = {field: getattr(args, flag[2:].replace("-", "_")) for field, flag in flags.items()}
    try:  # the flags go through the audit's own field rules (finite, in range)
        plaus = Plausibility.model_validate(
            {**base.model_dump(), **{k: v for k, v in given.items() if v is not None}})
    except ValidationError as exc:
        err = exc.errors()[0]
        raise UsageError(f"{flags[str(err['loc'][0])]}: {err['msg'].lower()} "
                         f"(got {err['input']!r})") from None
    values = {f: getattr(plaus, f) for f in ("max_utilisation", "max_backlog_growth",
                                             "max_report_backlog_days")}
    return limits.build(**values), plaus.weight


def cmd_calibrate(args) -> int:
    from simulation.scenario.composition import compose, read_composed, set_path

    from . import report
    from .audit import AuditError, problems, read_audit
    from .fit import Calibration, Settings

    for opt, value, least in (("--replications", args.replications, 2),
                              ("--max-evals", args.max_evals, 2),
                              ("--check-replications", args.check_replications, 0)):
        if value < least:
            raise UsageError(f"{opt} must be at least {least}")
    audit, found = read_audit(args.audit)
    data = read_composed(args.scenario)
    for assignment in args.overrides:
        data = set_path(data, assignment)
    base = compose(data, [], args.scenario)
    cal = base.calendar
    if args.horizon_days is not None and args.horizon_days <= cal.warmup_days:
        raise UsageError(f"--horizon-days must exceed the scenario's warm-up ({cal.warmup_days} "
                         "days); give a longer horizon")
    # Every problem of the audit at once: the file, against the scenario, its parameters.
    if audit is not None:
        found += problems(audit, base)
    params, bad_params = _parameters(args, audit, data) if audit is not None else ([], [])
    found += bad_params
    if found:
        raise AuditError(found, args.audit)
    limits, weight = _limits(args, audit)
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be at least 1")
    workers = args.workers or max(1, min(args.replications, os.cpu_count() or 1))
    out = Path(args.out) if args.out else Path("outputs") / f"calibrated_{base.name}.yaml"
    if out.exists() and out.is_dir():
        raise UsageError(f"--out '{out}' is a folder; give the path of the .yaml file to write")
    if out.exists() and out.resolve() == Path(args.scenario).resolve():
        raise UsageError(f"--out '{out}' is the input scenario; write the calibrated one "
                         "to another file")
    stem = out.name[:-len(".yaml")] if out.name.endswith(".yaml") else out.stem
    name = stem if re.fullmatch(r"[A-Za-z0-9_.\-]+", stem) else None
    from simulation.cli.progress import Progress

    bar = Progress("calibrate: evaluations", args.max_evals, enabled=not args.quiet)

    def progress(line: str) -> None:
        bar.note(line.split(" ", 2)[-1])  # "eval N/M cost ..." -> the cost and parameters
        bar.step()

    settings = Settings(replications=args.replications, seed=args.seed,
                        horizon_days=args.horizon_days, max_evals=args.max_evals,
                        workers=workers, stop_within=args.stop_within, progress=progress,
                        limits=limits, limit_weight=weight)
    try:
        result = Calibration(data, audit, params, settings, args.scenario, args.audit).run(
            args.check_replications)
    finally:
        bar.finish()
    print(report.text(result, base.name, colour=report.use_colour(sys.stdout)))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report.scenario_yaml(result, args.scenario, name), encoding="utf-8")
    paths = report.write_report(result, base.name, args.report or out.with_name(stem + ".fit"))
    print(f"\nCalibrated scenario written to {out}; report: "
          f"{', '.join(str(p) for p in paths)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run ``calibrate`` alone (same error handling as ``secsim``)."""
    from simulation.cli.main import main as secsim_main

    return secsim_main(["calibrate", *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    sys.exit(main())

