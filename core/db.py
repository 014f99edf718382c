"""Database engines, table creation and delivery queues shared by every store."""
from __future__ import annotations

import datetime as dt
import sqlite3
import time
from typing import Callable, List, Optional, Sequence, Tuple

from sqlalchemy import and_, create_engine, event, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

SCHEMA_LOCK = 0x6D6F7463  # PostgreSQL advisory lock key ("motc") held while a process changes the schema


def schema_lock(conn: Connection) -> None:
    """On PostgreSQL, wait for (and hold until the transaction ends) the one lock under which processes change the
    schema: nodes starting together on a fresh database would otherwise race on the same CREATE (a version table
    created twice). SQLite serialises writers itself."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK})")


def create_tables(metadata, engine: Engine, attempts: int = 20) -> None:
    """``metadata.create_all`` that waits for other processes creating their tables in the same database.

    `motcua run` starts several processes at once on a fresh database; SQLite answers "database is
    locked" at once (no busy wait) when two transactions both read the schema and then try to write it;
    on PostgreSQL they take turns under ``schema_lock``.
    """
    import random

    from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

    for attempt in range(attempts):
        try:
            with engine.begin() as conn:
                schema_lock(conn)
                metadata.create_all(conn, checkfirst=True)
                for table in metadata.sorted_tables:  # create_all skips the indexes a newer release adds to a table
                    for index in table.indexes:
                        index.create(conn, checkfirst=True)
            return
        except (OperationalError, ProgrammingError, IntegrityError) as exc:  # PostgreSQL: a parallel CREATE INDEX
            if not ("locked" in str(exc) or "already exists" in str(exc) or "duplicate" in str(exc)) \
                    or attempt == attempts - 1:
                raise  # "already exists": another process created it between our check and our CREATE
            time.sleep(0.1 + random.random() * 0.4)


def after_failure(attempts: int, max_attempts: int, base_delay_s: float) -> Tuple[str, dt.timedelta]:
    """A delivery's state after its ``attempts``-th failure and the wait before the next try: 'pending'
    again after base_delay_s x 2^(attempts-1), 'failed' once ``max_attempts`` are spent."""
    return ("failed" if attempts >= max_attempts else "pending"), dt.timedelta(
        seconds=base_delay_s * 2 ** (attempts - 1)
    )


def insert_once(conn: Connection, statement):
    """Run an INSERT guarded by a unique constraint; the new key, or None when it already exists."""
    try:
        with conn.begin_nested():
            return conn.execute(statement).inserted_primary_key[0]
    except IntegrityError:
        return None


CONNECT_TIMEOUT_S = 5  # seconds to reach the database server (PostgreSQL): a host that is down fails soon


WAL_WAIT_S = 30.0  # how long a connection retries switching a locked SQLite file to WAL


def _write_ahead_log(cursor) -> None:
    """Put a SQLite file in WAL mode, once: a file already in it is left alone. Switching needs the file to
    itself, and SQLite answers "database is locked" at once, without waiting, to one of two connections switching
    a fresh file together (two console workers starting): that one reads the mode again until the other is done."""
    deadline = time.monotonic() + WAL_WAIT_S
    while True:
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def make_engine(url: str) -> Engine:
    """An engine; on SQLite with working savepoints, foreign keys, WAL and a busy timeout."""
    if not url.startswith("sqlite"):
        connect = {"connect_timeout": CONNECT_TIMEOUT_S} if url.startswith("postgresql") else {}
        return create_engine(url, future=True, pool_pre_ping=True, connect_args=connect)
    if url.startswith("sqlite:///") and ":memory:" not in url:
        from pathlib import Path

        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)  # a fresh clone has no build/
    from sqlalchemy.pool import QueuePool, StaticPool

    memory = ":memory:" in url or url in ("sqlite://", "sqlite:///")
    # A pool of open connections (SQLAlchemy 1.4 would open and close a file per use, checkpointing each time).
    engine = create_engine(url, future=True, connect_args={"timeout": 30, "check_same_thread": False},
                           poolclass=StaticPool if memory else QueuePool)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # let SQLAlchemy emit BEGIN (pysqlite savepoint recipe)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if not memory:
            _write_ahead_log(cursor)
            cursor.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable across crashes, one fsync per checkpoint
        cursor.close()

    # A deferred BEGIN that reads first and writes later fails at once with "database is locked"
    # (SQLITE_BUSY_SNAPSHOT) when another process wrote in between: the busy timeout cannot help
    # a transaction whose snapshot is stale. BEGIN IMMEDIATE takes the write lock up front, so such
    # transactions (marking web messages fetched, claiming outbox rows, Rasa's tracker save) wait
    # their turn within the busy timeout instead. The cost: reads wait for a write under way
    # (they are short here; PostgreSQL is the choice for heavy load). An in-memory database has
    # one connection and needs no lock.
    begin = "BEGIN" if memory else "BEGIN IMMEDIATE"

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql(begin)

    return engine


class DeliveryQueue:
    """Rows delivered to several targets with retries (staff alerts, lookup alerts): due, claim, finish, retry.

    The table has ``id``, ``state`` (pending, sending, sent, skipped, failed), ``next_attempt_at``,
    ``delivered_to`` (target names, comma-separated), ``last_error`` and ``attempts``. A claim is a lease:
    a row held by a deliverer that died is due again when it runs out (twice is better than never).
    """

    def __init__(self, engine: Engine, table, clock: Callable[[], dt.datetime]):
        self.engine, self.table, self.clock = engine, table, clock

    def _due(self):
        return and_(self.table.c.state.in_(("pending", "sending")), self.table.c.next_attempt_at <= self.clock())

    def due(self, limit: int = 50) -> List[dict]:
        """Rows to send now, oldest first."""
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(self.table).where(self._due())
                                                  .order_by(self.table.c.id).limit(limit)).mappings()]

    def claim(self, row_id: int, lease: dt.timedelta = dt.timedelta(minutes=5)) -> bool:
        """Take a due row for sending, for ``lease``; False when another deliverer has it."""
        with self.engine.begin() as conn:
            return conn.execute(update(self.table).where(and_(self.table.c.id == row_id, self._due()))
                                .values(state="sending", next_attempt_at=self.clock() + lease)).rowcount == 1

    def finish(self, row_id: int, state: str, delivered_to: Sequence[str] = (), note: Optional[str] = None) -> None:
        """Close a row: ``sent`` (every target has it) or ``skipped`` (no longer worth sending: ``note`` says why)."""
        with self.engine.begin() as conn:
            conn.execute(update(self.table).where(self.table.c.id == row_id).values(
                state=state, delivered_to=",".join(sorted(delivered_to)), last_error=note,
                attempts=self.table.c.attempts + int(state == "sent")))

    def retry(self, row_id: int, delivered_to: Sequence[str], error: str, max_attempts: int = 6,
              base_delay_s: float = 30.0) -> str:
        """Some target failed: 'pending' again after a backoff (only the missing targets are retried),
        'failed' after the last attempt."""
        with self.engine.begin() as conn:
            attempts = conn.execute(select(self.table.c.attempts).where(self.table.c.id == row_id)).scalar_one() + 1
            state, delay = after_failure(attempts, max_attempts, base_delay_s)
            conn.execute(update(self.table).where(self.table.c.id == row_id).values(
                state=state, attempts=attempts, delivered_to=",".join(sorted(delivered_to)), last_error=error[:2000],
                next_attempt_at=self.clock() + delay))
        return state
