"""HTTP API of visits (三位一體): one submission from the field, idempotent and versioned."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from common.auth import Principal, requires
from common.commands import Command, command
from common.dates import Day, Moment
from common.runtime import Runtime
from inspection.app.access import OFFICE_ROLES, READ, WRITE
from inspection.app.visits import SubmitVisit, Visits
from inspection.domain.visits import FollowUpVerdict, HazardCheck, OccupantMet
from inspection.events import VisitOutcome

VisitId = Annotated[
    str,
    Path(
        min_length=8,
        max_length=36,
        pattern=r"^[A-Za-z0-9-]+$",
        description="Generated on the phone when the visit is captured (a UUID)",
    ),
]


class OccupantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    room_no: str = Field(min_length=1, max_length=50)
    id_number: str = Field(min_length=18, max_length=18, description="Checked as registration does")
    full_name: str = Field(min_length=1, max_length=100)
    phone: str | None = Field(default=None, pattern=r"^1[3-9][0-9]{9}$")
    moved_in_on: Day | None = Field(default=None, description="When they say they moved in")


class HazardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item: str = Field(min_length=1, max_length=50, description="An item of the hazard policy")
    passed: bool
    note: str | None = Field(default=None, max_length=500)


class FollowUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_id: str = Field(min_length=1, max_length=36, description="An open order's id")
    rectified: bool = Field(description="Whether the order was carried out")


class VisitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, description="1 creates the visit; each later submission +1")
    property_id: str = Field(min_length=1, max_length=100)
    plan_id: str | None = Field(default=None, max_length=36)
    sweep_id: str | None = Field(default=None, max_length=36, description="The sweep, if on one")
    rooms_entered: list[str] = Field(
        default_factory=list,
        max_length=2000,
        description="Rooms (households) entered; those with occupants met count anyway",
    )
    captured_at: Moment = Field(description="When the officer recorded it on site")
    outcome: VisitOutcome
    notes: str | None = Field(default=None, max_length=2000, description="Home visit notes")
    occupants: list[OccupantIn] = Field(default_factory=list, max_length=200)
    hazards: list[HazardIn] = Field(default_factory=list, max_length=100)
    completed: bool = Field(description="True closes the visit and publishes its findings")
    follow_ups: list[FollowUpIn] = Field(
        default_factory=list,
        max_length=50,
        description="Verdicts on the property's open rectification orders (GET /follow-ups)",
    )


def build_visits_router(runtime: Runtime, visits: Visits) -> APIRouter:
    router = APIRouter(tags=["visits"])

    @router.put(
        "/visits/{visit_id}",
        summary="Submit a visit (information, home visit, hazard checklist) from the field",
    )
    async def submit_visit(
        visit_id: VisitId,
        body: VisitIn,
        call: Annotated[Command, Depends(command(WRITE, roles=OFFICE_ROLES))],
    ) -> JSONResponse:
        cmd = SubmitVisit(
            visit_id=visit_id,
            version=body.version,
            property_id=body.property_id,
            plan_id=body.plan_id,
            captured_at=body.captured_at,
            outcome=body.outcome,
            notes=body.notes,
            occupants=[
                OccupantMet(o.room_no, o.id_number, o.full_name, o.phone, o.moved_in_on)
                for o in body.occupants
            ],
            hazards=[HazardCheck(h.item, h.passed, h.note) for h in body.hazards],
            completed=body.completed,
            sweep_id=body.sweep_id,
            rooms_entered=tuple(body.rooms_entered),
            follow_ups=tuple(FollowUpVerdict(f.order_id, f.rectified) for f in body.follow_ups),
        )
        return await call.run(
            body, lambda session: visits.submit(session, cmd, call.principal, call.trace)
        )

    @router.get("/visits/{visit_id}", summary="A visit: occupants by room (masked), checks")
    async def get_visit(
        visit_id: VisitId,
        principal: Annotated[Principal, Depends(requires(READ, roles=OFFICE_ROLES))],
    ) -> dict[str, Any]:
        async with runtime.sessionmaker() as session:
            return await visits.view(session, visit_id, principal)

    return router
