"""Each lever changes what it should, and only that (same seed => same other streams)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from simulation.engine.model import simulate
from simulation.scenario.composition import load_composed, load_scenario
from simulation.scenario.errors import ScenarioError

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
SHORT = ["calendar.horizon_days=21", "calendar.warmup_days=0"]


def with_levers(tmp_path: Path, *levers: dict, name: str = "variant") -> Path:
    """A scenario file extending the bundled baseline with the given levers."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"extends": str(BASELINE), "name": name,
                                    "levers": list(levers)}))
    return path


def binomial_ok(successes: int, trials: int, p: float, z: float = 4.0) -> bool:
    """Within z standard errors of the expected count (z=4: false alarm ~6e-5)."""
    sd = math.sqrt(trials * p * (1 - p))
    return abs(successes - trials * p) <= z * sd


def first_attempts(calls, stream: str | None = None, exclude: str | None = None):
    c = calls[(calls.attempt == 1) & (calls.leg == "first")]
    if stream is not None:
        c = c[c.stream == stream]
    if exclude is not None:
        c = c[c.stream != exclude]
    return c.sort_values(["department", "stream", "arrival"])[["department", "stream", "arrival"]]


@pytest.fixture(scope="module")
def base_tables():
    return simulate(load_composed(BASELINE, SHORT), seed=11, replication=0)


def test_online_booking_diverts_share_of_booking_calls_only(tmp_path, base_tables):
    """Booking calls drop by the share (a subset of the same calls); other arrivals are identical."""
    share = 0.38
    sc = load_composed(with_levers(tmp_path, {"lever": "online_booking", "share": share}), SHORT)
    t = simulate(sc, seed=11, replication=0)
    base_b = first_attempts(base_tables["calls"], "booking_calls")
    new_b = first_attempts(t["calls"], "booking_calls")
    # Remaining booking calls are exactly a subset of the baseline ones (same arrival times).
    assert set(new_b.itertuples(index=False)) <= set(base_b.itertuples(index=False))
    diverted = len(base_b) - len(new_b)
    assert binomial_ok(diverted, len(base_b), share)
    checks = t["tasks"][t["tasks"].kind == "online_check"]
    assert len(checks) == diverted
    # Every other call stream, the desk and the back office see the very same arrivals.
    assert first_attempts(t["calls"], exclude="booking_calls").to_numpy().tolist() == \
        first_attempts(base_tables["calls"], exclude="booking_calls").to_numpy().tolist()
    assert np.array_equal(np.sort(t["visits"].arrival), np.sort(base_tables["visits"].arrival))
    other = lambda tasks: np.sort(tasks[tasks.kind.isin(["patient_file", "doctor_request"])].created)
    assert np.array_equal(other(t["tasks"]), other(base_tables["tasks"]))


def test_online_booking_lengthens_remaining_booking_calls(tmp_path, base_tables):
    """The complex-case factor scales the service time of the calls that remain."""
    factor = 1.2
    sc = load_composed(with_levers(tmp_path, {"lever": "online_booking", "share": 0.11,
                                              "complex_factor": factor}), SHORT)
    t = simulate(sc, seed=11, replication=0)
    keys = ["department", "stream", "arrival"]
    base_b = base_tables["calls"].query("attempt == 1 and stream == 'booking_calls'")
    new_b = t["calls"].query("attempt == 1 and stream == 'booking_calls'")
    merged = new_b.merge(base_b, on=keys, suffixes=("", "_base"))
    assert len(merged) == len(new_b)
    assert np.allclose(merged.service, factor * merged.service_base)


def test_back_end_voice_recognition_shortens_typing_by_the_factor(tmp_path, base_tables):
    """Adopted dictations are proofread in factor x typing time; the others are unchanged."""
    sc = load_composed(with_levers(tmp_path, {"lever": "voice_recognition", "mode": "back_end",
                                              "adoption": 0.6, "proofreading_factor": 0.4}), SHORT)
    t = simulate(sc, seed=11, replication=0)
    rep_new, rep_base = t["reports"], base_tables["reports"]
    assert np.array_equal(np.sort(rep_new.dictated), np.sort(rep_base.dictated))

    def typing(tt):
        # Dictations of one batch share their time: number them in dictation order.
        reports = tt["reports"].sort_values("report_id")
        reports = reports.assign(nth=reports.groupby(["department", "stream", "dictated"]).cumcount())
        typed = tt["tasks"][tt["tasks"].kind == "typing"].merge(
            reports[["report_id", "mode", "department", "stream", "dictated", "nth", "typed"]],
            on=["report_id", "department", "stream"])
        # The first typing pass only: corrections after the doctor's sign-off (rework) are
        # typing tasks created after the report was typed.
        return typed[~(typed.created > typed.typed)]

    new, base = typing(t), typing(base_tables)
    # Reports dictated in the follow-up after the horizon exist only as long as it lasts.
    horizon = float(t["period"].horizon.iloc[0])
    new, base = new[new.dictated < horizon], base[base.dictated < horizon]
    m = new.merge(base, on=["department", "stream", "dictated", "nth"], suffixes=("", "_b"))
    vr = m[m["mode"] == "back_end"]
    assert np.allclose(vr.work, 0.4 * vr.work_b)
    assert np.allclose(m[m["mode"] == "secretary"].work, m[m["mode"] == "secretary"].work_b)
    assert binomial_ok(len(vr), len(m), 0.6)


