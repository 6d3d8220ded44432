"""The terminal KPI table: one column per department, or ALL only for a big group."""

from __future__ import annotations

import pandas as pd
import pytest

from simulation.reporting.terminal import MAX_DEPARTMENT_COLUMNS, kpi_table


def summary(departments: int) -> pd.DataFrame:
    names = ["ALL", *(f"dept_{i:02d}" for i in range(departments))]
    return pd.DataFrame([{"department": d, "kpi": "pickup_rate", "mean": 0.5 + i / 1000,
                          "ci_low": 0.4, "ci_high": 0.6, "n": 2}
                         for i, d in enumerate(names)])


@pytest.mark.parametrize("departments", [1, 4, MAX_DEPARTMENT_COLUMNS])
def test_each_department_has_its_column(departments):
    table = kpi_table(summary(departments), "title")
    header = table.splitlines()[1]
    assert all(f"dept_{i:02d}" in header for i in range(departments))
    assert "summary.csv" not in table


def test_a_big_group_prints_all_only_and_says_where_the_rest_is():
    n = MAX_DEPARTMENT_COLUMNS + 1
    table = kpi_table(summary(n), "title")
    assert "dept_" not in table
    assert f"({n} departments:" in table and "summary.csv" in table
    assert max(len(line) for line in table.splitlines()) < 200
    assert "50.0%" in table  # ALL's own mean is still there
