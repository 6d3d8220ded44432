"""Doctors' sign-off: sittings follow the plan, time is conserved, no report is lost.

Deterministic checks on hand-made patterns, then hypothesis on random doctor patterns.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import MINUTES_PER_DAY, WEEKDAYS, build
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulation.engine.model import simulate
from simulation.scenario.errors import ScenarioError

EPS = 1e-6


def doctors_scenario(doctors: dict, horizon_days: int = 14, per_day: float = 12.0,
                     follow_up_days: int = 60, rework: float = 0.0) -> dict:
    """One department open on weekdays 08:30-17:00, two secretaries, one dictation stream."""
    return {
        "name": "doctors",
        "calendar": {"horizon_days": horizon_days, "warmup_days": 0,
                     "follow_up_days": follow_up_days},
        "departments": {"cardiology": {
            "streams": {"letters": {
                "type": "dictation", "arrivals": {"per_day": per_day},
                "typing": {"dist": "lognormal", "mean": 12, "cv": 0.5}, "target_days": 7}},
            "doctors": {**doctors, "rework": {"share": rework}}}},
        "teams": {"secretariat": {"departments": ["cardiology"], "secretaries": {
            "ama_1": {"shift": {"start": "08:30", "end": "17:00"}},
            "ama_2": {"shift": {"start": "08:30", "end": "17:00"}}}}},
    }


PATTERN = {"count": 2, "sittings": [{"days": ["tue", "fri"], "start": "17:30", "minutes": 40}],
           "time_per_report": {"dist": "uniform", "low": 2, "high": 6}}


def test_sittings_happen_on_their_days_at_their_time_and_not_when_away():
    data = doctors_scenario({**PATTERN, "away": {"cardiology_dr2": [1, 4]}})
    tables = simulate(build(data), seed=3)
    sit = tables["sittings"]
    day = (sit.start // MINUTES_PER_DAY).astype(int)
    assert set(WEEKDAYS[d % 7] for d in day) == {"tue", "fri"}
    assert np.allclose(sit.start % MINUTES_PER_DAY, 17 * 60 + 30)
    away = sit[sit.doctor == "cardiology_dr2"]
    assert not set((away.start // MINUTES_PER_DAY).astype(int)) & {1, 4}
    assert set((sit[sit.doctor == "cardiology_dr1"].start // MINUTES_PER_DAY).astype(int)) >= {1, 4}


def test_reports_typed_during_a_sitting_are_signed_in_it():
    """A doctor with time left waits for reports typed while he sits (10:00-12:00)."""
    data = doctors_scenario({**PATTERN, "count": 1, "time_per_report": 3,
                             "sittings": [{"start": "10:00", "minutes": 120}]})
    tables = simulate(build(data), seed=4)
    r = tables["reports"]
    clock = r.typed % MINUTES_PER_DAY
    during = r[(clock >= 600) & (clock < 720 - 3) & r.validated.notna()]
    assert len(during) > 5
    # Typed inside the sitting, signed the same day (it had 2 hours for ~10 reports a day).
    assert ((during.validated // MINUTES_PER_DAY) == (during.typed // MINUTES_PER_DAY)).all()


def test_doctor_absences_do_not_depend_on_the_run_length_or_colleagues():
    """Each doctor's absences come from his own stream: common random numbers."""
    def sitting_days(follow_up, count):
        data = doctors_scenario({**PATTERN, "count": count, "absence_rate": 0.3,
                                 "leave_weeks": 10}, follow_up_days=follow_up)
        sit = simulate(build(data), seed=9)["sittings"]
        sit = sit[(sit.doctor == "cardiology_dr2") & (sit.start < 14 * MINUTES_PER_DAY)]
        return list(sit.start)
    assert sitting_days(10, 2) == sitting_days(60, 2) == sitting_days(60, 3)


