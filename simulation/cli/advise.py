"""``secsim advise``: how many replications and how much warm-up a scenario needs."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from simulation.cli.common import (
    add_max_events,
    add_overrides,
    add_quiet,
    finite_json,
    load,
    output_folder,
    seed_type,
)
from simulation.errors import UsageError


def register(sub) -> None:
    """Add ``secsim advise`` to the command line."""
    p = sub.add_parser(
        "advise", help="replications needed for a KPI's precision, and the warm-up the "
                       "data suggest (MSER-5)",
        description="Run replications until the 95% interval of --kpi is within "
        "--precision, and check the scenario's warm-up against MSER-5 on the daily series "
        "of a run from empty. See docs/howto-advise.md.")
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--kpi", default="pickup_rate", help="KPI of the ALL row (default pickup_rate)")
    p.add_argument("--precision", type=float, required=True,
                   help="half-width wanted for the KPI's 95%% interval, in its unit "
                        "(e.g. 0.01 = one point of pickup rate)")
    p.add_argument("--relative", action="store_true",
                   help="--precision is a share of the mean (0.05 = ±5%%)")
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    p.add_argument("--initial", type=int, default=5, help="first replications (default 5)")
    p.add_argument("--max-replications", type=int, default=100,
                   help="stop there even if the precision is not met (default 100)")
    p.add_argument("--no-warmup", action="store_true", help="skip the warm-up check")
    p.add_argument("--seed", type=seed_type, default=1, help="random seed >= 0 (default 1)")
    p.add_argument("--workers", "-w", type=int, default=1, help="local worker processes")
    add_overrides(p)
    add_max_events(p)
    p.add_argument("--out", "-o", help="folder for advise.json and advise.html (warm-up plot)")
    p.add_argument("--json", action="store_true", help="print the advice as JSON on stdout")
    add_quiet(p)
    p.set_defaults(func=cmd_advise, command_parser=p)


def cmd_advise(args) -> int:
    """``secsim advise``: sequential replications, then MSER-5 on a run from empty."""
    from simulation.decide.advise import advise_replications, advise_warmup
    from simulation.runs.factory import make_executor

    if not (math.isfinite(args.precision) and args.precision > 0):
        raise UsageError("--precision must be a positive number, e.g. 0.01")
    if not (math.isfinite(args.level) and 0.5 <= args.level < 1):
        raise UsageError("--level must be from 0.5 to below 1, e.g. 0.95")
    for flag, value, low in (("--initial", args.initial, 2), ("--workers", args.workers, 1),
                             ("--max-replications", args.max_replications, 2)):
        if value < low:
            raise UsageError(f"{flag} must be at least {low}")
    scenario = load(args.scenario, args.overrides, args.max_events)
    executor = make_executor("processes", args.workers)
    say = (lambda m: None) if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    try:
        advice = advise_replications(scenario, args.kpi, args.precision, args.seed, executor,
                                     args.relative, args.level, args.initial,
                                     max(args.initial, args.max_replications), notify=say)
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from None
    if not args.no_warmup:
        say(f"warm-up: {args.initial} replications from empty, MSER-5 on daily series")
        advice.warmup = advise_warmup(scenario, args.seed, args.initial, executor)
    payload = finite_json(advice.as_dict())
    if args.out:
        out = output_folder(args.out)
        (out / "advise.json").write_text(json.dumps(payload, indent=2), encoding="utf-8")
        from simulation.reporting.advise import write_advise_report

        write_advise_report(out / "advise.html", advice, args.scenario)
    if args.json:
        print(json.dumps(payload, indent=2))
        return 0
    unit = f"{args.precision:g} x mean" if args.relative else f"{args.precision:g}"
    verdict = "met" if advice.met else f"NOT met after {advice.replications_run} (the maximum)"
    print(f"{scenario.name}: {args.kpi} = {advice.mean:.4g} ± {advice.half_width:.3g} "
          f"({args.level:.0%} CI) with {advice.replications_run} replications; precision "
          f"± {unit} {verdict}.\nReplications needed: about {advice.replications_needed}.")
    if advice.warmup:
        cuts = ", ".join(f"{w.kpi} {w.truncate_days} d" for w in advice.warmup)
        need, have = advice.warmup_needed_days, scenario.calendar.warmup_days
        print(f"Warm-up by MSER-5 (run from empty): {cuts}; the scenario discards {have} d.")
        if have < need:
            print(f"warning: calendar.warmup_days ({have}) is shorter than the {need} days the "
                  f"data suggest; discard {need} days (calendar.warmup_days: {need} in the file, "
                  f"or --set calendar.warmup_days={need}) and lengthen the horizon by as much, "
                  "so start-up effects do not bias the KPIs", file=sys.stderr)
    if args.out:
        print(f"Plot and details: {Path(args.out) / 'advise.html'}")
    return 0
