"""The reports' STRESS-DES section: every checklist item, filled from scenario and record."""

from __future__ import annotations

import re

from simulation.reporting.stress import stress_des_section

ITEMS = ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4", "3.1", "3.2", "3.3", "3.4", "4.1",
         "4.2", "4.3", "5.1", "5.2", "5.3", "5.4", "6"]


def test_section_has_every_item_and_the_runs_own_settings():
    resolved = {"name": "pool", "description": "Phones pooled <b>",
                "calendar": {"horizon_days": 63, "warmup_days": 7, "follow_up_days": 60},
                "applied_levers": [{"lever": "pooling"}]}
    meta = {"seed": 42, "replications_completed": [0, 1, 2], "executor": "processes",
            "started": "2026-12-04T01:00:00", "finished": "2026-12-04T01:05:00"}
    text = stress_des_section([("pool", resolved, meta)])
    cells = re.findall(r"<tr><td>([\d.]+) ", text)
    assert cells == ITEMS
    assert "<details>" in text and "horizon 63 days, warm-up 7 days" in text
    assert "3 replications, seed 42" in text and "pooling" in text
    assert "2026-12-04" not in text  # no run times: identical results, identical report
    assert "Phones pooled &lt;b&gt;" in text  # scenario text is escaped
    assert "simpy" in text and "numpy" in text
