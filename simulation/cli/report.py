"""``secsim report FOLDER``: (re)build the HTML report of a run, a comparison or a sweep."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    """Add ``secsim report`` to the command line."""
    p = sub.add_parser("report", help="build report.html from an output folder",
                       description="Builds a self-contained report.html from the folder written "
                                   "by 'secsim run', 'secsim compare' or 'secsim sweep'.")
    p.add_argument("folder", help="output folder of run, compare or sweep")
    p.add_argument("--kpi", action="append", default=None,
                   help="sweeps: KPI to draw (repeatable; default a few headline KPIs)")
    p.add_argument("--x", help="sweeps: swept parameter on the x axis")
    p.add_argument("--y", help="sweeps: second swept parameter (one line or heatmap row each)")
    from simulation.cli.common import add_quiet

    add_quiet(p)
    p.set_defaults(func=cmd_report)


def cmd_report(args) -> int:
    """Write report.html into the folder, whatever kind of results it holds."""
    from simulation.errors import UsageError

    folder = Path(args.folder)
    if not folder.is_dir():
        raise UsageError(f"'{folder}' is not a folder; give the --out folder of a run, "
                         "compare or sweep")
    from simulation.runs.record import RecordError

    try:
        path = _write(folder, args)
    except RecordError as exc:
        raise UsageError(f"{exc}") from None
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise UsageError(f"cannot read the results in '{folder}' ({type(exc).__name__}: "
                         f"{exc}); delete a damaged replication file and rerun the run with --resume "
                         "(or rerun it all)") from None
    if not args.quiet:
        print(f"Report: {path}  (open it in a browser; it needs no network)")
    return 0


def _write(folder: Path, args) -> Path:
    from simulation.errors import UsageError

    if (folder / "comparison.json").exists() or (folder / "comparison.parquet").exists():
        from simulation.reporting.html import write_comparison_report

        path = write_comparison_report(folder)
    elif (folder / "run.json").exists() or (folder / "kpis.parquet").exists():
        from simulation.reporting.html import write_run_report

        path = write_run_report(folder)
    elif _is_sweep(folder):
        from simulation.sweeps.report import write_sweep_report

        path = write_sweep_report(folder, kpis=args.kpi, x=args.x, y=args.y)
    else:
        raise UsageError(f"'{folder}' holds no secsim results (no comparison.json, "
                         "run.json or sweep results); run secsim run/compare/sweep first")
    return path


def _is_sweep(folder: Path) -> bool:
    try:
        from simulation.sweeps.report import is_sweep_folder
    except ImportError:
        return False
    return is_sweep_folder(folder)
