"""A tiny stand-in service for the launcher tests: ``python -m fake topics|migrate|serve|demo``.

Reads the settings the launcher injects (``<PREFIX>_DATABASE_URL`` ...), so the tests
check the wiring end to end. Behaviour switches (inherited environment):
``FAKE_DEMO_FAIL=1`` makes ``demo`` exit 1; ``FAKE_NOT_READY=1`` keeps /readyz at 503;
``FAKE_DIE_ONCE=<file>``: the first ``serve`` (while the file does not exist) creates the
file and exits with code 3 two seconds after it is ready, as a crash would.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KEYS = ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "KAFKA_IDEMPOTENT_PRODUCER", "JWT_SECRET")


def settings(prefix: str) -> dict[str, str]:
    missing = [f"{prefix}_{k}" for k in KEYS if not os.environ.get(f"{prefix}_{k}")]
    if missing:
        sys.exit(f"missing settings: {missing}")
    return {k: os.environ[f"{prefix}_{k}"] for k in KEYS}


async def _migrate_pg(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS migrated (id int)")
    finally:
        await conn.close()


def migrate(cfg: dict[str, str]) -> None:
    url = cfg["DATABASE_URL"]
    if url.startswith("sqlite+aiosqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite+aiosqlite:///")) as db:
            db.execute("CREATE TABLE IF NOT EXISTS migrated (id int)")
    elif url.startswith("postgresql+asyncpg://"):
        asyncio.run(_migrate_pg(url))
    else:
        sys.exit(f"unexpected database url {url}")
    print(f"migrated {url}")


def serve(cfg: dict[str, str], host: str, port: int) -> None:
    ready = os.environ.get("FAKE_NOT_READY") != "1"

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/readyz":
                code, body = (200, {"status": "ok"}) if ready else (503, {"status": "no"})
            elif self.path in ("/docs", "/asyncapi"):
                code, body = 200, {"page": self.path}
            else:
                code, body = 404, {}
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            print("http", format % args, flush=True)

    server = ThreadingHTTPServer((host, port), Handler)
    print(f"serving on http://{host}:{port}", flush=True)
    die_once = os.environ.get("FAKE_DIE_ONCE")
    if die_once and not os.path.exists(die_once):
        open(die_once, "w").close()
        threading.Timer(2.0, lambda: os._exit(3)).start()
    server.serve_forever()


async def _roundtrip(cfg: dict[str, str], topic: str) -> None:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

    bootstrap = cfg["KAFKA_BOOTSTRAP_SERVERS"]
    idempotent = cfg["KAFKA_IDEMPOTENT_PRODUCER"] == "true"
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=idempotent
    )
    await producer.start()
    try:
        md = await producer.send_and_wait(topic, b"hello", key=b"k", headers=[("h", b"1")])
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(topic, md.partition)
        consumer.assign([tp])
        consumer.seek(tp, md.offset)
        msg = await asyncio.wait_for(consumer.getone(), 30)
        assert msg.value == b"hello", msg
    finally:
        await consumer.stop()
    print(f"kafka round trip via {topic} ok (idempotent={idempotent})")


def demo(prefix: str, cfg: dict[str, str], base_url: str) -> None:
    with urllib.request.urlopen(f"{base_url}/readyz", timeout=5) as resp:
        assert resp.status == 200
    asyncio.run(_roundtrip(cfg, f"{prefix.lower()}.events"))
    if os.environ.get("FAKE_DEMO_FAIL") == "1":
        print("demo: failing on purpose")
        sys.exit(1)
    print("demo: ok")


def main(prefix: str, with_demo: bool = True) -> None:
    parser = argparse.ArgumentParser(prog=prefix.lower())
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("topics")
    sub.add_parser("migrate")
    srv = sub.add_parser("serve")
    srv.add_argument("--host", default="127.0.0.1")
    srv.add_argument("--port", type=int, default=8000)
    if with_demo:
        sub.add_parser("demo").add_argument("--base-url", required=True)
    args = parser.parse_args()
    if args.cmd == "topics":
        print(f"{prefix.lower()}.events")
        print(f"{prefix.lower()}.commands")
        return
    cfg = settings(prefix)
    if args.cmd == "migrate":
        migrate(cfg)
    elif args.cmd == "serve":
        serve(cfg, args.host, args.port)
    elif args.cmd == "demo":
        demo(prefix, cfg, args.base_url)
