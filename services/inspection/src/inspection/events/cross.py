"""Cross-inspections (交叉檢查): the ranking of the teams, circulated (通報)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from inspection.events.base import InspectionEvent


class TeamRanking(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    rank: int
    team_id: str
    grid_id: str = Field(description="The grid it inspected (never its own)")
    visits: int
    occupants_met: int
    hazards_found: int


class CrossInspectionRanked(InspectionEvent, key="cross_id"):
    """A cross-inspection's ranking was circulated to the office (通報)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "cross_id": "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
                    "month": "2026-03",
                    "ranking": [
                        {"rank": 1, "team_id": "T-NORTH", "grid_id": "WT-G05", "visits": 31,
                         "occupants_met": 58, "hazards_found": 9},
                        {"rank": 2, "team_id": "T-SOUTH", "grid_id": "WT-G03", "visits": 27,
                         "occupants_met": 40, "hazards_found": 6},
                    ],
                    "circulated_at": "2026-04-01T01:00:00Z",
                }
            ]
        }
    )  # fmt: skip

    cross_id: str
    month: str = Field(pattern=r"^\d{4}-\d{2}$")
    ranking: list[TeamRanking]
    circulated_at: datetime
