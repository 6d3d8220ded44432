"""The workbench page without a browser (Streamlit's AppTest): widgets, edits, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit", reason="the workbench needs streamlit (pip install -e '.[ui]')")

from streamlit.testing.v1 import AppTest  # noqa: E402

from simulation import load_scenario  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "simulation" / "ui" / "app.py")
BASELINE = ROOT / "scenarios" / "baseline.yaml"


def page() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60).run()


def text(at: AppTest) -> str:
    return "\n".join([e.value for e in at.code] + [e.value for e in at.error]
                     + [e.value for e in at.caption])


def test_widgets_show_the_file_values():
    at = page()
    assert not at.exception
    assert at.selectbox(key="scenario").value == "baseline"
    assert at.number_input(key="size:cardiology_secretariat").value == 2.0
    assert at.number_input(key="size:rheumato_secretariat").label.endswith("(file: 1)")
    assert at.number_input(key="sit_min:cardiology").value == 90
    assert at.number_input(key="horizon").value == load_scenario(BASELINE).calendar.horizon_days
    assert at.slider(key="online_share").value == 0
    assert at.selectbox(key="voice_mode").value == "none"
    assert at.multiselect(key="pooled").value == []
    assert at.button(key="run") and not at.button(key="run").disabled
    # a bundled scenario with levers shows them
    at.selectbox(key="scenario").set_value("online_booking_11").run()
    assert at.slider(key="online_share").value == 11


def test_changes_reach_the_scenario():
    at = page()
    at.multiselect(key="pooled").set_value(["cardiology", "gastroenterology"]).run()
    at.slider(key="online_share").set_value(20).run()
    at.number_input(key="size:cardiology_secretariat").set_value(3.0).run()
    assert not at.exception and not at.error
    shown = text(at)
    assert "--set teams.cardiology_secretariat.size=3" in shown
    assert "lever: pooling, departments: [cardiology, gastroenterology], scope: phones" in shown
    assert "lever: online_booking, share: 0.2" in shown
    assert "2 scenario(s)" in shown  # the original and the edited one run together


def test_a_huge_horizon_is_refused_in_the_page():
    at = page()
    at.number_input(key="horizon").set_value(3650).run()
    assert not at.exception
    assert any("lower the replications or the horizon" in e.value for e in at.error)
    assert at.button(key="run").disabled


def test_a_bad_bundled_file_is_named_not_a_traceback(tmp_path, monkeypatch):
    good = (ROOT / "scenarios" / "baseline.yaml").read_text(encoding="utf-8")
    (tmp_path / "baseline.yaml").write_text(good.replace("per_day: 22,", "per_day: .nan,", 1),
                                            encoding="utf-8")
    monkeypatch.setenv("SECSIM_UI_SCENARIOS", str(tmp_path))
    at = page()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("departments.cardiology.streams.booking_calls.arrivals.per_day" in e
               and "finite number" in e for e in errors)


def test_pinned_variants_run_side_by_side():
    at = page()
    at.slider(key="online_share").set_value(20).run()
    at.text_input(key="variant_name").set_value("online_20").run()
    at.button(key="pin").click().run()
    at.text_input(key="variant_name").set_value("pooled").run()
    at.slider(key="online_share").set_value(0).run()
    at.multiselect(key="pooled").set_value(["cardiology", "gastroenterology"]).run()
    assert not at.exception
    shown = text(at)
    assert "3 scenario(s)" in shown  # baseline, the pinned one and the current one
    assert any("Pinned variants: online_20" in m.value for m in at.markdown)
    at.selectbox(key="scenario").set_value("pooled_phones").run()  # another scenario
    assert not any("Pinned variants" in m.value for m in at.markdown)
