"""``secsim optimise``: the cheapest variant of a scenario that meets every KPI target."""

from __future__ import annotations

import contextlib
import json
import math
import sys
from pathlib import Path

from simulation.cli.common import (
    add_max_events,
    add_overrides,
    add_quiet,
    finite_json,
    output_folder,
    seed_type,
)
from simulation.errors import UsageError
from simulation.reporting.settings import describe_settings


def register(sub) -> None:
    """Add ``secsim optimise`` to the command line."""
    p = sub.add_parser(
        "optimise", aliases=["optimize"],
        help="find the cheapest staffing/organisation meeting KPI targets, with a guarantee",
        description="Search the combinations of --vary for the one with the fewest secretary "
        "FTE (or the lowest --minimise KPI) whose KPIs meet every --target on a one-sided "
        "confidence bound, with common random numbers across candidates. See "
        "docs/howto-optimise.md.")
    p.add_argument("scenario", help="base scenario YAML file")
    p.add_argument("--vary", action="append", default=[], metavar="PATH=VALUES",
                   help="a scenario path and its values: a range LO..HI[:STEP] or a list "
                        "a,b,c (YAML values), e.g. teams.cardiology_secretariat.size=1..5; "
                        "repeat for each path (the grid of all combinations is searched)")
    p.add_argument("--target", action="append", default=[], metavar="KPI>=VALUE",
                   help='a KPI bound to meet, e.g. "pickup_rate>=0.9" or '
                        '"report_delay_mean_days<=10"; KPI@department for one department; '
                        "repeat for each target")
    p.add_argument("--minimise", "--minimize", default="fte", metavar="fte|KPI",
                   help="what to minimise among feasible candidates (default fte: total "
                        "secretary full-time equivalents)")
    p.add_argument("--replications", "-r", type=int, default=20,
                   help="most replications per candidate (default 20)")
    p.add_argument("--initial", type=int, default=5,
                   help="replications before the first check (default 5)")
    p.add_argument("--batch", type=int, default=5,
                   help="replications added while a target is not settled (default 5)")
    p.add_argument("--level", type=float, default=0.95,
                   help="confidence that a feasible candidate meets all targets (default 0.95)")
    p.add_argument("--seed", type=seed_type, default=1, help="random seed >= 0 (default 1)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", "-w", type=int, metavar="N",
                       help="local worker processes (default 1)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run replications on an existing Dask cluster (dask extra)")
    where.add_argument("--dask-local", type=int, metavar="N",
                       help="start a local Dask cluster of N worker processes")
    add_overrides(p)
    add_max_events(p)
    p.add_argument("--out", "-o", help="output folder (default outputs/<scenario>_optimise; "
                                       "its cache/ makes a rerun resume)")
    p.add_argument("--json", action="store_true",
                   help='print {"best", "kpis", "evaluated", "method"} as JSON on stdout')
    add_quiet(p)
    p.set_defaults(func=cmd_optimise, command_parser=p)


def _check(args) -> None:
    if not args.vary:
        raise UsageError("give at least one --vary PATH=VALUES, e.g. "
                         "--vary teams.cardiology_secretariat.size=1..5")
    if not args.target:
        raise UsageError('give at least one --target, e.g. --target "pickup_rate>=0.9"')
    for flag, value, low in (("--replications", args.replications, 2),
                             ("--initial", args.initial, 2), ("--batch", args.batch, 1),
                             ("--workers", args.workers or 1, 1),
                             ("--dask-local", args.dask_local or 1, 1)):
        if value < low:
            raise UsageError(f"{flag} must be at least {low}")
    if not (math.isfinite(args.level) and 0.5 <= args.level < 1):
        raise UsageError("--level must be a confidence level from 0.5 to below 1, e.g. 0.95")


