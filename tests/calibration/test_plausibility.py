"""A fit cannot cheat: plausibility limits, a status that describes the written scenario,
the operating point before and after, and every audit problem at once.

The conflicting audit asks the small clinic for a patient-file share of 18% while its
patient-file work (files and reports, about 300 minutes a day) is held fixed: the other
work would have to bring the total to about 1,650 minutes a day, against about 900
on-duty minutes of its two secretaries. It can only be met above 100% utilisation.
"""

from __future__ import annotations

import json
import math
import re

import pytest
import yaml
from test_calibration import BASELINE, clinic

from calibration import limits as lm
from calibration import report
from calibration import targets as tg
from calibration.audit import Audit
from calibration.fit import Calibration, Settings
from calibration.measure import measure, plain_rules, pool
from calibration.parameters import resolve
from calibration.status import misses, verdict
from simulation import load_scenario
from simulation.cli.main import main

FREE = ["booking.rate_scale", "reception.rate_scale", "doctor_assistance.rate_scale"]
CONFLICT = {"name": "conflict", "title": "only reachable above 100% utilisation",
            "source": {"citation": "test_plausibility.py"},
            "shares": {"booking": 0.40, "reception": 0.27, "doctor_assistance": 0.15,
                       "patient_file": 0.18}}


def small_clinic(horizon: int) -> dict:
    """The clinic followed for a week after its horizon (enough for the before/after)."""
    data = clinic(horizon)
    data["calendar"]["follow_up_days"] = 7
    return data


def _fit(weight: float, horizon: int = 14):
    base = small_clinic(horizon)
    settings = Settings(replications=3, seed=5, max_evals=14, limit_weight=weight,
                        operating_point=weight > 0)
    return Calibration(base, Audit.model_validate(CONFLICT), [resolve(n, base) for n in FREE],
                       settings).run()


@pytest.fixture(scope="module")
def unconstrained():
    """The fit as before this change: the limits reported but not enforced."""
    return _fit(weight=0.0)


@pytest.fixture(scope="module")
def constrained():
    return _fit(weight=lm.DEFAULTS["weight"])


def _limit(result, key: str) -> float:
    return dict(zip((lim.key for lim in result.limits), result.final.limit_values))[key]


def test_unenforced_fit_saturates_and_is_not_called_converged(unconstrained):
    # Without the penalty the optimiser buys the shares with a saturated secretariat...
    assert _limit(unconstrained, "utilisation") > 0.95
    # ...and the status says so instead of "converged".
    assert not unconstrained.converged
    assert unconstrained.status.startswith("NOT converged")
    assert "plausibility limit(s) breached" in unconstrained.status
    assert any("plausibility limit breached: utilisation" in f for f in unconstrained.flags)


def test_limits_hold_and_the_conflict_is_reported(constrained):
    # One utilisation point beyond the limit costs as much as ten points of share; the
    # optimum sits at the limit, within a few of its scales.
    assert _limit(constrained, "utilisation") <= 0.90 + 0.02
    assert not constrained.converged
    assert "the audit conflicts with the plausibility limits (utilisation <= 90.0%)" \
        in constrained.status
    assert {m.key for m in constrained.misses} >= {"share:patient_file"}
    for m in constrained.misses:
        assert abs(m.model - m.audit) > m.tolerance
    assert any(f.startswith("plausibility limit") and "max_utilisation" in f
               for f in constrained.flags)


def test_status_describes_the_written_scenario(constrained, tmp_path):
    # The written scenario (its YAML, read back) re-simulated with the fit's seed and
    # replications gives exactly the figures the status was decided on.
    path = tmp_path / "written.yaml"
    path.write_text(report.scenario_yaml(constrained, "clinic.yaml", "written"), encoding="utf-8")
    written = load_scenario(path)
    rules = plain_rules(constrained.audit.rules())
    pooled = pool([measure(written, 5, r, rules) for r in range(3)])
    values = tg.model_values(constrained.targets, written, pooled)
    for v, f in zip(values, constrained.final.values):
        assert v.mean == pytest.approx(f.mean, rel=1e-12, abs=1e-12)
    assert [m.key for m in misses(constrained.targets, values)] == \
        [m.key for m in constrained.misses]


