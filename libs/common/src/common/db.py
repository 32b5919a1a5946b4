"""Database factories and the runtime tables every service carries.

The outbox, inbox, timer and idempotency tables live in each service's own database
(created by that service's Alembic migrations from :data:`runtime_metadata`), so a
state change and its bookkeeping commit in one transaction.
"""

from __future__ import annotations

import socket
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    event,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

runtime_metadata = MetaData(naming_convention=NAMING)

# SQLite only auto-increments INTEGER PRIMARY KEY.
Id = BigInteger().with_variant(Integer(), "sqlite")
UtcDateTime = DateTime(timezone=True)

outbox = Table(
    "outbox",
    runtime_metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("topic", String(200), nullable=False),
    Column("key", String(200), nullable=False),
    Column("ce_type", String(200), nullable=False),
    Column("headers", JSON, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    # The relay reads pending rows in id order: keep that scan on an index that
    # holds only pending rows.
    Index(
        "ix_outbox_pending",
        "id",
        postgresql_where=text("sent_at IS NULL"),
        sqlite_where=text("sent_at IS NULL"),
    ),
)

inbox = Table(
    "inbox",
    runtime_metadata,
    Column("consumer", String(100), primary_key=True),
    Column("event_id", String(64), primary_key=True),
    Column("ce_type", String(200), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
)

timers = Table(
    "timers",
    runtime_metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(100), nullable=False),
    Column("key", String(200), nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("claimed_until", UtcDateTime, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    Column("done_at", UtcDateTime, nullable=True),
    Index("uq_timers_kind_key", "kind", "key", unique=True),
    Index("ix_timers_due", "due_at", postgresql_where=text("done_at IS NULL")),
)

idempotency_keys = Table(
    "idempotency_keys",
    runtime_metadata,
    Column("principal", String(200), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("body", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)


def _sqlite_pragmas(dbapi_connection: object, _record: ConnectionPoolEntry) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (see _sqlite_begin_immediate).
    dbapi_connection.isolation_level = None  # type: ignore[attr-defined]  # DB-API connection
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]  # DB-API connection
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin_immediate(conn: Connection) -> None:
    # A deferred transaction that later writes can fail at once with "database is
    # locked" despite busy_timeout; taking the write lock at BEGIN makes writers queue.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An async engine for ``sqlite+aiosqlite://`` or ``postgresql+asyncpg://`` URLs."""
    if url.startswith("sqlite"):
        # One connection: SQLite has one writer, and every transaction here takes the write
        # lock at BEGIN, so a second connection only adds waiting in SQLite's busy handler
        # (polled, unfair, and up to busy_timeout long). The pool's queue is first come,
        # first served; busy_timeout is left for other processes (migrations, the CLI).
        in_memory = make_url(url).database in (None, "", ":memory:")
        engine = (
            create_async_engine(url)  # one shared connection already (StaticPool)
            if in_memory
            else create_async_engine(url, pool_size=1, max_overflow=0)
        )
        sync: Engine = engine.sync_engine
        event.listen(sync, "connect", _sqlite_pragmas)
        event.listen(sync, "begin", _sqlite_begin_immediate)
        return engine
    # No pool_pre_ping: it costs a round trip per checkout (8% of a declaration's CPU).
    # A connection broken by a database restart fails one transaction, and SQLAlchemy
    # then invalidates the pool; recycling bounds the age of idle connections.
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def is_postgres(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql"


def conflict_insert(session: AsyncSession) -> Any:
    """The ``insert`` of the session's dialect (PostgreSQL's or SQLite's), the one that has
    ``on_conflict_do_nothing`` and ``on_conflict_do_update``: ``conflict_insert(s)(table)``."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


class ConcurrentWrite(Exception):
    """The transaction lost a race with another one (a row it meant to create or change
    was created or changed since it read): running it again from the start succeeds."""


# PostgreSQL's serialization_failure and deadlock_detected: the transaction may be retried.
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


def is_transient_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` means "another transaction got there first; run this one again".

    A unique-key violation counts: under concurrency it is a lost race (two first
    declarations of one person), and a real bug still surfaces once retries run out.
    """
    if isinstance(exc, ConcurrentWrite | IntegrityError):
        return True
    if isinstance(exc, DBAPIError):
        code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        return code in _RETRYABLE_SQLSTATES
    return False


def is_data_error(exc: BaseException) -> bool:
    """Whether ``exc`` is the database refusing a value: PostgreSQL's SQLSTATE class 22,
    "data exception" (too long for its column, a character the encoding cannot hold, a
    number out of range). The same values fail however often they are tried again, so a
    consumer dead-letters the event at once rather than retrying it.
    """
    if not isinstance(exc, DBAPIError):
        return False
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return isinstance(code, str) and code.startswith("22")


# PostgreSQL's connection_exception class, and admin_shutdown, crash_shutdown and
# cannot_connect_now (a server stopping, crashed, or still starting up).
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03")


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means "the database cannot be reached right now": refused or lost
    connections, a server shutting down or starting up. Nothing is wrong with the work
    itself: run again once the database is back, it succeeds. An HTTP command answers
    503 (:mod:`common.http`); a consumer waits and retries rather than dead-lettering.

    Follows the chain of causes: SQLAlchemy wraps the driver's error (and marks a
    connection it found broken, ``connection_invalidated``), while a refused connection
    comes through as the bare ``ConnectionRefusedError``.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionError | socket.gaierror):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        code = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if isinstance(code, str) and code.startswith(_UNAVAILABLE_SQLSTATES):
            return True
        current = current.orig if isinstance(current, DBAPIError) else current.__cause__
    return False
