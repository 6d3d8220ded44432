"""Reorganisation levers as pure scenario transforms (scenario in, scenario out).

Each lever rewrites the plain data of a resolved scenario; the result is validated again,
and the levers move to ``applied_levers`` so the resolved file records them without
applying them twice. Transforms keep common random numbers: they change rates through
per-arrival diversion shares and durations through scale factors, never by redrawing.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable

from pydantic import TypeAdapter, ValidationError

from simulation.scenario import lever_specs as ls
from simulation.scenario.cover import gap_minutes
from simulation.scenario.distributions import Dist
from simulation.scenario.io import ScenarioError, to_plain, validate
from simulation.scenario.lever_conflicts import History, claims
from simulation.scenario.schema import REPORT_KINDS, URGENT_KINDS, Scenario

_DIST = TypeAdapter(Dist)
_MAX_JOINT_CHOICES = 5000  # back-office choices tried jointly (teams sharing lines interact)


class LeverError(Exception):
    """A lever that cannot apply to this scenario: (field inside the lever, message)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def _departments(data: dict, wanted) -> list[str]:
    if wanted == "all":
        return list(data["departments"])
    unknown = [d for d in wanted if d not in data["departments"]]
    if unknown:
        raise LeverError("departments", f"unknown department(s) {unknown}; use some of "
                                        f"{sorted(data['departments'])} or 'all'")
    return list(wanted)


def _team_departments(data: dict, team: dict) -> list[str]:
    return list(data["departments"]) if team["departments"] == "all" else team["departments"]


def _scale(dist: dict, factor: float) -> dict:
    try:
        scaled = _DIST.validate_python(dist).scaled(factor)
    except ValidationError:
        raise LeverError("complex_factor", f"scales a duration ({dist}) beyond what a "
                                           "duration may be; lower the factor") from None
    return scaled.model_dump(by_alias=True)


def _all_kinds(data: dict) -> list[str]:
    kinds = list(URGENT_KINDS + REPORT_KINDS + ("online_check",))
    for dept in data["departments"].values():
        for s in dept["streams"].values():
            if s["type"] == "back_office" and s["kind"] not in kinds:
                kinds.append(s["kind"])
    return kinds


def _pick_secretaries(team_name: str, team: dict, choice, field: str) -> list[str]:
    names = list(team["secretaries"])
    if isinstance(choice, int):
        if not 0 < choice < len(names):
            raise LeverError(field, f"team '{team_name}' has {len(names)} secretaries; move "
                                    f"between 1 and {len(names) - 1} so that some stay")
        return names[-choice:]
    unknown = [n for n in choice if n not in names]
    if unknown or len(choice) >= len(names) or not choice:
        raise LeverError(field, f"choose 1 to {len(names) - 1} of team '{team_name}' "
                                f"secretaries {names} (unknown: {unknown})")
    return list(choice)


def _teams(data: dict, name: str, field: str) -> dict:
    if name not in data["teams"]:
        raise LeverError(field, f"unknown team '{name}'; use one of {sorted(data['teams'])}")
    return data["teams"][name]


# ----------------------------------------------------------------------------- transforms
def pooling(data: dict, lever: ls.Pooling) -> dict:
    """Phone (and desk) pool, or full merge of the departments' teams."""
    depts = _departments(data, lever.departments)
    serving = {t: team for t, team in data["teams"].items()
               if set(_team_departments(data, team)) & set(depts)}
    if not serving:
        raise LeverError("departments", "no team serves these departments")
    if lever.scope == "all":
        merged = {n: s for team in serving.values() for n, s in team["secretaries"].items()}
        outside = [t for t, team in serving.items()
                   if not set(_team_departments(data, team)) <= set(depts)]
        if outside:
            raise LeverError("departments", f"teams {outside} also serve other departments; "
                                            "include those departments or pool by phones")
        for t in serving:
            del data["teams"][t]
        if lever.team in data["teams"]:
            raise LeverError("team", f"a team named '{lever.team}' already exists; rename it")
        data["teams"][lever.team] = {
            "description": f"pool of {', '.join(serving)}", "departments": depts,
            "kinds": "all", "categories": None, "specialty_penalty": lever.specialty_penalty,
            "also_serves": [r for team in serving.values() for r in team["also_serves"]],
            "secretaries": merged}
        return data
    kinds = ["call", "transferred_call"] + (["walk_in"] if lever.scope == "phones_and_desk" else [])
    for team in serving.values():
        # The penalty applies to the pooled calls only, not to the team's own work.
        team["also_serves"].append({"departments": depts, "kinds": kinds, "categories": None,
                                    "specialty_penalty": lever.specialty_penalty})
    return data


