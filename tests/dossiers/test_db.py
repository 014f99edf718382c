"""The shared SQLite engine under two processes' worth of connections."""
import threading

from sqlalchemy import Column, Integer, MetaData, Table, insert, select, update

from core.db import make_engine

metadata = MetaData()
items = Table("items", metadata, Column("id", Integer, primary_key=True), Column("taken", Integer, default=0))


def test_read_then_write_waits_for_another_writer_instead_of_failing(tmp_path):
    """A transaction that reads, then writes, while another engine commits a write in between.

    With a deferred BEGIN, SQLite refuses the late write at once ("database is locked"): the
    reader's snapshot is stale and the busy timeout does not apply. It must wait its turn instead.
    """
    url = f"sqlite:///{tmp_path / 'shared.db'}"  # SQLite's own locking, whatever the suite's back end
    first, second = make_engine(url), make_engine(url)
    metadata.create_all(first)
    with first.begin() as conn:
        conn.execute(insert(items), [{"id": 1}])
    read_done, errors = threading.Event(), []

    def reader_then_writer():
        try:
            with first.begin() as conn:
                rows = conn.execute(select(items.c.id).where(items.c.taken == 0)).all()
                read_done.set()
                threading.Event().wait(0.3)  # the other writer tries to commit meanwhile
                for row in rows:
                    conn.execute(update(items).where(items.c.id == row.id).values(taken=1))
        except Exception as exc:  # recorded for the assertion below
            errors.append(exc)
            read_done.set()

    def other_writer():
        read_done.wait(5)
        try:
            with second.begin() as conn:
                conn.execute(insert(items), [{"id": 2}])
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader_then_writer), threading.Thread(target=other_writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    with first.connect() as conn:
        assert conn.execute(select(items.c.id, items.c.taken).order_by(items.c.id)).all() == [(1, 1), (2, 0)]
    first.dispose()
    second.dispose()


def test_workers_opening_a_fresh_file_together_all_connect(tmp_path):
    """SQLite answers "database is locked" at once, without waiting, to one of two connections switching a fresh
    file to WAL together (two console workers starting): each connection reads the mode and waits its turn instead.
    Before, a run of these sixty rounds of four threads always lost a few connections so."""
    import sqlite3

    from sqlalchemy import text

    failures = []
    for round_ in range(60):
        path = tmp_path / f"fresh-{round_}.db"
        sqlite3.connect(path).execute("CREATE TABLE t (a INTEGER)").connection.commit()

        def connect(path=path) -> None:
            try:
                with make_engine(f"sqlite:///{path}").connect() as conn:
                    conn.execute(text("SELECT count(*) FROM t"))
            except Exception as exc:  # noqa: BLE001 - any failure to connect is what this test counts
                failures.append(exc)

        threads = [threading.Thread(target=connect) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []
    with make_engine(f"sqlite:///{tmp_path / 'fresh-0.db'}").connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
