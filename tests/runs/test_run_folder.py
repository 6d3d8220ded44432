"""A run folder records what it holds: --resume completes a run or a comparison exactly,
a folder holding another run is refused by name, and stale scenario folders never get
into a comparison."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from sweep_fixtures import InterruptAfter, write_spec

import simulation
from simulation.runs.executors import SerialExecutor
from simulation.runs.record import RecordError
from simulation.scenario.composition import load_composed


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    write_spec(folder)
    return load_composed(folder / "tiny.yaml", [])


def busier(tiny):
    return load_composed_like(tiny, "busier", {"per_day": 45})


def load_composed_like(scenario, name: str, arrivals: dict):
    data = scenario.model_dump(mode="json", by_alias=True)
    data["name"] = name
    data["departments"]["clinic"]["streams"]["booking_calls"]["arrivals"].update(arrivals)
    return type(scenario).model_validate(data)


def files(out: Path) -> dict[str, bytes]:
    """Every table file by path (records hold timings)."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.suffix in (".parquet", ".csv")}


def test_resumed_run_is_byte_identical_to_an_uninterrupted_one(tiny, tmp_path):
    whole = simulation.run(tiny, replications=4, seed=5, executor=SerialExecutor(),
                           out=tmp_path / "whole")
    cut = simulation.run(tiny, replications=4, seed=5, executor=InterruptAfter(2),
                         out=tmp_path / "cut")
    assert cut.interrupted and sorted(cut.kpis.replication.unique()) == [0, 1]
    record = json.loads((tmp_path / "cut" / "run.json").read_text())
    assert record["status"] == "interrupted" and record["replications_completed"] == [0, 1]
    done = simulation.run(tiny, replications=4, seed=5, executor=SerialExecutor(),
                          out=tmp_path / "cut", resume=True)
    assert files(tmp_path / "cut") == files(tmp_path / "whole")
    pd.testing.assert_frame_equal(done.summary, whole.summary)
    record = json.loads((tmp_path / "cut" / "run.json").read_text())
    assert record["status"] == "complete" and record["previous_run"]["status"] == "interrupted"


def test_resume_refuses_a_folder_holding_another_run(tiny, tmp_path):
    out = tmp_path / "run"
    simulation.run(tiny, replications=2, seed=1, executor=InterruptAfter(1), out=out)
    with pytest.raises(RecordError, match=r"seed = 1, this one has 2; resume it with --seed 1"):
        simulation.run(tiny, replications=2, seed=2, executor=SerialExecutor(), out=out,
                       resume=True)
    with pytest.raises(RecordError, match="replications_requested = 2.*--replications 2"):
        simulation.run(tiny, replications=3, seed=1, executor=SerialExecutor(), out=out,
                       resume=True)
    with pytest.raises(RecordError, match="scenario_digest.*same scenario file and --set"):
        simulation.run(busier(tiny).model_copy(update={"name": "tiny"}), replications=2,
                       seed=1, executor=SerialExecutor(), out=out, resume=True)
    with pytest.raises(RecordError, match="events = True.*event tables on"):
        simulation.run(tiny, replications=2, seed=1, executor=SerialExecutor(), out=out,
                       resume=True, events=False)
    assert set(pd.read_parquet(out / "kpis.parquet").replication) == {0}  # untouched


def test_starting_again_over_an_unfinished_run_says_what_it_deletes(tiny, tmp_path, capsys):
    out = tmp_path / "run"
    simulation.run(tiny, replications=2, seed=1, executor=InterruptAfter(1), out=out)
    simulation.run(tiny, replications=2, seed=2, executor=SerialExecutor(), out=out)
    assert "had not finished (1 of 2 replications saved)" in capsys.readouterr().err
    assert json.loads((out / "run.json").read_text())["seed"] == 2


def test_report_refuses_a_folder_whose_files_are_not_the_recorded_run(tiny, tmp_path):
    from simulation.reporting.html import write_run_report

    for seed in (1, 2):
        simulation.run(tiny, replications=2, seed=seed, executor=SerialExecutor(),
                       out=tmp_path / f"s{seed}", events=False)
    write_run_report(tmp_path / "s1")
    stray = tmp_path / "s1" / "kpis.parquet" / "rep-0001.parquet"
    shutil.copyfile(tmp_path / "s2" / "kpis.parquet" / "rep-0001.parquet", stray)
    with pytest.raises(RecordError, match="rep-0001.parquet was not written by the run"):
        write_run_report(tmp_path / "s1")
    with open(tmp_path / "s2" / "scenario.yaml", "a", encoding="utf-8") as f:
        f.write("# edited\nname: other\n")
    with pytest.raises(RecordError, match="scenario_digest differs"):
        write_run_report(tmp_path / "s2")


def test_a_second_writer_on_the_same_folder_is_refused(tiny, tmp_path):
    from simulation.runs.output import RunWriter

    held = RunWriter(tmp_path / "run", tiny, seed=1, replications=2)
    try:
        with pytest.raises(RecordError, match="being written by another run"):
            simulation.run(tiny, replications=2, seed=1, out=tmp_path / "run")
    finally:
        held.close()


def test_resumed_comparison_is_byte_identical(tiny, tmp_path):
    both = [tiny, busier(tiny)]
    simulation.compare(both, replications=3, seed=2, executor=SerialExecutor(),
                       out=tmp_path / "whole")
    cut = simulation.compare(both, replications=3, seed=2, executor=InterruptAfter(3),
                             out=tmp_path / "cut")
    assert cut.interrupted
    assert json.loads((tmp_path / "cut" / "comparison.json").read_text())["status"] == \
        "interrupted"
    simulation.compare(both, replications=3, seed=2, executor=SerialExecutor(),
                       out=tmp_path / "cut", resume=True)
    assert files(tmp_path / "cut") == files(tmp_path / "whole")
    with pytest.raises(RecordError, match="scenarios \\['tiny', 'busier'\\], this one has"):
        simulation.compare([tiny], replications=3, seed=2, out=tmp_path / "cut", resume=True)


def test_stale_scenario_folders_never_get_into_a_comparison(tiny, tmp_path, capsys):
    from simulation.reporting.html import write_comparison_report

    out = tmp_path / "cmp"
    simulation.compare([tiny, busier(tiny)], replications=2, seed=1,
                       executor=SerialExecutor(), out=out)
    quieter = load_composed_like(tiny, "quieter", {"per_day": 10})
    # A new comparison in the same folder, stopped after replication 0 of each scenario.
    simulation.compare([tiny, quieter], replications=2, seed=1, executor=InterruptAfter(2),
                       out=out)
    err = capsys.readouterr().err
    assert "ignoring scenario folder(s) busier" in err and "not part of this comparison" in err
    assert (out / "busier").is_dir()
    assert pd.read_parquet(out / "comparison.parquet").scenario.unique().tolist() == [
        "tiny", "quieter"]
    html = write_comparison_report(out).read_text(encoding="utf-8")
    assert "quieter" in html and "busier" not in html
    (out / "comparison.parquet").unlink()  # as if killed: rebuilt from the listed folders
    assert write_comparison_report(out).read_text(encoding="utf-8") == html
    # A listed scenario folder holding another run is refused by name.
    simulation.run(quieter, replications=2, seed=9, executor=SerialExecutor(),
                   out=out / "quieter", events=False)
    with pytest.raises(RecordError, match="scenario folder quieter does not belong.*seed"):
        write_comparison_report(out)