def booking_desk(data: dict, lever: ls.BookingDesk) -> dict:
    """A desk answering the departments' booking calls first, transferring complex ones."""
    depts = _departments(data, lever.departments)
    if lever.team in data["teams"]:
        raise LeverError("team", f"a team named '{lever.team}' already exists; rename it")
    staff: dict = {}
    for tname, n in lever.staff.items():
        team = _teams(data, tname, "staff")
        for name in _pick_secretaries(tname, team, n, "staff"):
            staff[name] = team["secretaries"].pop(name)
    if lever.new_secretaries:
        if lever.shift is None or lever.shift not in data["shifts"]:
            raise LeverError("shift", f"new desk secretaries need a named shift from "
                                      f"{sorted(data['shifts'])}")
        for i in range(lever.new_secretaries):
            staff[f"{lever.team}_{i + 1}"] = {"shift": lever.shift, "days": None,
                                              "absence_rate": 0.0, "home_department": None}
    if not staff:
        raise LeverError("staff", "the desk has no secretaries; move some with 'staff' or "
                                  "hire with 'new_secretaries'")
    # The desk also does the deferrable booking work of its categories (mail requests,
    # online-booking checks) between calls, but never the transferred calls.
    desk_kinds = ["call", "online_check"] + sorted({
        s["kind"] for d in depts for s in data["departments"][d]["streams"].values()
        if s["type"] == "back_office" and s["audit_category"] in lever.categories})
    data["teams"][lever.team] = {
        "description": "pole booking desk", "departments": depts, "kinds": desk_kinds,
        "categories": list(lever.categories), "specialty_penalty": lever.specialty_penalty,
        "also_serves": [], "secretaries": staff}
    touched = 0
    for d in depts:
        for s in data["departments"][d]["streams"].values():
            if s["type"] == "call" and s["audit_category"] in lever.categories:
                s["answered_by"] = [lever.team]
                s["transfer"] = {"share": lever.transfer_share, "by_teams": [lever.team],
                                 "handling": lever.transfer_handling.model_dump(by_alias=True)}
                touched += 1
    if not touched:
        raise LeverError("categories", f"no call stream of categories {lever.categories} in "
                                       f"these departments")
    return data


def _named_back_office(team_name: str, team: dict, names: list[str], field: str) -> list[str]:
    """The secretaries a user named for the back office, checked against the team."""
    members = list(team["secretaries"])
    where = f"{field}.{team_name}"
    unknown = [n for n in names if n not in members]
    if unknown:
        raise LeverError(where, f"unknown secretary {', '.join(map(repr, unknown))} in team "
                                f"'{team_name}'; name some of: {', '.join(members)}")
    if len(set(names)) != len(names):
        raise LeverError(where, f"names a secretary twice ({names}); list each once")
    if not names or len(names) >= len(members):
        raise LeverError(where, f"moves {len(names)} of the {len(members)} secretaries of team "
                                f"'{team_name}'; name 1 to {len(members) - 1} of them so that "
                                "someone stays in the front office, or give a number")
    return list(names)


def _back_office_candidates(team_name: str, team: dict, n: int, field: str) -> list[tuple]:
    """Every choice of n secretaries of the team, the last listed first (the tie-break)."""
    members = list(team["secretaries"])
    if not 0 < n < len(members):
        raise LeverError(f"{field}.{team_name}",
                         f"team '{team_name}' has {len(members)} secretaries; move between 1 "
                         f"and {max(len(members) - 1, 0)} so that some stay, or name them")
    return [tuple(reversed(c)) for c in itertools.combinations(reversed(members), n)]


