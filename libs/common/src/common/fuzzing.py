"""Property-based fuzzing of a service's HTTP API, generated from its own OpenAPI document.

Every service built on the kit (:class:`common.service.Service`) gets it by existing: the
fuzz tests (``tests/fuzz``) hand each one to a :class:`Fuzzer`, which

* builds the service's real app (``service.create_app``) over a database it migrates
  with the service's migrations (PostgreSQL in the tests: it refuses a NUL in text, a
  date past its range..., where SQLite stores anything), with the outbox relay, the
  consumers and the timers off and its broker in memory, so nothing but the requests
  under test changes the database;
* generates requests for each operation of the app's OpenAPI document with Schemathesis'
  Hypothesis strategies: inputs the schema allows (``positive``) and inputs it forbids
  (``negative``), each sent with a valid token of a role the route admits (every scope of
  the service, :data:`GRIDS`), as a landlord, and with every one of :func:`bad_tokens`;
  the operations of one fuzzer share its database, and the identifiers earlier answers
  gave (``grid_id``...) are reused for parameters and fields of the same name half of
  the time (:func:`harvest`), so a later operation finds what an earlier one created;
* checks every answer: no 5xx ever (with the traceback of the exception behind it); the
  status code, content type, headers and body are those the document gives for it
  (Schemathesis' conformance checks, and its ``negative_data_rejection``: a forbidden
  input is refused); a refused request (4xx) changes no table of the database (every
  table, found in the database: its row count, and on PostgreSQL a checksum of its rows);
  a bad token is refused (401), a valid one is not;
* is bounded and deterministic: a fixed number of examples per operation and kind of
  caller (:class:`Budget`), Hypothesis derandomized, no database of examples, no
  shrinking (a finding is reported as sent, the shortest request of each, with a
  ``curl`` line to replay it), a time limit per request.

Generation leans towards what breaks services: integers past 32 and 64 bits and odd
strings in parameters (:data:`EDGE_INTEGERS`, :data:`EDGE_STRINGS`), dates both everyday
and at the ends of the calendar (:func:`register_formats`); a unique ``Idempotency-Key``
on most commands (generated keys repeat, and a reused key refuses the command first).

A finding is collected, not raised: one run reports every distinct defect of an
operation (:class:`OperationReport`). Unlike :mod:`common.testing` this module imports
Schemathesis and Hypothesis, dependencies of the tests only.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from datetime import time as dt_time
from http import HTTPStatus
from typing import Any

import anyio
import hypothesis
import hypothesis.errors
import jwt
import requests
import requests.adapters
import schemathesis
import urllib3
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, Phase, Verbosity
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import func, inspect, literal, select, table, text, union_all
from sqlalchemy.ext.asyncio import AsyncEngine

from common.auth import ALGORITHM, Requirement, mint_token
from common.clock import FakeClock
from common.http import REQUIRES_EXTENSION
from common.idempotency import HEADER as IDEMPOTENCY_HEADER
from common.idempotency import MAX_KEY_LENGTH
from common.migrations import upgrade
from common.service import Service
from common.settings import ServiceSettings
from common.testing import Running, run_service

SECRET = "fuzz-jwt-secret-0123456789abcdef0123456789"
NOW = datetime(2026, 3, 9, 2, 0, tzinfo=UTC)
"""The service's clock (fixed: the same requests get the same answers)."""
GRIDS = ("G-FUZZ-1", "G-FUZZ-2")
"""The grids of the tokens (an admin's token covers every grid whatever it lists)."""
PARTY_ID = "P-FUZZ-1"
"""The party a landlord's or an employer's token acts for."""

