"""Per-entity draws (engine.draws): each task brings its own resumption costs, each caller
his own draws for every attempt, each urgent item its own routing uniform."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from conftest import back_office_stream, build, call_stream, scenario_dict

from simulation.engine.draws import (
    RESUMPTION_DRAWS,
    ArrivalDraws,
    CallDraws,
    CallerBlocks,
    resumption_rows,
)
from simulation.engine.model import Model
from simulation.engine.secretariat import DEFERRABLE, IDLE, Secretariat
from simulation.engine.seeding import RandomStreams
from simulation.engine.work import WorkItem
from simulation.scenario.distributions import (
    DIST_NAMES,
    Deterministic,
    Empirical,
    Exponential,
    Gamma,
    LogNormal,
    Triangular,
    Uniform,
)
from simulation.scenario.schema import InterruptionPolicy

STREAMS = {
    "calls": call_stream(0.05, 3, 2.0, redial={"probability": 0.5}),
    "files": back_office_stream(0.01, 20),
    "reports": {"type": "dictation", "arrivals": {"per_day": 10}, "typing": 15,
                "validation_delay": 100},
}


def staffed(n: int) -> Model:
    """Calls, files and reports for ``n`` secretaries on 8-hour shifts (work is put back
    at the end of each shift), an exponential resumption cost."""
    data = scenario_dict(copy.deepcopy(STREAMS), n_secretaries=n, horizon_days=10,
                         interruptions={"resumption_cost": {"dist": "exponential",
                                                            "mean": 2.0}},
                         secretary_fields={"shift": {"start": "08:00", "end": "16:00"}})
    return Model(build(data), seed=5)


def paid_pauses(item: WorkItem) -> int:
    return item.pauses - (1 if item.pending_resume else 0)


def test_each_pause_costs_the_tasks_own_pre_drawn_cost():
    """A task's resumption = the sum of its first pre-drawn costs, one per pause paid:
    one draw per pause, from the task's own row (files: by arrival; typing: by rank)."""
    m = staffed(1)
    m.run()
    paused = [t for t in m.recorder.tasks if not t.urgent and paid_pauses(t) > 0]
    assert len(paused) > 50 and {t.kind for t in paused} >= {"patient_file", "typing"}
    assert any(t.n_interruptions < paid_pauses(t) for t in paused), "no put-back paid"
    for t in paused:
        k = paid_pauses(t)
        assert len(t.resume_costs) == RESUMPTION_DRAWS
        if k <= RESUMPTION_DRAWS:
            assert t.resumption == pytest.approx(float(np.sum(t.resume_costs[:k])))


def test_tasks_keep_their_resumption_costs_across_staffing():
    """The same file (by arrival) and the same typing sitting (by rank in its stream) get
    the same resumption costs with one or three secretaries."""
    def rows(model: Model) -> dict:
        model.run()
        out: dict = {}
        for kind in ("patient_file", "typing"):
            # Before the horizon: the follow-up after it lasts longer for the leaner team.
            tasks = [t for t in model.recorder.tasks
                     if t.kind == kind and t.created < model.horizon]
            out[kind] = np.array([t.resume_costs for t in sorted(tasks, key=lambda t: t.id)])
        return out

    lean, rich = rows(staffed(1)), rows(staffed(3))
    for kind in ("patient_file", "typing"):
        assert len(lean[kind]) > 20
        np.testing.assert_array_equal(lean[kind], rich[kind])


def test_call_draws_of_a_redial_attempt_do_not_depend_on_max_attempts():
    """Each attempt's row comes from its own stream: allowing more attempts adds rows and
    leaves the others unchanged."""
    def draws(max_attempts: int) -> CallDraws:
        sc = build(scenario_dict({"calls": call_stream(
            0.2, 3, 2.0, redial={"probability": 0.5, "max_attempts": max_attempts})}))
        rng = lambda *names: RandomStreams(1, 0).get("cardiology", "calls", *names)  # noqa: E731
        return CallDraws.draw(sc.departments["cardiology"].streams["calls"], rng, 100)

    two, four = draws(2), draws(4)
    for name in ("patience", "redial_u", "redial_delay", "transfer_patience", "route_u"):
        a, b = getattr(two, name), getattr(four, name)
        assert a.shape == (2, 100) and b.shape == (4, 100)
        np.testing.assert_array_equal(a, b[:2])
    assert len(set(four.patience[:, 0])) == 4  # a new patience for every attempt


class Stub:
    """Just what routing reads of a secretary."""

    def __init__(self, name: str, state: str):
        self.name, self.state, self.idle_since, self.seg_start = name, state, 0.0, 0.0
        self.given: list[WorkItem] = []

    def add_queue(self, rank, queue):
        pass

    def assign(self, item, secretariat):
        self.given.append(item)


@pytest.mark.parametrize("u, expected", [(0.0, "a"), (0.34, "b"), (0.99, "c")])
def test_whoever_phone_rings_is_chosen_by_the_items_own_uniform(u, expected):
    """With idle_colleague_answers off, the call's own uniform picks among the secretaries
    who may answer (idle, or on deferrable work), in their order."""
    policy = InterruptionPolicy(idle_colleague_answers=False)
    sec = Secretariat(policy, np.random.default_rng(0))
    staff = [Stub("a", IDLE), Stub("b", DEFERRABLE), Stub("c", IDLE)]
    key = ("cardiology", "calls", "call", "reception")
    sec.add_work_key(key, staff, 0)
    item = WorkItem(1, "call", *key[:2], key[3], True, 0.0, 3.0, 0, route_u=u)
    assert sec.submit(item)
    assert [s.name for s in staff if s.given] == [expected]


