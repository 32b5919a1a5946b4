"""Spot-check plans (抽查): which properties a grid's staff will visit in a period."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from inspection.events.base import InspectionEvent


class SpotCheckPlanned(InspectionEvent, key="grid_id"):
    """A spot-check plan was drawn for a grid and a month (the properties to visit).

    The draw is reproducible: ``seed`` and ``policy_version`` with the facts inspection
    held give the same properties again (``GET /plans/{plan_id}`` explains each pick).
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "plan_id": "3c0e3c55-2a55-4d43-9a1e-2f1f6c1f7a10",
                    "grid_id": "WT-G03",
                    "month": "2026-03",
                    "seed": "WT-G03-2026-03",
                    "policy_version": "wentang-2026-1",
                    "property_ids": [
                        "8a60a1af-0a67-4653-ad99-61ee10881b5a",
                        "b7e2c1d0-5f4a-4e3b-9c8d-7a6b5c4d3e2f",
                    ],
                    "candidates": 37,
                    "planned_at": "2026-03-01T01:00:00Z",
                    "planned_by": "officer-0317",
                }
            ]
        }
    )

    plan_id: str
    grid_id: str
    month: str = Field(description="The month the visits are planned for, YYYY-MM")
    seed: str = Field(description="The seed of the draw (given, or the plan's own)")
    policy_version: str = Field(description="The sampling policy the risks were weighed by")
    property_ids: list[str] = Field(description="The properties to visit, highest key first")
    candidates: int = Field(description="Registered properties of the grid it was drawn from")
    planned_at: datetime
    planned_by: str = Field(description="Account of the officer who drew it")