RESPONSE_CHECKS: tuple[CheckFunction, ...] = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)
"""Schemathesis' checks of every answer against the document. Not run: its checks that
send requests of their own (``ignored_auth``: the bad tokens here do it, with more kinds
of bad token; the stateful ones), and ``positive_data_acceptance`` (an input the schema
allows is mostly refused by a domain rule the schema cannot say: a check digit, a
referenced record, a date order)."""
NEGATIVE_CHECKS: tuple[CheckFunction, ...] = (*RESPONSE_CHECKS, negative_data_rejection)


# --------------------------------------------------------------------------- formats
EVERYDAY = (date(1990, 1, 1), date(2035, 12, 31))
"""Where half the generated dates fall (the other half anywhere Python's dates go): a
request with a few dates then often passes the bounds and the order of its dates and
reaches the service's own rules and its database."""


def _days() -> st.SearchStrategy[date]:
    return st.one_of(st.dates(*EVERYDAY), st.dates())


def _instants() -> st.SearchStrategy[datetime]:
    zones = st.sampled_from(
        [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-12)),
         timezone(timedelta(hours=14))]
    )  # fmt: skip
    everyday = st.datetimes(
        datetime.combine(EVERYDAY[0], dt_time()),
        datetime.combine(EVERYDAY[1], dt_time()),
        timezones=zones,
    )
    return st.one_of(everyday, st.datetimes(timezones=zones))


@functools.cache
def register_formats() -> None:
    """Schemathesis' strategies for ``date`` and ``date-time`` strings (once a process):
    :data:`EVERYDAY` half of the time, the edges of the calendar the other half."""
    schemathesis.openapi.format("date", _days().map(date.isoformat))
    schemathesis.openapi.format("date-time", _instants().map(datetime.isoformat))


EDGE_INTEGERS = [
    *(sign * 2**bits + delta for bits in (31, 53, 63, 64) for sign in (1, -1) for delta in (-1, 0)),
    10**20,
]
"""Integers past what the database's columns and drivers hold (``integer``, ``bigint``,
a double's exact range): where an integer parameter without a maximum becomes a 500."""
EDGE_STRINGS = ["", " ", "0", "-1", "1e999", "%", "'", "\\", "a\x00b", "\u202e", "9999-12-31"]
"""Strings a schema's generator is unlikely to hit by chance: empty, numeric-looking,
SQL and LIKE metacharacters, a NUL, a direction override, the last day. (No lone
surrogate: a parameter is sent as UTF-8, which has none; JSON bodies get them anyway.)"""

SCHEMATHESIS_CONFIG: dict[str, Any] = {
    "dictionaries": {"edge-integers": {"values": EDGE_INTEGERS},
                     "edge-strings": {"values": EDGE_STRINGS}},
    "generation": {
        # The fuzzer sends the tokens (valid and bad) itself.
        "with-security-parameters": False,
        "allow-x00": True,
        # For query, path and header parameters: the edge values, some of the time.
        "dictionaries": {"integer": {"dictionary": "edge-integers", "probability": 0.3},
                         "string": {"dictionary": "edge-strings", "probability": 0.1}},
    },
    # A forbidden input may also be refused as too large (a batch over its maxItems).
    "checks": {"negative_data_rejection": {"expected-statuses": [
        "400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429",
    ]}},
}  # fmt: skip


KNOWN_PROBABILITY = 0.5
"""How often a parameter or top-level body field named like an identifier the service
answered with (``grid_id``...) takes one of those values instead of a generated one."""
KNOWN_PER_NAME = 20


