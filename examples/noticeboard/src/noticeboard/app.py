"""The noticeboard's handlers: post a notice (a command), count a registered building
(an inbox handler). Built once by ``main.wire`` with what they need from the kit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession

from common.auth import Principal
from common.clock import Clock
from common.envelope import Envelope, Trace
from common.errors import Forbidden
from common.publisher import Publisher
from noticeboard import domain, tables
from noticeboard.events import NoticePosted
from noticeboard.upstream.registration import PropertyRegistered


@dataclass(frozen=True)
class Noticeboard:
    publisher: Publisher
    clock: Clock
    timezone: tzinfo
    max_days: int

    async def post(
        self,
        session: AsyncSession,
        principal: Principal,
        *,
        grid_id: str,
        title: str,
        body: str,
        until: date,
        trace: Trace,
    ) -> dict[str, object]:
        if not principal.covers_grid(grid_id):
            raise Forbidden
        now = self.clock.now()
        notice = domain.post_notice(
            notice_id=str(uuid.uuid4()),
            grid_id=grid_id,
            title=title,
            body=body,
            posted_by=principal.sub,
            now=now,
            today=now.astimezone(self.timezone).date(),
            until=until,
            max_days=self.max_days,
        )
        await tables.save_notice(session, notice)
        reached = await tables.buildings_in(session, grid_id)
        await self.publisher.stage(
            session,
            [
                NoticePosted(
                    notice_id=notice.notice_id,
                    grid_id=grid_id,
                    title=notice.title,
                    posted_at=now,
                    until=until,
                    buildings_reached=reached,
                )
            ],
            trace,
        )
        return {"notice_id": notice.notice_id, "buildings_reached": reached}

    async def on_property_registered(
        self, session: AsyncSession, event: PropertyRegistered, envelope: Envelope
    ) -> None:
        await tables.add_building(session, event.property_id, event.grid_id)
