"""A snappy command line: what answers at once imports no heavy library.

`secsim --help`, `validate`, and a `run` or `compare` refused for a bad file or `--set`
must answer in well under a second; pandas, pyarrow and scipy.stats alone take 2-3 s to
import. Checked on what is imported (deterministic), not on a timing.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT

HEAVY = ("pandas", "pyarrow", "scipy.stats", "simpy")
BASELINE = str(ROOT / "scenarios" / "baseline.yaml")
POOLED = str(ROOT / "scenarios" / "pooled_phones.yaml")
BAD = ["--set", "calendar.horizon_dayz=5"]


def imported_after(argv: list[str]) -> tuple[int, list[str]]:
    """Exit status of ``secsim ARGV`` in a fresh interpreter, and the heavy modules it loaded."""
    code = (
        "import json, sys\n"
        "from simulation.cli.main import main\n"
        "try:\n"
        f"    rc = main({argv!r})\n"
        "except SystemExit as exc:\n"
        "    rc = exc.code\n"
        f"print(json.dumps([rc, [m for m in {HEAVY!r} if m in sys.modules]]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    rc, heavy = json.loads(out.stdout.strip().splitlines()[-1])
    return rc, heavy


@pytest.mark.parametrize("argv", [
    ["--help"],
    ["validate", BASELINE],
    ["run", BASELINE, *BAD],
    ["compare", BASELINE, POOLED, *BAD],
], ids=["help", "validate", "run-bad-set", "compare-bad-set"])
def test_quick_answers_import_no_heavy_library(argv):
    rc, heavy = imported_after(argv)
    assert rc in (0, 2), rc  # help/valid: 0; refused input: 2
    assert heavy == [], f"secsim {' '.join(argv[:1])} imported {heavy}"