def schemathesis_config(known: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """:data:`SCHEMATHESIS_CONFIG`, and each ``*_id`` of ``known`` bound to its values for
    the parameters and top-level body fields of that name."""
    config = copy.deepcopy(SCHEMATHESIS_CONFIG)
    parameters: dict[str, Any] = {}
    for name, values in known.items():
        if not values:
            continue
        config["dictionaries"][f"known-{name}"] = {"values": list(values)}
        binding = {"dictionary": f"known-{name}", "probability": KNOWN_PROBABILITY}
        parameters[name] = binding
        parameters[f"body.{name}"] = binding
    if parameters:
        config["parameters"] = parameters
    return config


def harvest(document: Any, into: dict[str, list[str]]) -> None:
    """Add the string values of every ``*_id`` field of a JSON document to ``into`` (the
    latest :data:`KNOWN_PER_NAME` distinct values of each name)."""
    if isinstance(document, dict):
        for key, value in document.items():
            if isinstance(key, str) and key.endswith("_id") and isinstance(value, str):
                if 0 < len(value) <= 200:
                    seen = into.setdefault(key, [])
                    if value in seen:
                        seen.remove(value)
                    seen.append(value)
                    del seen[:-KNOWN_PER_NAME]
            else:
                harvest(value, into)
    elif isinstance(document, list):
        for item in document:
            harvest(item, into)


# --------------------------------------------------------------------------- tokens
@dataclass(frozen=True)
class Identity:
    """A kind of caller: the ``Authorization`` header it sends (None: none)."""

    name: str
    authorization: str | None
    valid: bool
    """A token the service must accept (then refuse, if at all, for its role: 403)."""


def _bearer(claims: Mapping[str, Any], secret: str = SECRET, algorithm: str = ALGORITHM) -> str:
    return "Bearer " + jwt.encode(dict(claims), secret, algorithm=algorithm)


def token(
    role: str,
    scopes: Sequence[str],
    *,
    grids: Sequence[str] = GRIDS,
    party_id: str | None = PARTY_ID,
    secret: str = SECRET,
) -> Identity:
    """A valid token, minted as the office's identity provider does (:func:`mint_token`)."""
    minted = mint_token(
        secret,
        sub=f"fuzz-{role}",
        role=role,
        scopes=sorted(scopes),
        grids=list(grids),
        party_id=party_id,
    )
    return Identity(role, f"Bearer {minted}", valid=True)


def bad_tokens(scopes: Sequence[str], secret: str = SECRET) -> list[Identity]:
    """Callers the service must refuse (401) whatever they ask: no token, garbage, an
    expired one, a wrong signature, and correctly signed tokens whose claims are missing
    or of the wrong types."""
    now = int(time.time())
    good: dict[str, Any] = {
        "sub": "fuzz-bad",
        "role": "admin",
        "scope": " ".join(sorted(scopes)),
        "grids": list(GRIDS),
        "iat": now,
        "exp": now + 3600,
    }

    def claims(**changes: Any) -> dict[str, Any]:
        return {k: v for k, v in {**good, **changes}.items() if v is not None}

    def without(name: str) -> dict[str, Any]:
        return {k: v for k, v in good.items() if k != name}

    bad = [
        ("no token", None),
        ("not a JWT", "Bearer not-a-jwt"),
        ("empty bearer", "Bearer "),
        ("basic auth", "Basic ZnV6ejpmdXp6"),
        ("expired", _bearer(claims(iat=now - 7200, exp=now - 3600), secret)),
        ("wrong signature", _bearer(good, secret + "-not")),
        ("unsigned (alg none)", "Bearer " + jwt.encode(good, key="", algorithm="none")),
        ("no exp", _bearer(without("exp"), secret)),
        ("no sub", _bearer(without("sub"), secret)),
        ("sub a number", _bearer(claims(sub=7), secret)),
        ("role a list", _bearer(claims(role=["admin"]), secret)),
        ("role unknown", _bearer(claims(role="root"), secret)),
        ("scope a list", _bearer(claims(scope=sorted(scopes)), secret)),
        ("grids an int", _bearer(claims(grids=7), secret)),
        ("grids of ints", _bearer(claims(grids=[1, 2]), secret)),
        ("party_id an object", _bearer(claims(party_id={"id": PARTY_ID}), secret)),
    ]
    return [Identity(name, header, valid=False) for name, header in bad]


def caller_for(requirements: Sequence[Requirement], scopes: Sequence[str]) -> Identity:
    """A valid token a route with ``requirements`` admits: every scope of the service and
    the role most allowed (admin, else officer, else the first the route names)."""
    allowed: frozenset[str] | None = None
    for requirement in requirements:
        if requirement.roles is not None:
            allowed = requirement.roles if allowed is None else allowed & requirement.roles
    if allowed is None or "admin" in allowed:
        role = "admin"
    elif "officer" in allowed:
        role = "officer"
    else:
        role = sorted(allowed)[0] if allowed else "admin"
    return token(role, scopes)


# --------------------------------------------------------------------------- budget, report
@dataclass(frozen=True)
class Budget:
    """Examples generated per operation (Hypothesis' ``max_examples``: fewer when an
    operation's inputs run out sooner)."""

    positive: int = 25
    """Inputs the schema allows, as a caller the route admits."""
    negative: int = 10
    """Inputs the schema forbids, as a caller the route admits."""
    landlord: int = 5
    """Inputs the schema allows, as a landlord (refused where landlords may not go)."""
    bad_tokens: int = 1
    """Inputs the schema allows, each sent with every one of :func:`bad_tokens`."""


@dataclass
class Finding:
    """One defect: what was wrong (``kind``), where (``signature``: what tells it from
    another of its kind), and the shortest request seen to show it, with how to replay it."""

    kind: str
    signature: str
    status: int | None
    caller: str
    detail: str
    curl: str
    seen: int = 1
    callers: set[str] = field(default_factory=set)

    @property
    def key(self) -> tuple[str, str, int | None]:
        return (self.kind, self.signature, self.status)

    def render(self) -> str:
        status = "raised" if self.status is None else str(self.status)
        callers = ", ".join(sorted(self.callers | {self.caller}))
        detail = "\n      ".join(self.detail.strip().splitlines()[:40])
        return (
            f"  [{self.kind}] {status}, {self.seen} request(s), as {callers}:\n"
            f"      {detail}\n    {self.curl}"
        )


@dataclass
class OperationReport:
    """What fuzzing one operation did and found."""

    service: str
    operation: str
    cases: Counter[str] = field(default_factory=Counter)
    """Requests sent, by kind of caller and input (``admin positive``, ``bad tokens``...)."""
    statuses: Counter[int] = field(default_factory=Counter)
    findings: dict[tuple[str, str, int | None], Finding] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.cases.values())

    def add(self, finding: Finding) -> None:
        """Count ``finding``; of the requests showing one defect, keep the shortest."""
        known = self.findings.get(finding.key)
        if known is None:
            self.findings[finding.key] = finding
            return
        known.seen += 1
        known.callers.add(finding.caller)
        if len(finding.curl) < len(known.curl):
            known.caller, known.detail, known.curl = finding.caller, finding.detail, finding.curl

    def summary(self) -> str:
        cases = ", ".join(f"{n} {kind}" for kind, n in self.cases.items())
        statuses = " ".join(f"{code}x{n}" for code, n in sorted(self.statuses.items()))
        return (
            f"{self.service} {self.operation}: {self.total} cases in {self.seconds:.1f} s "
            f"({cases}); statuses {statuses}"
        )

    def failure_message(self) -> str:
        found = "\n".join(f.render() for f in self.findings.values())
        return f"{self.summary()}\n{len(self.findings)} distinct finding(s):\n{found}"


