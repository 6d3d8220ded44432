"""Routing, preemption and hand-over rules on hand-made, fully deterministic timelines.

Streams have zero arrival rates; the tests inject work at chosen minutes into a
``Model`` and check the exact segments (who worked on what, when). Times are minutes
from day 0, 00:00; all calendars are always open.
"""

from __future__ import annotations

import math

import pytest
from conftest import at, build, one_caller, scenario_dict, source

from simulation.engine.model import Model

DEPT = "cardiology"


def quiet_scenario(shifts: dict[str, tuple[str, str]], horizon_days: int = 1,
                   resumption_cost: float = 0.0, **policy) -> Model:
    """A model with one call stream and one back-office stream that never fire by themselves."""
    data = scenario_dict(
        {"calls": {"type": "call", "arrivals": {"per_day": 0}, "service": 5},
         "files": {"type": "back_office", "arrivals": {"per_day": 0}, "duration": 5}},
        horizon_days=horizon_days,
        interruptions={"resumption_cost": resumption_cost, **policy})
    data["teams"]["secretariat"]["secretaries"] = {
        name: {"shift": {"start": s, "end": e}} for name, (s, e) in shifts.items()}
    return Model(build(data), seed=1)


def file_task(model: Model, time: float, work: float) -> None:
    at(model, time, lambda: model.ctx.new_task("patient_file", DEPT, "files", "patient_file",
                                               False, work))


def call(model: Model, time: float, service: float, patience: float = math.inf) -> None:
    line = source(model, "calls")
    draws = one_caller(service, patience)
    at(model, time, lambda: line.offer(draws, 0, model.ctx.next_id(), 1, "first"))


def timeline(tables) -> list[tuple]:
    """(secretary, kind, start, end, reason) of every segment, in time order."""
    s = tables["segments"].sort_values(["start", "secretary"])
    return [(r.secretary, r.kind, r.start, r.end, r.reason) for r in s.itertuples()]


def test_unfinished_task_goes_to_an_idle_colleague_at_end_of_shift():
    """A task left at the end of a shift is taken at once by an idle, eligible colleague."""
    m = quiet_scenario({"early": ("00:00", "12:00"), "late": ("06:00", "24:00")})
    file_task(m, 600, 180)  # early has been idle longest: she takes it, 60 min remain at noon
    file_task(m, 601, 60)  # late takes this one and is idle again from 661
    tables = m.run()
    assert timeline(tables) == [
        ("early", "patient_file", 600, 720, "off_duty"),
        ("late", "patient_file", 601, 661, "done"),
        ("late", "patient_file", 720, 780, "done"),
    ]
    assert (tables["tasks"].status == "done").all()


def test_paused_task_goes_to_an_idle_colleague_when_she_leaves():
    """A task interrupted near the end of a shift is handed over when its secretary leaves."""
    m = quiet_scenario({"early": ("00:00", "12:00"), "late": ("06:00", "24:00")})
    file_task(m, 600, 180)  # early
    file_task(m, 601, 125)  # late, busy until 726
    call(m, 710, 20)  # nobody idle: interrupts early (the longest on her task); ends 730
    tables = m.run()
    assert timeline(tables) == [
        ("early", "patient_file", 600, 710, "interrupted"),
        ("late", "patient_file", 601, 726, "done"),
        ("early", "call", 710, 730, "done"),  # urgent work runs past the end of the shift
        ("late", "patient_file", 730, 800, "done"),
    ]
    assert tables["presence"].query("secretary == 'early'").end.max() == 730


def test_interrupted_task_resumes_first_with_its_resumption_cost():
    """After the call she resumes her task (plus the resumption cost) before older queued work."""
    m = quiet_scenario({"solo": ("00:00", "24:00")}, resumption_cost=2.0)
    file_task(m, 100, 60)
    file_task(m, 120, 30)  # queued behind the task in hand
    call(m, 130, 10)
    tables = m.run()
    assert timeline(tables) == [
        ("solo", "patient_file", 100, 130, "interrupted"),
        ("solo", "call", 130, 140, "done"),
        ("solo", "patient_file", 140, 172, "done"),  # 30 left + 2 to get back into it
        ("solo", "patient_file", 172, 202, "done"),
    ]
    first = tables["tasks"].sort_values("created").iloc[0]
    assert (first.work, first.resumption, first.n_interruptions) == (60, 2, 1)
    (row,) = tables["interruptions"].itertuples()
    assert (row.time, row.task_kind, row.by_kind) == (130, "patient_file", "call")


def test_a_call_never_interrupts_a_call():
    """A secretary on the phone finishes her call; the next caller waits in line."""
    m = quiet_scenario({"solo": ("00:00", "24:00")})
    call(m, 100, 10)
    call(m, 105, 5)
    tables = m.run()
    assert tables["interruptions"].empty
    calls = tables["calls"].sort_values("arrival")
    assert list(calls.answered) == [100, 110]
    assert list(calls.ended) == [110, 115]


def test_idle_colleague_answers_before_anyone_is_interrupted():
    """idle_colleague_answers: the call goes to the idle secretary, the typist is left alone."""
    m = quiet_scenario({"a": ("00:00", "24:00"), "b": ("00:00", "24:00")})
    file_task(m, 100, 60)
    call(m, 110, 5)
    tables = m.run()
    assert tables["interruptions"].empty
    busy = {(r.secretary, r.kind) for r in tables["segments"].itertuples()}
    assert len({sec for sec, _ in busy}) == 2


