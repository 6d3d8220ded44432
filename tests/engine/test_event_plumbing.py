"""The engine's own event and queue plumbing: reusable timers and the rank-ordered lanes a
secretary takes work from. Both replace something simpler (a new event per wait, nested
groups of queues) for speed, so they must behave exactly like it."""

from __future__ import annotations

import pytest
import simpy
from simpy.events import URGENT

from simulation.engine.context import Callback, Timer, run_until
from simulation.engine.secretariat import Secretariat, WorkType, take_first
from simulation.engine.work import ABANDONED, WorkItem
from simulation.scenario.schema import InterruptionPolicy


def test_a_timer_fires_where_a_new_callback_would_and_can_be_set_again():
    """Set at the same instant as other events, a timer keeps its place in scheduling order
    (and urgent before normal); once fired it can be set again."""
    env = simpy.Environment()
    fired: list[tuple[str, float]] = []

    def note(name):
        return lambda _ev: fired.append((name, env.now))

    env.schedule(Callback(note("before")), delay=5)
    timer = Timer(env, note("timer"))
    timer.set(5)
    env.schedule(Callback(note("after")), delay=5)
    env.run()
    assert fired == [("before", 5), ("timer", 5), ("after", 5)]

    fired.clear()
    env.schedule(Callback(note("normal")), delay=0)
    timer.set(0, URGENT)
    env.run()
    assert fired == [("timer", 5), ("normal", 5)]


def test_a_timer_can_chain_itself_from_its_own_handler():
    """Set again from the handler it fires (a stream's next arrival): one object for the
    whole chain."""
    env = simpy.Environment()
    times: list[float] = []

    def tick(event):
        times.append(env.now)
        if len(times) < 3:
            event.set(2.5)

    Timer(env, tick).set(1)
    env.run()
    assert times == [1, 3.5, 6]


def _item(i: int, created: float, rank: int = 0) -> WorkItem:
    return WorkItem(i, "call", "d", "s", "c", True, created, 1.0, rank)


def test_take_first_takes_the_best_rank_then_the_oldest_across_its_queues():
    """Lanes are (rank, queue) by rank: the oldest waiting item of the first rank with
    waiting work, whichever of that rank's queues holds it; worse ranks wait."""
    a, b, c = [], [], []
    for q, item in ((a, _item(1, 10.0)), (b, _item(2, 5.0)), (c, _item(3, 1.0, rank=1))):
        q.append((item.created, item.id, item))
    lanes = [(0, a), (0, b), (1, c)]
    assert take_first(lanes).id == 2  # rank 0, older than item 1
    assert take_first(lanes).id == 1
    assert take_first(lanes).id == 3  # rank 0 is empty now
    assert take_first(lanes) is None


def test_take_first_drops_abandoned_heads_and_ties_break_on_creation_order():
    gone, late, early = _item(1, 0.0), _item(3, 2.0), _item(2, 2.0)
    gone.status = ABANDONED
    q = [(gone.created, gone.id, gone), (early.created, early.id, early)]  # a heap
    other = [(late.created, late.id, late)]
    assert take_first([(0, q), (0, other)]) is early
    assert q == []  # the abandoned call was dropped on the way


def test_an_item_made_without_its_work_type_gets_it_from_its_key():
    sec = Secretariat(InterruptionPolicy(), None)
    key = ("d", "s", "call", "c")
    sec.add_work_key(key, [], 0)
    item = _item(1, 0.0)
    assert item.work_type is None
    assert not sec.submit(item)  # nobody may take it: it waits in its queue
    assert isinstance(item.work_type, WorkType) and item.work_type.key == key
    assert item.work_type.queue == [(0.0, 1, item)]


def test_a_timer_set_again_while_pending_or_after_a_cancel_is_refused():
    """Its entry in SimPy's queue would fire the new wait early: misuse fails loudly."""
    env = simpy.Environment()
    timer = Timer(env, lambda _ev: None)
    timer.set(5)
    with pytest.raises(RuntimeError, match="before it fired"):
        timer.set(1)
    timer.callbacks = []  # cancelled, as a secretary cancels a wait
    with pytest.raises(RuntimeError):
        timer.set(1)
    env.run()
    timer.set(1)  # fired: free again
    env.run()
    assert env.now == 6


def _journal(env: simpy.Environment, fired: list) -> simpy.Event:
    """Processes, timeouts, callbacks and timers at equal and distinct times; returns the
    event that stops the run (fired by a process at 7, before other events at 7)."""
    stop = env.event()

    def worker(name, delays):
        for d in delays:
            yield env.timeout(d)
            fired.append((name, env.now))
            if name == "stopper" and env.now == 7:
                stop.succeed()

    env.process(worker("a", [1, 2, 4]))
    env.process(worker("stopper", [3, 4]))
    env.process(worker("b", [7, 1]))
    env.schedule(Callback(lambda _e: fired.append(("cb", env.now))), delay=7)
    timer = Timer(env, lambda _e: fired.append(("timer", env.now)))
    timer.set(3, URGENT)
    return stop


def test_run_until_takes_simpys_steps_in_simpys_order():
    """``run_until`` (the engine's loop) processes exactly the events ``env.run(until=...)``
    does, in the same order, and stops at the same point."""
    ours, theirs = simpy.Environment(), simpy.Environment()
    got, expected = [], []
    run_until(ours, _journal(ours, got))
    theirs.run(until=_journal(theirs, expected))
    assert got == expected and ours.now == theirs.now == 7
    assert ("stopper", 7) in got and ("b", 8) not in got  # stopped at 7


def test_run_until_fails_loudly_like_simpy():
    """No event left before the stop: an error, not a silent return; a failed event that
    nobody handles raises its exception."""
    env = simpy.Environment()
    env.timeout(3)
    with pytest.raises(RuntimeError, match="No scheduled events left"):
        run_until(env, env.event())
    env = simpy.Environment()
    env.event().fail(ValueError("broken"))
    with pytest.raises(ValueError, match="broken"):
        run_until(env, env.event())
