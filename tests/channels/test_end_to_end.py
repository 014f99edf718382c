"""Telegram, Zalo and outbound notices end to end: fake update in, the assistant, reply at the fake API."""
import datetime as dt
import json
import time

import pytest

from channels.fakes import zalo_event
from channels.state import ChannelState
from channels.zalo import signature
from tests.running import TG_SECRET, ZALO

SECRET = {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}


def replies_to(run, chat, count=1, timeout=60):
    assert run.telegram.wait_for(lambda: len(run.telegram.sent(chat)) >= count, timeout), run.log.read_text()[-3000:]
    time.sleep(0.5)  # the rest of a multi-message answer
    return run.telegram.sent(chat)


def test_telegram_polling_answers_with_typing_and_inline_keyboard(channels_run):
    tg = channels_run.telegram
    tg.push(tg.text_update(1001, "lam lai so do bi mat can giay to gi"))
    sent = replies_to(channels_run, 1001)
    text = "\n".join(m["text"] for m in sent)
    assert "Cấp lại Giấy chứng nhận do bị mất" in text and "1.012786" in text
    assert tg.sent(1001, method="sendChatAction")[0]["action"] == "typing"
    assert tg.calls.index(tg.sent(1001, method="sendChatAction")[0]) < tg.calls.index(sent[0])  # typing first
    keyboard = sent[-1]["reply_markup"]["inline_keyboard"]
    # a lost certificate is case a) of its record: case b) (a lost extra page) is the first button
    assert [row[0]["text"] for row in keyboard] == ["📄 b) mất Trang bổ sung", "💰 Lệ phí", "⏱ Thời hạn",
                                                    "👍 Hữu ích", "👎 Chưa đúng"]

    # a tap sends the button's payload: the next aspect of the same procedure, then the rating's thanks
    tap = tg.tap_update(1001, keyboard[1][0]["callback_data"])
    status, _ = channels_run.post("/webhooks/telegram/webhook", json.dumps(tap).encode(), SECRET)
    assert status == 200
    fees = replies_to(channels_run, 1001, len(sent) + 1)[len(sent):]
    assert "Phí, lệ phí" in "\n".join(m["text"] for m in fees) and "1.012786" in fees[0]["text"]
    assert tg.sent(method="answerCallbackQuery")
    seen = replies_to(channels_run, 1001, len(sent) + len(fees))
    rating = seen[-1]["reply_markup"]["inline_keyboard"]
    assert rating[-2][0]["text"] == "👍 Hữu ích"
    tap = tg.tap_update(1001, rating[-2][0]["callback_data"])
    status, _ = channels_run.post("/webhooks/telegram/webhook", json.dumps(tap).encode(), SECRET)
    after = replies_to(channels_run, 1001, len(seen) + 1)[len(seen):]
    assert status == 200 and "Cảm ơn bạn đã đánh giá" in after[0]["text"]


@pytest.mark.parametrize("headers", [{}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}])
def test_telegram_webhook_without_the_secret_is_refused_and_not_processed(channels_run, headers):
    update = channels_run.telegram.text_update(1002, "tach thua mat bao lau")
    status, body = channels_run.post("/webhooks/telegram/webhook", json.dumps(update).encode(), headers)
    assert status == 403 and body == {"ok": False, "error": "forbidden"}
    time.sleep(2)
    assert channels_run.telegram.sent(1002) == [] and channels_run.telegram.sent(1002, "sendChatAction") == []


def test_telegram_webhook_with_the_secret_answers_once_per_update(channels_run):
    update = channels_run.telegram.text_update(1003, "tach thua mat bao lau")
    assert channels_run.post("/webhooks/telegram/webhook", json.dumps(update).encode(), SECRET)[0] == 200
    first = len(replies_to(channels_run, 1003))
    status, body = channels_run.post("/webhooks/telegram/webhook", json.dumps(update).encode(), SECRET)  # a retry
    assert status == 200 and body.get("duplicate") is True
    time.sleep(1)
    assert len(channels_run.telegram.sent(1003)) == first
    assert "1.012784" in "\n".join(m["text"] for m in channels_run.telegram.sent(1003))


def test_telegram_start_help_and_photos(channels_run):
    tg = channels_run.telegram
    for text in ("/start", "/help"):
        channels_run.post("/webhooks/telegram/webhook", json.dumps(tg.text_update(1004, text)).encode(), SECRET)
    photo = tg.text_update(1004, "x")
    del photo["message"]["text"]
    photo["message"]["photo"] = [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]
    channels_run.post("/webhooks/telegram/webhook", json.dumps(photo).encode(), SECRET)
    texts = [m["text"] for m in replies_to(channels_run, 1004, 3)]
    assert texts[0].startswith("Xin chào") and "tra cứu hồ sơ" in texts[1] and "chỉ đọc được tin nhắn chữ" in texts[2]


def zalo_post(run, event, mac=None):
    body = json.dumps(event).encode()
    mac = signature(ZALO["app_id"], body, event["timestamp"], ZALO["oa_key"]) if mac is None else mac
    headers = {"X-ZEvent-Signature": mac} if mac else {}
    started = time.time()
    status, reply = run.post("/webhooks/zalo/webhook", body, headers)
    return status, reply, time.time() - started


def zalo_replies(run, user, count=1, timeout=60):
    assert run.zalo.wait_for(lambda: len(run.zalo.texts(user)) >= count, timeout), run.log.read_text()[-3000:]
    time.sleep(0.5)
    return run.zalo.texts(user)


