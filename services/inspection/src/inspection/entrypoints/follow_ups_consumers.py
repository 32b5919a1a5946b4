"""The enforcement subscriber: penalties' rectification orders -> follow-up visits."""

from __future__ import annotations

from common.inbox import Inbox
from common.runtime import Runtime
from inspection.app.follow_ups import FollowUps
from inspection.upstream.penalties import PENALTIES_TOPIC

ENFORCEMENT_GROUP = "inspection.enforcement"


def register_follow_ups_consumer(runtime: Runtime, follow_ups: FollowUps) -> Inbox:
    inbox = runtime.inbox(ENFORCEMENT_GROUP, follow_ups.handlers(), foreign_topic=True)
    runtime.subscribe(
        PENALTIES_TOPIC,
        ENFORCEMENT_GROUP,
        inbox.handle_batch,
        description="Schedules the follow-up visit of each rectification order on a property",
    )
    return inbox
