"""The console's sums of the tracker store: counted once, kept current batch by batch, read page by page."""
import datetime as dt
import json
import threading

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, create_engine, insert

from console.rollup import Rollup, bucket_ms


def _events(url):
    engine = create_engine(url)
    table = Table("events", MetaData(), Column("id", Integer, primary_key=True), Column("sender_id", String(255)),
                  Column("type_name", String(255)), Column("timestamp", Float), Column("intent_name", String(255)),
                  Column("action_name", String(255)), Column("data", Text))
    table.metadata.create_all(engine)
    return engine, table


def _add(engine, table, sender, kind, ts, **data):
    with engine.begin() as conn:
        conn.execute(insert(table).values(sender_id=sender, type_name=kind, timestamp=ts,
                                          data=json.dumps(dict(data, event=kind, timestamp=ts))))


def _rollup(new_db, clock=None):
    return Rollup(new_db("tracker"), new_db("main"),
                  **({"clock": clock} if clock else {}))


def test_sums_follow_the_events_batch_by_batch(new_db):
    engine, events = _events(new_db("tracker"))
    day = dt.datetime(2026, 11, 30, 9, 0)
    t = day.timestamp()
    _add(engine, events, "web-aaaaaaaa1", "user", t, text="làm sổ đỏ mất bao lâu, sđt 0912345678")
    _add(engine, events, "web-aaaaaaaa1", "action", t + 0.1)
    _add(engine, events, "web-aaaaaaaa1", "bot", t + 0.4, text="Thủ tục …")
    _add(engine, events, "web-aaaaaaaa1", "slot", t + 0.5, name="procedure_code", value="1.012786")
    _add(engine, events, "tg-42", "user", t + 1, text="gio lam viec thu bay")
    rollup = _rollup(new_db)
    assert rollup.pending() == 5
    assert rollup.catch_up(batch=2) == 5  # several batches
    assert rollup.pending() == 0 and rollup.catch_up() == 0  # nothing counted twice
    _add(engine, events, "tg-42", "bot", t + 2.2, text="Sở làm việc …")  # answers a message of an earlier batch
    _add(engine, events, "web-aaaaaaaa1", "user", t + 86400, text="con le phi thi sao")
    assert rollup.catch_up() == 2
    items, more = rollup.conversations()
    assert not more and [c["id"] for c in items] == ["web-aaaaaaaa1", "tg-42"]
    web = items[0]
    assert web["messages"] == 2 and web["channel"] == "web" and web["last_text"] == "con le phi thi sao"
    assert [c["id"] for c in rollup.conversations("SỔ ĐỎ")[0]] == ["web-aaaaaaaa1"]  # folded search
    assert rollup.conversations("0912345678")[0] == []  # numbers are masked before they are kept
    assert [c["id"] for c in rollup.conversations(channel="telegram")[0]] == ["tg-42"]
    assert rollup.conversations("50%")[0] == []  # LIKE wildcards are words, not patterns
    first = day.date()
    assert rollup.daily(first, first + dt.timedelta(days=1)) == [
        {"day": first, "channel": "telegram", "conversations": 1, "messages": 1},
        {"day": first, "channel": "web", "conversations": 1, "messages": 1},
        {"day": first + dt.timedelta(days=1), "channel": "web", "conversations": 1, "messages": 1}]
    assert rollup.talked(first, first) == 2 and rollup.talked(first + dt.timedelta(days=1), first) == 0
    assert rollup.top_procedures(first, first) == [("1.012786", 1)]
    median = rollup.median_reply_ms(first, first)
    assert median is not None and 380 <= median <= 1260  # 400 ms and 1,200 ms, to 5 %
    assert 1140 <= bucket_ms(int(__import__("math").log(1200) / __import__("math").log(1.05))) <= 1260


def test_a_reply_is_timed_from_the_first_unanswered_message_whatever_the_batches(new_db):
    engine, events = _events(new_db("tracker"))
    t = dt.datetime(2026, 11, 30, 9, 0).timestamp()
    _add(engine, events, "web-aaaaaaaa1", "user", t, text="a")
    _add(engine, events, "web-aaaaaaaa1", "user", t + 10, text="b")
    _add(engine, events, "web-aaaaaaaa1", "bot", t + 11, text="c")
    rollup = _rollup(new_db)
    assert rollup.catch_up(batch=1) == 3  # each event its own batch
    day = dt.date(2026, 11, 30)
    assert 10_400 <= rollup.median_reply_ms(day, day) <= 11_600  # 11 s, from the first unanswered message


def test_a_missing_id_is_waited_for_then_passed_over_and_pages_are_paginated(new_db):
    engine, events = _events(new_db("tracker"))
    t = dt.datetime(2026, 11, 30, 9, 0).timestamp()
    for i in range(7):
        _add(engine, events, f"zalo-{i}", "user", t + i, text=f"cau hoi {i}")
    with engine.begin() as conn:  # a transaction holding id 6 has not committed yet (PostgreSQL)
        conn.execute(events.delete().where(events.c.id == 6))
    now = [0.0]
    rollup = _rollup(new_db, clock=lambda: now[0])
    assert rollup.catch_up() == 5 and rollup.catch_up() == 0  # waits at the gap
    now[0] = 10.0
    assert rollup.catch_up() == 0
    now[0] = 31.0
    assert rollup.catch_up() == 1  # a rolled-back transaction after all: passed over
    page1, more = rollup.conversations(per_page=3)
    page2, more2 = rollup.conversations(page=2, per_page=3)
    listed = [c["id"] for c in page1 + page2]
    assert more and not more2 and listed == ["zalo-6"] + [f"zalo-{i}" for i in range(4, -1, -1)]


def test_two_workers_never_count_an_event_twice(new_db):
    engine, events = _events(new_db("tracker"))
    t = dt.datetime(2026, 11, 30, 9, 0).timestamp()
    with engine.begin() as conn:
        conn.execute(insert(events), [{"sender_id": f"web-{i:09d}", "type_name": "user", "timestamp": t + i,
                                       "data": json.dumps({"event": "user", "text": "so do"})} for i in range(400)])
    workers = [_rollup(new_db) for _ in range(3)]
    threads = [threading.Thread(target=w.catch_up, kwargs={"batch": 7}) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    while workers[0].catch_up(batch=50):
        pass
    day = dt.date(2026, 11, 30)
    assert sum(r["messages"] for r in workers[0].daily(day, day + dt.timedelta(days=1))) == 400
