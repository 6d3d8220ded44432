"""Audit files and sweep specs refuse NaN and infinity with an error naming the field."""

from __future__ import annotations

import pytest
import yaml
from sweep_fixtures import tiny_spec, write_spec
from test_calibration import AUDITS

from calibration.audit import AuditError, load_audit
from simulation.sweeps.spec import SpecError, load_spec


@pytest.mark.parametrize("value", [".nan", ".inf"])
def test_a_non_finite_audit_figure_is_named(tmp_path, value):
    text = (AUDITS / "aphp_sls_lrb_2016.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    data.setdefault("interruptions", {})["per_hour"] = 1.0
    path = tmp_path / "audit.yaml"
    path.write_text(yaml.safe_dump(data).replace("per_hour: 1.0", f"per_hour: {value}"),
                    encoding="utf-8")
    with pytest.raises(AuditError, match="interruptions.per_hour"):
        load_audit(path)


def test_a_non_finite_latin_hypercube_bound_is_named(tmp_path):
    spec = tiny_spec(design="lhs", samples=4, parameters={
        "calls": {"path": "departments.clinic.streams.booking_calls.arrivals.per_day",
                  "low": 10.0, "high": float("inf")}})
    with pytest.raises(SpecError, match="high"):
        load_spec(write_spec(tmp_path, spec))


@pytest.mark.parametrize("flag, value", [("--max-backlog-growth", "inf"),
                                         ("--max-report-backlog-days", "nan"),
                                         ("--limit-weight", "-1"),
                                         ("--max-utilisation", "1.5")])
def test_a_bad_plausibility_flag_is_refused_by_the_audit_rules(capsys, flag, value):
    from conftest import BASELINE

    from simulation.cli.main import main

    code = main(["calibrate", str(BASELINE), "--audit", str(AUDITS / "aphp_sls_lrb_2016.yaml"),
                 "--out", "unused.yaml", flag, value, "-q"])
    err = capsys.readouterr().err
    assert code == 2 and flag in err and "Traceback" not in err
