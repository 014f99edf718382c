"""The storage the suite runs on: SQLite files (``make test``) or PostgreSQL with a Redis lock store
(``make test-postgres``, which sets ``MOTCUA_TEST_BACKEND=postgres``).

A test asks ``new_db("name")`` for a database URL: a file in its temporary folder, or a fresh database on one
local PostgreSQL server for the session, dropped afterwards. The running assistants (``running_env``) get their
tracker store and application database the same way, and on PostgreSQL a Redis lock store, as a deployed
cluster node has. Tests of one back end on purpose (URL parsing, both back ends side by side) keep their URLs.
"""
from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Optional

import pytest

BACKEND = os.environ.get("MOTCUA_TEST_BACKEND", "sqlite")
if BACKEND not in ("sqlite", "postgres"):
    raise pytest.UsageError(f"MOTCUA_TEST_BACKEND must be sqlite or postgres, not {BACKEND!r}")
ON_POSTGRES = BACKEND == "postgres"
_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_url():
    """A real PostgreSQL server: MOTCUA_TEST_POSTGRES_URL, or a local one started (installed in CI) here.
    Set MOTCUA_SKIP_POSTGRES=1 on a machine where PostgreSQL cannot be installed (not with the postgres back end)."""
    if os.environ.get("MOTCUA_TEST_POSTGRES_URL"):
        yield os.environ["MOTCUA_TEST_POSTGRES_URL"]
        return
    if os.environ.get("MOTCUA_SKIP_POSTGRES") == "1" and not ON_POSTGRES:
        pytest.skip("MOTCUA_SKIP_POSTGRES=1: PostgreSQL tests skipped")
    from motcua.localservers import LocalPostgres, PostgresUnavailable

    try:
        server = LocalPostgres().start()
    except PostgresUnavailable as exc:
        pytest.fail(f"PostgreSQL is needed here ({exc}); where none can be installed, run `make test-sqlite` "
                    "with MOTCUA_SKIP_POSTGRES=1")
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def redis_url():
    """A local Redis server for the session (installed in CI when missing), or MOTCUA_TEST_REDIS_URL."""
    if os.environ.get("MOTCUA_TEST_REDIS_URL"):
        yield os.environ["MOTCUA_TEST_REDIS_URL"]
        return
    from motcua.localservers import LocalRedis

    server = LocalRedis().start()
    yield server.url
    server.stop()


class Databases:
    """Database URLs by name, on the suite's back end: ``url(name)`` gives the same URL for the same name."""

    def __init__(self, folder: Path, server: Optional[str]):
        self.folder, self.server = folder, server
        self.urls: Dict[str, str] = {}
        self.created: list = []

    def url(self, name: str = "motcua") -> str:
        if name not in self.urls:
            self.urls[name] = self.postgres(name) if ON_POSTGRES else f"sqlite:///{self.folder / (name + '.db')}"
        return self.urls[name]

    def postgres(self, name: str) -> str:
        """A new database on the PostgreSQL server, whatever the suite's back end (dropped by ``drop``)."""
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        assert self.server, "no PostgreSQL server"
        base = self.server
        database = f"t{os.getpid()}_{next(_numbers)}_{''.join(c for c in name if c.isalnum())[:30]}".lower()
        admin = create_engine(base, isolation_level="AUTOCOMMIT", future=True)
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{database}"'))
        admin.dispose()
        self.created.append((base, database))
        return make_url(base).set(database=database).render_as_string(hide_password=False)

    def drop(self) -> None:
        from sqlalchemy import create_engine, text

        failed = []
        for base, database in self.created:  # each one, whatever happened to the others
            admin = create_engine(base, isolation_level="AUTOCOMMIT", future=True)
            try:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            except Exception as exc:  # noqa: BLE001 (reported below, after the rest are dropped)
                failed.append(f"{database}: {exc}")
            finally:
                admin.dispose()
        self.created.clear()
        if failed:
            raise RuntimeError("test databases not dropped: " + "; ".join(failed))


@dataclass(frozen=True)
class Backend:
    """The servers the suite's storage lives on: none (SQLite files), or PostgreSQL and Redis."""

    postgres: Optional[str] = None
    redis: Optional[str] = None


if ON_POSTGRES:
    @pytest.fixture(scope="session")
    def backend(postgres_url, redis_url) -> Backend:
        """The servers (fixtures that every database depends on, so that they stop after the last is dropped)."""
        return Backend(postgres_url, redis_url)
else:
    @pytest.fixture(scope="session")
    def backend() -> Backend:
        return Backend()


@pytest.fixture
def new_db(tmp_path, backend) -> Callable[..., str]:
    """``new_db(name)``: the URL of an empty database for this test (the same name gives the same database)."""
    databases = Databases(tmp_path, backend.postgres)
    yield databases.url
    databases.drop()


@pytest.fixture(scope="session")
def session_dbs(tmp_path_factory, backend) -> Callable[[str], Databases]:
    """``session_dbs(folder_name)``: a set of databases that lasts the session (for a running assistant)."""
    made: list = []

    def make(folder: str) -> Databases:
        made.append(Databases(tmp_path_factory.mktemp(folder), backend.postgres))
        return made[-1]

    yield make
    for databases in made:
        databases.drop()


@pytest.fixture(scope="session", autouse=True)
def backend_environment(session_dbs, backend):
    """On PostgreSQL, what reads its settings from the environment (the CLI, servers a test starts without its own
    databases) gets a session database on the server and the Redis lock store, as a cluster node does."""
    if not ON_POSTGRES:
        yield
        return
    names = ("MOTCUA_DATABASE_URL", "MOTCUA_TRACKER_STORE_URL", "MOTCUA_LOCK_STORE_URL")
    before = {name: os.environ.get(name) for name in names}
    os.environ.update(running_env(session_dbs("session-db").url, backend))
    yield
    for name, value in before.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def running_env(db: Callable[[str], str], backend: Backend) -> dict:
    """The storage settings of a running assistant: its tracker store and database (``db``: ``new_db`` or a
    ``Databases.url``), and with Redis a lock store on it."""
    env = {"MOTCUA_TRACKER_STORE_URL": db("tracker"), "MOTCUA_DATABASE_URL": db("motcua")}
    if backend.redis:
        env["MOTCUA_LOCK_STORE_URL"] = backend.redis
    return env


def count_rows(url: str, sql: str, **params) -> Optional[int]:
    """The first column of the first row of ``sql`` on ``url`` (a count), on either back end."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()
    finally:
        engine.dispose()