def test_per_week_spreads_sittings_over_the_open_days():
    data = doctors_scenario({**PATTERN, "sittings": [{"per_week": 2, "minutes": 40}]})
    sit = simulate(build(data), seed=3)["sittings"]
    assert {WEEKDAYS[int(d) % 7] for d in sit.start // MINUTES_PER_DAY} == {"mon", "wed"}


def check_conservation(tables: dict[str, pd.DataFrame], horizon: float) -> None:
    """Every report accounted for; doctor time adds up and fits in the sittings."""
    reports, signoffs, sittings = tables["reports"], tables["signoffs"], tables["sittings"]
    window = reports[reports.dictated < horizon]
    assert window.report_id.is_unique
    assert set(window.status) <= {"sent", "awaiting_sending", "awaiting_validation",
                                  "awaiting_typing", "in_rework"}
    sent = window[window.status == "sent"]
    assert (sent.typing_started <= sent.typed + EPS).all()
    assert (sent.typed <= sent.validated + EPS).all()
    assert (sent.validated <= sent.sent + EPS).all()
    # One signature per pass: the first one, plus one after each rework.
    signs = signoffs[signoffs.kind == "sign"].groupby("report_id").size()
    signed = reports[reports.validated.notna()].set_index("report_id")
    assert (signs.reindex(signed.index).to_numpy() == signed.reworks.to_numpy() + 1).all()
    # Doctor minutes per report = its sign-off stretches.
    minutes = (signoffs.end - signoffs.start).groupby(signoffs.report_id).sum()
    with_time = reports.set_index("report_id").doctor_minutes
    assert np.allclose(minutes.to_numpy(), with_time.reindex(minutes.index).to_numpy())
    # Minutes used in each sitting <= minutes available, and = the signatures in it.
    assert (sittings.used <= sittings.available + EPS).all()
    assert math.isclose(sittings.used.sum(),
                        (signoffs.end - signoffs.start)[signoffs.kind == "sign"].sum(),
                        rel_tol=1e-9, abs_tol=1e-6)
    # A doctor is never in two places: his signatures do not overlap.
    for _doc, s in signoffs[signoffs.kind == "sign"].groupby("doctor"):
        s = s.sort_values("start")
        assert (s.start.to_numpy()[1:] >= s.end.to_numpy()[:-1] - EPS).all()


def test_conservation_with_rework_and_a_shared_queue():
    data = doctors_scenario({**PATTERN, "queue": "department", "order": "oldest_first"},
                            rework=0.3)
    tables = simulate(build(data), seed=5)
    check_conservation(tables, 14 * MINUTES_PER_DAY)
    reports = tables["reports"]
    assert (reports.reworks > 0).any()
    # Followed to the end: every report dictated before the horizon was sent.
    assert (reports[reports.dictated < 14 * MINUTES_PER_DAY].status == "sent").all()


def test_front_end_costs_the_doctor_and_a_secretary_sends():
    data = doctors_scenario(PATTERN)
    stream = data["departments"]["cardiology"]["streams"]["letters"]
    stream["voice_recognition"] = {"mode": "front_end", "adoption": 1.0}
    for when, kind in (("next_sitting", "sign"), ("at_dictation", "front_end_correction")):
        data["departments"]["cardiology"]["doctors"]["front_end"] = {
            "extra_minutes": 2.5, "when": when}
        tables = simulate(build(data), seed=7)
        reports, tasks = tables["reports"], tables["tasks"]
        assert (tasks.kind == "sending").any() and not (tasks.kind == "typing").any()
        signed = reports[reports.validated.notna()]
        # Every report pays the 2.5 extra minutes beside its 2-6 minutes of reading.
        assert (signed.doctor_minutes >= 2 + 2.5 - EPS).all()
        assert (signed.doctor_minutes <= 6 + 2.5 + EPS).all()
        assert kind in set(tables["signoffs"].kind)


def test_a_longer_report_than_any_sitting_is_signed_alone_not_stuck():
    data = doctors_scenario({**PATTERN, "time_per_report": {"dist": "uniform", "low": 1,
                                                              "high": 60}}, per_day=2)
    tables = simulate(build(data), seed=2)
    reports = tables["reports"]
    assert (reports[reports.dictated < 14 * MINUTES_PER_DAY].status == "sent").all()
    over = tables["sittings"][tables["sittings"].used > tables["sittings"].available]
    assert len(over) > 0, "no report longer than a sitting was drawn: the test proves nothing"
    # An overrun sitting signed exactly one report, the long one.
    for _, s in over.iterrows():
        signs = tables["signoffs"]
        inside = signs[(signs.doctor == s.doctor) & (signs.start >= s.start)
                       & (signs.start < s.start + s.used)]
        assert len(inside) == 1


@pytest.mark.parametrize("doctors, field, words", [
    ({**PATTERN, "sittings": [{"start": "23:00", "minutes": 120}]}, "sittings", "midnight"),
    ({**PATTERN, "count": 0}, "count", ">= 1"),
    ({**PATTERN, "time_per_report": 50}, "time_per_report", "can ever be signed"),
    ({**PATTERN, "sittings": [{"start": "17:00", "minutes": float("nan")}]}, "minutes", "finite"),
    ({**PATTERN, "sittings": [{"start": "17:00", "minutes": -5}]}, "minutes", "> 0"),
    ({**PATTERN, "away": {"dr_who": [3]}}, "away", "unknown doctor"),
    ({**PATTERN, "names": ["a", "b"]}, "doctors", "either 'count' or 'names'"),
    ({**PATTERN, "sittings": [{"days": [], "minutes": 30}]}, "days", "at least 1"),
    ({**PATTERN, "sittings": [{"days": ["tue", "tue"], "minutes": 30}]}, "days", "twice"),
    ({**PATTERN, "leave_weeks": 52}, "leave_weeks", "< 52"),
    ({**PATTERN, "time_per_report": {"dist": "exponential", "mean": float("inf")}},
     "time_per_report", "finite"),
    ({**PATTERN, "time_per_report": {"dist": "empirical", "values": [3, float("inf")]}},
     "time_per_report", "finite"),
])
def test_bad_doctor_patterns_are_clear_errors(doctors, field, words):
    with pytest.raises(ScenarioError) as err:
        build(doctors_scenario(doctors))
    text = str(err.value)
    assert "departments.cardiology.doctors" in text and field in text and words in text, text


def test_a_dictation_without_doctors_needs_a_validation_delay():
    data = doctors_scenario(PATTERN)
    del data["departments"]["cardiology"]["doctors"]
    with pytest.raises(ScenarioError) as err:
        build(data)
    assert "letters.validation_delay" in str(err.value)
    assert "declare departments.cardiology.doctors" in str(err.value)


weekday_sets = st.lists(st.sampled_from(WEEKDAYS[:5]), min_size=1, max_size=5, unique=True)
sittings_st = st.lists(st.fixed_dictionaries({
    "days": weekday_sets,
    "start": st.sampled_from(["07:30", "12:30", "17:00", "18:30"]),
    "minutes": st.floats(10, 120),
}), min_size=1, max_size=3)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(count=st.integers(1, 3), sittings=sittings_st,
       high=st.floats(1, 10), queue=st.sampled_from(["own", "department"]),
       order=st.sampled_from(["fifo", "oldest_first"]), rework=st.floats(0, 0.5),
       absence=st.floats(0, 0.5), seed=st.integers(0, 2**16))
def test_random_doctor_patterns_never_lose_a_report(count, sittings, high, queue, order,
                                                    rework, absence, seed):
    doctors = {"count": count, "sittings": sittings, "queue": queue, "order": order,
               "time_per_report": {"dist": "uniform", "low": 0.5, "high": high},
               "absence_rate": absence}
    data = doctors_scenario(doctors, horizon_days=7, per_day=6, follow_up_days=40,
                            rework=rework)
    tables = simulate(build(data), seed=seed)
    check_conservation(tables, 7 * MINUTES_PER_DAY)
    dictated = tables["reports"]
    # Every dictation is a report; tasks point at existing reports.
    assert set(tables["tasks"].report_id.dropna()) <= set(dictated.report_id)