# --------------------------------------------------------------------------- transport
class _AppAdapter(requests.adapters.HTTPAdapter):
    """Sends what ``requests`` prepared (so Schemathesis serializes a case as for a real
    server) to the app, through ``send`` (on the app's event loop)."""

    def __init__(
        self, send: Callable[[str, str, list[tuple[bytes, bytes]], bytes], _Answer]
    ) -> None:
        super().__init__()
        self._send = send

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        body = request.body
        content = body.encode() if isinstance(body, str) else (body or b"")
        assert isinstance(content, bytes), "streamed request bodies are not supported"
        headers = [(name.encode(), _header_bytes(value)) for name, value in request.headers.items()]
        answer = self._send(str(request.method), str(request.url), headers, content)
        raw = urllib3.HTTPResponse(
            body=io.BytesIO(answer.content),
            headers=urllib3.HTTPHeaderDict(answer.headers),
            status=answer.status,
            reason=_reason(answer.status),
            version=11,
            preload_content=False,
            decode_content=False,
        )
        return self.build_response(request, raw)


def _header_bytes(value: str | bytes) -> bytes:
    if isinstance(value, bytes):
        return value
    try:
        return value.encode("latin-1")  # what http.client sends
    except UnicodeEncodeError:
        return value.encode()


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: list[tuple[str, str]]
    content: bytes