def choose_back_office(data: dict, counts: dict[str, int], named: dict[str, list[str]],
                       field: str = "back_office") -> dict[str, list[str]]:
    """Who moves to the back office: per team in ``counts``, the secretaries whose leaving
    keeps every open minute of every line and desk answered.

    When no choice keeps full cover, the one leaving the fewest open minutes without anyone
    on duty (summed over lines and desks, weekly pattern) is kept, and ``cover_warnings``
    then names the gaps. Ties go to the last-listed secretaries. ``named`` secretaries move
    whatever the cover.
    """
    options = {t: _back_office_candidates(t, _teams(data, t, field), n, field)
               for t, n in counts.items()}
    fixed = [n for names in named.values() for n in names]
    if not options:
        return dict(named)
    scenario = Scenario.model_validate(data)

    def gaps(away) -> int:
        return gap_minutes(scenario, [*fixed, *away])

    if math.prod(len(o) for o in options.values()) <= _MAX_JOINT_CHOICES:
        best = min(itertools.product(*options.values()),
                   key=lambda combo: gaps([n for c in combo for n in c]))
    else:  # too many to try jointly: team by team, each given the earlier choices
        best, away = [], []
        for choices in options.values():
            pick = min(choices, key=lambda c: gaps([*away, *c]))
            best.append(pick)
            away += pick
    return {**named, **{t: list(c) for t, c in zip(options, best)}}


def front_back_split(data: dict, lever: ls.FrontBackSplit) -> dict:
    """Move some secretaries to back-office teams that never take urgent work.

    A number of secretaries per team is a choice left to ``choose_back_office`` (keep the
    lines and desks covered); a list of names moves those secretaries.
    """
    urgent = [k for k in lever.back_kinds if k in URGENT_KINDS]
    if urgent:
        raise LeverError("back_kinds", f"{urgent} are urgent kinds; the back office takes only "
                                       "deferrable work")
    kinds = _all_kinds(data)
    unknown = [k for k in lever.back_kinds if k not in kinds]
    if unknown:
        raise LeverError("back_kinds", f"unknown kinds {unknown}; use some of {kinds}")
    front_kinds = [k for k in kinds if k not in lever.back_kinds]
    named = {t: _named_back_office(t, _teams(data, t, "back_office"), c, "back_office")
             for t, c in lever.back_office.items() if not isinstance(c, int)}
    counts = {t: c for t, c in lever.back_office.items() if isinstance(c, int)}
    chosen = choose_back_office(data, counts, named)
    pooled: dict = {"secretaries": {}, "departments": []}
    for tname in lever.back_office:
        team = data["teams"][tname]
        moved = {n: team["secretaries"].pop(n) for n in chosen[tname]}
        if team["kinds"] != "all":
            front_kinds_team = [k for k in team["kinds"] if k not in lever.back_kinds]
        else:
            front_kinds_team = front_kinds
        team["kinds"] = front_kinds_team
        if lever.pooled_back_office:
            pooled["secretaries"].update(moved)
            pooled["departments"] += [d for d in _team_departments(data, team)
                                      if d not in pooled["departments"]]
            continue
        data["teams"][f"{tname}_back"] = {
            "description": f"back office of {tname}", "departments": team["departments"],
            "kinds": list(lever.back_kinds), "categories": team["categories"],
            "specialty_penalty": team["specialty_penalty"], "also_serves": [],
            "secretaries": moved}
    if lever.pooled_back_office:
        data["teams"][lever.team] = {
            "description": "pooled back office", "departments": pooled["departments"],
            "kinds": list(lever.back_kinds), "categories": None, "specialty_penalty": 0.0,
            "also_serves": [], "secretaries": pooled["secretaries"]}
    return data