def test_front_end_voice_recognition_removes_secretary_typing(tmp_path):
    """With full front-end adoption no report is typed or sent by a secretary."""
    sc = load_composed(with_levers(tmp_path, {"lever": "voice_recognition", "mode": "front_end",
                                              "adoption": 1.0}), SHORT)
    t = simulate(sc, seed=3, replication=0)
    assert not t["tasks"].kind.isin(["typing"]).any()
    sent = t["reports"][t["reports"].status == "sent"]
    assert len(sent) > 0 and (sent["mode"] == "front_end").all() and sent.typed.isna().all()
    # The baseline's doctors sign in sittings and a secretary sends the report.
    assert (sent.sent >= sent.validated).all() and sent.doctor.notna().all()
    sending = t["tasks"][t["tasks"].kind == "sending"]
    assert set(sending.report_id) >= set(sent.report_id)
    # Without doctors the doctor sends it himself at validation: no secretary at all.
    for dept in sc.departments.values():
        dept.doctors = None
        for s in dept.streams.values():
            if s.type == "dictation":
                s.validation_delay = 240.0
    t = simulate(sc, seed=3, replication=0)
    assert not t["tasks"].kind.isin(["typing", "sending"]).any()
    sent = t["reports"][t["reports"].status == "sent"]
    assert len(sent) > 0 and (sent.sent == sent.validated).all()


def test_front_back_split_back_office_is_never_interrupted(tmp_path):
    """Back-office secretaries never take urgent work, so their typing is never interrupted."""
    sc = load_composed(with_levers(tmp_path, {
        "lever": "front_back_split",
        "back_office": {"cardiology_secretariat": 1, "ortho_secretariat": ["ortho_ama_1"]}}), SHORT)
    back = {n for t, team in sc.teams.items() if t.endswith("_back") for n in team.secretaries}
    assert back == {"cardio_ama_2", "ortho_ama_1"}
    t = simulate(sc, seed=5, replication=0)
    seg = t["segments"]
    mine = seg[seg.secretary.isin(back)]
    assert len(mine) > 0 and not mine.urgent.any()
    assert set(mine.kind) <= {"typing", "sending", "patient_file"}
    assert not t["interruptions"].secretary.isin(back).any()
    assert (mine.reason != "interrupted").all()
    # The front staff still get interrupted: the split moved interruptions, it did not hide them.
    assert len(t["interruptions"]) > 0


def test_phone_pooling_lets_any_secretary_answer_any_line_but_keeps_back_office(tmp_path):
    """With phones pooled, calls cross departments; typing and files stay in the department."""
    sc = load_composed(with_levers(tmp_path, {"lever": "pooling", "scope": "phones"}), SHORT)
    t = simulate(sc, seed=5, replication=0)
    home = {n: s.home_department for _t, n, s in sc.secretaries()}
    calls = t["calls"][t["calls"].outcome == "answered"]
    crossed = calls[calls.secretary.map(home) != calls.department]
    assert len(crossed) > 0
    seg = t["segments"][~t["segments"].kind.isin(["call", "transferred_call"])]
    assert (seg.secretary.map(home) == seg.department).all()