class AppError(Exception):
    """The app raised while answering (a 500): the exception, and where it was raised."""

    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.signature = error_signature(error)
        super().__init__(describe_error(error))


def _innermost(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error


def error_signature(error: BaseException) -> str:
    """The exception's type and the line of the project's code it came through last."""
    error = _innermost(error)
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if "site-packages" not in f.filename] or frames
    where = f" at {ours[-1].filename}:{ours[-1].lineno}" if ours else ""
    return f"{type(error).__name__}{where}"


def describe_error(error: BaseException) -> str:
    """The exception and the innermost frames of its traceback (the line that raised)."""
    error = _innermost(error)
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if "site-packages" not in f.filename] or frames
    lines = [f"{type(error).__name__}: {str(error).strip()[:600]}"]
    for frame in ours[-3:]:
        lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
        if frame.line:
            lines.append(f"    {frame.line}")
    cause = error.__cause__ or error.__context__
    if cause is not None and frames and "site-packages" in frames[-1].filename:
        lines.append(f"  (from {type(cause).__name__}: {str(cause).strip()[:300]})")
    return "\n".join(lines)


# --------------------------------------------------------------------------- database
Snapshot = dict[str, tuple[int, int]]
"""Per table: its row count and a checksum of its rows (0 where there is none)."""


async def snapshot(engine: AsyncEngine, tables: Sequence[str]) -> Snapshot:
    """Each table's row count and, on PostgreSQL, an order-free checksum of its rows."""
    if not tables:
        return {}
    if engine.dialect.name == "postgresql":
        statement: Any = text(
            " UNION ALL ".join(
                f"SELECT :t{i}, count(*), coalesce(sum(hashtext(r::text)::bigint), 0) "
                f"FROM {_quote(engine, name)} AS r"
                for i, name in enumerate(tables)
            )
        ).bindparams(**{f"t{i}": name for i, name in enumerate(tables)})
    else:
        statement = union_all(
            *(
                select(literal(name), func.count(), literal(0)).select_from(table(name))
                for name in tables
            )
        )
    async with engine.connect() as conn:
        result = await conn.execute(statement)
        return {str(row[0]): (int(row[1]), int(row[2])) for row in result}


def _quote(engine: AsyncEngine, name: str) -> str:
    quoted: str = engine.dialect.identifier_preparer.quote(name)
    return quoted


async def table_names(engine: AsyncEngine) -> list[str]:
    """Every table of the database's default schema, as the database lists them."""
    async with engine.connect() as conn:
        names: list[str] = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    return sorted(names)


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    """What differs between two snapshots, table by table."""
    found = []
    for name in sorted(set(before) | set(after)):
        (n0, h0), (n1, h1) = before.get(name, (0, 0)), after.get(name, (0, 0))
        if n0 != n1:
            found.append(f"{name}: {n0} -> {n1} rows")
        elif h0 != h1:
            found.append(f"{name}: rows changed ({n0} rows)")
    return found


