"""Throwaway PostgreSQL cluster from the machine's binaries."""

from __future__ import annotations

import asyncpg
import pytest

from devstack.postgres import PostgresCluster
from devstack.pytest_plugin import DatabaseProvider, TemplateDatabases

pytestmark = pytest.mark.integration


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def test_cluster_two_databases() -> None:
    with PostgresCluster() as pg:
        print(f"PostgreSQL started in {pg.startup_seconds:.1f}s")
        one, two = pg.create_database("alpha"), pg.create_database("beta")
        assert pg.create_database("alpha") == one  # idempotent
        assert one == f"postgresql+asyncpg://postgres@127.0.0.1:{pg.port}/alpha"
        for url, name in ((one, "alpha"), (two, "beta")):
            conn = await asyncpg.connect(_dsn(url))
            try:
                assert await conn.fetchval("SELECT current_database()") == name
                await conn.execute("CREATE TABLE t (id int)")
            finally:
                await conn.close()
        pg.drop_database("beta")
        assert pg.psql("SELECT count(*) FROM pg_database WHERE datname = 'beta'").strip() == "0"
        tmpdir = pg.tmpdir
    assert tmpdir is not None and not tmpdir.exists()


def test_rejects_odd_names() -> None:
    with pytest.raises(ValueError):
        PostgresCluster().url_for('x"; DROP')


async def test_pg_url_fixture(pg_url: str, postgres_cluster: DatabaseProvider) -> None:
    conn = await asyncpg.connect(_dsn(pg_url))
    try:
        name = await conn.fetchval("SELECT current_database()")
    finally:
        await conn.close()
    assert pg_url.endswith("/" + name) and name.startswith("t_test_pg_url_fixture_")


async def test_template_provider_against_real_server() -> None:
    """The $DATABASE_URL_TEMPLATE path, exercised against a local cluster."""
    with PostgresCluster() as pg:
        template = f"postgresql+asyncpg://postgres:unused@127.0.0.1:{pg.port}/{{name}}"
        provider = TemplateDatabases(template)
        provider.ping()
        url = provider.create_database("via_template")
        assert provider.create_database("via_template") == url
        conn = await asyncpg.connect(_dsn(url))
        await conn.close()
        provider.drop_database("via_template")


def test_restart_keeps_port_and_data() -> None:
    """A fast stop and a crash (``immediate``): the same server comes back with its rows
    (every commit, on a ``crash_safe`` cluster)."""
    with PostgresCluster(crash_safe=True) as pg:
        port, tmpdir = pg.port, pg.tmpdir
        pg.create_database("kept")
        pg.psql("CREATE TABLE t (id int); INSERT INTO t VALUES (1);", database="kept")
        pg.halt()
        assert not pg.running and pg.port == port
        with pytest.raises(RuntimeError, match="failed"):
            pg.psql("SELECT 1")
        pg.resume()
        pg.psql("INSERT INTO t VALUES (2);", database="kept")
        seconds = pg.restart(down_s=0.2, mode="immediate")
        print(f"PostgreSQL crashed and restarted in {seconds:.1f}s")
        assert pg.running and pg.port == port and pg.tmpdir == tmpdir
        assert pg.psql("SELECT count(*) FROM t", database="kept").strip() == "2"
        pg.halt()
    assert tmpdir is not None and not tmpdir.exists()  # stop() after a halt cleans up