def test_absences_remove_whole_days_at_the_given_rate(tmp_path):
    """Each secretary-day is absent with probability rate; absent days have no presence."""
    rate = 0.2
    sc = load_composed(with_levers(tmp_path, {"lever": "absences", "rate": rate}), SHORT)
    t = simulate(sc, seed=8, replication=0)
    days = sc.calendar.horizon_days
    n = len(sc.secretaries()) * days
    absences = t["absences"][t["absences"].day < days]  # the follow-up has its own days
    assert binomial_ok(len(absences), n, rate)
    pres = t["presence"].assign(day=(t["presence"].start // 1440).astype(int))
    clash = pres.merge(t["absences"], on=["secretary", "day"])
    assert clash.empty


def test_booking_desk_answers_booking_calls_and_transfers_a_share(tmp_path):
    """Only the desk answers booking calls first; transfers go to the department's team."""
    share = 0.3
    sc = load_composed(with_levers(tmp_path, {"lever": "booking_desk",
                                              "staff": {"ortho_secretariat": 1},
                                              "transfer_share": share}), SHORT)
    desk = set(sc.teams["booking_desk"].secretaries)
    t = simulate(sc, seed=9, replication=0)
    c = t["calls"]
    first = c[(c.stream == "booking_calls") & (c.leg == "first") & (c.outcome == "answered")]
    assert set(first.secretary) <= desk
    assert binomial_ok(int(first.transferred.sum()), len(first), share)
    legs = c[c.leg == "transfer"]
    assert len(legs) == int(first[first.ended.notna()].transferred.sum())
    assert not legs.secretary.isin(desk).any()


def test_float_pool_adds_generalists_serving_every_department(tmp_path):
    sc = load_composed(with_levers(tmp_path, {"lever": "float_pool", "secretaries": 2,
                                              "shift": "early"}), SHORT)
    team = sc.teams["float_pool"]
    assert len(team.secretaries) == 2 and set(team.departments) == set(sc.departments)
    t = simulate(sc, seed=2, replication=0)
    worked = t["segments"][t["segments"].team == "float_pool"]
    assert worked.department.nunique() == len(sc.departments)


def test_resolved_scenario_records_levers_without_applying_them_twice(tmp_path):
    """A resolved scenario (levers in applied_levers) reloads to the very same scenario."""
    from simulation.scenario.io import dump_yaml

    sc = load_composed(with_levers(tmp_path, {"lever": "front_back_split",
                                              "back_office": {"gastro_secretariat": 1}}), SHORT)
    assert sc.levers == [] and len(sc.applied_levers) == 1
    path = tmp_path / "resolved.yaml"
    path.write_text(dump_yaml(sc))
    assert load_scenario(path) == sc


def test_child_scenario_adds_its_levers_after_its_parents(tmp_path):
    parent = with_levers(tmp_path, {"lever": "absences", "rate": 0.05}, name="parent")
    child = tmp_path / "child.yaml"
    child.write_text(yaml.safe_dump({"extends": str(parent), "name": "child", "levers": [
        {"lever": "float_pool", "shift": "early"}]}))
    sc = load_composed(child)
    assert [lv.lever for lv in sc.applied_levers] == ["absences", "float_pool"]


@pytest.mark.parametrize("lever, field", [
    ({"lever": "pooling", "departments": ["cardio"]}, "levers[0].departments"),
    ({"lever": "front_back_split", "back_office": {"rheumato_secretariat": 1}},
     "levers[0].back_office"),
    ({"lever": "booking_desk", "staff": {"nope": 1}}, "levers[0].staff"),
    ({"lever": "float_pool", "shift": "night"}, "levers[0].shift"),
    ({"lever": "online_booking", "share": 1.5}, "levers[0].share"),
])
def test_impossible_levers_are_reported_with_their_field(tmp_path, lever, field):
    with pytest.raises(ScenarioError) as err:
        load_composed(with_levers(tmp_path, lever))
    assert field in str(err.value)


def test_python_api_loads_like_the_command_line(tmp_path):
    """simulation.load_scenario / run follow extends and apply levers, as the CLI does."""
    import simulation

    path = with_levers(tmp_path, {"lever": "pooling", "scope": "phones"})
    api = simulation.load_scenario(path, SHORT)
    cli = load_composed(path, SHORT)
    assert api == cli and [lv.lever for lv in api.applied_levers] == ["pooling"]
    inline = yaml.safe_load((ROOT / "scenarios" / "baseline.yaml").read_text())
    inline["levers"] = [{"lever": "absences", "rate": 0.1}]
    assert [lv.lever for lv in simulation.load_scenario(inline).applied_levers] == ["absences"]


def test_phone_pool_penalty_applies_to_pooled_calls_only(tmp_path):
    """Pooling phones must not slow the team's own work: the penalty sits on the pool rule."""
    sc = load_composed(with_levers(tmp_path, {"lever": "pooling", "scope": "phones",
                                              "departments": ["cardiology", "gastroenterology"],
                                              "specialty_penalty": 0.5}), SHORT)
    t = simulate(sc, seed=4, replication=0)
    seg, tasks = t["segments"], t["tasks"]
    home = {n: s.home_department for _t, n, s in sc.secretaries()}
    own = seg[(seg.secretary.map(home) == seg.department) & ~seg.urgent]
    worked = own.assign(minutes=own.end - own.start).groupby("item_id").minutes.sum()
    done = tasks[tasks.status == "done"].set_index("task_id")
    mine = done.loc[done.index.intersection(worked.index)]
    assert len(mine) > 0
    assert np.allclose(worked[mine.index], mine.work + mine.resumption)  # factor 1 at home
    calls = t["calls"][(t["calls"].outcome == "answered") & t["calls"].ended.notna()
                       & ~t["calls"].transferred]
    away = calls[calls.secretary.map(home) != calls.department]
    assert len(away) > 0
    assert np.allclose(away.ended - away.answered, 1.5 * away.service)
