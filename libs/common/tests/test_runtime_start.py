"""The runtime's broker starts its subscribers (consumer-group joins) together."""

from __future__ import annotations

import asyncio
from typing import Any

from common.runtime import ConcurrentStartBroker


async def test_subscribers_start_together_not_one_after_another() -> None:
    broker = ConcurrentStartBroker("127.0.0.1:1")
    for group in ("a", "b", "c"):

        @broker.subscriber(f"topic-{group}", group_id=group)
        async def handle(_body: Any) -> None: ...

    entered = 0
    all_in = asyncio.Event()

    async def joining() -> None:
        # Each start waits for the others: started one after another, none would finish.
        nonlocal entered
        entered += 1
        if entered == len(broker.subscribers):
            all_in.set()
        await asyncio.wait_for(all_in.wait(), timeout=5)

    async def connected() -> None:
        return None

    broker.connect = connected  # type: ignore[method-assign, assignment]
    for subscriber in broker.subscribers:
        subscriber.start = joining  # type: ignore[method-assign]

    await broker.start()

    assert entered == 3
    assert broker.running
