"""The data dictionary and the KPI table describe exactly the columns a run writes."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import simulation

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["calendar.horizon_days=9", "calendar.warmup_days=2"]
CALENDAR = ("_day", "_weekday", "_clock")


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    scenario = simulation.load_scenario(ROOT / "scenarios" / "baseline.yaml", SMALL)
    simulation.run(scenario, replications=2, seed=1, out=out)
    return out


def documented_columns(markdown: str) -> dict[str, list[str]]:
    """Per table heading (## or ### name), the column names of its table's first column:
    backticked names, with ``(+ `_day`, ...)`` expanded onto the name before it."""
    tables: dict[str, list[str]] = {}
    current = None
    for line in markdown.splitlines():
        heading = re.match(r"^#{2,3} (\w+)", line)
        if heading:
            current = heading.group(1)
            continue
        if current is None or not line.startswith("| `"):
            continue
        cell = line.split("|")[1]
        names = re.findall(r"`([^`]+)`", cell)
        cols: list[str] = []
        for name in names:
            if name.startswith("_") and cols:
                cols.append(cols[0] + name)
            else:
                cols.insert(0, name) if not cols else cols.append(name)
        tables.setdefault(current, []).extend(cols)
    return tables


def matches(column: str, documented: list[str]) -> bool:
    for doc in documented:
        pattern = re.escape(doc).replace(re.escape("<category>"), "[a-z_]+")
        pattern = pattern.replace(re.escape("<N>"), "[0-9]+")
        if re.fullmatch(pattern, column):
            return True
    return False


def test_every_written_table_and_column_is_in_the_data_dictionary(written):
    docs = documented_columns((ROOT / "docs" / "events.md").read_text(encoding="utf-8"))
    files = {p.stem: p for p in written.glob("*.parquet")}
    tables = set(files) - {"kpis", "summary"}
    assert tables <= set(docs), f"tables not described in docs/events.md: {tables - set(docs)}"
    for name in sorted(tables):
        columns = list(pd.read_parquet(files[name]).columns)
        missing = [c for c in columns if not matches(c, docs[name])]
        assert not missing, f"docs/events.md, table {name}: describe {missing}"
        stale = [d for d in docs[name] if "<" not in d and d not in columns]
        assert not stale, f"docs/events.md, table {name}: no such column {stale}"


def test_every_kpi_column_is_defined_in_the_readme(written):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## KPI definitions"):readme.index("## Outputs")]
    documented = [n for line in section.splitlines() if line.startswith("| `")
                  for n in re.findall(r"`([^`]+)`", line.split("|")[1])]
    columns = list(pd.read_parquet(written / "kpis.parquet").columns)
    missing = [c for c in columns if not matches(c, documented)]
    assert not missing, f"README 'KPI definitions' does not define {missing}"
    stale = [d for d in documented if "<" not in d and d not in columns]
    assert not stale, f"README 'KPI definitions' defines columns that do not exist: {stale}"