def test_a_reports_sending_keeps_its_resumption_costs_across_staffing():
    """Sending tasks are created in an order that depends on staffing; their resumption
    costs are keyed by the report (its dictation rank), so they stay paired."""
    def by_dictation(model: Model) -> dict:
        model.run()
        reports = sorted((r for r in model.recorder.reports if r.dictated < model.horizon),
                         key=lambda r: (r.dictated, r.id))
        rank = {r.id: k for k, r in enumerate(reports)}
        return {rank[t.ref.id]: tuple(t.resume_costs) for t in model.recorder.tasks
                if t.kind == "sending" and t.ref.id in rank}

    lean, rich = by_dictation(staffed(1)), by_dictation(staffed(3))
    both = set(lean) & set(rich)
    assert len(both) > 20
    assert all(lean[k] == rich[k] for k in both)


# ------------------------------------------------------------------ lazy draws, by block
# Draws are made block by block as entities arrive (engine.draws). numpy's Generator
# methods consume the bit stream sequentially, so consecutive blocks from one generator
# must be the very numbers of one draw for the whole horizon, for every distribution.
DISTS = {
    "exponential": [Exponential(mean=3.0)],
    "lognormal": [LogNormal(mean=4.0, cv=0.6)],
    # shape 1/cv^2 below, at and above 1 take different sampling paths in numpy
    "gamma": [Gamma(mean=5.0, cv=0.5), Gamma(mean=5.0, cv=1.0), Gamma(mean=5.0, cv=2.0)],
    "triangular": [Triangular(low=1.0, mode=2.0, high=9.0)],
    "uniform": [Uniform(low=0.5, high=4.0)],
    "deterministic": [Deterministic(value=2.5)],
    "empirical": [Empirical(values=[1.0, 2.5, 7.0]),
                  Empirical(values=[1.0, 2.5, 7.0, 9.0], weights=[1.0, 0.0, 3.0, 2.0])],
}


def test_every_distribution_kind_is_checked_by_block():
    assert set(DISTS) == set(DIST_NAMES)


def _blocks(sample, sizes) -> np.ndarray:
    return np.concatenate([np.asarray(sample(size)) for size in sizes])


@pytest.mark.parametrize("dist", [d for ds in DISTS.values() for d in ds], ids=repr)
@pytest.mark.parametrize("sizes", [[1000], [256] * 4, [7, 1, 300, 692], [1] * 50 + [950]])
def test_block_draws_equal_one_draw_for_every_distribution(dist, sizes):
    n = sum(sizes)
    full = dist.sample(np.random.default_rng(11), n)
    rng = np.random.default_rng(11)
    np.testing.assert_array_equal(_blocks(lambda size: dist.sample(rng, size), sizes), full)


@pytest.mark.parametrize("sizes", [[1000], [256] * 4, [7, 1, 300, 692]])
def test_block_draws_equal_one_draw_for_uniforms_and_integers(sizes):
    """The raw draws the engine makes besides distributions: uniforms (routing, redial,
    online booking, rework...) and integers (the doctor of a report)."""
    n = sum(sizes)
    rng = np.random.default_rng(5)
    np.testing.assert_array_equal(_blocks(lambda size: rng.random(size), sizes),
                                  np.random.default_rng(5).random(n))
    rng = np.random.default_rng(5)
    np.testing.assert_array_equal(_blocks(lambda size: rng.integers(7, size=size), sizes),
                                  np.random.default_rng(5).integers(7, size=n))


@pytest.mark.parametrize("dist", [d for ds in DISTS.values() for d in ds], ids=repr)
def test_arrival_draws_read_in_order_are_the_full_draw(dist):
    """ArrivalDraws (values and resumption rows), read in arrival order with gaps, give
    what the up-front draw gave to the same arrivals."""
    n = 700
    full = dist.sample(np.random.default_rng(3), n)
    rows = resumption_rows(dist, np.random.default_rng(4), n)
    lazy = ArrivalDraws.of(dist, np.random.default_rng(3), block=64)
    lazy_rows = ArrivalDraws.resumption(dist, np.random.default_rng(4), block=64)
    for i in sorted(set(range(0, n, 3)) | set(range(128, 200)) | {n - 1}):
        assert lazy[i] == full[i]
        np.testing.assert_array_equal(lazy_rows[i], rows[i])


def test_caller_blocks_are_the_callers_full_draws():
    """A line's callers' draws made block by block equal those made all at once, for every
    row a caller can use (with redials and transfers)."""
    sc = build(scenario_dict({"calls": call_stream(
        0.2, 3, 2.0, redial={"probability": 0.5, "max_attempts": 3,
                             "delay": {"dist": "gamma", "mean": 20, "cv": 0.8}},
        transfer={"share": 0.3, "by_teams": ["secretariat"],
                  "handling": {"dist": "triangular", "low": 0.5, "mode": 1, "high": 3}})}))
    stream = sc.departments["cardiology"].streams["calls"]
    rng = lambda *names: RandomStreams(1, 0).get("cardiology", "calls", *names)  # noqa: E731
    n = 1000
    full = CallDraws.draw(stream, rng, n)
    blocks = CallerBlocks(stream, rng, block=96)
    for i in range(n):
        b = blocks.at(i)
        j = i - b.offset
        assert b.service[j] == full.service[i] and b.transfer_u[j] == full.transfer_u[i]
        for name in ("patience", "route_u", "transfer_patience", "handling",
                     "transfer_route_u"):
            for a in range(3):
                assert getattr(b, name)[a][j] == getattr(full, name)[a, i], (name, a, i)
        for name in ("redial_u", "redial_delay"):
            for a in range(2):  # the last attempt is never redialled
                assert getattr(b, name)[a][j] == getattr(full, name)[a, i], (name, a, i)