def test_zalo_answers_asynchronously_with_numbered_options(channels_run):
    status, _, took = zalo_post(channels_run, zalo_event(ZALO["app_id"], "z1", "tach thua mat bao lau"))
    assert status == 200 and took < 1.0  # acknowledged before the assistant answers
    texts = zalo_replies(channels_run, "z1", 2)
    assert "1.012784" in "\n".join(texts)
    assert texts[-1].splitlines()[-5:] == ["1. 📋 Giấy tờ cần có", "2. 🌐 Cách nộp", "3. 👍 Hữu ích",
                                           "4. 👎 Chưa đúng", "Bạn nhắn số (1–4) để chọn."]
    zalo_post(channels_run, zalo_event(ZALO["app_id"], "z1", "3"))
    after = zalo_replies(channels_run, "z1", len(texts) + 1)[len(texts):]
    assert "Cảm ơn bạn đã đánh giá" in after[0]


@pytest.mark.parametrize("case", ["missing", "bad", "stale"])
def test_zalo_refuses_bad_signatures_and_stale_events(channels_run, case):
    user = f"z-refused-{case}"
    event = zalo_event(ZALO["app_id"], user, "tach thua",
                       timestamp_ms=int(time.time() * 1000) - 3_600_000 if case == "stale" else None)
    mac = {"missing": "", "bad": "mac=" + "ab" * 32, "stale": None}[case]
    status, body, _ = zalo_post(channels_run, event, mac)
    assert status == 403 and body["error"] == {"missing": "missing signature", "bad": "bad signature",
                                               "stale": "stale timestamp"}[case]
    time.sleep(2)
    assert channels_run.zalo.texts(user) == []


def test_zalo_media_duplicates_expired_token_and_failed_sends(channels_run):
    run = channels_run
    zalo_post(run, zalo_event(ZALO["app_id"], "z2", event_name="user_send_sticker"))
    assert "chỉ đọc được tin nhắn chữ" in zalo_replies(run, "z2")[0]

    event = zalo_event(ZALO["app_id"], "z3", "xin chào")
    zalo_post(run, event)
    status, body, _ = zalo_post(run, event)  # Zalo retried the same event
    assert body.get("duplicate") is True
    replies = zalo_replies(run, "z3")
    time.sleep(1.5)
    assert len(run.zalo.texts("z3")) == len(replies)

    before = run.zalo.refreshes
    run.zalo.expire()
    zalo_post(run, zalo_event(ZALO["app_id"], "z4", "cam on"))
    assert zalo_replies(run, "z4")  # renewed and retried
    assert run.zalo.refreshes == before + 1
    state = ChannelState(run.env["MOTCUA_DATABASE_URL"])
    stored = state.tokens("zalo")
    assert stored.refresh_token == run.zalo.refresh_token and stored.version >= 2  # the one-time token was kept
    state.close()

    run.zalo.fail_users["z5"] = -230
    zalo_post(run, zalo_event(ZALO["app_id"], "z5", "xin chào"))
    zalo_post(run, zalo_event(ZALO["app_id"], "z6", "xin chào"))
    assert zalo_replies(run, "z6")  # a failed send harms nobody else
    deadline = time.time() + 10
    while "not delivered" not in run.log.read_text() and time.time() < deadline:
        time.sleep(0.5)
    assert "zalo: reply to zalo-z5 not delivered: Zalo error -230" in run.log.read_text()


def test_status_notices_reach_telegram_zalo_and_an_open_widget_once(channels_run):
    from core.privacy import Hasher
    from dossiers.calendar import WorkingCalendar
    from dossiers.service import DossierService
    from tests.dossiers.conftest import CODE, make_record

    run = channels_run
    service = DossierService(run.env["MOTCUA_DATABASE_URL"],
                             Hasher.from_settings(None, __import__("pathlib").Path(run.env["MOTCUA_DOSSIER_KEY_FILE"])),
                             WorkingCalendar.load())
    zalo_post(run, zalo_event(ZALO["app_id"], "z10", "xin chào"))  # wrote recently: inside Zalo's window
    zalo_replies(run, "z10")
    web = "web-notice-test-0001"
    inbox = json.dumps({"sender": web}).encode()
    run.post("/webhooks/web/inbox", inbox, {})  # the widget is open
    service.upsert(make_record())
    for conversation, channel in (("tg-1010", "telegram"), ("zalo-z10", "zalo"), ("zalo-z11", "zalo"), (web, "web")):
        service.subscribe(CODE, conversation, channel)
    service.upsert(make_record(status_code=9, status_at=dt.datetime.now() - dt.timedelta(minutes=5)))
    assert run.telegram.wait_for(lambda: run.telegram.sent(1010), 30)
    assert run.zalo.wait_for(lambda: len(run.zalo.texts("z10")) >= 2, 30)
    deadline = time.time() + 20
    notices = []
    while not notices and time.time() < deadline:
        notices = run.post("/webhooks/web/inbox", inbox, {})[1]
        time.sleep(0.5)
    time.sleep(3)  # a few more delivery rounds: nothing is sent twice
    assert [n["kind"] for n in notices] == ["notice"] and CODE in notices[0]["text"]
    assert len(run.telegram.sent(1010)) == 1 and "Đã xử lý xong" in run.telegram.sent(1010)[0]["text"]
    assert CODE in run.zalo.texts("z10")[-1] and len(run.zalo.texts("z10")) == 2
    rows = {r["conversation_id"]: r for r in service.outbox_rows()}
    assert {c: rows[c]["state"] for c in rows} == {
        "tg-1010": "sent",
        "zalo-z10": "sent",
        "zalo-z11": "pending",
        web: "sent",
    }
    assert "reply window" in rows["zalo-z11"]["last_error"]  # never wrote to the OA: not sent, retried later
    assert run.zalo.texts("z11") == []
    service.close()