def cmd_optimise(args) -> int:
    """``secsim optimise``: search, print the candidates and the best one, write the folder."""
    from simulation.decide.evaluate import ReplicationFailed, ScenarioEvaluator
    from simulation.decide.optimise import FTE, UnknownKpi, optimise
    from simulation.decide.space import candidates, parse_target, parse_vary
    from simulation.scenario.composition import read_composed, set_path, unshared

    _check(args)
    variations = [parse_vary(v) for v in args.vary]
    targets = [parse_target(t) for t in args.target]
    grid = candidates(variations)
    base = read_composed(args.scenario)
    for assignment in args.overrides:
        base = set_path(unshared(base), assignment)
    out = output_folder(args.out or Path("outputs") / f"{base.get('name', 'scenario')}_optimise")
    executor = _executor(args)
    evaluator = ScenarioEvaluator(base, args.scenario, args.seed, executor, out / "cache",
                                  args.max_events)
    # The base must load, and every path must exist in it: check before any simulation.
    evaluator.scenario({})
    _check_paths(base, variations)

    def progress(e) -> None:
        if not args.quiet:
            print(f"  {describe_settings(e.settings)}: {e.cost:g} FTE, {e.replications} "
                  f"replications, {e.status} ({e.reason})", file=sys.stderr, flush=True)

    if not args.quiet:
        print(f"{len(grid)} candidates; targets: {', '.join(map(str, targets))}",
              file=sys.stderr)
    # One Dask cluster for every batch of the search (a local one takes seconds to start).
    session = getattr(executor, "session", contextlib.nullcontext)
    try:
        with session():
            outcome = optimise(grid, targets, evaluator, args.replications, args.initial,
                               args.batch, args.level, args.minimise, on_evaluation=progress)
    except UnknownKpi as exc:
        raise UsageError(str(exc)) from None
    except ReplicationFailed as exc:
        print(f"a replication failed: {exc}\nthe replications finished so far are kept in "
              f"{out}/cache; rerun the same command to continue", file=sys.stderr)
        return 1
    for e in outcome.evaluations:
        if e.status == "invalid":
            print(f"skipped {describe_settings(e.settings)}: not a valid scenario: {e.reason}",
                  file=sys.stderr)
    _write(out, outcome, evaluator, args)
    payload = _payload(outcome)
    if args.json:
        print(json.dumps(payload, indent=2, default=str))
    else:
        print(_table(outcome))
        print(f"\nMethod: {outcome.method}")
    if outcome.best is None:
        closest = outcome.closest
        hint = (f" The closest is {describe_settings(closest.settings)} ({closest.cost:g} FTE): "
                f"{closest.reason}." if closest is not None else "")
        print(f"No candidate meets every target ({', '.join(map(str, targets))}).{hint} "
              "Widen the ranges, relax a target or allow more replications.", file=sys.stderr)
        return 1
    if not args.json:
        b = outcome.best
        print(f"\nBest: {describe_settings(b.settings)} — {b.cost:g} FTE"
              + ("" if args.minimise == FTE else
                 f", {args.minimise} {b.kpis[args.minimise]['mean']:.4g}")
              + f"\nResolved scenario: {out / 'best.yaml'} (run it with secsim run); "
              f"candidates: {out / 'evaluated.csv'}; report: {out / 'report.html'}")
    return 0


def _executor(args):
    """Local processes (default 1), or a Dask cluster (--scheduler, --dask-local)."""
    from simulation.runs.factory import make_executor

    if args.scheduler or args.dask_local:
        from simulation.runs.dask_executor import DaskExecutor, DaskUnavailable

        try:
            executor = DaskExecutor(workers=args.dask_local, scheduler=args.scheduler)
            executor.check()
            return executor
        except DaskUnavailable as exc:
            raise UsageError(str(exc)) from None
    return make_executor("processes", args.workers or 1)


def _check_paths(base: dict, variations) -> None:
    """Each --vary path must lead to an existing section of the base scenario."""
    for v in variations:
        node = base
        parts = v.path.split(".")
        for i, part in enumerate(parts[:-1]):
            if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            elif isinstance(node, dict) and part in node:
                node = node[part]
            else:
                raise UsageError(f"--vary {v.path}: '{'.'.join(parts[:i + 1])}' is not in the "
                                 "scenario; check the path against the scenario file")


def _payload(outcome) -> dict:
    best = outcome.best
    kpis = {} if best is None else {
        "fte": {"mean": best.cost, "low": best.cost, "high": best.cost}, **best.kpis}
    return finite_json({"best": best.settings if best else None,
                   "kpis": kpis,
                   "evaluated": [e.as_dict() for e in outcome.evaluations
                                 if e.status != "not evaluated"],
                   "method": outcome.method})


