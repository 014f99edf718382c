"""Conversations are stored with phone and ID numbers masked to their last digits."""
import json

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, text

from components.tracker_store import MaskingSQLTrackerStore, mask_value
from motcua.runner import sql_store_args


async def test_numbers_never_reach_the_database(new_db):
    db = new_db("tracker")
    store = MaskingSQLTrackerStore(Domain.empty(), **sql_store_args(db))
    tracker = DialogueStateTracker("conv-1", slots=[])
    parse = {"text": "sdt 0912 345 678 cccd 079203004567", "intent": {"name": "inform", "confidence": 1.0},
             "entities": [{"entity": "phone_number", "value": "0912 345 678", "start": 4, "end": 16}]}
    tracker.update(UserUttered(parse["text"], parse["intent"], parse["entities"], parse))
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(BotUttered("Số của bạn là 0912345678?"))
    await store.save(tracker)
    engine = create_engine(db)
    with engine.connect() as conn:
        stored = " ".join(row[0] for row in conn.execute(text("SELECT data FROM events")))
    engine.dispose()
    assert "0912 345 678" not in stored and "0912345678" not in stored and "079203004567" not in stored
    assert "******5678" in stored and "********4567" in stored
    restored = await store.retrieve("conv-1")
    assert restored.latest_message.text == "sdt ******5678 cccd ********4567"
    assert len(restored.events) == 3


def test_mask_value_walks_nested_data():
    assert mask_value({"a": ["0912345678", {"b": 1}], "c": None}) == {"a": ["******5678", {"b": 1}], "c": None}
    event = SlotSet("x", "079203004567", timestamp=1795451120.25).as_dict()
    masked = mask_value(event)
    assert masked == {**event, "value": "********4567"}  # only the value: names and timestamps stay
    assert "079203004567" not in json.dumps(masked)


async def test_cached_sessions_match_what_sql_returns(new_db):
    """Over turns and a session restart, the cached store and a cold store reading the same database
    give the same events, and nothing is written twice."""
    from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet

    domain = Domain.from_yaml("version: '3.1'\nslots:\n  aspect:\n    type: text\n    mappings: [{type: custom}]\n")
    db = new_db("tracker")
    cached = MaskingSQLTrackerStore(domain, **sql_store_args(db), cache_size=10)

    def user(text):
        return UserUttered(text, {"name": "inform", "confidence": 1.0}, [], {"text": text})

    tracker = DialogueStateTracker("conv", domain.slots)
    for i, message in enumerate(["xin chào", "sdt 0912345678", "lệ phí bao nhiêu"]):
        tracker = await cached.retrieve("conv") or tracker
        tracker.update(user(message))
        tracker.update(SlotSet("aspect", f"a{i}"))
        tracker.update(BotUttered(f"trả lời {i}"))
        tracker.update(ActionExecuted("action_listen"))
        await cached.save(tracker)
    tracker = await cached.retrieve("conv")
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(user("phiên mới"))
    await cached.save(tracker)

    cold = MaskingSQLTrackerStore(domain, **sql_store_args(db), cache_size=0)
    from_cache, from_sql = await cached.retrieve("conv"), await cold.retrieve("conv")
    assert [e.as_dict() for e in from_cache.events] == [e.as_dict() for e in from_sql.events]
    assert from_sql.latest_message.text == "phiên mới"
    full = await cold.retrieve_full_tracker("conv")
    texts = [e.text for e in full.events if isinstance(e, UserUttered)]
    assert texts == ["xin chào", "sdt ******5678", "lệ phí bao nhiêu", "phiên mới"]  # each once, masked
    assert [e.value for e in full.events if isinstance(e, SlotSet)] == ["a0", "a1", "a2"]


