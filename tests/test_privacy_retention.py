"""The retention purge over SQLite stores built by the real modules: personal text older than the
cut-off is gone, newer rows are untouched, the console's analytics count the same, a dry run changes
nothing, a second run finds nothing; the command and the daily schedule of `motcua channels deliver`."""
import asyncio
import datetime as dt
import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, insert, inspect, text

from core.clock import VN_TZ  # noqa: E402  (after the module's docstring and standard imports)
from motcua.runner import sql_store_args
from tests.conftest import ROOT

NOW = dt.datetime.now(VN_TZ).replace(microsecond=0)
OLD, NEW = NOW - dt.timedelta(days=200), NOW - dt.timedelta(days=10)
ALL_OLD, MIXED, ALL_NEW = "tg-111111111", "web-mixed", "zalo-222"
SECRET = "sđt 0912-345-678, tên Nguyễn Văn An"


def local(moment):
    """Naive Vietnam time, as the stores write it (motcua sets TZ)."""
    return moment.astimezone(VN_TZ).replace(tzinfo=None)


def utc(moment):
    return moment.astimezone(dt.timezone.utc).replace(tzinfo=None)


async def _tracker(url):
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from components.tracker_store import MaskingSQLTrackerStore

    domain = Domain.from_yaml("version: '3.1'\nslots:\n" + "".join(
        f"  {name}:\n    type: text\n    mappings: [{{type: custom}}]\n"
        for name in ("procedure_code", "dossier_code")))
    store = MaskingSQLTrackerStore(domain, **sql_store_args(url), cache_size=0)

    def turn(tracker, at, said, procedure="1.012786"):
        t = at.timestamp()
        tracker.update(UserUttered(said, {"name": "ask_procedure", "confidence": 0.9},
                                   [{"entity": "name", "value": "Nguyễn Văn An"}],
                                   {"text": said, "intent": {"name": "ask_procedure", "confidence": 0.9}},
                                   timestamp=t, metadata={"motcua_client": "ab" * 16}))
        tracker.update(SlotSet("procedure_code", procedure, timestamp=t + 0.1))
        tracker.update(SlotSet("dossier_code", "000.00.06.H56-231027-0361", timestamp=t + 0.1))
        tracker.update(BotUttered(f"Chào anh Nguyễn V. A., hồ sơ của anh ({said})", timestamp=t + 0.4))
        tracker.update(ActionExecuted("action_listen", timestamp=t + 0.5))

    for sender, moments in ((ALL_OLD, [OLD, OLD + dt.timedelta(days=1)]), (MIXED, [OLD, NEW]), (ALL_NEW, [NEW])):
        tracker = DialogueStateTracker(sender, domain.slots)
        for at in moments:
            turn(tracker, at, SECRET)
        await store.save(tracker)
    store.engine.dispose()