def short_names(paths: list[str]) -> dict[str, str]:
    """Column names for paths: the parts that differ between them (the last part if one)."""
    split = [p.split(".") for p in paths]
    if len(split) == 1:
        return {paths[0]: ".".join(split[0][-2:])}
    head = 0
    while all(len(s) > head + 1 and s[head] == split[0][head] for s in split):
        head += 1
    tail = 0
    while all(len(s) > head + tail + 1 and s[-1 - tail] == split[0][-1 - tail] for s in split):
        tail += 1
    return {p: ".".join(s[head:len(s) - tail]) for p, s in zip(paths, split)}


def _table(outcome) -> str:
    rows = sorted((e for e in outcome.evaluations if e.status not in ("not evaluated",)),
                  key=lambda e: (math.inf if math.isnan(e.cost) else e.cost, e.index))
    paths = list(outcome.evaluations[0].settings) if outcome.evaluations else []
    names = short_names(paths) if paths else {}
    head = [names[p] for p in paths] + ["FTE", "reps", "status"] + \
        [f"{t.key} [95% CI]" for t in outcome.targets]
    body = []
    for e in rows:
        cells = [json.dumps(e.settings[p]) for p in paths]
        cells += [f"{e.cost:g}", str(e.replications), e.status]
        for t in outcome.targets:
            k = e.kpis.get(t.key)
            cells.append(f"{k['mean']:.4g} [{k['low']:.4g}, {k['high']:.4g}]" if k else "-")
        if e is outcome.best:
            cells[-1] += "  <- best"
        body.append(cells)
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h)
              for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in body]
    skipped = sum(e.status == "not evaluated" for e in outcome.evaluations)
    if skipped:
        lines.append(f"({skipped} costlier candidates not needed)")
    return "\n".join(lines)


def _write(out: Path, outcome, evaluator, args) -> None:
    """evaluated.csv/.parquet, best.yaml, optimise.json and report.html in ``out``."""
    import pandas as pd

    from simulation.reporting.optimise import write_optimise_report
    from simulation.scenario.io import dump_yaml

    records = []
    for e in outcome.evaluations:
        row = {**{f"vary:{k}": json.dumps(v) for k, v in e.settings.items()},
               "fte": e.cost, "replications": e.replications, "status": e.status,
               "best": e is outcome.best, "reason": e.reason}
        for k, ci in e.kpis.items():
            row.update({f"{k}_mean": ci["mean"], f"{k}_low": ci["low"], f"{k}_high": ci["high"]})
        records.append(row)
    table = pd.DataFrame(records)
    table.to_csv(out / "evaluated.csv", index=False)
    table.to_parquet(out / "evaluated.parquet", index=False)
    (out / "optimise.json").write_text(json.dumps(_payload(outcome), indent=2,
                                                  default=str), encoding="utf-8")
    if outcome.best is not None:
        best = evaluator.scenario(outcome.best.settings)
        # Its own name, so running it never writes over the base scenario's outputs.
        best = best.model_copy(update={"name": f"{best.name}_optimised"})
        header = (f"Best candidate of: secsim optimise {args.scenario} "
                  + " ".join(f"--vary {v}" for v in args.vary) + " "
                  + " ".join(f'--target "{t}"' for t in args.target)
                  + f"\nsettings: {describe_settings(outcome.best.settings)}; "
                  f"{outcome.best.cost:g} FTE; seed {args.seed}")
        (out / "best.yaml").write_text(dump_yaml(best, header), encoding="utf-8")
    elif (out / "best.yaml").exists():
        (out / "best.yaml").unlink()  # a stale answer from an earlier search
    from simulation.scenario.io import to_plain

    base = to_plain(evaluator.scenario(outcome.best.settings if outcome.best else {}))
    meta = {"seed": args.seed, "replications_requested": args.replications,
            "executor": getattr(evaluator.executor, "name", "processes"),
            "command": " ".join(sys.argv)}
    write_optimise_report(out / "report.html", outcome, args.scenario, base, meta)