async def test_a_second_writer_invalidates_the_cache(new_db):
    """Two stores on one database (two Rasa workers): each sees what the other wrote."""
    domain = Domain.empty()
    db = new_db("tracker")
    first = MaskingSQLTrackerStore(domain, **sql_store_args(db))
    second = MaskingSQLTrackerStore(domain, **sql_store_args(db))

    def user(text):
        return UserUttered(text, {"name": "inform", "confidence": 1.0}, [], {"text": text})

    tracker = DialogueStateTracker("conv", [])
    tracker.update(user("một"))
    await first.save(tracker)
    tracker = await second.retrieve("conv")
    tracker.update(user("hai"))
    await second.save(tracker)
    tracker = await first.retrieve("conv")  # first's cache is stale: it must re-read
    assert [e.text for e in tracker.events] == ["một", "hai"]
    tracker.update(user("ba"))
    await first.save(tracker)
    cold = MaskingSQLTrackerStore(domain, **sql_store_args(db), cache_size=0)
    assert [e.text for e in (await cold.retrieve("conv")).events] == ["một", "hai", "ba"]


@pytest.mark.parametrize("cache_size", [0, 2000])
async def test_two_servers_handling_one_conversation_at_once_both_keep_their_turns(new_db, cache_size):
    """A server whose conversation lock ran out (a slow turn under load) and another one take turns of the same
    conversation at once: each saves its own events, none is skipped because the other stored first."""
    domain = Domain.empty()
    db = new_db("tracker")
    first = MaskingSQLTrackerStore(domain, **sql_store_args(db), cache_size=cache_size)
    second = MaskingSQLTrackerStore(domain, **sql_store_args(db), cache_size=cache_size)

    def user(text):
        return UserUttered(text, {"name": "inform", "confidence": 1.0}, [], {"text": text})

    tracker = DialogueStateTracker("conv", [])
    tracker.update(user("một"))
    await first.save(tracker)
    slow, fast = await first.retrieve("conv"), await second.retrieve("conv")
    slow.update(user("hai"))
    fast.update(user("ba"))
    fast.update(BotUttered("trả lời ba"))
    await second.save(fast)
    await first.save(slow)
    cold = MaskingSQLTrackerStore(domain, **sql_store_args(db), cache_size=0)
    stored = [getattr(e, "text", None) for e in (await cold.retrieve("conv")).events]
    assert sorted(t for t in stored if t) == sorted(["một", "ba", "trả lời ba", "hai"])


@pytest.mark.parametrize("text", [
    "sdt cua toi 0912 345\n678 nhe", "Số0912345678", "CCCD \"001234567890\"", "xin chào", "so\t0912.345.678",
    "+84 912345678", "mã hồ sơ 000.00.06.H56-231027-0361", "số 079203004567, sđt 0987654321",
])
def test_the_quick_check_masks_exactly_what_mask_text_masks(text):
    """masked_record skips the walk over an event when one pass over its JSON finds no number."""
    from components.tracker_store import masked_record
    from core.privacy import mask_text

    event, data, blob = masked_record(UserUttered(text, {"intent": {"name": "greet", "confidence": 0.123456789}}))
    assert event.text == mask_text(text) and data["text"] == mask_text(text)
    assert json.loads(blob) == data


