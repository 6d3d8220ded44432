"""Run every benchmark and print the figures for docs/performance.md.

    python benchmarks/run_all.py            # quick (default): about 4 minutes on 2 cores
    python benchmarks/run_all.py --full     # longer runs, steadier figures (~12 min)
    python benchmarks/run_all.py --json benchmarks/last.json

Each benchmark measures its own baseline in the same run (hand-written SimPy model,
serial executor, small sweep), so the ratios hold across machines; absolute figures
depend on the machine and on other work running on it (the load average is printed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import engine_speed  # noqa: E402
import group_scale  # noqa: E402
import memory_horizon  # noqa: E402
import sweep_memory  # noqa: E402
import sweep_throughput  # noqa: E402
from common import machine, mode_args  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    args = mode_args(argv)
    flags = ["--full"] if args.full else []
    before = machine()
    print(f"machine: {before['cpu']}, {before['cores']} cores, {before['memory']}, Python "
          f"{before['python']}, SimPy {before['simpy']}; load average {before['load_average_1min']}"
          f" ({'full' if args.full else 'quick'} mode)\n")
    results = {"machine": before, "mode": "full" if args.full else "quick"}
    results["engine"] = engine_speed.main(flags)
    print()
    results["throughput"] = sweep_throughput.main(flags)
    print()
    results["memory"] = sweep_memory.main(flags)
    print()
    results["memory_horizon"] = memory_horizon.main(flags)
    print()
    results["group"] = group_scale.main(flags)
    results["load_average_after"] = machine()["load_average_1min"]
    print(f"\nload average at the end: {results['load_average_after']}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
        print(f"results written to {args.json}")
    return results


if __name__ == "__main__":
    main()