@pytest.fixture
async def stores(tmp_path, new_db):
    """Every store that holds personal data, with rows 200 days old and 10 days old."""
    from channels.state import ChannelState
    from console.store import ConsoleStore, audit_table, failures_table
    from core.db import create_tables, make_engine
    from core.settings import Settings
    from core.stores.handoff import HandoffStore, requests_table
    from core.stores.review_log import ReviewLog
    from dossiers import schema

    settings = Settings.of(database_url=new_db("motcua"), tracker_store_url=new_db("tracker"),
                        dossier_key_file=tmp_path / "secrets/key", retention_days=180)
    await _tracker(settings.servers.tracker_store_url)
    review = ReviewLog(settings.storage.database_url)
    review.record_unanswered(ALL_OLD, "telegram", SECRET, "not_understood", when=local(OLD))
    review.record_unanswered(MIXED, "web", SECRET, "handoff_requested", when=local(OLD))
    review.record_unanswered(ALL_NEW, "zalo", SECRET, "no_match", when=local(NEW))
    review.record_feedback(ALL_OLD, "telegram", "positive", comment=SECRET, answer="Hồ sơ của anh Nguyễn V. A.",
                           when=local(OLD))
    review.record_feedback(ALL_NEW, "zalo", "negative", comment=SECRET, when=local(NEW))
    for moment in (OLD, NEW):
        handoffs = HandoffStore(settings.storage.database_url, clock=lambda m=moment: local(m))
        conversation = MIXED if moment is OLD else ALL_NEW
        handoffs.request(conversation, "web", "ef" * 16)
        handoffs.take(conversation, "web", "canbo")
        handoffs.add_message(conversation, "citizen", SECRET)
        handoffs.add_message(conversation, "staff", "Anh gọi 0236 3822 123 nhé")
        if moment is OLD:
            handoffs.release(conversation)
        alert = handoffs.due_alerts()[-1]
        handoffs.finish_alert(alert["id"], "sent", ["telegram"])
        ChannelState(settings.storage.database_url, clock=lambda m=moment: utc(m)).web_push(
            conversation, {"text": SECRET}
        )
        ChannelState(settings.storage.database_url, clock=lambda m=moment: utc(m)).inbound("zalo", conversation)
    ConsoleStore(settings.storage.database_url)
    engine = make_engine(settings.storage.database_url)
    create_tables(schema.metadata, engine)
    with engine.begin() as conn:
        # a request count the store's own clean-up has not reached (no request came since)
        conn.execute(insert(requests_table).values(conversation_id=ALL_OLD, client_hash="ef" * 16,
                                                   requested_at=local(OLD)))
        for moment, conversation in ((OLD, ALL_OLD), (NEW, ALL_NEW)):
            conn.execute(insert(audit_table).values(at=local(moment), username="canbo", action="map_question",
                                                    target="1.012786", detail=json.dumps({"phrasings": [SECRET]})))
            conn.execute(insert(failures_table).values(key="addr:203.0.113.5", at=local(moment)))
            conn.execute(insert(schema.lookup_audit).values(
                at=local(moment), conversation_id=conversation, channel="telegram",
                dossier_code="000.00.06.H56-231027-0361", outcome="ok",
                **({"client_hash": "cd" * 16} if "client_hash" in schema.lookup_audit.c else {})))
        code = "000.00.06.H56-231027-0361"
        conn.execute(insert(schema.dossiers).values(code=code, procedure_code="1.012786", channel="direct",
                                                    salt="s", received_at=local(OLD), status_code=10,
                                                    status_at=local(OLD), updated_at=local(OLD)))
        conn.execute(insert(schema.subscriptions).values(dossier_code=code, conversation_id=ALL_OLD, channel="telegram",
                                                         created_at=local(OLD)))
        for moment, state, conversation in ((OLD, "sent", ALL_OLD), (OLD, "pending", MIXED), (NEW, "sent", ALL_NEW)):
            conn.execute(insert(schema.outbox).values(
                event_key=f"{code}:{conversation}", dossier_code=code, conversation_id=conversation, channel="telegram",
                text=f"Hồ sơ {code} đã trả kết quả", state=state, attempts=1, next_attempt_at=local(moment),
                created_at=local(moment)))
    engine.dispose()
    return settings


def _rows(url, sql):
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(text(sql))]
    engine.dispose()
    return rows


def _snapshot(settings):
    """Every row of every table of both databases."""
    out = {}
    for url in (settings.servers.tracker_store_url, settings.storage.database_url):
        engine = create_engine(url)
        with engine.connect() as conn:
            for name in inspect(conn).get_table_names():
                out[(url, name)] = [tuple(r) for r in conn.execute(text(f'SELECT * FROM "{name}" ORDER BY 1'))]
        engine.dispose()
    return out


def _report(settings, days=400):
    from console.analytics import build_report
    from console.rollup import Rollup
    from core.stores.review_log import ReviewLog

    sums = Rollup(settings.servers.tracker_store_url, settings.storage.database_url, clock=lambda: 1e12)
    sums.catch_up()
    review = ReviewLog(settings.storage.database_url)
    report = build_report(sums, review.engine, NOW.date() - dt.timedelta(days=days), NOW.date())
    sums.close()
    return report


def _purge(settings, dry_run=False):
    from motcua.privacy_cli import purge_now

    return {(r.store, r.what): r.count for r in purge_now(settings, dry_run=dry_run, now=NOW)[1]}