def test_task_put_back_at_end_of_shift_keeps_its_place():
    """Work left at the end of a shift is resumed the next day before younger work."""
    m = quiet_scenario({"solo": ("00:00", "12:00")}, horizon_days=2)
    file_task(m, 700, 60)  # 20 min done before noon, 40 left
    file_task(m, 710, 10)  # younger: waits behind it
    tables = m.run()
    assert timeline(tables) == [
        ("solo", "patient_file", 700, 720, "off_duty"),
        ("solo", "patient_file", 1440, 1480, "done"),
        ("solo", "patient_file", 1480, 1490, "done"),
    ]


@pytest.mark.parametrize("department, expected", [("cardiology", 10.0), ("rheumatology", 15.0)])
def test_specialty_penalty_lengthens_other_departments_work(department, expected):
    """Outside her home department a secretary takes (1 + specialty_penalty) x the time."""
    data = scenario_dict({"files": {"type": "back_office", "arrivals": {"per_day": 0},
                                    "duration": 5}},
                         team_fields={"specialty_penalty": 0.5},
                         secretary_fields={"home_department": "cardiology"})
    data["departments"]["rheumatology"] = {"streams": {
        "files": {"type": "back_office", "arrivals": {"per_day": 0}, "duration": 5}}}
    data["teams"]["secretariat"]["departments"] = ["cardiology", "rheumatology"]
    m = Model(build(data), seed=1)
    at(m, 100, lambda: m.ctx.new_task("patient_file", department, "files", "patient_file",
                                      False, 10.0))
    (seg,) = m.run()["segments"].itertuples()
    assert seg.end - seg.start == pytest.approx(expected)


# ----------------------------------------------------------------------------- resumption
def test_task_put_back_at_end_of_shift_pays_the_resumption_cost():
    """A paused task is a paused task: work put back at the end of a shift costs the
    resumption cost when it is picked up again the next day."""
    m = quiet_scenario({"solo": ("00:00", "12:00")}, horizon_days=2, resumption_cost=2.0)
    file_task(m, 700, 60)  # 20 min done before noon, 40 left
    tables = m.run()
    assert timeline(tables) == [
        ("solo", "patient_file", 700, 720, "off_duty"),
        ("solo", "patient_file", 1440, 1482, "done"),  # 40 left + 2 to get back into it
    ]
    (task,) = tables["tasks"].itertuples()
    assert (task.resumption, task.n_interruptions) == (2.0, 0)


def test_paused_task_handed_over_pays_the_resumption_cost():
    """An interrupted task handed to a colleague when its secretary leaves costs her
    colleague the resumption cost (once: the interruption's)."""
    m = quiet_scenario({"early": ("00:00", "12:00"), "late": ("06:00", "24:00")},
                       resumption_cost=2.0)
    file_task(m, 600, 180)  # early
    file_task(m, 601, 125)  # late, busy until 726
    call(m, 710, 20)  # interrupts early; ends 730, after her shift
    tables = m.run()
    assert timeline(tables)[-1] == ("late", "patient_file", 730, 802, "done")  # 70 + 2
    first = tables["tasks"].sort_values("created").iloc[0]
    assert (first.resumption, first.n_interruptions) == (2.0, 1)


def pooled_model(resumption_cost: float) -> Model:
    """A cardiology secretary who also serves rheumatology's files at a 50% penalty."""
    data = scenario_dict(
        {"calls": {"type": "call", "arrivals": {"per_day": 0}, "service": 5},
         "files": {"type": "back_office", "arrivals": {"per_day": 0}, "duration": 5}},
        team_fields={"specialty_penalty": 0.5}, horizon_days=1,
        secretary_fields={"home_department": "cardiology"},
        interruptions={"resumption_cost": resumption_cost})
    data["departments"]["rheumatology"] = {"streams": {
        "files": {"type": "back_office", "arrivals": {"per_day": 0}, "duration": 5}}}
    data["teams"]["secretariat"]["departments"] = ["cardiology", "rheumatology"]
    return Model(build(data), seed=1)


def test_specialty_penalty_applies_to_the_work_not_to_the_resumption_cost():
    """The penalty stretches the task's work once; getting back into it costs the same to
    everybody, so the resumption cost is not stretched."""
    m = pooled_model(resumption_cost=3.0)
    at(m, 100, lambda: m.ctx.new_task("patient_file", "rheumatology", "files", "patient_file",
                                      False, 10.0))  # 15 real minutes
    call(m, 106, 2)  # 6 real minutes done = 4 nominal; 6 nominal = 9 real minutes left
    tables = m.run()
    assert timeline(tables) == [
        ("ama_0", "patient_file", 100, 106, "interrupted"),
        ("ama_0", "call", 106, 108, "done"),
        ("ama_0", "patient_file", 108, 120, "done"),  # 3 (cost) + 9 (work x 1.5)
    ]
    task = tables["tasks"].query("kind == 'patient_file'").iloc[0]
    assert (task.work, task.resumption) == (10.0, 3.0)


def test_one_resumption_cost_per_interruption_even_during_the_resumption():
    """Interrupted again while getting back into it: the unpaid part of the first cost is
    still owed and the new interruption adds one cost, no more."""
    m = quiet_scenario({"solo": ("00:00", "24:00")}, resumption_cost=3.0)
    file_task(m, 100, 10)
    call(m, 104, 2)  # 6 left; back at 106 with 3 to get into it
    call(m, 107, 2)  # 1 of the 3 paid; back at 109: 2 + 3 + 6
    tables = m.run()
    assert timeline(tables)[-1] == ("solo", "patient_file", 109, 120, "done")
    task = tables["tasks"].query("kind == 'patient_file'").iloc[0]
    assert (task.resumption, task.n_interruptions) == (6.0, 2)
