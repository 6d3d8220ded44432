"""Levers that would undo or silently overwrite each other (docs/model.md, "Combining levers").

Levers apply in order, each on the scenario the earlier ones left. Two combinations have no
meaning and are errors naming both levers:

- a lever that sets a setting another lever of the same kind already set on the same
  department, stream or team (voice recognition, online booking, booking desk, absences,
  phone pooling, front/back split): the second would silently replace the first, or, for
  online booking, lengthen the remaining calls twice;
- a ``pooling`` applied after a ``front_back_split`` or ``booking_desk`` whose new team
  serves the pooled departments: scope 'all' merges that team back into one team doing
  all the work, a phone pool hands it every call of the pool, undoing the split or the
  desk. Pool first, then split (or set up the desk): that order has a meaning.
"""

from __future__ import annotations

from typing import Any

from simulation.scenario import lever_specs as ls

Claim = tuple[str, ...]

# What each lever kind sets, in words, for the error.
SETS = {
    "voice_recognition": "voice recognition of department",
    "online_booking": "online booking of stream",
    "booking_desk": "the answering desk of stream",
    "absences": "the absence rate of team",
    "pooling": "the phone pool of department",
    "front_back_split": "the back office of team",
}
# Levers whose new team has a narrower job than its departments' other teams.
SPECIALISED = (ls.FrontBackSplit, ls.BookingDesk)


def _departments(data: dict, wanted: Any) -> list[str]:
    return list(data["departments"]) if wanted == "all" else [
        d for d in wanted if d in data["departments"]]


def _team_departments(data: dict, team: dict) -> set[str]:
    depts = team.get("departments")
    return set(data["departments"]) if depts == "all" else set(depts or [])


def _streams(data: dict, depts: list[str], types: tuple[str, ...], categories) -> list[Claim]:
    return [(d, n) for d in depts for n, s in data["departments"][d]["streams"].items()
            if s.get("type") in types and s.get("audit_category") in categories]


def claims(data: dict, lever: Any) -> set[Claim]:
    """The departments, streams or teams whose setting this lever rewrites."""
    try:
        if isinstance(lever, ls.VoiceRecognitionLever):
            return {(d,) for d in _departments(data, lever.departments)
                    if any(s.get("type") == "dictation"
                           for s in data["departments"][d]["streams"].values())}
        if isinstance(lever, ls.OnlineBookingLever):
            return set(_streams(data, _departments(data, lever.departments),
                                ("call", "walk_in"), lever.categories))
        if isinstance(lever, ls.BookingDesk):
            return set(_streams(data, _departments(data, lever.departments), ("call",),
                                lever.categories))
        if isinstance(lever, ls.Absences):
            teams = list(data["teams"]) if lever.teams == "all" else lever.teams
            return {(t,) for t in teams}
        if isinstance(lever, ls.Pooling) and lever.scope != "all":
            return {(d,) for d in _departments(data, lever.departments)}
        if isinstance(lever, ls.FrontBackSplit):
            return {(t,) for t in lever.back_office}
    except (KeyError, TypeError, AttributeError):
        pass  # a lever that cannot apply: its transform says why
    return set()


class History:
    """What the levers applied so far claimed and created, to check the next one."""

    def __init__(self) -> None:
        self._claims: list[tuple[int, Any, set[Claim]]] = []
        self._created: dict[str, tuple[int, Any]] = {}

    def conflict(self, data: dict, index: int, lever: Any, mine: set[Claim]) -> str | None:
        """Why lever ``index`` (claiming ``mine``) cannot follow the earlier ones, or None."""
        for i, other, theirs in self._claims:
            if type(other) is type(lever) and mine & theirs:
                shared = ", ".join(".".join(c) for c in sorted(mine & theirs))
                again = (" and lengthen the remaining calls twice"
                         if isinstance(lever, ls.OnlineBookingLever) else "")
                return (f"levers[{index}] ({lever.lever}) and levers[{i}] ({other.lever}) both "
                        f"set {SETS[lever.lever]} {shared}: the second would silently replace "
                        f"the first{again}; merge them into one lever or give each its own "
                        "departments or teams")
        if isinstance(lever, ls.Pooling):
            depts = set(_departments(data, lever.departments))
            for team, (i, other) in self._created.items():
                if team in data["teams"] and _team_departments(data, data["teams"][team]) & depts:
                    undo = ("merge the team" if lever.scope == "all"
                            else "give the pooled calls to the team")
                    return (f"levers[{index}] (pooling, scope {lever.scope}) would {undo} "
                            f"'{team}', made by levers[{i}] ({other.lever}), undoing it; put "
                            f"the pooling before the {other.lever} (pool first, then "
                            f"{'split' if isinstance(other, ls.FrontBackSplit) else 'add the desk'}) "
                            "or drop one of them")
        return None

    def record(self, index: int, lever: Any, mine: set[Claim], new_teams: set[str]) -> None:
        """Note what lever ``index`` claimed and the teams it created."""
        self._claims.append((index, lever, mine))
        if isinstance(lever, SPECIALISED):
            for team in sorted(new_teams):
                self._created[team] = (index, lever)