def test_report_shows_status_misses_limits_and_operating_point(constrained):
    text = report.text(constrained, "clinic")
    assert "Status: NOT converged" in text and "\033[" not in text
    assert "Missed targets (the written scenario, re-simulated):" in text
    assert "share:patient_file: model" in text and "tolerance 1.0%" in text
    assert "Plausibility limit" in text and "max_utilisation" in text
    assert "Operating point" in text
    for _, label, _ in report.HEADLINE:
        assert label in text
    coloured = report.text(constrained, "clinic", colour=True)
    assert f"{report.RED}Status: NOT converged" in coloured
    # Before/after: the fit raised the workload, so utilisation rose.
    before, after = constrained.before["utilisation"][0], constrained.after["utilisation"][0]
    assert math.isfinite(before) and after > before


def test_colour_only_on_a_terminal_without_no_color(monkeypatch):
    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert report.use_colour(Tty())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not report.use_colour(Tty())
    monkeypatch.delenv("NO_COLOR")
    assert not report.use_colour(object())


def test_cli_reports_the_conflict_and_the_operating_point(tmp_path, capsys):
    scenario = tmp_path / "clinic.yaml"
    scenario.write_text(yaml.safe_dump(small_clinic(10)), encoding="utf-8")
    audit = tmp_path / "audit.yaml"
    audit.write_text(yaml.safe_dump({**CONFLICT, "fit": FREE}), encoding="utf-8")
    out = tmp_path / "fitted.yaml"
    code = main(["calibrate", str(scenario), "--audit", str(audit), "--out", str(out),
                 "-r", "2", "--max-evals", "8", "--workers", "1", "-q",
                 "--max-utilisation", "0.85"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "Status: NOT converged" in printed and "Missed targets" in printed
    assert re.search(r"^utilisation +85\.0% ", printed, re.M), "the flag sets the limit"
    data = json.loads((tmp_path / "fitted.fit.json").read_text(encoding="utf-8"))
    assert data["converged"] is False and data["misses"]
    assert {m["key"] for m in data["misses"]} <= {f"share:{c}" for c in CONFLICT["shares"]}
    assert data["limits"][0] == {**data["limits"][0], "key": "utilisation", "bound": 0.85}
    point = data["operating_point"]
    assert set(point) == {k for k, *_ in report.HEADLINE}
    assert all(set(v) == {"before", "after"} for v in point.values())
    text = (tmp_path / "fitted.fit.txt").read_text(encoding="utf-8")
    assert "Operating point" in text and "\033[" not in text
    assert "# MISSED: share:" in out.read_text(encoding="utf-8")


def test_every_audit_problem_is_reported_at_once(tmp_path, capsys):
    bad = {"name": "bad", "title": "many mistakes", "source": {"citation": "test"},
           "shares": {"booking": 0.3, "reception": 0.3, "magic": 0.2},  # 80%, unknown
           "interruptions": {},                                         # no figure
           "volumes": [{"what": "calls", "categories": ["cardiology"], "value": 10}],
           "fit": ["calls.speed_scale", "booking.rate_scale"],
           "tolerances": {"share": -1},
           "colour": "blue"}                                            # unknown field
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad), encoding="utf-8")
    code = main(["calibrate", str(BASELINE), "--audit", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    for expected in ("colour: unknown field; remove it",
                     "shares: shares add up to 80.0%, not 100%",
                     "interruptions: gives neither 'time_share' nor 'per_hour'",
                     "tolerances.share: must be greater than 0",
                     "volumes[0].categories: unknown category 'cardiology'",
                     "shares.magic: unknown audit category 'magic'",
                     "fit[0]: unknown parameter 'calls.speed_scale'"):
        assert expected in err, (expected, err)


def test_penalties_are_one_sided_and_the_verdict_needs_every_target_within_tolerance():
    limits = lm.build(0.9, 0.02, 15.0)
    # Zero well within the limits; from half a scale inside, 10 per scale.
    assert lm.penalties(limits, [0.89, 0.0, 3.0], 10.0).tolist() == [0.0, 0.0, 0.0]
    assert lm.penalties(limits, [0.92, 0.0, 3.0], 10.0)[0] == pytest.approx(25.0)
    target = tg.Target("share:booking", "booking", 0.30, 0.01, "%", True)
    within = verdict([target], [tg.Value(0.30574)], limits, [0.8, 0.0, 3.0], [], None)
    assert within.converged and within.status.startswith("converged")
    off = verdict([target], [tg.Value(0.263)], limits, [0.8, 0.0, 3.0], [], None)
    assert not off.converged and [m.key for m in off.misses] == ["share:booking"]
    assert "3.70 tolerances off" in off.misses[0].sentence()
    beyond = verdict([target], [tg.Value(0.30)], limits, [0.95, 0.0, 3.0], [], None)
    assert not beyond.converged and "plausibility limit(s) breached" in beyond.status
