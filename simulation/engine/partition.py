"""The independent parts of a scenario: departments and secretaries no work links.

Two departments belong to the same part when a secretary may do work of both (a pooled
call line, a float, a booking desk); a team stays whole. Nothing else couples them in the
model: every draw belongs to an entity of one department or one secretary (callers,
reports, tasks, her absences), so each part can run on its own clock and stop at its own
end of the follow-up (``engine.model.simulate``). A group of 80 dedicated secretariats
is 80 parts; a group call platform makes them one.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulation.scenario.consistency import demanded_work, serving_penalty
from simulation.scenario.schema import Scenario


@dataclass(frozen=True)
class Part:
    """Departments and the secretaries (by name) who serve only them, in file order."""

    departments: tuple[str, ...]
    secretaries: tuple[str, ...]


def independent_parts(scenario: Scenario) -> list[Part]:
    """The parts of ``scenario`` no work links, in the order of their first department
    (parts of secretaries without work come last, in file order)."""
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def root(node: tuple[str, str]) -> tuple[str, str]:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]  # path halving
            node = parent[node]
        return node

    def join(a: tuple[str, str], b: tuple[str, str]) -> None:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[rb] = ra

    staff = scenario.secretaries()
    for dept in scenario.departments:
        root(("department", dept))
    for team, name, _sec in staff:
        join(("team", team), ("secretary", name))
    teams = {team for team, _name, _sec in staff}
    for dept, stream, kind, category in demanded_work(scenario):
        for team in teams:
            if serving_penalty(scenario, team, dept, kind, category, stream) is not None:
                join(("department", dept), ("team", team))

    members: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    for dept in scenario.departments:
        members.setdefault(root(("department", dept)), ([], []))[0].append(dept)
    for _team, name, _sec in staff:
        members.setdefault(root(("secretary", name)), ([], []))[1].append(name)
    return [Part(tuple(depts), tuple(names)) for depts, names in members.values()]
