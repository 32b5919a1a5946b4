"""The kit's example service and registration as two processes on real Kafka and
PostgreSQL (a database each): registration's public event reaches the example through
its inbox, the example's command publishes through its outbox."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from common.auth import mint_token
from devstack.kafka import create_topics
from devstack.pytest_plugin import DatabaseProvider
from noticeboard.main import service as noticeboard
from tests.integration.services import (
    SECRET,
    ServiceProcess,
    read_topic,
    register_grid,
    running,
    token,
)


def noticeboard_env(bootstrap: str, database_url: str) -> dict[str, str]:
    return {
        "NOTICEBOARD_DATABASE_URL": database_url,
        "NOTICEBOARD_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "NOTICEBOARD_JWT_SECRET": SECRET,
        "NOTICEBOARD_OUTBOX_POLL_INTERVAL_S": "0.2",
        "NOTICEBOARD_CONSUMER_BACKOFF_S": "0.05",
    }


async def test_a_property_registered_in_registration_is_reached_by_a_notice(
    kafka: str,
    registration: ServiceProcess,
    postgres_cluster: DatabaseProvider,
    tmp_path: Path,
) -> None:
    create_topics(kafka, noticeboard.topic_names(), partitions=3)
    name = f"t_noticeboard_{uuid.uuid4().hex[:8]}"
    board = ServiceProcess(
        "noticeboard", noticeboard_env(kafka, postgres_cluster.create_database(name)), tmp_path
    )
    board.migrate()
    grid = f"NB-{uuid.uuid4().hex[:6]}"
    officer = mint_token(
        SECRET, sub="it-officer", role="officer", grids=[grid],
        scopes=["noticeboard:write", "noticeboard:read"],
    )  # fmt: skip
    with running(registration), running(board):
        landlord = token("landlord", party_id="L-NB")
        register_grid(registration, grid)
        for n in range(2):
            registered = registration.call(
                "POST",
                "/properties",
                landlord,
                json={"address": f"Notice Lane {n}", "grid_id": grid, "landlord_id": "L-NB",
                      "rooms": [{"room_no": "101", "capacity": 2}]},
            )  # fmt: skip
            assert registered.status_code == 201, registered.text

        deadline = time.monotonic() + 30
        buildings = 0
        while buildings < 2 and time.monotonic() < deadline:
            listing = board.call("GET", f"/grids/{grid}/notices", officer)
            assert listing.status_code == 200, listing.text
            buildings = listing.json()["buildings"]
            await asyncio.sleep(0.2)
        assert buildings == 2, board.tail()

        posted = board.call(
            "POST", f"/grids/{grid}/notices", officer,
            json={"title": "Declare new tenants", "body": "Within three working days.",
                  "until": (date.today() + timedelta(days=30)).isoformat()},
        )  # fmt: skip
        assert posted.status_code == 201, posted.text
        assert posted.json()["buildings_reached"] == 2

        (record,) = await read_topic(kafka, "noticeboard.events", key=grid, expect=1)
        headers = {k: v.decode() for k, v in record.headers}
        assert headers["ce_type"] == "noticeboard.NoticePosted.v1"
        assert headers["ce_source"] == "/services/noticeboard"
        assert json.loads(record.value)["buildings_reached"] == 2
