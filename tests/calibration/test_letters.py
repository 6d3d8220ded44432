"""Letters in an audit: the delay from dictation to sending as a calibration target.

A hospital knows its letter delay (a published quality indicator) long before it knows
how often its doctors sign; ``letters`` in an audit lets ``secsim calibrate`` fit the
doctors' sign-off (``doctors.absence_rate``, ``doctors.leave_weeks``,
``doctors.time_scale``) to it.

Tolerances. The recovery test measures the synthetic audit with the fit's own seed and
replications (a paired design, as in test_fit.py), so the truth reproduces it exactly and
the error left is what the residual at the written scenario explains plus what common
random numbers cannot pair, at most z = 3.29 standard errors of the fit's replications.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from test_calibration import AUDITS, BASELINE, clinic

from calibration.audit import Audit, AuditError, check, load_audit, read_audit
from calibration.fit import Calibration, Settings
from calibration.measure import (
    LETTERS_MEAN,
    LETTERS_UNFINISHED,
    LETTERS_WITHIN,
    letter_figures,
    measure,
    pool,
)
from calibration.parameters import ParameterError, resolve, unshare
from simulation import load_scenario
from simulation.analysis import kpis
from simulation.engine.model import simulate, with_follow_up
from simulation.engine.staff import open_day_mask
from simulation.scenario.calendar import MINUTES_PER_DAY

Z = stats.norm.ppf(0.5 + 0.999 / 2)  # 3.29, the project's per-check level
REPS = 4
TRUTH = 0.4  # share of days the doctors miss


def doctors_clinic(days: int = 56, absence: float = 0.05) -> dict:
    """``clinic`` whose reports are signed by six doctors in a weekly sitting."""
    data = clinic(days)
    dept = data["departments"]["clinic"]
    dept["streams"]["reports"].pop("validation_delay")
    dept["streams"]["reports"]["target_days"] = 7
    dept["doctors"] = {"count": 6, "sittings": [{"per_week": 1, "start": "17:30", "minutes": 60}],
                       "time_per_report": {"dist": "lognormal", "mean": 2.5, "cv": 0.6},
                       "absence_rate": absence}
    return data


def letters_audit(**letters) -> dict:
    return {"name": "letters", "title": "t", "source": {"citation": "made up for a test"},
            "letters": letters, "fit": ["doctors.absence_rate"]}


# ----------------------------------------------------------------------------- the file
@pytest.mark.parametrize("letters, field, fix", [
    ({"within_days": 8}, "letters", "give both"),
    ({"share_within": 0.5}, "letters", "give both"),
    ({}, "letters", "add 'mean_days'"),  # and no second, general "no figure" sentence
    ({"mean_days": -3}, "letters.mean_days", "greater than 0"),
    ({"within_days": 8, "share_within": 50}, "letters.share_within", "less than or equal to 1"),
])
def test_a_bad_letters_section_names_the_field_and_the_fix(tmp_path, letters, field, fix):
    import yaml
    path = tmp_path / "a.yaml"
    path.write_text(yaml.safe_dump(letters_audit(**letters)), encoding="utf-8")
    _, found = read_audit(path)
    assert any(where == field and fix in what for where, what in found), found
    assert not any("the audit gives no figure" in what for _, what in found), found


def test_an_audit_with_no_figure_is_refused(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("name: a\ntitle: t\nsource: {citation: c}\n", encoding="utf-8")
    _, found = read_audit(path)
    assert any("gives no figure" in what and "'letters'" in what for _, what in found), found


@pytest.mark.parametrize("letters, change, expected", [
    ({"mean_days": 10, "departments": ["surgery"]}, None, "unknown department 'surgery'"),
    ({"mean_days": 10, "target_days": [0]}, None, "no dictation stream"),
    ({"mean_days": 10, "target_days": [3]}, None, "reports have targets 7"),
    ({"mean_days": 10}, {"follow_up_days": 0}, "follow_up_days is 0"),
])
def test_letters_the_scenario_cannot_give_are_explained(letters, change, expected):
    data = doctors_clinic()
    if change:
        data["calendar"].update(change)
    audit = Audit.model_validate(letters_audit(**letters))
    with pytest.raises(AuditError) as info:
        check(audit, load_scenario(data), "a.yaml")
    assert expected in str(info.value) and "letters" in str(info.value)


def test_the_bundled_letters_audit_fits_the_baseline_as_it_stands():
    audit = load_audit(AUDITS / "chuv_2019_letters.yaml")
    check(audit, load_scenario(BASELINE), "chuv_2019_letters.yaml")  # no problem
    assert not audit.shares and audit.letters.mean_days == 13
    assert audit.letters.share_within is None  # the share within 8 days is the check


# ------------------------------------------------------------------ the model's figures
def two_departments(days: int = 28, absence: float = 0.05, follow_up: int = 60) -> dict:
    """``doctors_clinic`` with a second department whose letters are J0 and whose doctors
    are away much more, so that a selector that is ignored changes the figures."""
    data = doctors_clinic(days, absence)
    data["calendar"]["follow_up_days"] = follow_up
    ward = unshare(data["departments"]["clinic"])
    ward["streams"] = {"letters": {**ward["streams"]["reports"], "target_days": 0}}
    ward["doctors"]["absence_rate"] = 0.7
    data["departments"]["ward"] = ward
    data["teams"]["secretariat"]["departments"].append("ward")
    return data


@pytest.mark.parametrize("absence, follow_up", [(0.05, 60), (0.8, 5)],
                         ids=["all-sent", "some-unsent-at-the-cap"])
def test_letter_figures_are_the_report_kpis(absence, follow_up):
    """With no selector, the letters' figures are the run's own KPIs (same definitions),
    also when letters are still unsent at the follow-up cap."""
    scenario = load_scenario(doctors_clinic(28, absence))
    scenario = scenario.model_copy(update={"calendar": scenario.calendar.model_copy(
        update={"follow_up_days": follow_up})})
    t = simulate(scenario, 3, 0)
    warmup, horizon = 2 * MINUTES_PER_DAY, 28 * MINUTES_PER_DAY
    run = with_follow_up(scenario)
    end, mask = run.calendar.horizon_days * MINUTES_PER_DAY, open_day_mask(run)
    got = letter_figures(t["reports"], warmup, horizon, (kpis.WITHIN_DAYS, None, None), end,
                         mask)
    want = kpis.report_kpis(t["reports"], warmup, horizon, mask, end=end)
    assert math.isclose(got[LETTERS_MEAN], want["report_delay_mean_days"], rel_tol=1e-12)
    assert got[LETTERS_WITHIN] == want[f"report_within_{kpis.WITHIN_DAYS}d_share"]
    assert got[LETTERS_UNFINISHED] == want["reports_unfinished"]
    assert (got[LETTERS_UNFINISHED] > 0) == (follow_up == 5)  # the case is exercised


def test_selectors_pick_the_letters():
    scenario = load_scenario(two_departments())
    t = simulate(scenario, 3, 0)
    warmup, horizon = 2 * MINUTES_PER_DAY, 28 * MINUTES_PER_DAY
    r, mask = t["reports"], open_day_mask(with_follow_up(scenario))

    def figures(departments=None, targets=None):
        return letter_figures(r, warmup, horizon, (8, departments, targets), np.inf, mask)

    clinic_only = figures(frozenset({"clinic"}))
    assert figures(targets=frozenset({7})) == clinic_only  # the clinic's letters are J7
    assert figures(frozenset({"ward"})) == figures(targets=frozenset({0}))
    assert clinic_only != figures() != figures(frozenset({"ward"}))
    none = figures(targets=frozenset({3}))
    assert math.isnan(none[LETTERS_MEAN]) and math.isnan(none[LETTERS_WITHIN])


# ------------------------------------------------------------------------ the parameters
def test_doctor_parameters_touch_every_department_with_doctors():
    data = unshare(doctors_clinic())
    p = resolve("doctors.absence_rate", data)
    assert (p.start, p.log) == (0.05, False)
    p.apply(data, 0.3)
    assert data["departments"]["clinic"]["doctors"]["absence_rate"] == 0.3
    scale = resolve("doctors.time_scale", data)
    scale.apply(data, 2.0)
    assert data["departments"]["clinic"]["doctors"]["time_per_report"]["mean"] == 5.0
    assert load_scenario(data)  # still a valid scenario


def test_doctor_parameters_need_doctors():
    with pytest.raises(ParameterError, match="no department of the scenario declares doctors"):
        resolve("doctors.leave_weeks", unshare(clinic()))


# ----------------------------------------------------------------------------- the fit
def test_recovers_a_known_absence_rate_from_letter_delays():
    truth = doctors_clinic(absence=TRUTH)
    pooled = pool([measure(load_scenario(truth), 1, r, (), (8.0, None, None))
                   for r in range(REPS)])
    mean, within = (float(pooled.loc[k, "mean"]) for k in (LETTERS_MEAN, LETTERS_WITHIN))
    audit = Audit.model_validate(letters_audit(mean_days=mean, within_days=8,
                                               share_within=within))
    base = doctors_clinic()  # starts at 0.05
    settings = Settings(replications=REPS, seed=1, max_evals=25, stop_within=0.2,
                        operating_point=False)
    r = Calibration(base, audit, [resolve("doctors.absence_rate", base)], settings).run()
    assert r.status.startswith("converged"), r.status
    left = max(abs(v.mean - tg.value) / tg.tolerance for tg, v in zip(r.targets, r.final.values))
    slope = abs(r.jacobian[:, 0]).max()  # residual (tolerances) per unit of the rate
    assert abs(r.fitted[0] - TRUTH) <= Z * r.se[0] + left / slope, (r.fitted, r.se)
