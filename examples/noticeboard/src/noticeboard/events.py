"""What the noticeboard publishes (the contract, generated into schemas/noticeboard/)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import ConfigDict

from common.events import Event, FreeText

TOPIC = "noticeboard.events"


class NoticeboardEvent(Event, context="noticeboard", topic=TOPIC):
    """An event of the noticeboard: ``noticeboard.<ClassName>.v1`` on ``noticeboard.events``."""


class NoticePosted(NoticeboardEvent, key="grid_id"):
    """An office posted a notice to the residents of a grid."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "notice_id": "4f7d3c1e-3a5b-4a47-9d0c-6f1c2b8e9a10",
                    "grid_id": "WT-G05",
                    "title": "Declare new tenants within three working days",
                    "posted_at": "2026-03-09T01:00:00Z",
                    "until": "2026-03-31",
                    "buildings_reached": 42,
                }
            ]
        }
    )

    notice_id: str
    grid_id: str
    title: FreeText
    posted_at: datetime
    until: date
    buildings_reached: int