def migrate(service: Service[Any], database_url: str) -> None:
    """Run the service's migrations (in a thread: Alembic's env calls ``asyncio.run``)."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            upgrade(service.migrations, database_url)
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=run, name=f"migrate-{service.name}")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


# --------------------------------------------------------------------------- the fuzzer
PLACEHOLDER_DATABASE = "sqlite+aiosqlite://"
REQUEST_TIMEOUT_S = 30.0
"""A request not answered by then is a finding (a ``TimeoutError``): the run goes on."""


def openapi_document(service: Service[Any]) -> dict[str, Any]:
    """The service's OpenAPI document (its app is built, nothing is connected)."""
    settings = service.settings(database_url=PLACEHOLDER_DATABASE, run_consumers=False)
    document: dict[str, Any] = service.create_app(settings).openapi()
    return document


def operation_labels(service: Service[Any]) -> list[str]:
    """``METHOD /path`` of every operation of the service's OpenAPI document."""
    return _labels(openapi_document(service))


_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})


def _labels(document: Mapping[str, Any]) -> list[str]:
    return [
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method in _METHODS
    ]


def fuzz_settings(service: Service[Any], database_url: str, **extra: Any) -> ServiceSettings:
    """The service's settings for fuzzing: its database, the fuzzer's JWT secret, and no
    background work (relay, consumers, timers) to change the database between requests."""
    settings: ServiceSettings = service.settings(
        database_url=database_url,
        jwt_secret=SECRET,
        run_relay=False,
        run_consumers=False,
        run_timers=False,
        **extra,
    )
    return settings


