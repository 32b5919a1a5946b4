"""Follow-ups of penalties' rectification orders: each order on a property is a visit to
make by its deadline; the visit that makes it records whether the order was carried out
(``InspectionCompleted.follow_ups``, which penalties verifies or escalates)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, Literal

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from common.auth import Principal
from common.clock import Clock
from common.envelope import Envelope
from common.events import Event
from inspection.adapters import follow_ups_repository as repo
from inspection.app.access import OFFICE_ROLES, authorize_grid
from inspection.upstream.penalties import RectificationOrdered

log = structlog.get_logger(__name__)

Status = Literal["open", "overdue", "done"]


@dataclass(frozen=True)
class FollowUps:
    clock: Clock
    timezone: tzinfo

    def handlers(self) -> dict[type[Event], Any]:
        return {RectificationOrdered: self.on_ordered}

    async def on_ordered(self, session: AsyncSession, event: Event, _: Envelope) -> None:
        assert isinstance(event, RectificationOrdered)
        if event.property_id is None:
            return  # an employer's order: nothing to visit
        if await repo.add(
            session,
            order_id=event.order_id,
            case_id=event.case_id,
            property_id=event.property_id,
            grid_id=event.grid_id,
            breach=event.breach,
            item=event.item,
            deadline=event.deadline,
            ordered_at=event.ordered_at,
        ):
            log.info("inspection.follow_up_scheduled", order_id=event.order_id)

    async def listing(
        self, session: AsyncSession, principal: Principal, *, grid_id: str | None, status: Status
    ) -> dict[str, Any]:
        """Follow-ups of the caller's grids (or one of them) by deadline."""
        if grid_id is not None:
            authorize_grid(principal, grid_id)
            grids: list[str] | None = [grid_id]
        elif principal.role == "admin":
            grids = None
        elif principal.role in OFFICE_ROLES:
            grids = list(principal.grids)
        else:
            grids = []
        today = self.clock.now().astimezone(self.timezone).date()
        overdue = status == "overdue"
        rows = await repo.listing(
            session,
            grids,
            status=None if overdue else status,
            overdue_on=today if overdue else None,
        )
        return {
            "status": status,
            "as_of": today,
            "follow_ups": [
                {
                    "order_id": r.order_id,
                    "case_id": r.case_id,
                    "property_id": r.property_id,
                    "grid_id": r.grid_id,
                    "breach": r.breach,
                    "item": r.item,
                    "deadline": r.deadline,
                    "overdue": r.status == repo.OPEN and r.deadline < today,
                    "status": r.status,
                    "visit_id": r.visit_id,
                    "rectified": r.rectified,
                    "done_at": r.done_at,
                }
                for r in rows
            ],
        }