async def test_purge_removes_old_personal_text_and_keeps_the_counts(stores):
    settings = stores
    before, old_days = _report(settings), _report(settings, days=400)
    assert before.outcomes == {"answered": 0, "unanswered": 2, "handed_off": 1}
    assert sum(r["messages"] for r in before.daily) == 5 and before.top_procedures == [("1.012786", 3)]

    removed = _purge(settings)

    after = _report(settings)
    for field in ("daily", "top_procedures", "outcomes", "feedback", "median_reply_ms"):
        assert getattr(after, field) == getattr(before, field), field
    assert _report(settings, days=400).daily == old_days.daily
    assert removed[("tracker store", "conversations renamed (events)")] == 1
    assert removed[("review log", "question texts blanked")] == 2

    events = _rows(settings.servers.tracker_store_url, "SELECT sender_id, timestamp, data FROM events")
    senders = {e["sender_id"] for e in events}
    assert ALL_OLD not in senders and MIXED in senders and ALL_NEW in senders
    renamed = [s for s in senders if s.startswith("tg-anon-")]
    assert len(renamed) == 1
    for event in events:
        data = json.loads(event["data"])
        if event["timestamp"] < (NOW - dt.timedelta(days=180)).timestamp():
            assert data["purged"] is True and "Nguy" not in event["data"] and "5678" not in event["data"]
            assert "000.00.06" not in event["data"] and "abab" not in event["data"]
            if data["event"] == "slot" and data["name"] == "procedure_code":
                assert data["value"] == "1.012786"
        else:
            assert "purged" not in data
            if data["event"] == "user":
                assert data["text"] == "sđt ******5678, tên Nguyễn Văn An"

    unanswered = _rows(
        settings.storage.database_url, "SELECT conversation_id, text, reason FROM unanswered ORDER BY id"
    )
    assert [(r["conversation_id"], r["text"]) for r in unanswered] == [
        (renamed[0], ""), (MIXED, ""), (ALL_NEW, "sđt ******5678, tên Nguyễn Văn An")]
    feedback = _rows(
        settings.storage.database_url, "SELECT conversation_id, comment, answer, rating FROM feedback ORDER BY id"
    )
    assert feedback == [{"conversation_id": renamed[0], "comment": "", "answer": "", "rating": "positive"},
                        {"conversation_id": ALL_NEW, "comment": "sđt ******5678, tên Nguyễn Văn An", "answer": "",
                         "rating": "negative"}]
    summaries = _rows(settings.storage.database_url, "SELECT sender_id, last_text FROM console_conversations")
    assert {s["sender_id"]: s["last_text"] for s in summaries}[renamed[0]] == ""
    assert all(SECRET not in s["last_text"] for s in summaries)
    days = _rows(settings.storage.database_url, "SELECT sender_id, day, words FROM console_conversation_days")
    old = [d for d in days if str(d["day"]) < str(NOW.date() - dt.timedelta(days=180))]  # raw SQL: text or date
    assert old and all(d["words"] == "" for d in old)
    assert all("0912" not in d["words"] for d in days)
    messages = _rows(settings.storage.database_url, "SELECT conversation_id, text FROM handoff_messages")
    assert {m["conversation_id"] for m in messages} == {ALL_NEW} and len(messages) == 2
    assert [h["conversation_id"] for h in _rows(settings.storage.database_url, "SELECT * FROM handoffs")] == [ALL_NEW]
    assert [a["conversation_id"] for a in _rows(settings.storage.database_url, "SELECT * FROM handoff_alerts")] == [
        ALL_NEW
    ]
    requests = _rows(settings.storage.database_url, "SELECT * FROM handoff_requests")
    assert [(r["conversation_id"], r["client_hash"]) for r in requests] == [(ALL_NEW, "ef" * 16)]
    assert removed[("handoffs", "request counts deleted (conversation ids, client digests)")] == 1
    assert [w["conversation_id"] for w in _rows(settings.storage.database_url, "SELECT * FROM web_inbox")] == [ALL_NEW]
    assert [c["user_id"] for c in _rows(settings.storage.database_url, "SELECT * FROM channel_contacts")] == [ALL_NEW]
    audit = _rows(settings.storage.database_url, "SELECT * FROM dossier_lookup_audit ORDER BY id")
    assert [a["conversation_id"] for a in audit] == ["", ALL_NEW] and len(audit) == 2
    if "client_hash" in audit[0]:
        assert [a["client_hash"] for a in audit] == [None, "cd" * 16]
    assert [o["state"] for o in _rows(settings.storage.database_url, "SELECT * FROM notice_outbox ORDER BY id")] == [
        "pending", "sent"]
    assert _rows(settings.storage.database_url, "SELECT * FROM dossier_notice_subscriptions") == []
    audit_log = _rows(settings.storage.database_url, "SELECT * FROM staff_audit_log ORDER BY id")
    details = [json.loads(a["detail"]) for a in audit_log if a["action"] == "map_question"]
    assert details == [{"purged": True}, {"phrasings": [SECRET]}]  # newer: kept (the console masks it on display)
    assert len(_rows(settings.storage.database_url, "SELECT * FROM staff_login_failures")) == 1


