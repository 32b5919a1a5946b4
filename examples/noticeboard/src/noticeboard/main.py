"""The noticeboard, declared (common.service): what it publishes and how it is wired."""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

from common.service import Kit, Parts, Service, Topic
from noticeboard.app import Noticeboard
from noticeboard.consumers import register_consumers
from noticeboard.events import TOPIC
from noticeboard.http import build_router
from noticeboard.settings import NoticeboardSettings


def wire(kit: Kit[NoticeboardSettings]) -> Parts:
    board = Noticeboard(
        publisher=kit.publisher,
        clock=kit.clock,
        timezone=kit.settings.timezone(),
        max_days=kit.settings.notice_max_days,
    )
    return Parts(
        routers=[build_router(kit.runtime, board)],
        consumers=[partial(register_consumers, board=board)],
    )


service = Service(
    name="noticeboard",
    version="0.1.0",
    title="Noticeboard (the kit's example service)",
    description="Notices an office posts to a grid. Publishes on `noticeboard.events`.",
    settings=NoticeboardSettings,
    migrations=Path(__file__).resolve().parents[2] / "migrations",
    topics=(Topic(TOPIC, "The noticeboard's public events; key = grid_id"),),
    wire=wire,
)

if __name__ == "__main__":
    sys.exit(service.cli())
