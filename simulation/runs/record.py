"""What an output folder holds: the record of a run (``run.json``) or of a comparison
(``comparison.json``), written when the run starts and updated when it ends.

A record names what makes the results what they are (the scenario's digest, seed,
replications, events, the secsim version). ``--resume`` and ``secsim report`` compare it
with what they are asked to do or with what the folder holds, and refuse a mismatch with
a sentence naming the field and the fix, so results of different runs never mix.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

from simulation.scenario.io import dump_yaml
from simulation.scenario.schema import Scenario
from simulation.version import __version__

RUN_RECORD, COMPARISON_RECORD = "run.json", "comparison.json"
RUN_KIND, COMPARISON_KIND = "secsim-run", "secsim-compare"
# Fields that must agree for results to belong together, with how a user sets each
# (given the folder's value).
IDENTITY = {
    "scenario_digest": lambda _v: "the same scenario file and --set overrides",
    "seed": lambda v: f"--seed {v}",
    "replications_requested": lambda v: f"--replications {v}",
    "events": lambda v: f"event tables {'on' if v else 'off'} as before",
    "secsim_version": lambda v: f"secsim {v}",
}

RUN_TAG = "secsim_run"  # Parquet metadata key: which run wrote a replication's file


class RecordError(Exception):
    """An output folder's record does not match what is asked of it (or is missing)."""


def scenario_digest(scenario: Scenario) -> str:
    """SHA-256 of the resolved scenario as YAML: equal digests, equal model input."""
    return text_digest(dump_yaml(scenario))


def text_digest(text: str) -> str:
    """The digest of a written scenario.yaml (its comment header left out)."""
    lines = text.splitlines(keepends=True)
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


def identity(scenario: Scenario, seed: int | None, replications: int | None,
             events: bool) -> dict[str, Any]:
    """The fields of a run record that ``--resume`` and ``report`` check."""
    return {"scenario": scenario.name, "scenario_digest": scenario_digest(scenario),
            "seed": seed, "replications_requested": replications, "events": bool(events),
            "secsim_version": __version__}


def run_tag(record: dict[str, Any]) -> str:
    """What every replication file of a run carries to tell which run wrote it."""
    return json.dumps({k: record.get(k) for k in ("scenario_digest", "seed")})


def read_record(path: Path) -> dict[str, Any] | None:
    """A record file as a dict (None when there is none); RecordError when unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        info = json.loads(text)
    except ValueError:
        raise RecordError(f"{path} is not readable JSON; run again without --resume (or "
                          "into another --out)") from None
    return info if isinstance(info, dict) else {}


def to_json(info: dict[str, Any]) -> str:
    """A record as JSON text (NaN as null, anything else unusual as text)."""
    return json.dumps(info, indent=2, default=_json_default)


def _json_default(obj):
    if isinstance(obj, float) and math.isnan(obj):
        return None
    return str(obj)


def mismatch(old: dict[str, Any], new: dict[str, Any], where: Path, fix: str) -> str | None:
    """A sentence naming the first identity field that differs (None when all agree)."""
    for name, how in IDENTITY.items():
        if name in new and old.get(name) != new[name]:
            return (f"{where} holds a run with {name} = {_short(old.get(name))}, this one has "
                    f"{_short(new[name])}; {fix} with {how(old.get(name))}, or choose another "
                    "--out")
    return None


def _short(value: Any) -> str:
    text = "missing" if value is None else str(value)
    return text[:12] + "…" if len(text) > 16 and text.isalnum() else text


def check_resume(old: dict[str, Any] | None, new: dict[str, Any], where: Path) -> None:
    """Refuse to resume a run whose record differs from the run asked for."""
    if old is None:
        return
    if old.get("kind") != RUN_KIND:
        raise RecordError(f"{where} holds no secsim run record ({RUN_RECORD} of an older "
                          "secsim, or another kind of folder); run without --resume to start "
                          "again there, or choose another --out")
    problem = mismatch(old, new, where, "resume it")
    if problem:
        raise RecordError(problem + " (without --resume the folder is started again)")


def check_run_folder(folder: Path) -> dict[str, Any]:
    """The record of a run folder, after checking it describes the files beside it."""
    record = read_record(folder / RUN_RECORD)
    if record is None or record.get("kind") != RUN_KIND:
        raise RecordError(f"{folder} has no run record ({RUN_RECORD} of this secsim "
                          "version); rerun the run into this folder to write one")
    try:
        text = (folder / "scenario.yaml").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecordError(f"{folder}/scenario.yaml is missing; rerun the run into this "
                          "folder") from None
    if text_digest(text) != record.get("scenario_digest"):
        raise RecordError(f"{folder}/scenario.yaml is not the scenario {RUN_RECORD} records "
                          "(scenario_digest differs: the file was changed or copied in after "
                          "the run); rerun the run into this folder")
    _check_replication_files(folder, record)
    return record


def _check_replication_files(folder: Path, record: dict[str, Any]) -> None:
    """Every replication file was written by the run the record describes."""
    from simulation.runs.files import file_metadata  # pyarrow: only when reading results

    requested = record.get("replications_requested")
    tag = run_tag(record)
    kpis = folder / "kpis.parquet"
    for f in sorted(kpis.glob("rep-*.parquet")) if kpis.is_dir() else []:
        if requested and int(f.name[4:-8]) >= requested:
            raise RecordError(f"{f} is replication {int(f.name[4:-8])} but {RUN_RECORD} "
                              f"records a run of {requested} replications; rerun the run "
                              "into this folder, or another --out")
        theirs = file_metadata(f, RUN_TAG)
        if theirs != tag:
            raise RecordError(f"{f} was not written by the run {RUN_RECORD} records ("
                              f"{theirs or 'no run tag'} instead of {tag}); rerun the run "
                              "into this folder, or another --out")


def check_comparison(folder: Path, record: dict[str, Any]) -> list[str]:
    """The scenario folders of a comparison, after checking each belongs to it."""
    if record.get("kind") != COMPARISON_KIND:
        raise RecordError(f"{folder}/{COMPARISON_RECORD} was written by an older secsim "
                          "(no list of scenarios); rerun the comparison into this folder")
    names = []
    for entry in record.get("scenarios", []):
        sub = folder / entry["name"]
        run = check_run_folder(sub)
        wanted = {k: record.get(k) for k in ("seed", "replications_requested",
                                             "secsim_version")}
        wanted["scenario_digest"] = entry["scenario_digest"]
        problem = mismatch(run, wanted, sub, "rerun the comparison")
        if problem:
            raise RecordError(f"scenario folder {entry['name']} does not belong to the "
                              f"comparison in {COMPARISON_RECORD}: {problem}")
        names.append(entry["name"])
    return names
