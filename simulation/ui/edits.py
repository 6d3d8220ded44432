"""What a lead changes in the workbench, as plain-data edits of a composed scenario.

A scenario's *settings* are the few numbers the workbench shows (team sizes, pooled phone
lines, a front/back split, voice recognition, online booking, the doctors' sittings, the
horizon), read from the composed data. An edit compares new settings with the file's and
turns each change into a ``dotted.path=value`` override (what ``--set`` does) or into the
``levers:`` entry of its kind, so the edited data, written as YAML, is a scenario file
``secsim run`` reads to the same resolved scenario. No simulation logic here.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from simulation.scenario.composition import read_composed, set_path, unshared
from simulation.scenario.errors import ScenarioError

# Levers the workbench sets; any other lever of the file is kept as it is.
VOICE_MODES = ("none", "back_end", "front_end")
POOLING_SCOPES = ("phones", "phones_and_desk", "all")
# Bundled scenarios in sub-folders (a whole hospital group) are large: listed apart.
LARGE_FOLDERS = ("group",)


def bundled_scenarios(folder: str | Path) -> list[tuple[str, Path, bool]]:
    """(label, path, large) of the scenario files in ``folder``: its own files first, then
    those of sub-folders such as ``group/`` flagged as large."""
    root = Path(folder)
    out = [(p.stem, p, False) for p in sorted(root.glob("*.yaml"))]
    for sub in LARGE_FOLDERS:
        out += [(f"{sub}/{p.stem} (large)", p, True) for p in sorted((root / sub).glob("*.yaml"))]
    return out


def load_file(path: str | Path) -> dict:
    """A scenario file's data with its ``extends`` chain merged (not yet validated)."""
    data = read_composed(path)
    if not isinstance(data, Mapping):
        raise ScenarioError([("", "the file is not a mapping of fields; it needs name, "
                                  "calendar, departments and teams (see docs/scenario.md)")],
                            str(path))
    return unshared(data)


def parse_upload(text: str, source: str = "upload") -> dict:
    """An uploaded YAML text as scenario data; a ScenarioError naming the problem if it is
    not YAML, not a mapping, has a key twice or ``extends`` a file the upload cannot bring."""
    from simulation.scenario.io import parse_yaml

    try:
        data, duplicates = parse_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ScenarioError([("", f"the file is not valid YAML{where}: {problem}; fix the "
                                  "indentation or quoting there")], source) from None
    if duplicates:
        raise ScenarioError(duplicates, source)
    if not isinstance(data, Mapping):
        raise ScenarioError([("", "the file is not a mapping of fields; it needs name, "
                                  "calendar, departments and teams (see docs/scenario.md)")],
                            source)
    if "extends" in data:
        raise ScenarioError([("extends", "an uploaded file cannot extend another file; upload "
                                         "the resolved scenario (scenario.yaml of a run)")],
                            source)
    return unshared(dict(data))


def validate_data(data: Mapping, source: str | None = None):
    """The resolved ``Scenario`` of the data (levers applied); a ScenarioError if invalid."""
    from simulation.scenario.composition import compose

    return compose(data, [], source)


# ------------------------------------------------------------------------- settings


def _levers(data: Mapping, kind: str) -> list[dict]:
    return [lv for lv in (data.get("levers") or []) if isinstance(lv, Mapping)
            and lv.get("lever") == kind]


def _departments(data: Mapping, value: Any) -> list[str]:
    names = list(data.get("departments") or {})
    if value in (None, "all"):
        return names
    return [value] if isinstance(value, str) else list(value)


def _team_size(team: Mapping) -> float:
    if team.get("size") is not None:
        return float(team["size"])
    return float(len(team.get("secretaries") or {}))


def _sitting(doctors: Mapping) -> dict | None:
    sittings = doctors.get("sittings") or []
    if not sittings:
        return None
    first = sittings[0]
    per_week = sum(s.get("per_week") or len(s.get("days") or []) or 5 for s in sittings)
    return {"per_week": int(per_week), "minutes": int(first.get("minutes", 0)),
            "start": str(first.get("start", "17:00"))}


def settings(data: Mapping) -> dict:
    """The workbench's settings as the scenario data states them."""
    teams = data.get("teams") or {}
    pooling = _levers(data, "pooling")
    split = _levers(data, "front_back_split")
    voice = _levers(data, "voice_recognition")
    online = _levers(data, "online_booking")
    back = dict(split[0].get("back_office") or {}) if split else {}
    return {
        "horizon_days": int(data.get("calendar", {}).get("horizon_days", 0)),
        "team_sizes": {t: _team_size(team) for t, team in teams.items()},
        "pooled": _departments(data, pooling[0].get("departments")) if pooling else [],
        "pooling_scope": pooling[0].get("scope", "phones") if pooling else "phones",
        "back_office": {t: (len(v) if isinstance(v, list) else int(v)) for t, v in back.items()},
        "voice_mode": voice[0].get("mode", "back_end") if voice else "none",
        "voice_adoption": float(voice[0].get("adoption", 0.9)) if voice else 0.9,
        "online_share": float(online[0].get("share", 0.11)) if online else 0.0,
        "signoff": {d: s for d, dept in (data.get("departments") or {}).items()
                    if isinstance(dept, Mapping) and isinstance(dept.get("doctors"), Mapping)
                    and (s := _sitting(dept["doctors"])) is not None},
    }


