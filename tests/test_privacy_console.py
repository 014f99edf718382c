"""What staff see and export holds no full phone or ID number, also from rows stored before masking
covered every written form; handoff messages are stored masked both ways."""
import datetime as dt
import json
import re
from urllib.parse import unquote

from sqlalchemy import create_engine, insert, select, text

from tests.console.conftest import client, console_env, csrf_of, login  # noqa: F401 (fixtures)

# Forms the earlier masking missed, as rows written then would hold them.
LEGACY = {"phone": "sđt (+84) 912-345-678 ạ", "id": "cccd 001 099 012 345 nhé"}
RAW = re.compile(r"912-345-678|001 099 012 345|0912345678|001099012345")


def _legacy_rows(settings):
    from core.stores.handoff import messages_table
    from core.stores.review_log import unanswered

    now = dt.datetime.now() - dt.timedelta(minutes=1)
    engine = create_engine(settings.storage.database_url)
    with engine.begin() as conn:
        for i in range(2):
            conn.execute(insert(unanswered).values(conversation_id="web-aaaaaaaa1", channel="web",
                                                   asked_at=now + dt.timedelta(seconds=i), text=LEGACY["phone"],
                                                   reason="no_match", candidates="[]"))
        conn.execute(insert(messages_table).values(conversation_id="web-aaaaaaaa1", who="citizen", staff=None,
                                                   text=LEGACY["id"], at=now))
    engine.dispose()
    engine = create_engine(settings.servers.tracker_store_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO events (sender_id, type_name, timestamp, data) "
                          "VALUES ('tg-42', 'user', :t, :d)"),
                     {"t": now.timestamp() + 5, "d": json.dumps({"event": "user", "text": LEGACY["id"]})})
    engine.dispose()


def test_pages_mask_rows_stored_before(console_env, client):  # noqa: F811
    settings, store = console_env
    _legacy_rows(settings)
    store.audit("editor", "map_question", "1.012786", phrasings=[LEGACY["phone"]])
    store.add_faq(LEGACY["phone"], "Bạn gọi tổng đài của Sở nhé.", "editor")
    assert login(client, "admin").status_code == 303
    listing = client.get("/unanswered").text
    assert "******5678" in listing and not RAW.search(listing)
    group = re.search(r'href="(/unanswered/[^"]+)">[^<]*\*{6}5678', listing).group(1)
    assert not RAW.search(unquote(group))  # the group's key (in its address) comes from the masked text
    pages = {path: client.get(path) for path in (group, "/conversations/tg-42", "/handoffs/web-aaaaaaaa1", "/audit",
                                                 "/faq", "/changes")}
    for path, page in pages.items():
        assert page.status_code == 200 and not RAW.search(page.text), path
    assert "******5678" in pages[group].text and "********2345" in pages["/conversations/tg-42"].text
    assert "********2345" in pages["/handoffs/web-aaaaaaaa1"].text and "******5678" in pages["/audit"].text
    assert "******5678" in pages["/faq"].text and "******5678" in pages["/changes"].text


def test_handoff_messages_are_stored_masked_both_ways(console_env, client):  # noqa: F811
    from core.stores.handoff import HandoffStore, messages_table

    settings, _ = console_env
    handoffs = HandoffStore(settings.storage.database_url)
    handoffs.add_message("web-aaaaaaaa1", "citizen", "số của em ０９１２ ３４５ ６７８")
    assert login(client, "editor").status_code == 303
    token = csrf_of(client, "/handoffs/web-aaaaaaaa1")
    assert client.post("/handoffs/web-aaaaaaaa1/take", data={"csrf": token}).status_code == 303
    reply = client.post("/handoffs/web-aaaaaaaa1/reply",
                        data={"csrf": token, "text": "Chị ghi lại số 0912.345.678 rồi"})
    assert reply.status_code == 303
    with handoffs.engine.connect() as conn:
        stored = [r.text for r in conn.execute(select(messages_table.c.text).order_by(messages_table.c.id))]
    assert stored[0] == "số của em ******5678" and "Chị ghi lại số ******5678 rồi" in stored
    from channels.state import ChannelState

    sent = [m["text"] for m in ChannelState(settings.storage.database_url).web_fetch("web-aaaaaaaa1")]
    assert any("0912.345.678" in m for m in sent)  # only what is kept is masked, not what the citizen gets


def test_review_log_masks_when_writing_and_reading(new_db):
    from core.clock import now_local
    from core.stores.review_log import ReviewLog, feedback, unanswered

    log = ReviewLog(new_db("review"))
    log.record_unanswered("web-1", "web", "cccd 001-099-012345", "no_match")
    log.record_feedback("web-1", "web", "negative", comment="gọi (+84) 912 345 678", answer="Số 0987.654.321")
    with log.engine.begin() as conn:  # a row from before
        conn.execute(insert(unanswered).values(conversation_id="web-2", channel="web", asked_at=now_local(),
                                               text="sđt 0912-345-678", reason="no_match", candidates="[]"))
        stored = [r.text for r in conn.execute(select(unanswered.c.text).order_by(unanswered.c.id))]
        kept = conn.execute(select(feedback.c.comment, feedback.c.answer)).one()
    assert stored == ["cccd ********2345", "sđt 0912-345-678"]
    assert tuple(kept) == ("gọi ******5678", "Số ******4321")
    assert [r["text"] for r in log.unanswered_rows()] == ["sđt ******5678", "cccd ********2345"]
    since = log.unanswered_since(now_local() - dt.timedelta(hours=1), exclude_reasons=("handoff_requested",))
    assert [r["text"] for r in since] == ["cccd ********2345", "sđt ******5678"]
    assert log.feedback_rows()[0]["comment"] == "gọi ******5678"