async def test_every_form_in_every_part_of_an_event_is_masked(new_db):
    """User text, entities, bot text and buttons, slots and metadata: nothing of a number written with
    separators, a country code or full-width digits reaches the events table."""
    db = new_db("tracker")
    store = MaskingSQLTrackerStore(Domain.empty(), **sql_store_args(db))
    tracker = DialogueStateTracker("tg-1", slots=[])
    said = "sđt (+84) 912-345-678, cccd 001 099 012 345, mã 000.00.06.H56-231027-0361, ngày 02/12/2026"
    parse = {"text": said, "intent": {"name": "inform", "confidence": 0.98},
             "entities": [{"entity": "phone_number", "value": "0912.345.678", "start": 4, "end": 20}]}
    tracker.update(UserUttered(said, parse["intent"], parse["entities"], parse,
                               metadata={"telegram_message_id": 912345678, "note": "84912345678"}))
    tracker.update(SlotSet("verification_digits", "０９１２３４５６７８"))
    tracker.update(BotUttered("Bạn xác nhận số 0912 345 678?", data={"buttons": [
        {"title": "Đúng, 0912-345-678", "payload": "/affirm"}]}, metadata={"to": "0987.654.321"}))
    await store.save(tracker)
    engine = create_engine(db)
    with engine.connect() as conn:
        stored = " ".join(row[0] for row in conn.execute(text("SELECT data FROM events")))
    engine.dispose()
    plain = "".join(c for c in stored if c.isdigit())
    for original in ("912345678", "001099012345", "987654321", "０９１２３４５６７８"):
        assert original not in stored and original[:9] not in plain, original
    assert "000.00.06.H56-231027-0361" in stored and "02/12/2026" in stored
    restored = await store.retrieve("tg-1")
    user = restored.latest_message
    assert user.text == "sđt ******5678, cccd ********2345, mã 000.00.06.H56-231027-0361, ngày 02/12/2026"
    assert user.entities[0]["value"] == "******5678" and user.metadata["telegram_message_id"] == "*****5678"
    bot = [e for e in restored.events if isinstance(e, BotUttered)][0]
    assert bot.text == "Bạn xác nhận số ******5678?" and bot.data["buttons"][0]["title"] == "Đúng, ******5678"
    assert [e.value for e in restored.events if isinstance(e, SlotSet)] == ["******5678"]


def test_events_without_numbers_take_the_quick_path(monkeypatch):
    """Timestamps and confidences are numbers, not text: they must not send every event down the walk."""
    import components.tracker_store as module

    def walked(value):
        raise AssertionError("the quick check let through an event without any number in its text")

    monkeypatch.setattr(module, "mask_value", walked)
    event = UserUttered("lệ phí 1.500.000 đồng, hẹn 02/12/2026", {"name": "ask_fee", "confidence": 0.987654321},
                        [], {"text": "x", "intent": {"name": "ask_fee", "confidence": 0.912345678},
                             "intent_ranking": [{"name": "a", "confidence": 1.2345678912e-05}]},
                        timestamp=1795451120.25)
    assert module.masked_record(event)[0] is event
    with pytest.raises(AssertionError):
        module.masked_record(UserUttered("sđt 0912 345 678"))


async def test_a_session_older_than_the_cache_span_is_read_again(new_db, monkeypatch):
    """A session younger than CACHE_SPAN comes from memory; one whose oldest event is older (a purge may have
    anonymised it in place, same ids) is read from SQL again."""
    import time

    from components.tracker_store import CACHE_SPAN

    store = MaskingSQLTrackerStore(Domain.empty(), **sql_store_args(new_db("tracker")), cache_size=10)
    reads = []
    real = DialogueStateTracker.from_dict

    def counted(sender_id, *args, **kwargs):  # a tracker rebuilt from the rows SQL returned
        reads.append(sender_id)
        return real(sender_id, *args, **kwargs)

    monkeypatch.setattr(DialogueStateTracker, "from_dict", counted)
    for sender, age in (("young", 60.0), ("old", CACHE_SPAN + 60)):
        tracker = DialogueStateTracker(sender, slots=[])
        tracker.update(UserUttered("xin chào", {"name": "greet", "confidence": 1.0}, timestamp=time.time() - age))
        tracker.update(ActionExecuted("action_listen"))
        await store.save(tracker)
        await store.retrieve(sender)
        await store.retrieve(sender)
    assert reads == ["old", "old"]  # the young session was cached by its save