def float_pool(data: dict, lever: ls.FloatPool) -> dict:
    """Add float secretaries serving any of the departments."""
    depts = _departments(data, lever.departments)
    if lever.shift not in data["shifts"]:
        raise LeverError("shift", f"unknown shift '{lever.shift}'; use one of "
                                  f"{sorted(data['shifts'])}")
    if lever.team in data["teams"]:
        raise LeverError("team", f"a team named '{lever.team}' already exists; rename it")
    data["teams"][lever.team] = {
        "description": "float secretaries", "departments": depts, "kinds": "all",
        "categories": None, "specialty_penalty": lever.specialty_penalty, "also_serves": [],
        "secretaries": {f"{lever.team}_{i + 1}": {"shift": lever.shift, "days": None,
                                                  "absence_rate": 0.0, "home_department": None}
                        for i in range(lever.secretaries)}}
    return data


def voice_recognition(data: dict, lever: ls.VoiceRecognitionLever) -> dict:
    """Set voice recognition on the departments' dictation streams."""
    touched = 0
    for d in _departments(data, lever.departments):
        for s in data["departments"][d]["streams"].values():
            if s["type"] == "dictation":
                s["voice_recognition"] = {
                    "mode": lever.mode, "adoption": lever.adoption,
                    "proofreading_factor": lever.proofreading_factor,
                    "validation_factor": lever.validation_factor}
                touched += 1
    if not touched:
        raise LeverError("departments", "these departments have no dictation stream")
    return data


def online_booking(data: dict, lever: ls.OnlineBookingLever) -> dict:
    """Divert a share of booking calls and walk-ins online; the rest are longer."""
    touched = 0
    for d in _departments(data, lever.departments):
        for s in data["departments"][d]["streams"].values():
            if s["type"] in ("call", "walk_in") and s["audit_category"] in lever.categories:
                s["online"] = {"share": lever.share,
                               "averted_share": lever.reminder_averted_share,
                               "check": lever.check_time.model_dump(by_alias=True),
                               "check_category": s["audit_category"]}
                if lever.share > 0:  # nobody online: the calls are those of the baseline
                    s["service"] = _scale(s["service"], lever.complex_factor)
                touched += 1
    if not touched:
        raise LeverError("categories", f"no call or walk-in stream of categories "
                                       f"{lever.categories} in these departments")
    if lever.share + lever.reminder_averted_share > 1:
        raise LeverError("share", "share + reminder_averted_share must not exceed 1")
    return data


def absences(data: dict, lever: ls.Absences) -> dict:
    """Give secretaries a daily absence probability."""
    names = list(data["teams"]) if lever.teams == "all" else lever.teams
    for tname in names:
        for sec in _teams(data, tname, "teams")["secretaries"].values():
            sec["absence_rate"] = lever.rate
    return data


TRANSFORMS: dict[type, Callable[[dict, object], dict]] = {
    ls.Pooling: pooling, ls.BookingDesk: booking_desk, ls.FrontBackSplit: front_back_split,
    ls.FloatPool: float_pool, ls.VoiceRecognitionLever: voice_recognition,
    ls.OnlineBookingLever: online_booking, ls.Absences: absences,
}


def apply_levers(scenario: Scenario, source: str | None = None) -> Scenario:
    """The scenario with its levers applied in order and recorded in ``applied_levers``."""
    if not scenario.levers:
        return scenario
    data = copy.deepcopy(to_plain(scenario))
    history = History()
    for i, lever in enumerate(scenario.levers):
        mine = claims(data, lever)
        conflict = history.conflict(data, i, lever, mine)
        if conflict:
            raise ScenarioError([(f"levers[{i}]", conflict)], source)
        teams_before = set(data["teams"])
        try:
            data = TRANSFORMS[type(lever)](data, lever)
        except LeverError as exc:
            raise ScenarioError([(f"levers[{i}].{exc.field}",
                                  f"{lever.lever}: {exc.message}")], source) from None
        history.record(i, lever, mine, set(data["teams"]) - teams_before)
    data["applied_levers"] = data.get("applied_levers", []) + data.pop("levers")
    data["levers"] = []
    return validate(data, source)
