"""Calibration building blocks: audit files and their errors, parameter transforms, analytic
workload (no fitting here; see test_fit.py)."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import pytest
import yaml
from scipy import stats

from calibration import targets as tg
from calibration import workload
from calibration.audit import Audit, AuditError, check, load_audit
from calibration.parameters import ParameterError, resolve, unshare
from simulation import load_scenario
from simulation.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
AUDITS = ROOT / "calibration" / "audits"
BASELINE = ROOT / "scenarios" / "baseline.yaml"
WEEK = ["mon", "tue", "wed", "thu", "fri"]


def clinic(horizon_days: int = 21) -> dict:
    """A one-department secretariat with every kind of work (plain data, as in YAML)."""
    lognormal = lambda mean, cv=0.5: {"dist": "lognormal", "mean": mean, "cv": cv}  # noqa: E731
    return {
        "name": "clinic",
        "calendar": {"horizon_days": horizon_days, "warmup_days": 2,
                     "opening_hours": {d: ["08:30", "17:00"] for d in WEEK}},
        "departments": {"clinic": {"streams": {
            "booking_calls": {"type": "call", "audit_category": "booking",
                              "arrivals": {"per_day": 30}, "service": lognormal(3.0, 0.6),
                              "patience": {"dist": "exponential", "mean": 3.0}},
            "walk_ins": {"type": "walk_in", "arrivals": {"per_day": 25}, "service": lognormal(4.0)},
            "doctor_requests": {"type": "doctor_request", "arrivals": {"per_day": 15},
                                "service": lognormal(4.0, 0.7)},
            "reports": {"type": "dictation", "arrivals": {"per_day": 6},
                        "batches": [{"at": "16:00", "mean_size": 4}], "typing": lognormal(15.0),
                        "validation_delay": lognormal(600.0, 1.0)},
            "files": {"type": "back_office", "kind": "patient_file",
                      "arrivals": {"per_day": 20}, "duration": lognormal(6.0, 0.8)},
        }}},
        "teams": {"secretariat": {"departments": ["clinic"], "secretaries": {
            "ama_1": {"shift": {"start": "08:30", "end": "16:30"}},
            "ama_2": {"shift": {"start": "09:00", "end": "17:00"}}}}},
    }


def audit_data(**over) -> dict:
    data = {"name": "test_audit", "title": "test", "source": {"citation": "made up for a test"},
            "shares": {"booking": 0.2, "reception": 0.3, "doctor_assistance": 0.1,
                       "patient_file": 0.4}}
    data.update(over)
    return data


def problems_of(audit: dict, scenario: dict | None = None) -> str:
    with pytest.raises(AuditError) as info:
        check(Audit.model_validate(audit), load_scenario(scenario or clinic()), "a.yaml")
    return str(info.value)


# ----------------------------------------------------------------------------- audit files
@pytest.mark.parametrize("name", ["aphp_sls_lrb_2016", "aphp_2017"])
def test_bundled_audits_fit_the_baseline(name):
    audit = load_audit(AUDITS / f"{name}.yaml")
    check(audit, load_scenario(BASELINE))
    assert abs(sum(audit.shares.values()) - 1) < 1e-9
    assert "docs/sources/seeds/" in audit.source.document
    assert audit.fit, "a bundled audit names its default free parameters"


def test_bundled_2016_audit_figures_match_the_source():
    audit = load_audit(AUDITS / "aphp_sls_lrb_2016.yaml")
    assert audit.shares == {"doctor_assistance": 0.22, "patient_file": 0.43, "reception": 0.21,
                            "booking": 0.14}
    assert audit.interruptions.time_share == 0.29


def test_shares_not_summing_to_one_are_refused(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text(yaml.safe_dump(audit_data(shares={"booking": 0.5, "reception": 0.3})))
    with pytest.raises(AuditError, match=r"shares.*80\.0%, not 100%"):
        load_audit(path)


def test_percentages_are_recognised(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text(yaml.safe_dump(audit_data(shares={"booking": 60, "reception": 40})))
    with pytest.raises(AuditError, match="look like percentages.*0.22 for 22%"):
        load_audit(path)


def test_unknown_category_names_the_field():
    msg = problems_of(audit_data(shares={"booking": 0.5, "secretarial_magic": 0.5}))
    assert "shares.secretarial_magic: unknown audit category" in msg


def test_mapping_must_cover_all_work_and_use_known_kinds():
    rules = [{"kinds": ["typing"], "to": "reports"}]
    msg = problems_of(audit_data(shares={"reports": 1.0}, mapping=rules))
    assert "maps to no audit category" in msg and "catch-all" in msg
    msg = problems_of(audit_data(shares={"reports": 1.0},
                                 mapping=[{"kinds": ["typewriting"], "to": "reports"}]))
    assert "mapping[0].kinds: unknown kind 'typewriting'" in msg


def test_impossible_volume_is_refused():
    volumes = [{"what": "calls", "categories": ["booking"], "value": 400, "per": "day"}]
    msg = problems_of(audit_data(volumes=volumes, staffing={"fte": 2}))
    assert "volumes[0].value" in msg and "more than the 7.6 h on duty" in msg


def test_volume_with_no_matching_stream_is_refused():
    msg = problems_of(audit_data(volumes=[{"what": "calls", "categories": ["reception"],
                                            "value": 10}]))
    assert "volumes[0]: no calls stream" in msg


def test_cli_reports_audit_errors_without_traceback(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(audit_data(shares={"booking": 0.5, "reception": 0.3})))
    code = main(["calibrate", str(BASELINE), "--audit", str(path), "--fit", "booking.rate_scale"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and "shares" in err and "100%" in err


def test_cli_reports_unknown_parameters(capsys):
    code = main(["calibrate", str(BASELINE), "--audit", str(AUDITS / "aphp_2017.yaml"),
                 "--fit", "calls.speed_scale"])
    err = capsys.readouterr().err
    assert code == 2 and "--fit: unknown parameter 'calls.speed_scale'" in err


# ----------------------------------------------------------------------------- parameters
def test_rate_scale_multiplies_arrivals_and_batches():
    data = clinic()
    resolve("patient_file.rate_scale", data).apply(data, 2.0)
    s = data["departments"]["clinic"]["streams"]
    assert s["reports"]["arrivals"]["per_day"] == 12 and s["reports"]["batches"][0]["mean_size"] == 8
    assert s["files"]["arrivals"]["per_day"] == 40 and s["walk_ins"]["arrivals"]["per_day"] == 25


def test_granularity_keeps_the_work_and_changes_the_pieces():
    data = clinic()
    before = load_scenario(copy.deepcopy(data))
    resolve("deferrable.granularity", data).apply(data, 0.5)
    after = load_scenario(data)
    work = lambda sc: {(w.stream, w.kind): w for w in workload.work_items(sc)}  # noqa: E731
    w0, w1 = work(before), work(after)
    for key, w in w0.items():
        assert math.isclose(w1[key].minutes_per_day, w.minutes_per_day, rel_tol=1e-9)
        # Back-office tasks come twice as often, half as long; reports keep their number
        # and are typed in sittings of half the mean typing time.
        factor = 2.0 if w.kind == "patient_file" else 1.0
        assert math.isclose(w1[key].acts_per_day, factor * w.acts_per_day, rel_tol=1e-9)
    reports = after.departments["clinic"].streams["reports"]
    assert reports.typing_session == pytest.approx(0.5 * reports.typing.mean)
    assert before.departments["clinic"].streams["reports"].typing_session is None


def test_transforms_do_not_leak_through_yaml_aliases():
    text = BASELINE.read_text(encoding="utf-8")
    data = unshare({k: v for k, v in yaml.safe_load(text).items() if not k.startswith("x-")})
    resolve("path:departments.cardiology.streams.booking_calls.service.mean", data).apply(data, 9.0)
    depts = data["departments"]
    assert depts["cardiology"]["streams"]["booking_calls"]["service"]["mean"] == 9.0
    assert depts["gastroenterology"]["streams"]["booking_calls"]["service"]["mean"] == 3.5


def test_resumption_and_cv_parameters():
    data = clinic()
    resolve("interruptions.resumption_mean", data).apply(data, 2.5)
    assert load_scenario(data).interruptions.resumption_cost.mean == pytest.approx(2.5)
    p = resolve("calls.booking.service_cv", data)
    assert p.start == 0.6
    p.apply(data, 1.2)
    assert data["departments"]["clinic"]["streams"]["booking_calls"]["service"]["cv"] == 1.2


@pytest.mark.parametrize("name", ["calls.speed_scale", "walk_ins.booking.rate_scale",
                                  "back_office.coding.rate_scale", "path:calendar.nothing"])
def test_unknown_or_empty_parameters_are_refused(name):
    with pytest.raises(ParameterError, match=name.split(".")[0]):
        resolve(name, clinic())


# ----------------------------------------------------------------------------- analytic
def test_analytic_work_is_arrivals_times_mean_duration():
    sc = load_scenario(clinic())
    work = {(w.stream, w.kind): w for w in workload.work_items(sc)}
    assert work[("files", "patient_file")].minutes_per_day == pytest.approx(20 * 6.0)
    assert work[("reports", "typing")].acts_per_day == pytest.approx(6 + 4)
    assert workload.scenario_fte(sc) == pytest.approx(2 * 480 / 456)


def test_micro_share_is_the_lognormal_cdf():
    sc = load_scenario(clinic())
    audit = Audit.model_validate(audit_data(micro_tasks=[
        {"categories": ["booking"], "under_minutes": 5, "share": 0.5}]))
    target = [t for t in tg.build(audit, sc) if t.key == "micro_tasks[0]"][0]
    s2 = math.log1p(0.6 ** 2)
    expected = stats.norm.cdf((math.log(5) - (math.log(3.0) - s2 / 2)) / math.sqrt(s2))
    assert tg.analytic(target, sc) == pytest.approx(expected, rel=1e-9)


def test_volumes_are_rescaled_to_the_scenario_staff():
    sc = load_scenario(clinic())
    audit = Audit.model_validate(audit_data(staffing={"fte": 4.0}, volumes=[
        {"what": "calls", "categories": ["booking"], "value": 50}]))
    target = [t for t in tg.build(audit, sc) if t.key == "volumes[0]"][0]
    assert target.value == pytest.approx(50 * workload.scenario_fte(sc) / 4.0)
    # Default hourly shape: hour 8 weighs 0.5 of 8.5, and half of its calls come before 8:30
    # on a closed line, which creates no work.
    assert tg.analytic(target, sc) == pytest.approx(30.0 * 8.25 / 8.5)
