"""Every department's KPIs computed in one pass (``analysis.grouping``) equal the KPIs of that
department's rows alone.

The definition of a department's row is "the KPIs of its rows": ``department_rows`` on
tables filtered to one department gives, as its ALL row, what the one-pass computation
must give as that department's row. Checked on the baseline, on the booking desk (which
transfers callers: callers with several legs) and on a small hospital group.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation.analysis import kpis
from simulation.analysis.grouping import ByDepartment
from simulation.engine.model import simulate, with_follow_up
from simulation.engine.staff import open_day_mask
from simulation.runs.runner import categories_of, report_targets
from simulation.scenario.calendar import MINUTES_PER_DAY
from simulation.scenario.composition import compose, load_composed
from simulation.scenario.group import hospital_group

ROOT = Path(__file__).resolve().parents[2]
STAFF_ONLY = ["utilisation", "interruptions_per_hour", "on_duty_hours"]  # ALL row only


def rows_of(scenario, tables, departments):
    cal = scenario.calendar
    return kpis.department_rows(
        tables, cal.warmup_days * MINUTES_PER_DAY, cal.horizon_days * MINUTES_PER_DAY,
        scenario.kpis.service_level_seconds / 60, open_day_mask(with_follow_up(scenario)),
        categories_of(scenario), departments, targets=report_targets(scenario),
        end=with_follow_up(scenario).calendar.horizon_days * MINUTES_PER_DAY)


def group():
    data = hospital_group(8, seed=3)
    data["calendar"].update(horizon_days=10, warmup_days=2)
    return compose(data)


def bundled(name: str):
    return lambda: load_composed(ROOT / "scenarios" / f"{name}.yaml",
                                 ["calendar.horizon_days=14", "calendar.warmup_days=3"])


@pytest.mark.parametrize("make", [bundled("baseline"), bundled("booking_desk"), group],
                         ids=["baseline", "booking_desk", "group"])
def test_each_department_row_is_the_kpis_of_its_own_rows(make, request):
    scenario = make()
    tables = simulate(scenario, 5, 0)
    departments = list(scenario.departments)
    together = rows_of(scenario, tables, departments).set_index("department")
    if "booking_desk" in request.node.name:
        assert (tables["calls"].leg == "transfer").any()
    for dept in departments:
        alone = {name: (df[df.department == dept] if name in kpis.DEPARTMENT_TABLES else df)
                 for name, df in tables.items()}
        expected = rows_of(scenario, alone, []).set_index("department").loc[kpis.ALL]
        got = together.loc[dept]
        pd.testing.assert_series_equal(got.drop(STAFF_ONLY), expected.drop(STAFF_ONLY),
                                       check_exact=True, check_names=False, obj=dept)


def test_by_department_counts_sums_and_values():
    dept = pd.Series(["b", "a", "x", "b", "a", "b"], dtype="str")  # "x": not asked for
    g = ByDepartment.of(dept, {"a": 0, "b": 1, "c": 2})
    values = np.array([1.0, 2.0, 4.0, 8.0, np.nan, 0.5])
    assert g.count(np.ones(6, dtype=bool)) == [2, 3, 0]
    assert g.count(values > 1) == [1, 1, 0]
    got = g.values(values)
    assert got[0][0] == 2.0 and np.isnan(got[0][1]) and len(got[0]) == 2
    assert len(got) == 3 and len(got[2]) == 0  # "x" is in no department
    assert got[1].tolist() == [1.0, 8.0, 0.5]  # row order kept
    assert [s.value for s in g.sums(values)] == [2.0, 9.5, 0.0]
    assert [s.n for s in g.sums(values, values < 5)] == [1, 2, 0]
    empty = ByDepartment.of(pd.Series([], dtype="str"), {"a": 0})
    assert empty.count(np.zeros(0, dtype=bool)) == [0]
    assert [x.tolist() for x in empty.values(np.zeros(0))] == [[]]