async def test_the_query_vector_handed_to_the_search_is_never_stored(new_db):
    from knowledge_base.retrieval import handover

    db = new_db("tracker")
    store = MaskingSQLTrackerStore(Domain.empty(), **sql_store_args(db))
    tracker = DialogueStateTracker("conv-v", slots=[])
    parse = {"text": "tách thửa cần gì", "intent": {"name": "ask_documents", "confidence": 0.9}, "entities": [],
             handover.KEY: {"model": "m", "text": "tách thửa cần gì", "vector": "AAAA" * 512}}
    tracker.update(UserUttered(parse["text"], parse["intent"], [], parse))
    await store.save(tracker)
    engine = create_engine(db)
    with engine.connect() as conn:
        stored = [json.loads(row[0]) for row in conn.execute(text("SELECT data FROM events"))]
    engine.dispose()
    assert stored[0]["parse_data"]["intent"]["name"] == "ask_documents" and handover.KEY not in stored[0]["parse_data"]
    for restored in (await store.retrieve("conv-v"), await MaskingSQLTrackerStore(
            Domain.empty(), **sql_store_args(db)).retrieve("conv-v")):  # the cached session, then SQL's
        assert handover.KEY not in restored.latest_message.parse_data
        assert restored.latest_message.text == "tách thửa cần gì"
    # nor published to an event broker (analytics, Kafka...): masked records go there, without it
    published = []

    class Broker:
        def publish(self, event):
            published.append(event)

    streamed = MaskingSQLTrackerStore(Domain.empty(), **sql_store_args(new_db("streamed")),
                                      event_broker=Broker())
    await streamed.save(tracker)
    user = [e for e in published if e.get("event") == "user"]
    assert user and user[0]["sender_id"] == "conv-v" and handover.KEY not in user[0]["parse_data"]
    assert user[0]["parse_data"]["intent"]["name"] == "ask_documents"


async def test_a_slow_database_never_holds_the_other_conversations(new_db, monkeypatch):
    import asyncio
    import time

    store = MaskingSQLTrackerStore(Domain.empty(), **sql_store_args(new_db("tracker")))
    tracker = DialogueStateTracker("slow", slots=[])
    tracker.update(UserUttered("xin chào", {"name": "greet", "confidence": 1.0}))
    await store.save(tracker)
    real = store._last_id

    def slow(session, sender_id):
        time.sleep(0.6)  # a query that takes long: a big conversation, a busy disk
        return real(session, sender_id)

    real_since = store._written_since

    def slow_since(session, sender_id, since):
        time.sleep(0.6)
        return real_since(session, sender_id, since)

    monkeypatch.setattr(store, "_last_id", slow)
    monkeypatch.setattr(store, "_written_since", slow_since)
    store._cache.clear()
    ticks = []

    async def other_conversation():
        started = time.perf_counter()
        for _ in range(10):
            await asyncio.sleep(0.05)
            ticks.append(time.perf_counter() - started)

    async def alongside(work):  # the other conversation is under way first, then the slow work starts
        other = asyncio.ensure_future(other_conversation())
        await asyncio.sleep(0.01)
        result = await work
        await other
        return result

    restored = await alongside(store.retrieve("slow"))
    assert restored.latest_message.text == "xin chào"
    assert len(ticks) == 10 and ticks[0] < 0.3 and max(b - a for a, b in zip(ticks, ticks[1:])) < 0.3
    tracker.update(ActionExecuted("action_listen"))
    ticks.clear()
    started = time.perf_counter()
    await alongside(store.save(tracker))
    assert time.perf_counter() - started > 0.6  # the save did wait for its slow query...
    assert ticks[0] < 0.3 and max(b - a for a, b in zip(ticks, ticks[1:])) < 0.3  # ...and the loop kept turning