# ---------------------------------------------------------------------------- edits


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def overrides(old: Mapping, new: Mapping) -> list[str]:
    """The ``--set`` overrides (dotted.path=value) of the changed numbers."""
    out = []
    if new["horizon_days"] != old["horizon_days"]:
        out.append(f"calendar.horizon_days={int(new['horizon_days'])}")
    for team, size in new["team_sizes"].items():
        if float(size) != float(old["team_sizes"].get(team, size)):
            out.append(f"teams.{team}.size={_number(size)}")
    for dept, s in new["signoff"].items():
        was = old["signoff"].get(dept)
        if was is not None and (s["per_week"], s["minutes"]) != (was["per_week"], was["minutes"]):
            out.append(f"departments.{dept}.doctors.sittings=[{{per_week: {int(s['per_week'])}, "
                       f"start: '{was['start']}', minutes: {int(s['minutes'])}}}]")
    return out


def lever_changes(old: Mapping, new: Mapping, data: Mapping) -> dict[str, dict | None]:
    """Per lever kind whose setting changed: its new ``levers:`` entry, or None to drop it.
    Fields the workbench does not show (penalties, factors) keep the file's values."""
    changes: dict[str, dict | None] = {}

    def entry(kind: str, shown: dict, **defaults) -> dict:
        found = _levers(data, kind)
        kept = {k: v for k, v in (copy.deepcopy(found[0]) if found else defaults).items()
                if k not in shown and k != "lever"}
        return {"lever": kind, **shown, **kept}

    if sorted(new["pooled"]) != sorted(old["pooled"]) or (
            new["pooled"] and new["pooling_scope"] != old["pooling_scope"]):
        pooled = [d for d in data.get("departments", {}) if d in set(new["pooled"])]
        changes["pooling"] = None if len(pooled) < 2 else entry(
            "pooling", {"departments": pooled, "scope": new["pooling_scope"]},
            specialty_penalty=0.1)
    back = {t: int(n) for t, n in new["back_office"].items() if int(n) > 0}
    if back != {t: int(n) for t, n in old["back_office"].items() if int(n) > 0}:
        changes["front_back_split"] = entry("front_back_split", {"back_office": back}) if back \
            else None
    if (new["voice_mode"], new["voice_adoption"]) != (old["voice_mode"], old["voice_adoption"]):
        changes["voice_recognition"] = None if new["voice_mode"] == "none" else entry(
            "voice_recognition", {"mode": new["voice_mode"],
                                  "adoption": float(new["voice_adoption"])})
    if new["online_share"] != old["online_share"]:
        changes["online_booking"] = None if new["online_share"] <= 0 else entry(
            "online_booking", {"share": float(new["online_share"])})
    return changes


def apply_levers(data: dict, changes: Mapping[str, dict | None]) -> dict:
    """Data whose ``levers:`` list has each changed kind's entry replaced (in place of the
    file's first one of that kind, else appended) or removed."""
    levers = list(data.get("levers") or [])
    for kind, entry in changes.items():
        at = next((i for i, lv in enumerate(levers)
                   if isinstance(lv, Mapping) and lv.get("lever") == kind), len(levers))
        levers = [lv for lv in levers if not (isinstance(lv, Mapping) and lv.get("lever") == kind)]
        if entry is not None:
            levers.insert(min(at, len(levers)), entry)
    if levers:
        data["levers"] = levers
    else:
        data.pop("levers", None)
    return data


def edited(data: Mapping, new: Mapping, name: str | None = None) -> tuple[dict, list[str]]:
    """The data with the new settings applied, and the overrides used (``--set`` style).
    ``name``: the edited scenario's name (so it can be compared with the original)."""
    old = settings(data)
    out = unshared(data)
    sets = overrides(old, new)
    for assignment in sets:
        out = set_path(out, assignment)
    out = apply_levers(out, lever_changes(old, new, data))
    if name and name != out.get("name"):
        out["name"] = name
    return out, sets


def with_horizon(data: Mapping, days: int) -> dict:
    """The data simulated over ``days`` (``--set calendar.horizon_days=DAYS``); the same
    data when the file says so already. The workbench applies it to every scenario of a run
    so that they stay comparable."""
    if int(settings(data)["horizon_days"]) == int(days):
        return dict(data)
    return set_path(unshared(data), f"calendar.horizon_days={int(days)}")


def to_yaml(data: Mapping, header: str = "") -> str:
    """The scenario data as a YAML file (``secsim run FILE`` reads it to the same scenario)."""
    text = yaml.safe_dump(unshared(dict(data)), sort_keys=False, allow_unicode=True, width=100)
    comment = "".join(f"# {line}\n" for line in header.splitlines())
    return comment + text


def describe(sets: list[str], levers: Mapping[str, dict | None]) -> list[str]:
    """The changes as a user reads them: ``--set`` overrides, then lever entries (YAML)."""
    lines = [f"--set {s}" for s in sets]
    for kind, entry in levers.items():
        if entry is None:
            lines.append(f"levers: remove the {kind} lever")
        else:
            flow = yaml.safe_dump(dict(entry), default_flow_style=True, sort_keys=False,
                                  width=1000)
            lines.append(f"levers: - {flow.strip()}")
    return lines


def problems_by_field(exc: ScenarioError) -> list[tuple[str, str]]:
    """(field, sentence) pairs of a scenario error, the whole scenario as 'scenario'."""
    return [(path or "scenario", message) for path, message in exc.problems]
