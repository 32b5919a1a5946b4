#!/usr/bin/env python3
"""A plain subscriber of registration's public events: a Kafka client, a JSON Schema
validator and the files under ``schemas/``, nothing else from this repository.

    pip install aiokafka jsonschema
    python examples/subscriber.py --bootstrap-servers 127.0.0.1:9092 --group-id my-agency

For every record of the topic (``registration.events`` by default) it

1. reads the CloudEvents headers (``ce_id``, ``ce_type``, ``ce_subject``, ...);
2. picks the JSON Schema that ``ce_type`` names: ``registration.ResidenceDeclared.v1`` is
   ``schemas/registration/ResidenceDeclared.v1.json``;
3. validates the JSON body against it (JSON Schema 2020-12);
4. skips a ``ce_id`` it has already seen (delivery is at least once);
5. prints one line: ``<status> <ce_type> key=<key> ce_id=<id> ...``, where the status is
   ``valid``, ``duplicate``, ``unknown`` (a type with no schema here: a newer version, a
   type this copy of ``schemas/`` does not know; park it or skip it) or ``invalid``;

and commits the offsets of each batch once it has been handled. The ids seen are kept in
memory only; a real subscriber records ``ce_id`` in the same transaction as its own
effect, so that a redelivery after a crash is still recognised.

It stops by itself after ``--max-messages`` records, after ``--timeout`` seconds, or once
nothing new has arrived for ``--idle-timeout`` seconds; it then prints a JSON summary on
standard error and exits with 1 if any record was invalid, else 0.

What every event means, its key, fields and an example: ``schemas/registration/EVENTS.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import ssl
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord
from jsonschema import Draft202012Validator

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
CE_TYPE = re.compile(
    r"^(?P<context>[a-z][a-z0-9_-]*)\.(?P<name>[A-Z][A-Za-z0-9]*)\.(?P<v>v[1-9]\d*)$"
)
REQUIRED_HEADERS = ("ce_specversion", "ce_id", "ce_source", "ce_type")


class Schemas:
    """Validators by ``ce_type``, loaded from ``schemas/<context>/<Name>.v<N>.json``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._validators: dict[str, Draft202012Validator | None] = {}

    def validator(self, ce_type: str) -> Draft202012Validator | None:
        if ce_type not in self._validators:
            match = CE_TYPE.match(ce_type)
            path = match and self.root / match["context"] / f"{match['name']}.{match['v']}.json"
            if not path or not path.is_file():
                self._validators[ce_type] = None
            else:
                schema = json.loads(path.read_text(encoding="utf-8"))
                self._validators[ce_type] = Draft202012Validator(
                    schema, format_checker=Draft202012Validator.FORMAT_CHECKER
                )
        return self._validators[ce_type]


@dataclass
class Subscriber:
    schemas: Schemas
    seen: set[str] = field(default_factory=set)
    counts: Counter[str] = field(default_factory=Counter)
    valid_types: Counter[str] = field(default_factory=Counter)

    def handle(self, record: ConsumerRecord[bytes, bytes]) -> str:
        """Validate and deduplicate one record; returns the line to print."""
        headers = {name: value.decode("utf-8", "replace") for name, value in record.headers}
        key = record.key.decode("utf-8", "replace") if record.key is not None else ""
        ce_type, ce_id = headers.get("ce_type", "-"), headers.get("ce_id", "-")
        where = f"key={key} ce_id={ce_id} partition={record.partition} offset={record.offset}"
        status, reason = self.check(headers, record.value)
        if status == "valid":
            if ce_id in self.seen:
                status = "duplicate"
            else:
                self.seen.add(ce_id)
                self.valid_types[ce_type] += 1
        self.counts[status] += 1
        line = f"{status:<9} {ce_type} {where} time={headers.get('ce_time', '-')}"
        return f"{line}: {reason}" if reason else line

    def check(self, headers: dict[str, str], value: bytes | None) -> tuple[str, str]:
        missing = [name for name in REQUIRED_HEADERS if not headers.get(name)]
        if missing:
            return "invalid", f"not a CloudEvent: missing {', '.join(missing)}"
        if headers["ce_specversion"] != "1.0":
            return "invalid", f"ce_specversion {headers['ce_specversion']!r}"
        validator = self.schemas.validator(headers["ce_type"])
        if validator is None:
            return "unknown", f"no schema for {headers['ce_type']} under {self.schemas.root}"
        try:
            body: Any = json.loads(value or b"")
        except ValueError as exc:
            return "invalid", f"body is not JSON: {exc}"
        errors = sorted(validator.iter_errors(body), key=lambda e: e.json_path)
        if errors:
            return "invalid", "; ".join(f"{e.json_path}: {e.message}" for e in errors)
        return "valid", ""