async def test_dry_run_changes_nothing_and_a_second_run_finds_nothing(stores):
    settings = stores
    before = _snapshot(settings)
    counted = _purge(settings, dry_run=True)
    assert _snapshot(settings) == before
    done = _purge(settings)
    assert counted == done and sum(done.values()) > 0
    assert sum(_purge(settings).values()) == 0


async def test_the_console_shows_purged_turns_as_removed(stores):
    from console.conversations import PURGED_TEXT, Conversations

    settings = stores
    _purge(settings)
    conversations = Conversations(settings.servers.tracker_store_url)
    turns = conversations.turns(MIXED)
    conversations.close()
    assert [t.text for t in turns] == [PURGED_TEXT, PURGED_TEXT, "sđt ******5678, tên Nguyễn Văn An",
                                       "Chào anh Nguyễn V. A., hồ sơ của anh (sđt ******5678, tên Nguyễn Văn An)"]


def test_pseudonyms_keep_the_channel_and_are_keyed():
    from core.privacy import Hasher
    from core.retention import is_pseudonym, pseudonym_maker

    first = pseudonym_maker(lambda c: Hasher(b"k" * 32).hash("conversation", c))
    second = pseudonym_maker(lambda c: Hasher(b"j" * 32).hash("conversation", c))
    name = first("tg-123456789")
    assert name.startswith("tg-anon-") and name == first("tg-123456789") and name != second("tg-123456789")
    assert "123456789" not in name and is_pseudonym(name) and not is_pseudonym("tg-123456789")
    assert first("3f2a1b4c-1234").startswith("anon-") and first("zalo-42").startswith("zalo-anon-")


def test_cutoff_in_each_clock():
    from core.retention import Cutoff

    now = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    cutoff = Cutoff.days_before(now, 180)
    assert cutoff.utc == dt.datetime(2025, 12, 3, 2, 0)
    assert cutoff.epoch == (now - dt.timedelta(days=180)).timestamp()
    assert cutoff.local == dt.datetime(2025, 12, 3, 9, 0)  # Vietnam time, as the stores write it
    assert Cutoff.days_before(now.replace(tzinfo=None), 180) == cutoff  # a naive time is Vietnam time
    with pytest.raises(ValueError):
        Cutoff.days_before(now, 0)


def test_the_cutoff_is_vietnam_time_on_a_host_running_on_utc(server_clock_on_utc):
    from core.retention import Cutoff

    now = dt.datetime(2026, 6, 1, 1, 30, tzinfo=dt.timezone.utc)  # 8:30 in Vietnam
    assert dt.datetime.now().astimezone().utcoffset() == dt.timedelta(0)
    assert Cutoff.days_before(now, 180).local == dt.datetime(2025, 12, 3, 8, 30)


