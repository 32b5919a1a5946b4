"""Sweeps (清查): every building, every household, every person of one or more grids on
given dates (區不漏棟、棟不漏戶、戶不漏人). Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from common.errors import DomainError


def checked_plan(
    grid_ids: Sequence[str], starts_on: date, ends_on: date, team: Sequence[str]
) -> None:
    if not grid_ids:
        raise DomainError("grid_ids", "a sweep covers at least one grid")
    if len(set(grid_ids)) != len(grid_ids):
        raise DomainError("grid_ids", "a grid is listed twice")
    if ends_on < starts_on:
        raise DomainError("ends_on", "is before starts_on")
    if (ends_on - starts_on).days > 31:
        raise DomainError("ends_on", "a sweep lasts at most a month")
    if not team:
        raise DomainError("team", "a sweep needs a team")


@dataclass(frozen=True)
class Building:
    property_id: str
    rooms: tuple[str, ...]
    declared: Mapping[str, int]
    """Room -> residents declared there now."""


@dataclass(frozen=True)
class Coverage:
    buildings: int
    buildings_visited: int
    households: int
    households_entered: int
    persons_declared: int
    persons_seen: int
    missing_buildings: list[str]
    missing_households: list[tuple[str, str]]
    unseen_persons: list[tuple[str, str, int]]
    """(property, room, declared residents not met)."""


def coverage(buildings: Sequence[Building], visited: Mapping[str, Mapping[str, int]]) -> Coverage:
    """``visited``: property -> room entered -> occupants met there (completed visits)."""
    missing_buildings, missing_households, unseen = [], [], []
    households = entered = declared_total = seen = 0
    for b in buildings:
        rooms_visited = visited.get(b.property_id)
        if rooms_visited is None:
            missing_buildings.append(b.property_id)
        for room in b.rooms:
            households += 1
            declared = b.declared.get(room, 0)
            declared_total += declared
            if rooms_visited is not None and room in rooms_visited:
                entered += 1
                met = min(declared, rooms_visited[room])
                seen += met
                if met < declared:
                    unseen.append((b.property_id, room, declared - met))
            else:
                missing_households.append((b.property_id, room))
                if declared:
                    unseen.append((b.property_id, room, declared))
    return Coverage(
        buildings=len(buildings),
        buildings_visited=len(buildings) - len(missing_buildings),
        households=households,
        households_entered=entered,
        persons_declared=declared_total,
        persons_seen=seen,
        missing_buildings=missing_buildings,
        missing_households=missing_households,
        unseen_persons=unseen,
    )
