"""The console's sums of the tracker store: counted once, kept current batch by batch, read page by page."""
import datetime as dt
import json
import threading

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, create_engine, insert

from console.rollup import Rollup, bucket_ms


def _events(path):
    engine = create_engine(f"sqlite:///{path}")
    table = Table("events", MetaData(), Column("id", Integer, primary_key=True), Column("sender_id", String(255)),
                  Column("type_name", String(255)), Column("timestamp", Float), Column("intent_name", String(255)),
                  Column("action_name", String(255)), Column("data", Text))
    table.metadata.create_all(engine)
    return engine, table


def _add(engine, table, sender, kind, ts, **data):
    with engine.begin() as conn:
        conn.execute(insert(table).values(sender_id=sender, type_name=kind, timestamp=ts,
                                          data=json.dumps(dict(data, event=kind, timestamp=ts))))


def _rollup(tmp_path, now):
    return Rollup(f"sqlite:///{tmp_path / 'tracker.db'}", f"sqlite:///{tmp_path / 'main.db'}", clock=lambda: now)


def test_sums_follow_the_events_batch_by_batch(tmp_path):
    engine, events = _events(tmp_path / "tracker.db")
    day = dt.datetime(2026, 11, 30, 9, 0)
    t = day.timestamp()
    _add(engine, events, "web-aaaaaaaa1", "user", t, text="làm sổ đỏ mất bao lâu, sđt 0912345678")
    _add(engine, events, "web-aaaaaaaa1", "action", t + 0.1)
    _add(engine, events, "web-aaaaaaaa1", "bot", t + 0.4, text="Thủ tục …")
    _add(engine, events, "web-aaaaaaaa1", "slot", t + 0.5, name="procedure_code", value="1.012786")
    _add(engine, events, "tg-42", "user", t + 1, text="gio lam viec thu bay")
    rollup = _rollup(tmp_path, t + 10**6)
    assert rollup.pending() == 4  # what the pages need: citizens' and the assistant's words, slots
    assert rollup.catch_up(batch=2) == 4  # several batches
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


def test_young_events_wait_and_pages_are_paginated(tmp_path):
    engine, events = _events(tmp_path / "tracker.db")
    t = dt.datetime(2026, 11, 30, 9, 0).timestamp()
    for i in range(7):
        _add(engine, events, f"zalo-{i}", "user", t + i, text=f"cau hoi {i}")
    rollup = _rollup(tmp_path, t + 4.5 + 5)  # the last two are younger than the settle time
    assert rollup.catch_up() == 5
    assert rollup.pending() == 2
    page1, more = rollup.conversations(per_page=3)
    page2, more2 = rollup.conversations(page=2, per_page=3)
    assert more and not more2 and [c["id"] for c in page1 + page2] == [f"zalo-{i}" for i in range(4, -1, -1)]


def test_two_workers_never_count_an_event_twice(tmp_path):
    engine, events = _events(tmp_path / "tracker.db")
    t = dt.datetime(2026, 11, 30, 9, 0).timestamp()
    with engine.begin() as conn:
        conn.execute(insert(events), [{"sender_id": f"web-{i:09d}", "type_name": "user", "timestamp": t + i,
                                       "data": json.dumps({"event": "user", "text": "so do"})} for i in range(400)])
    workers = [_rollup(tmp_path, t + 10_000) for _ in range(3)]
    threads = [threading.Thread(target=w.catch_up, kwargs={"batch": 7}) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    while workers[0].catch_up(batch=50):
        pass
    day = dt.date(2026, 11, 30)
    assert sum(r["messages"] for r in workers[0].daily(day, day + dt.timedelta(days=1))) == 400
