"""``extends:``: a child file changes what it names, and a changed kind replaces the mapping."""

from __future__ import annotations

import pytest
import yaml
from conftest import BASELINE

from simulation.scenario.composition import deep_merge, load_composed
from simulation.scenario.errors import ScenarioError


def _child(tmp_path, service: dict):
    path = tmp_path / "child.yaml"
    path.write_text(yaml.safe_dump({"extends": str(BASELINE), "name": "child", "departments": {
        "cardiology": {"streams": {"booking_calls": {"service": service}}}}}))
    return path


def test_a_child_changes_one_parameter_and_keeps_the_rest(tmp_path):
    sc = load_composed(_child(tmp_path, {"mean": 5.0}))
    service = sc.departments["cardiology"].streams["booking_calls"].service
    assert (service.dist, service.mean, service.cv) == ("lognormal", 5.0, 0.6)


def test_a_child_changes_the_kind_of_a_distribution(tmp_path):
    sc = load_composed(_child(tmp_path, {"dist": "exponential", "mean": 5.0}))
    service = sc.departments["cardiology"].streams["booking_calls"].service
    assert (service.dist, service.mean) == ("exponential", 5.0)


def test_a_field_of_another_kind_is_named_without_a_circular_hint(tmp_path):
    with pytest.raises(ScenarioError) as err:
        load_composed(_child(tmp_path, {"dist": "exponential", "mean": 5.0, "cv": 1.0}))
    text = str(err.value)
    assert "service.cv" in text and "did you mean 'cv'" not in text and "remove it" in text


def test_merge_replaces_only_when_the_kind_changes():
    base = {"dist": "lognormal", "mean": 3.0, "cv": 0.5}
    assert deep_merge(base, {"mean": 4.0}) == {"dist": "lognormal", "mean": 4.0, "cv": 0.5}
    assert deep_merge(base, {"dist": "lognormal", "cv": 1.0})["mean"] == 3.0
    assert deep_merge(base, {"dist": "exponential", "mean": 2.0}) == {"dist": "exponential",
                                                                       "mean": 2.0}