class Fuzzer:
    """A service's app on a migrated database, fuzzed one operation at a time.

    ``with Fuzzer(service, database_url) as fuzzer: report = fuzzer.fuzz("GET /x")``.
    The app runs on an event loop of its own (an anyio portal thread), its lifespan
    entered as in production, its broker in memory (:func:`common.testing.run_service`).
    """

    def __init__(
        self,
        service: Service[Any],
        database_url: str,
        *,
        budget: Budget | None = None,
        settings: Mapping[str, Any] | None = None,
        scopes: Sequence[str] = (),
    ) -> None:
        self.service = service
        self.database_url = database_url
        self.budget = budget or Budget()
        self._extra_settings = dict(settings or {})
        self._extra_scopes = tuple(scopes)
        self._stack = ExitStack()
        self._portal: BlockingPortal | None = None
        self._running: Running | None = None
        self.tables: list[str] = []
        self.scopes: list[str] = []
        self.document: dict[str, Any] = {}
        self.known: dict[str, list[str]] = {"grid_id": list(GRIDS), "party_id": [PARTY_ID]}
        """Identifiers seen in the service's answers, by field name (see :func:`harvest`)."""
        self._session = requests.Session()
        self._session.mount("http://", _AppAdapter(self._call_app))
        self.base_url = f"http://{service.name}.fuzz"
        register_formats()
        self._last: Snapshot = {}
        self._sent = 0

    # -- lifecycle ---------------------------------------------------------------------
    def __enter__(self) -> Fuzzer:
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._session.close()
        self._stack.close()

    def _start(self) -> None:
        migrate(self.service, self.database_url)
        settings = fuzz_settings(self.service, self.database_url, **self._extra_settings)
        self._portal = self._stack.enter_context(start_blocking_portal(backend="asyncio"))
        self._running = self._stack.enter_context(
            self._portal.wrap_async_context_manager(
                run_service(self.service, settings, clock=FakeClock(NOW))
            )
        )
        self.document = self._running.app.openapi()
        self.scopes = sorted(
            {r.scope for label in _labels(self.document) for r in self.requirements(label)}
            | set(self._extra_scopes)
        )
        engine = self._running.runtime.engine
        self.tables = self._portal.call(table_names, engine)
        self._last = self._snapshot()

    @property
    def running(self) -> Running:
        assert self._running is not None, "the fuzzer is not started (use it in a with)"
        return self._running

    def _snapshot(self) -> Snapshot:
        assert self._portal is not None
        return self._portal.call(snapshot, self.running.runtime.engine, self.tables)

    def _call_app(
        self, method: str, url: str, headers: list[tuple[bytes, bytes]], content: bytes
    ) -> _Answer:
        assert self._portal is not None
        client = self.running.client

        async def send() -> _Answer:
            with anyio.fail_after(REQUEST_TIMEOUT_S):
                response = await client.request(method, url, headers=headers, content=content)
            return _Answer(response.status_code, response.headers.multi_items(), response.content)

        try:
            return self._portal.call(send)
        except Exception as exc:  # raised by the app: its 500
            raise AppError(exc) from exc

    # -- fuzzing -----------------------------------------------------------------------
    def requirements(self, label: str) -> list[Requirement]:
        """What the operation's token needs, as its document says (``x-requires``)."""
        method, _, path = label.partition(" ")
        declared = self.document["paths"][path][method.lower()].get(REQUIRES_EXTENSION, [])
        return [
            Requirement(r["scope"], frozenset(r["roles"]) if "roles" in r else None)
            for r in declared
        ]

    def operation(self, label: str) -> APIOperation[Any, Any, Any, Any]:
        """The operation, its inputs generated with the identifiers known so far."""
        config = schemathesis.Config.from_dict(schemathesis_config(self.known))
        schema = schemathesis.openapi.from_dict(self.document, config=config)
        method, _, path = label.partition(" ")
        found: APIOperation[Any, Any, Any, Any] = schema[path][method]
        return found

    def fuzz(self, label: str) -> OperationReport:
        """Fuzz one operation (``METHOD /path``) within the :class:`Budget`."""
        started = time.perf_counter()
        operation = self.operation(label)
        report = OperationReport(self.service.name, label)
        requirements = self.requirements(label)
        caller = caller_for(requirements, self.scopes)
        positive = operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
        negative = operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)

        self._examples(
            positive,
            self.budget.positive,
            lambda case: self._check(
                report, case, caller, f"{caller.name} positive", fresh_keys=True
            ),
        )
        self._examples(
            negative,
            self.budget.negative,
            lambda case: self._check(
                report, case, caller, f"{caller.name} negative", NEGATIVE_CHECKS
            ),
        )
        if requirements:
            landlord = token("landlord", self.scopes)
            self._examples(
                positive,
                self.budget.landlord,
                lambda case: self._check(
                    report, case, landlord, "landlord positive", fresh_keys=True
                ),
            )
            refused = bad_tokens(self.scopes)

            def each_bad_token(case: Case[Any]) -> None:
                for identity in refused:
                    self._check(report, case, identity, "bad tokens")

            self._examples(positive, self.budget.bad_tokens, each_bad_token)
        report.seconds = time.perf_counter() - started
        return report

    def _examples(
        self, strategy: st.SearchStrategy[Case[Any]], count: int, check: Callable[[Case[Any]], None]
    ) -> None:
        if count <= 0:
            return

        @hypothesis.settings(
            max_examples=count,
            derandomize=True,
            database=None,
            deadline=None,
            phases=(Phase.explicit, Phase.generate),
            suppress_health_check=list(HealthCheck),
            verbosity=Verbosity.quiet,
            print_blob=False,
            report_multiple_bugs=False,
        )
        @hypothesis.given(case=strategy)
        def run(case: Case[Any]) -> None:
            check(case)

        # Unsatisfiable: no such input (nothing to forbid in an operation without inputs).
        with contextlib.suppress(hypothesis.errors.Unsatisfiable):
            run()

    def _check(
        self,
        report: OperationReport,
        case: Case[Any],
        identity: Identity,
        kind: str,
        checks: Sequence[CheckFunction] = RESPONSE_CHECKS,
        *,
        fresh_keys: bool = False,
    ) -> None:
        headers = {"Authorization": identity.authorization} if identity.authorization else {}
        if case.headers:
            case.headers.pop("Authorization", None)
        self._sent += 1
        if fresh_keys and self._sent % 4:
            _freshen_key(case, self._sent)
        report.cases[kind] += 1
        before = self._last
        curl = _curl(case, headers, self.base_url)
        try:
            response = case.call(base_url=self.base_url, session=self._session, headers=headers)
        except AppError as exc:
            report.statuses[500] += 1
            report.add(Finding("server error", exc.signature, None, identity.name, str(exc), curl))
            self._last = self._snapshot()
            return
        after = self._last = self._snapshot()
        status = response.status_code
        report.statuses[status] += 1
        if 200 <= status < 300 and "json" in response.headers.get("content-type", ""):
            with contextlib.suppress(ValueError):
                harvest(response.json(), self.known)
        try:
            case.validate_response(
                response,
                checks=list(checks),
                headers=headers,
                transport_kwargs={"base_url": self.base_url, "session": self._session},
            )
        except FailureGroup as group:
            for failure in group.exceptions:
                report.add(_finding(failure, identity, status, response, curl))
        except Failure as failure:
            report.add(_finding(failure, identity, status, response, curl))
        if 400 <= status < 500:
            changed = changes(before, after)
            if changed:
                detail = "; ".join(changed) + f"\n{_excerpt(response)}"
                tables = " ".join(sorted(change.split(":", 1)[0] for change in changed))
                report.add(Finding("state change on a refused request", tables, status,
                                   identity.name, detail, curl))  # fmt: skip
        if identity.valid and status == 401:
            report.add(Finding("valid token refused with 401", identity.name, status,
                               identity.name, _excerpt(response), curl))  # fmt: skip
        if not identity.valid and status not in (401, 422):
            report.add(
                Finding(
                    "bad token not refused with 401",
                    identity.name,
                    status,
                    identity.name,
                    _excerpt(response),
                    curl,
                )
            )


