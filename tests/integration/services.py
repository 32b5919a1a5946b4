"""Run services as separate processes for integration tests, and talk to Kafka directly."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from common.auth import mint_token
from common.envelope import Envelope
from common.identity import check_character
from registration.events import Channel, ResidenceDeclared

REPO = Path(__file__).resolve().parents[2]
SECRET = "integration-test-secret-0123456789abcdef"


def identity_number(seq: int) -> str:
    first17 = f"44030619900101{seq % 1000:03d}"
    return first17 + check_character(first17)


def token(role: str, *, grids: list[str] | None = None, party_id: str | None = None) -> str:
    return mint_token(
        SECRET,
        sub=f"it-{role}",
        role=role,
        grids=grids,
        party_id=party_id,
        scopes=["registration:write", "registration:read", "pii:read"],
    )


def register_grid(service: ServiceProcess, grid_id: str) -> None:
    """Register a grid (properties and employers are registered in one of the office's)."""
    admin = mint_token(SECRET, sub="it-admin", role="admin", scopes=["registration:write"])
    response = service.call(
        "POST", "/grids", admin, json={"grid_id": grid_id, "name": grid_id, "community": "IT"}
    )
    assert response.status_code == 201 or "already" in response.text, response.text


@dataclass
class ServiceProcess:
    """``python -m <name> serve`` on a free port, logs in a file, killable."""

    name: str
    env: dict[str, str]
    log_dir: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    starts: int = field(default=0)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.name}-{self.port}-{self.starts}.log"

    def _run(self, *args: str, extra: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        env = {**os.environ, **self.env, **(extra or {})}
        log = self.log_path.open("ab")
        return subprocess.Popen(
            [sys.executable, "-m", self.name, *args],
            env=env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def migrate(self) -> None:
        proc = self._run("migrate")
        if proc.wait(timeout=120) != 0:
            raise AssertionError(f"migrate failed:\n{self.tail()}")

    def spawn(self, extra: dict[str, str] | None = None) -> None:
        """Start ``serve`` without waiting for readiness."""
        from devstack.ports import free_port

        self.port = self.port or free_port()
        self.starts += 1
        self.proc = self._run("serve", "--host", "127.0.0.1", "--port", str(self.port), extra=extra)

    def start(self, extra: dict[str, str] | None = None, *, timeout: float = 60.0) -> None:
        self.spawn(extra)
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}"
                )
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{self.name} not ready in {timeout} s:\n{self.tail()}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        self.proc.wait(timeout=30)

    def wait_exit(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def tail(self, lines: int = 60) -> str:
        text = "\n".join(
            p.read_text(errors="replace") for p in sorted(self.log_dir.glob(f"{self.name}-*.log"))
        )
        return "\n".join(text.splitlines()[-lines:])

    def call(self, method: str, path: str, bearer: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {bearer}", "Idempotency-Key": str(uuid.uuid4())}
        return httpx.request(method, self.url + path, headers=headers, timeout=15, **kw)


@contextmanager
def running(
    service: ServiceProcess, extra: dict[str, str] | None = None
) -> Iterator[ServiceProcess]:
    service.start(extra)
    try:
        yield service
    finally:
        service.stop()


def registration_env(
    bootstrap: str, database_url: str, *, idempotent: bool = True
) -> dict[str, str]:
    return {
        "REGISTRATION_DATABASE_URL": database_url,
        "REGISTRATION_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "REGISTRATION_KAFKA_IDEMPOTENT_PRODUCER": str(idempotent).lower(),
        "REGISTRATION_JWT_SECRET": SECRET,
        "REGISTRATION_OUTBOX_POLL_INTERVAL_S": "0.2",
        "REGISTRATION_CONSUMER_BACKOFF_S": "0.05",
        "REGISTRATION_LOG_LEVEL": "INFO",
    }


def inspection_env(bootstrap: str, database_url: str) -> dict[str, str]:
    return {
        "INSPECTION_DATABASE_URL": database_url,
        "INSPECTION_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "INSPECTION_JWT_SECRET": SECRET,
        "INSPECTION_OUTBOX_POLL_INTERVAL_S": "0.2",
        "INSPECTION_CONSUMER_BACKOFF_S": "0.05",
    }


def penalties_env(bootstrap: str, database_url: str) -> dict[str, str]:
    return {
        "PENALTIES_DATABASE_URL": database_url,
        "PENALTIES_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "PENALTIES_JWT_SECRET": SECRET,
        "PENALTIES_OUTBOX_POLL_INTERVAL_S": "0.2",
        "PENALTIES_CONSUMER_BACKOFF_S": "0.05",
        "PENALTIES_TIMER_POLL_INTERVAL_S": "0.2",
    }


def residence_event(grid: str, property_id: str, seq: int) -> ResidenceDeclared:
    now = datetime.now(UTC)
    return ResidenceDeclared(
        residence_id=str(uuid.uuid4()),
        property_id=property_id,
        grid_id=grid,
        room_no="101",
        person_ref=f"P{seq:023d}",
        id_number_masked="4403**********0000",
        gender="male",
        birth_year=1990,
        origin_region="440306",
        moved_in_on=date.today(),
        declared_at=now,
        deadline=date.today(),
        on_time=True,
        channel=Channel.LANDLORD_SELF_DECLARATION,
        over_capacity=False,
        policy_version="test",
    )


async def produce(
    bootstrap: str,
    records: list[tuple[str, bytes, bytes, list[tuple[str, bytes]]]],
    *,
    idempotent: bool = True,
) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=idempotent, linger_ms=5
    )
    await producer.start()
    try:
        futures = [await producer.send(t, value=v, key=k, headers=h) for t, k, v, h in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def event_record(event: ResidenceDeclared) -> tuple[str, bytes, bytes, list[tuple[str, bytes]]]:
    envelope = Envelope(type=event.ce_type(), source="/tests", subject=event.subject())
    return (event.topic, event.subject().encode(), event.to_json(), envelope.headers())


async def caught_up(bootstrap: str, group: str, topic: str, *, wait_s: float = 60.0) -> bool:
    """Wait until ``group`` has committed past the end of every partition of ``topic`` as
    it is now (everything produced so far was consumed)."""
    from aiokafka import TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await consumer.start()
    await admin.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer.topics()  # refresh the metadata once
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        ends = await consumer.end_offsets(tps)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            committed = await admin.list_consumer_group_offsets(group)
            if all((c := committed.get(tp)) is not None and c.offset >= ends[tp] for tp in tps):
                return True
            await asyncio.sleep(0.3)
        return False
    finally:
        await admin.close()
        await consumer.stop()


async def read_topic(
    bootstrap: str, topic: str, *, key: str, expect: int, wait_s: float = 30.0
) -> list[Any]:
    """Read ``topic`` from the beginning until ``expect`` records with ``key`` arrived."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    found: list[Any] = []
    try:
        deadline = time.monotonic() + wait_s
        while len(found) < expect and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for r in records:
                    if r.key == key.encode():
                        found.append(r)
    finally:
        await consumer.stop()
    return found