async def test_the_tracker_cache_does_not_serve_what_a_purge_anonymised(new_db):
    """The purge rewrites old events in place (same ids): the Rasa server's cached session is read again."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from components.tracker_store import MaskingSQLTrackerStore
    from core.retention import Cutoff, purge

    tracker_url = new_db("tracker")
    store = MaskingSQLTrackerStore(Domain.empty(), **sql_store_args(tracker_url), cache_size=10)
    tracker = DialogueStateTracker("tg-5", slots=[])
    for at, said in ((NOW - dt.timedelta(days=2), SECRET), (NOW, "lệ phí bao nhiêu")):
        tracker.update(UserUttered(said, {"name": "ask", "confidence": 1.0}, [], {"text": said},
                                   timestamp=at.timestamp()))
        tracker.update(BotUttered(f"Chào anh Nguyễn V. A. ({said})", timestamp=at.timestamp() + 1))
        tracker.update(ActionExecuted("action_listen", timestamp=at.timestamp() + 2))
    await store.save(tracker)
    assert (await store.retrieve("tg-5")).events[0].text == "sđt ******5678, tên Nguyễn Văn An"
    purge(tracker_url, new_db("motcua"), Cutoff.days_before(NOW, 1), lambda c: "anon-" + c)
    events = list((await store.retrieve("tg-5")).events)
    assert [e.text for e in events if isinstance(e, (UserUttered, BotUttered))] == [
        None, None, "lệ phí bao nhiêu", "Chào anh Nguyễn V. A. (lệ phí bao nhiêu)"]
    store.engine.dispose()


def test_an_audit_table_without_client_digests_is_handled(new_db):
    """A database from before client digests were audited: its conversation ids still go."""
    from core.retention import Cutoff, purge

    url = new_db("old")
    engine = create_engine(url)
    key = "id SERIAL PRIMARY KEY" if engine.dialect.name == "postgresql" else "id INTEGER PRIMARY KEY"
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE dossier_lookup_audit ({key}, at TIMESTAMP NOT NULL, "
                          "conversation_id VARCHAR(128) NOT NULL, channel VARCHAR(32) NOT NULL, "
                          "dossier_code VARCHAR(80) NOT NULL, outcome VARCHAR(16) NOT NULL)"))
        conn.execute(text("INSERT INTO dossier_lookup_audit (at, conversation_id, channel, dossier_code, outcome) "
                          "VALUES (:at, 'tg-1', 'telegram', 'x', 'ok')"), {"at": local(OLD)})
    engine.dispose()
    removed = purge(new_db("tracker"), url, Cutoff.days_before(NOW, 180), lambda c: "anon-" + c)
    assert [(r.store, r.what, r.count) for r in removed] == [
        ("dossier service", "lookup audit rows anonymised", 1)]
    assert _rows(url, "SELECT conversation_id FROM dossier_lookup_audit") == [{"conversation_id": ""}]


def test_the_command_prints_what_it_removed_per_store(stores):
    settings = stores
    env = dict(os.environ, MOTCUA_DATABASE_URL=settings.storage.database_url,
               MOTCUA_TRACKER_STORE_URL=settings.servers.tracker_store_url,
               MOTCUA_DOSSIER_KEY_FILE=str(settings.dossiers.dossier_key_file), MOTCUA_RETENTION_DAYS="180")
    run = [sys.executable, "-m", "motcua", "privacy", "purge"]
    dry = subprocess.run(run + ["--dry-run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert dry.returncode == 0, dry.stderr
    assert "older than 180 days" in dry.stdout and "dry run" in dry.stdout
    assert "  review log: 2 question texts blanked" in dry.stdout
    assert "  handoffs: 2 transcript messages deleted" in dry.stdout
    assert _rows(settings.storage.database_url, "SELECT count(*) AS n FROM handoff_messages") == [{"n": 4}]
    done = subprocess.run(run + ["--days", "365"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "older than 365 days" in done.stdout
    assert "  review log: 0 question texts blanked" in done.stdout  # nothing is 365 days old
    bad = subprocess.run(run + ["--days", "0"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "at least 1" in bad.stderr


async def test_the_deliverer_purges_at_start_and_then_on_schedule(stores, monkeypatch):
    from motcua import privacy_cli

    settings = stores
    calls = []
    real = privacy_cli.purge_now

    def counted(*args, **kwargs):
        calls.append(dt.datetime.now())
        return real(*args, **kwargs)

    monkeypatch.setattr(privacy_cli, "purge_now", counted)
    stop = asyncio.Event()
    task = asyncio.create_task(privacy_cli.purge_daily(settings, stop, interval_s=0.05))
    for _ in range(400):
        if len(calls) >= 2:
            break
        await asyncio.sleep(0.025)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert len(calls) >= 2
    assert [r["text"] for r in _rows(settings.storage.database_url, "SELECT text FROM unanswered ORDER BY id")][:2] == [
        "",
        "",
    ]