def security_options(args: argparse.Namespace) -> dict[str, Any]:
    """aiokafka options for SASL and/or TLS; the password comes from KAFKA_SASL_PASSWORD."""
    options: dict[str, Any] = {"security_protocol": args.security_protocol}
    if args.security_protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = ssl.create_default_context(cafile=args.ssl_cafile)
    if args.security_protocol.startswith("SASL_"):
        options.update(
            sasl_mechanism=args.sasl_mechanism,
            sasl_plain_username=args.sasl_username,
            sasl_plain_password=os.environ.get("KAFKA_SASL_PASSWORD", ""),
        )
    return options


async def consume(args: argparse.Namespace, subscriber: Subscriber) -> None:
    consumer = AIOKafkaConsumer(
        args.topic,
        bootstrap_servers=args.bootstrap_servers,
        group_id=args.group_id,
        client_id=args.group_id,
        enable_auto_commit=False,
        auto_offset_reset=args.start,  # for a group that has no committed offsets yet
        **security_options(args),
    )
    await consumer.start()
    try:
        started = last = time.monotonic()
        assigned, handled = False, 0
        while True:
            now = time.monotonic()
            if not assigned and consumer.assignment():
                assigned, last = True, now  # the idle clock starts once partitions are ours
            if args.timeout and now - started >= args.timeout:
                return
            if args.idle_timeout and assigned and now - last >= args.idle_timeout:
                return
            left = args.max_messages - handled if args.max_messages else None
            batches = await consumer.getmany(timeout_ms=250, max_records=left)
            for records in batches.values():
                for record in records:
                    print(subscriber.handle(record), flush=True)
                    handled += 1
            if batches:
                await consumer.commit()  # the batch is handled: do not redeliver it to us
                last = time.monotonic()
            if args.max_messages and handled >= args.max_messages:
                return
    finally:
        await consumer.stop()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Validate and print registration's public events (no code of ours needed)."
    )
    parser.add_argument(
        "--bootstrap-servers",
        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        help="host:port[,host:port] (default: $KAFKA_BOOTSTRAP_SERVERS or 127.0.0.1:9092)",
    )
    parser.add_argument("--group-id", default="plain-subscriber", help="consumer group")
    parser.add_argument("--topic", default="registration.events")
    parser.add_argument("--schemas", type=Path, default=SCHEMAS, help="the schemas/ folder")
    parser.add_argument(
        "--start",
        choices=("earliest", "latest"),
        default="earliest",
        help="where a group without committed offsets starts (default: earliest)",
    )
    parser.add_argument("--max-messages", type=int, default=0, help="stop after N records")
    parser.add_argument("--timeout", type=float, default=0, help="stop after S seconds")
    parser.add_argument(
        "--idle-timeout", type=float, default=0, help="stop after S seconds without a record"
    )
    parser.add_argument(
        "--security-protocol",
        default=os.environ.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT"),
        choices=("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"),
    )
    parser.add_argument(
        "--sasl-mechanism", default=os.environ.get("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    )
    parser.add_argument("--sasl-username", default=os.environ.get("KAFKA_SASL_USERNAME"))
    parser.add_argument("--ssl-cafile", default=os.environ.get("KAFKA_SSL_CAFILE"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    subscriber = Subscriber(Schemas(args.schemas))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(consume(args, subscriber))
    summary: dict[str, Any] = {s: 0 for s in ("valid", "duplicate", "unknown", "invalid")}
    summary.update(subscriber.counts, types=dict(sorted(subscriber.valid_types.items())))
    print(json.dumps(summary, sort_keys=True), file=sys.stderr)
    return 1 if subscriber.counts["invalid"] else 0


if __name__ == "__main__":
    sys.exit(main())
