"""Never crash on a bad number: any numeric leaf of a bundled scenario set to NaN, an
infinity, a negative number, 1e300 or 2^63 gives a clear ScenarioError (exit 2 through
``secsim validate``, no traceback), or the scenario runs to completion with finite KPIs.

Validation runs for every example; the simulation (3 days, no follow-up, one replication)
only for the variants that validate, under a time limit, so the whole file stays fast.
"""

from __future__ import annotations

import contextlib
import io
import math
import signal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulation.cli.main import main
from simulation.runs.runner import replicate
from simulation.scenario.composition import compose, read_composed, unshared
from simulation.scenario.errors import ScenarioError
from simulation.scenario.volumes import check_event_budget

ROOT = Path(__file__).resolve().parents[2]
FILES = ["baseline.yaml", "front_back_split_pooled.yaml", "calibrated_sls_2016.yaml",
         "booking_desk.yaml"]
BAD = [math.nan, math.inf, -math.inf, -1, -0.5, 1e300, 2**63]
# Values that often validate, so that some variants reach the simulation.
EDGE = [0, 1000]
# As a user types them after --set (YAML): .nan, .inf...
BAD_TEXT = [".nan", ".inf", "-.inf", "-1", "1e300", "1.0e300", str(2**63)]
SHORT = {"horizon_days": 3, "warmup_days": 0, "follow_up_days": 0}
RUN_SECONDS = 60  # a variant that validates must finish within this


def _leaves(node, path=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, (*path, i))
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        yield path


DATA = {f: read_composed(ROOT / "scenarios" / f) for f in FILES}
CASES = [(f, path) for f in FILES for path in dict.fromkeys(_leaves(DATA[f]))
         if not str(path[0]).startswith("x-")]


def _with(file: str, path: tuple, value) -> dict:
    data = unshared(DATA[file])
    node = data
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    return data


class _TooLong(Exception):
    pass


def _alarm(_signum, _frame):
    raise _TooLong


def _run_short(scenario) -> None:
    """One 3-day replication, which must end in time with no infinite KPI."""
    short = scenario.calendar.model_copy(update=SHORT)
    scenario = scenario.model_copy(update={"calendar": short})
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(RUN_SECONDS)
    try:
        rep = replicate(scenario, 1, 0, events=False)
    except _TooLong:
        pytest.fail(f"the run did not end within {RUN_SECONDS}s")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    values = rep.kpis.select_dtypes("number").to_numpy()
    assert not np.isinf(values).any(), "a KPI is infinite"


def _check_or_run(file: str, path: tuple, value) -> None:
    data = _with(file, path, value)
    try:
        scenario = compose(data, [], file)
        check_event_budget(scenario, source=file)
    except ScenarioError as exc:
        assert exc.problems
        for where, message in exc.problems:
            assert "\n" not in message and message.strip(), (where, message)
        return
    _run_short(scenario)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=st.sampled_from(CASES), value=st.sampled_from(BAD + EDGE))
def test_a_bad_number_is_a_clear_error_or_a_finite_run(case, value):
    _check_or_run(*case, value)


# Variants that crashed (numpy 'lam value too large', OverflowError) or never ended
# before the numbers were bounded: checked every time, not left to chance.
KNOWN = [
    ("baseline.yaml", ("departments", "cardiology", "streams", "booking_calls", "arrivals",
                       "hourly_shape", 9), math.nan),
    ("baseline.yaml", ("departments", "cardiology", "streams", "booking_calls", "arrivals",
                       "weekday_factors", "mon"), 1e300),
    ("baseline.yaml", ("departments", "cardiology", "streams", "booking_calls", "arrivals",
                       "per_day"), 2**63),
    ("baseline.yaml", ("departments", "cardiology", "streams", "booking_calls", "service",
                       "cv"), 1e300),
    ("baseline.yaml", ("departments", "cardiology", "streams", "booking_calls", "redial",
                       "max_attempts"), 2**63),
    ("baseline.yaml", ("calendar", "horizon_days"), 2**63),
]


@pytest.mark.parametrize("file,path,value", KNOWN, ids=lambda x: str(x)[-20:])
def test_former_crashes_and_hangs_are_errors(file, path, value):
    data = _with(file, path, value)
    with pytest.raises(ScenarioError) as err:
        compose(data, [], file)
    assert ".".join(map(str, path)) in str(err.value)


def _validate_cli(*args: str) -> tuple[int, str]:
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        code = main(["validate", "-q", *args])
    return code, stderr.getvalue()


SET_CASES = [(f, ".".join(map(str, p))) for f, p in CASES
             if all(isinstance(x, str) for x in p)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(SET_CASES), text=st.sampled_from(BAD_TEXT))
def test_a_bad_number_given_with_set_is_refused_with_exit_2(case, text):
    file, key = case
    code, err = _validate_cli(str(ROOT / "scenarios" / file), "--set", f"{key}={text}")
    assert "Traceback" not in err and "internal error" not in err, err
    if code != 0:
        assert code == 2
        assert key.split(".")[0] in err, err


def test_nan_given_with_set_names_the_field():
    key = "departments.cardiology.streams.booking_calls.arrivals.per_day"
    code, err = _validate_cli(str(ROOT / "scenarios" / "baseline.yaml"), "--set", f"{key}=.nan")
    assert code == 2
    assert f"{key}: must be a finite number" in err
