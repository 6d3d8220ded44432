"""The doctors' sign-off load estimated before a run, and the warning when it reaches 1.

The estimate (``volumes.signoff_load``) is checked against a hand computation and against
what a run's doctors actually do: over a long run the doctor minutes used per week are the
need and the sitting minutes held per week are the time given, within z = 3.29 standard
errors of the counts they come from (Poisson arrivals, Bernoulli absences and leave weeks).
"""

from __future__ import annotations

import math

import pytest
from conftest import MINUTES_PER_DAY, build
from scipy import stats

from simulation.engine.model import simulate
from simulation.scenario.volumes import signoff_load, signoff_warnings

Z = stats.norm.ppf(0.5 + 0.999 / 2)


def scenario(minutes: float = 40, absence: float = 0.25, leave: float = 13,
             front_end: dict | None = None, days: int = 14, follow_up: int = 0) -> dict:
    """60 letters a week, two doctors signing Tuesdays and Fridays."""
    stream = {"type": "dictation", "arrivals": {"per_day": 12},
              "typing": {"dist": "lognormal", "mean": 12, "cv": 0.5}, "target_days": 7}
    if front_end is not None:
        stream["voice_recognition"] = {"mode": "front_end", "adoption": 0.5}
    doctors = {"count": 2, "sittings": [{"days": ["tue", "fri"], "start": "17:30",
                                         "minutes": minutes}],
               "time_per_report": 3, "absence_rate": absence, "leave_weeks": leave,
               "rework": {"share": 0.1}, "front_end": front_end or {}}
    return {"name": "load",
            "calendar": {"horizon_days": days, "warmup_days": 0, "follow_up_days": follow_up},
            "departments": {"cardiology": {"streams": {"letters": stream}, "doctors": doctors}},
            "teams": {"secretariat": {"departments": ["cardiology"], "secretaries": {
                "ama_1": {"shift": {"start": "08:30", "end": "17:00"}},
                "ama_2": {"shift": {"start": "08:30", "end": "17:00"}}}}}}


def test_load_is_the_hand_computation():
    need, have = signoff_load(build(scenario()))["cardiology"]
    assert math.isclose(need, 60 * 3 * 1.1)  # every report once, 10% twice
    assert math.isclose(have, 2 * 2 * 40 * (1 - 0.25) * (1 - 13 / 52))


@pytest.mark.parametrize("when, per_report", [
    ("next_sitting", 0.5 * (3 * 1.1) + 0.5 * (3 + 2)),  # front-end reports: no rework
    ("at_dictation", 0.5 * (3 * 1.1) + 0.5 * 3),         # corrected outside the sittings
])
def test_front_end_corrections_count_only_when_made_in_a_sitting(when, per_report):
    need, _ = signoff_load(build(scenario(front_end={"when": when})))["cardiology"]
    assert math.isclose(need, 60 * per_report)


def test_a_load_of_one_or_more_warns_naming_the_doctors_and_the_fix():
    assert signoff_warnings(build(scenario(minutes=120))) == []
    (path, message), = signoff_warnings(build(scenario(minutes=40)))
    assert path == "departments.cardiology.doctors"
    assert "load 2.20 >= 1" in message and "lengthen sittings" in message


def test_a_long_run_uses_what_the_estimate_says():
    """Doctor minutes used and sitting minutes held per week match the estimate (load < 1)."""
    days, minutes = 364, 120
    data = scenario(minutes=minutes, days=days, follow_up=120)
    need, have = signoff_load(build(data))["cardiology"]
    t = simulate(build(data), seed=7)
    weeks = days / 7
    # Doctor minutes of the reports dictated in the run, each followed until sent: Poisson
    # reports (60 a week), each signed 1 + Bernoulli(0.1) times for 3 min (variance 1.3 x
    # the mean count).
    r = t["reports"]
    r = r[r.dictated < days * MINUTES_PER_DAY]
    assert (r.status == "sent").all()
    window = set(r.report_id)
    signed = t["signoffs"]
    used = float((signed.end - signed.start)[signed.report_id.isin(window)].sum())
    sd_used = 3 * math.sqrt(1.3 * 60 * weeks) / weeks
    assert abs(used / weeks - need) <= Z * sd_used
    # Sittings held per doctor-week: (not on leave, q) x (Tuesday + Friday present, 0.75
    # each), two doctors.
    q, p = 1 - 13 / 52, 0.75
    var_week = q * (2 * p + 2 * p * p) - (2 * p * q) ** 2
    sd_held = minutes * math.sqrt(2 * weeks * var_week) / weeks
    sit = t["sittings"]
    held = float(sit.available[sit.start < days * MINUTES_PER_DAY].sum())
    assert abs(held / weeks - have) <= Z * sd_held


def test_closed_and_away_days_give_no_sitting_time():
    """Sittings on public holidays or on a doctor's declared away days do not happen."""
    data = scenario(minutes=120)  # 14 days from a Monday: Tuesdays and Fridays 1, 4, 8, 11
    full = signoff_load(build(data))["cardiology"][1]
    data["departments"]["cardiology"]["doctors"]["away"] = {"cardiology_dr1": [1, 4]}
    assert math.isclose(signoff_load(build(data))["cardiology"][1], full * 3 / 4)
    data["calendar"]["closed_days"] = [1, 4, 8, 11]
    assert signoff_load(build(data))["cardiology"][1] == 0.0
    (path, message), = signoff_warnings(build(data))
    assert "load infinite" in message
