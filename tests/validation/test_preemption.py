"""Calls preempting back-office work, against priority-queue theory (M/G/1, two classes).

One always-open secretary; class 0 = calls (Poisson, exponential, callers never hang up),
class 1 = deferrable back-office tasks (Poisson, exponential). With interruptions on and
no resumption cost this is the preemptive-resume priority M/G/1; with interruptions off
it is the non-preemptive one. Only tasks and calls created in [1 day, horizon - 1 day)
are counted: the first day removes the empty start, the last day removes the
horizon-end bias (a task created just before the end is only counted if short). Each
replication gives one mean; means are checked with t intervals (see conftest).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import (
    assert_mean_matches,
    back_office_stream,
    build,
    call_stream,
    replications,
    scenario_dict,
)

from simulation.analysis.kpis import work_kpis
from simulation.analysis.theory import nonpreemptive_priority_response, preemptive_priority_response

REPLICATIONS = 40
HORIZON_DAYS = 12
DAY = 1440.0
LAM_CALLS, CALL_MEAN = 0.1, 3.0  # rho_calls = 0.3
LAM_TASKS, TASK_MEAN = 0.03, 10.0  # rho_tasks = 0.3, total load 0.6
RHO_CALLS = LAM_CALLS * CALL_MEAN
# Exponential durations: E[S^2] = 2 m^2.
LAMS, MEANS = [LAM_CALLS, LAM_TASKS], [CALL_MEAN, TASK_MEAN]
SECOND_MOMENTS = [2 * CALL_MEAN**2, 2 * TASK_MEAN**2]
# The whole window is loaded at 0.6: P(a task waits more than a day) is astronomically
# small, so every counted task is finished by the horizon.
WINDOW = (DAY, (HORIZON_DAYS - 1) * DAY)


def priority_scenario(preemptive: bool):
    return build(scenario_dict(
        {"calls": call_stream(LAM_CALLS, CALL_MEAN),  # no patience: nobody hangs up
         "files": back_office_stream(LAM_TASKS, TASK_MEAN)},
        n_secretaries=1, horizon_days=HORIZON_DAYS,
        interruptions={"enabled": preemptive, "resumption_cost": 0},
        name="preemptive" if preemptive else "non_preemptive"))


def replication_statistics(tables) -> dict[str, float]:
    """One replication's means over the counting window."""
    tasks, calls = tables["tasks"], tables["calls"]
    t = tasks[(~tasks.urgent) & (tasks.created >= WINDOW[0]) & (tasks.created < WINDOW[1])]
    assert (t.status == "done").all(), "a counted task was not finished by the horizon"
    c = calls[(calls.arrival >= WINDOW[0]) & (calls.arrival < WINDOW[1])]
    assert (c.outcome == "answered").all(), "callers without patience must all be answered"
    kpi = work_kpis(tasks, tables["segments"], tables["interruptions"], WINDOW[0],
                    HORIZON_DAYS * DAY, ["patient_file"])
    return {
        "task_turnaround": float((t.finished - t.created).mean()),
        "call_response": float((c.ended - c.arrival).mean()),
        "stretch": float((t.finished - t.first_start).sum() / t.work.sum()),
        "interruptions_per_hour": kpi["interruptions_per_deferrable_hour"],
        "interruptions": float(len(tables["interruptions"])),
    }


@pytest.fixture(scope="module")
def preemptive_runs():
    rows = [replication_statistics(t)
            for t in replications(priority_scenario(True), REPLICATIONS, seed=777)]
    return {k: [r[k] for r in rows] for k in rows[0]}


@pytest.fixture(scope="module")
def non_preemptive_runs():
    rows = [replication_statistics(t)
            for t in replications(priority_scenario(False), REPLICATIONS, seed=778)]
    return {k: [r[k] for r in rows] for k in rows[0]}


def test_preemptive_deferrable_turnaround(preemptive_runs):
    """Mean created-to-finished time of back-office tasks = preemptive-resume T_1."""
    expected = preemptive_priority_response(LAMS, MEANS, SECOND_MOMENTS)[1]
    assert_mean_matches(preemptive_runs["task_turnaround"], expected, "deferrable turnaround")


def test_preemptive_calls_do_not_see_back_office_work(preemptive_runs):
    """Calls preempt, so their response time is that of an M/M/1 of calls alone."""
    expected = preemptive_priority_response(LAMS, MEANS, SECOND_MOMENTS)[0]
    assert_mean_matches(preemptive_runs["call_response"], expected, "call response")


def test_interrupted_task_keeps_its_place(preemptive_runs):
    """design.md pitfall: (finish - first start) / work = 1 / (1 - rho_calls).

    A task of length x started at s is finished after x plus the call busy periods
    arriving meanwhile, E = x / (1 - rho_calls), only if it resumes as soon as the calls
    are done (SimPy's PreemptiveResource re-queued it and gave 4.22x instead of 1.43x).
    """
    assert_mean_matches(preemptive_runs["stretch"], 1 / (1 - RHO_CALLS),
                        "first-start-to-finish / work")


def test_interruptions_per_hour_of_deferrable_work(preemptive_runs):
    """Poisson calls interrupt deferrable work at their own rate: lambda_calls per hour."""
    assert_mean_matches(preemptive_runs["interruptions_per_hour"], LAM_CALLS * 60,
                        "interruptions per deferrable hour")


def test_non_preemptive_deferrable_turnaround(non_preemptive_runs):
    """With interruptions disabled, back-office turnaround = Cobham's non-preemptive T_1."""
    expected = nonpreemptive_priority_response(LAMS, MEANS, SECOND_MOMENTS)[1]
    assert_mean_matches(non_preemptive_runs["task_turnaround"], expected,
                        "non-preemptive deferrable turnaround")


def test_non_preemptive_calls_wait_for_the_task_in_hand(non_preemptive_runs):
    """Calls wait for the residual back-office task: Cobham's T_0, not M/M/1's."""
    expected = nonpreemptive_priority_response(LAMS, MEANS, SECOND_MOMENTS)[0]
    assert_mean_matches(non_preemptive_runs["call_response"], expected,
                        "non-preemptive call response")


def test_non_preemptive_never_interrupts(non_preemptive_runs):
    """interruptions.enabled = false: no interruption is ever recorded, work runs unbroken."""
    assert np.sum(non_preemptive_runs["interruptions"]) == 0
    assert np.allclose(non_preemptive_runs["stretch"], 1.0)