def _freshen_key(case: Case[Any], serial: int) -> None:
    """Make the case's ``Idempotency-Key`` unique. Generated keys repeat ("0", "A"...) and
    a key is its caller's for every command: most commands would be refused as the reuse
    of a key for another request before reaching anything else. One in four keeps its
    generated key (replays and reuses are tried too)."""
    if not case.headers:
        return
    for name, value in list(case.headers.items()):
        if name.lower() == IDEMPOTENCY_HEADER.lower() and isinstance(value, str):
            case.headers[name] = f"fuzz-{serial}-{value}"[:MAX_KEY_LENGTH]


def _finding(
    failure: Failure, identity: Identity, status: int, response: Any, curl: str
) -> Finding:
    detail = f"{failure.title}: {failure.message.strip()}\n{_excerpt(response)}"
    return Finding(f"check: {failure.title}", "", status, identity.name, detail, curl)


def _excerpt(response: Any) -> str:
    body = response.content[:400].decode("utf-8", "backslashreplace")
    return f"response {response.status_code}: {body}"


def _curl(case: Case[Any], headers: Mapping[str, str], base_url: str) -> str:
    """The request as a ``curl`` line (its token shown as ``[Filtered]``: the finding
    names the caller, :func:`token` or :func:`bad_tokens` mints it again)."""
    try:
        return case.as_curl_command(headers=dict(headers), base_url=base_url)
    except Exception as exc:
        return f"(no curl line: {type(exc).__name__}: {exc}) {case!r}"


__all__ = [
    "GRIDS",
    "NOW",
    "PARTY_ID",
    "SECRET",
    "AppError",
    "Budget",
    "Finding",
    "Fuzzer",
    "Identity",
    "OperationReport",
    "bad_tokens",
    "caller_for",
    "changes",
    "fuzz_settings",
    "migrate",
    "openapi_document",
    "operation_labels",
    "snapshot",
    "table_names",
    "token",
]