async def test_a_cancelled_save_still_writes_all_its_events(new_db, monkeypatch):
    import asyncio
    import time

    store = MaskingSQLTrackerStore(Domain.empty(), **sql_store_args(new_db("tracker")))
    tracker = DialogueStateTracker("gone", slots=[])
    tracker.update(UserUttered("xin chào", {"name": "greet", "confidence": 1.0}))
    tracker.update(ActionExecuted("action_listen"))
    real = store._last_id

    def slow(session, sender_id):
        time.sleep(0.5)
        return real(session, sender_id)

    monkeypatch.setattr(store, "_last_id", slow)
    save = asyncio.ensure_future(store.save(tracker))
    await asyncio.sleep(0.1)
    save.cancel()  # the client went away mid-save
    with pytest.raises(asyncio.CancelledError):
        await save
    # the cancellation came through only once the events were written
    engine = create_engine(new_db("tracker"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM events WHERE sender_id = 'gone'")).scalar() == 2
    engine.dispose()


async def test_an_in_memory_store_is_one_database_for_every_thread():
    store = MaskingSQLTrackerStore(Domain.empty(), dialect="sqlite", db=":memory:")
    tracker = DialogueStateTracker("mem", slots=[])
    tracker.update(UserUttered("xin chào", {"name": "greet", "confidence": 1.0}))
    await store.save(tracker)
    store._cache.clear()
    assert (await store.retrieve("mem")).latest_message.text == "xin chào"


def test_a_restarting_database_is_tried_again_and_other_errors_are_not(monkeypatch):
    from sqlalchemy.exc import IntegrityError, OperationalError

    from components import tracker_store

    monkeypatch.setattr(tracker_store.time, "sleep", lambda s: None)
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("INSERT", {}, Exception("connection refused"))
        return "stored"

    assert tracker_store.retried(flaky) == "stored" and len(calls) == 3

    def broken():
        calls.append(1)
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    calls.clear()
    with pytest.raises(IntegrityError):
        tracker_store.retried(broken)
    assert len(calls) == 1

    def down():
        calls.append(1)
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    calls.clear()
    with pytest.raises(OperationalError):
        tracker_store.retried(down)
    assert len(calls) == len(tracker_store.RETRY_DELAYS_S) + 1


async def test_a_new_conversations_first_save_counts_nothing_and_stores_its_events(new_db, monkeypatch):
    """Through the FailSafeTrackerStore Rasa wraps the store in: a conversation nothing is stored of is created
    without touching the database and its first save counts no stored events; its events are all written, once,
    and read back. A tracker the store did not read or create is still counted."""
    from rasa.core.tracker_store import FailSafeTrackerStore

    from motcua.rasa_main import _fail_loudly

    _fail_loudly()
    db = new_db("tracker")
    store = MaskingSQLTrackerStore(Domain.empty(), **sql_store_args(db), cache_size=10)
    counted = []
    query = MaskingSQLTrackerStore._event_query

    def spy(self, session, sender_id, *args, **kwargs):
        found = query(self, session, sender_id, *args, **kwargs)
        count = found.count
        found.count = lambda: counted.append(sender_id) or count()
        return found

    monkeypatch.setattr(MaskingSQLTrackerStore, "_event_query", spy)
    wrapped = FailSafeTrackerStore(store)
    tracker = await wrapped.get_or_create_tracker("new-conv", append_action_listen=False)  # as the processor asks
    assert list(tracker.events) == [] and list(await store.keys()) == []  # nothing written yet
    tracker.update(UserUttered("xin chào", {"name": "greet", "confidence": 1.0}, [], {"text": "xin chào"}))
    tracker.update(BotUttered("Xin chào"))
    await wrapped.save(tracker)
    assert counted == []
    cold = MaskingSQLTrackerStore(Domain.empty(), **sql_store_args(db), cache_size=0)
    assert [e.type_name for e in (await cold.retrieve("new-conv")).events] == ["user", "bot"]

    stranger = DialogueStateTracker("new-conv", slots=[])  # not read by this store: what is stored is counted
    stranger.update(UserUttered("cảm ơn", {"name": "thank", "confidence": 1.0}, [], {"text": "cảm ơn"}))
    await cold.save(stranger)
    assert counted == ["new-conv"]
