"""The Rasa server's guards on every public channel, in process: Rasa's own app (configure_app, as `rasa run`
builds it, with motcua.rasa_main installed) serving the web, REST, socket.io, Telegram and Zalo channels,
Telegram and Zalo pointed at the local fake APIs, and an agent whose processor echoes (or fails on demand)
instead of a trained model.

What is checked: size caps before any NLU work, JSON-only bodies, rate limits, the client's digest in
the metadata, and a reply (the apology with the hotline) whenever the assistant fails.
"""
from __future__ import annotations

import asyncio
import json
import re
import socket
import time
from pathlib import Path
from typing import List, Optional, Tuple

import httpx
import pytest

from channels.fakes import FakeTelegram, FakeZalo, zalo_event
from channels.zalo import signature

TG_TOKEN, TG_SECRET = "4242:FAKE-token", "guard-secret_1"
ZALO = {"app_id": "3001", "oa_key": "oa-secret-key", "app_secret": "app-secret", "access": "tok-1", "refresh": "ref-1"}
HOTLINE = "19001234"


class EchoProcessor:
    """Stands in for Rasa's MessageProcessor: records each message, answers "echo: <text>" or fails."""

    def __init__(self):
        self.seen: List = []
        self.fail: Optional[Exception] = None
        self.fail_after_reply = False

    async def handle_message(self, message):
        self.seen.append(message)
        if self.fail is not None and not self.fail_after_reply:
            raise self.fail
        await message.output_channel.send_response(message.sender_id, {"text": f"echo: {message.text}"})  # as Rasa does
        if self.fail is not None:
            raise self.fail
        return None


def reset_runtime() -> None:
    """Forget this process's settings and the channels' shared objects (each test has its own)."""
    from channels import clients, runtime
    from core.settings import reset_settings

    reset_settings()
    for cached in (clients.channel_state, clients.telegram_client, clients.zalo_client, runtime.handoff_store,
                   runtime.message_gate, runtime.poll_gate, runtime._client_hasher):
        cached.cache_clear()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Guarded:
    """The running app: its URL, the echo processor, the fake APIs and helpers to talk to each channel."""

    def __init__(self, url: str, processor: EchoProcessor, agent, telegram: FakeTelegram, zalo: FakeZalo, key: Path,
                 zalo_input):
        self.url, self.processor, self.agent, self.key = url, processor, agent, key
        self.telegram, self.zalo, self.zalo_input = telegram, zalo, zalo_input
        self.http = httpx.AsyncClient(base_url=url, timeout=30)

    def digest(self, client: str) -> str:
        from core.privacy import Hasher

        return Hasher.from_settings(None, self.key).client_hash(client)

    async def web(self, sender: str, text: str, headers: Optional[dict] = None):
        return await self.http.post("/webhooks/web/webhook", json={"sender": sender, "message": text},
                                    headers=headers or {})

    async def rest(self, sender: str, text: str, **extra):
        return await self.http.post("/webhooks/rest/webhook", json={"sender": sender, "message": text, **extra})

    async def tg(self, chat: int, text: str):
        update = self.telegram.text_update(chat, text)
        resp = await self.http.post("/webhooks/telegram/webhook", content=json.dumps(update),
                                    headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET,
                                             "Content-Type": "application/json"})
        assert resp.status_code == 200, resp.text
        return update

    async def zalo_post(self, user: str, text: str, content_type: str = "application/json"):
        event = zalo_event(ZALO["app_id"], user, text)
        body = json.dumps(event).encode()
        mac = signature(ZALO["app_id"], body, event["timestamp"], ZALO["oa_key"])
        resp = await self.http.post("/webhooks/zalo/webhook", content=body,
                                    headers={"X-ZEvent-Signature": mac, "Content-Type": content_type})
        assert resp.status_code == 200, resp.text
        return event


@pytest.fixture
def limits():
    """Allowances for the test's server: {"address": (per_minute, burst), "conversation": (...)}; a test
    parametrises ``limits`` for its own."""
    return {"address": (600, 100), "conversation": (600, 100)}


@pytest.fixture
async def guarded(monkeypatch, tmp_path, new_db, limits):
    import rasa.core.run
    from rasa.core.agent import Agent
    from rasa.core.channels.rest import RestInput
    from sanic import Sanic

    from channels.rasa_socketio import SocketInput
    from channels.rasa_telegram import TelegramInput
    from channels.rasa_web import WebInput
    from channels.rasa_zalo import ZaloInput
    from motcua import rasa_main

    telegram = FakeTelegram(TG_TOKEN).start()
    zalo = FakeZalo(ZALO["app_id"], ZALO["app_secret"], ZALO["access"], ZALO["refresh"]).start()
    key = tmp_path / "client.key"
    env = {"MOTCUA_DATABASE_URL": new_db("motcua"), "MOTCUA_DOSSIER_KEY_FILE": str(key),
           "MOTCUA_CHANNELS_FILE": str(tmp_path / "none.env"), "MOTCUA_HOTLINE": HOTLINE,
           "MOTCUA_RATE_ADDRESS_PER_MINUTE": str(limits["address"][0]),
           "MOTCUA_RATE_ADDRESS_BURST": str(limits["address"][1]),
           "MOTCUA_RATE_CONVERSATION_PER_MINUTE": str(limits["conversation"][0]),
           "MOTCUA_RATE_CONVERSATION_BURST": str(limits["conversation"][1]),
           "TELEGRAM_BOT_TOKEN": TG_TOKEN, "TELEGRAM_WEBHOOK_SECRET": TG_SECRET, "TELEGRAM_API_BASE": telegram.url,
           "ZALO_APP_ID": ZALO["app_id"], "ZALO_OA_SECRET_KEY": ZALO["oa_key"], "ZALO_ACCESS_TOKEN": ZALO["access"],
           "ZALO_REFRESH_TOKEN": ZALO["refresh"], "ZALO_APP_SECRET": ZALO["app_secret"], "ZALO_API_BASE": zalo.url,
           "ZALO_OAUTH_BASE": zalo.url}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MOTCUA_TRUSTED_PROXIES", raising=False)
    monkeypatch.delenv("MOTCUA_LOCK_STORE_URL", raising=False)  # one in-process node: its rooms in memory
    reset_runtime()
    rasa_main.install()
    Sanic.test_mode = True  # several apps named "rasa_server" in one process
    channels = [RestInput(), SocketInput(session_persistence=True), WebInput(), TelegramInput(), ZaloInput()]
    app = rasa.core.run.configure_app(channels, cors="*", enable_api=True)  # as `rasa run` calls it: guarded
    processor = EchoProcessor()
    agent = Agent()
    agent.processor = processor
    app.ctx.agent = agent
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()
    app.ctx.agent = agent  # Rasa's listeners may have replaced it
    running = Guarded(f"http://127.0.0.1:{port}", processor, agent, telegram, zalo, key, channels[4])
    yield running
    await running.http.aclose()
    await server.before_stop()
    await server.close()
    await server.after_stop()
    for pending in list(channels[4]._tasks):
        pending.cancel()
    telegram.stop()
    zalo.stop()
    reset_runtime()


def texts(resp) -> List[str]:
    return [m["text"] for m in resp.json()]


async def wait_for(predicate, timeout: float = 20.0):
    """Poll ``predicate`` (a state check) until true; fails the test on timeout."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


LONG = "tách thửa " * 201  # 2,010 characters: over max_message_chars (2,000)
TOO_MANY = "Bạn gửi tin nhắn nhanh quá nên mình chưa kịp trả lời."
TOO_LONG = "Tin nhắn của bạn dài hơn 2.000 ký tự nên mình chưa đọc được. Bạn rút gọn câu hỏi rồi gửi lại giúp mình nhé."


# -- Size caps ------------------------------------------------------------------------------------------


async def test_over_long_messages_get_the_polite_reply_on_every_channel_and_never_reach_the_assistant(guarded):
    web = await guarded.web("web-longmessage01", LONG)
    assert web.status_code == 200 and texts(web) == [TOO_LONG]
    rest = await guarded.rest("rest-long", LONG)
    assert rest.status_code == 200 and rest.json() == [{"recipient_id": "rest-long", "text": TOO_LONG}]
    await guarded.tg(7001, LONG)
    assert [m["text"] for m in guarded.telegram.sent(7001)] == [TOO_LONG]
    await guarded.zalo_post("zl1", LONG)
    await wait_for(lambda: guarded.zalo.texts("zl1"))
    assert guarded.zalo.texts("zl1") == [TOO_LONG]
    assert guarded.processor.seen == []

    exactly = "a" * 2000  # the limit itself passes
    assert texts(await guarded.web("web-longmessage01", exactly)) == [f"echo: {exactly}"]


async def test_the_server_refuses_bodies_over_its_request_size_cap(guarded):
    from motcua.rasa_main import request_max_bytes

    body = json.dumps({"sender": "big", "message": "x" * request_max_bytes()})
    resp = await guarded.http.post("/webhooks/rest/webhook", content=body, headers={"Content-Type": "application/json"})
    assert resp.status_code == 413
    resp = await guarded.http.post("/webhooks/web/webhook", content=body, headers={"Content-Type": "application/json"})
    assert resp.status_code == 413 and guarded.processor.seen == []


# -- JSON only ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                          None])
@pytest.mark.parametrize("path", ["/webhooks/rest/webhook", "/webhooks/web/webhook", "/model/parse",
                                  "/conversations/web-x/messages"])
async def test_cross_site_simple_posts_are_refused(guarded, path, content_type):
    body = json.dumps({"sender": "web-crosssite01", "message": "xin chào", "text": "xin chào"})
    headers = {"Content-Type": content_type} if content_type else {}
    resp = await guarded.http.post(path, content=body.encode(), headers=headers)
    assert resp.status_code == 415 and "application/json" in resp.json()["error"]
    assert guarded.processor.seen == []


async def test_json_with_a_charset_passes_and_signed_webhooks_keep_their_own_content_type(guarded):
    body = json.dumps({"sender": "web-charset0001", "message": "xin chào"}).encode()
    resp = await guarded.http.post("/webhooks/web/webhook", content=body,
                                   headers={"Content-Type": "application/json; charset=UTF-8"})
    assert texts(resp) == ["echo: xin chào"]
    await guarded.zalo_post("zl-plain", "xin chào", content_type="text/plain")  # the signature vouches for it
    await wait_for(lambda: guarded.zalo.texts("zl-plain"))
    assert guarded.zalo.texts("zl-plain") == ["echo: xin chào"]


# -- The client's digest ------------------------------------------------------------------------------


async def test_every_channel_records_the_clients_digest_and_callers_cannot_forge_it(guarded):
    await guarded.web("web-digest00001", "một")
    await guarded.rest("rest-digest", "hai", metadata={"motcua_client": "forged"}, input_channel="telegram")
    update = await guarded.tg(7002, "ba")
    await wait_for(lambda: guarded.telegram.sent(7002))
    await guarded.zalo_post("zl-digest", "bốn")
    await wait_for(lambda: guarded.zalo.texts("zl-digest"))
    seen = {m.text: m for m in guarded.processor.seen}
    local = guarded.digest("ip:127.0.0.1")
    assert seen["một"].metadata == {"motcua_client": local}
    assert seen["hai"].metadata == {"motcua_client": local} and seen["hai"].input_channel == "rest"
    assert seen["ba"].metadata == {"telegram_message_id": update["message"]["message_id"],
                                   "motcua_client": guarded.digest("telegram:7002")}
    assert seen["bốn"].metadata["motcua_client"] == guarded.digest("zalo:zl-digest")
    assert set(seen["bốn"].metadata) == {"zalo_msg_id", "motcua_client"}
    assert len({local, guarded.digest("telegram:7002"), guarded.digest("zalo:zl-digest")}) == 3


async def test_forwarded_for_is_believed_only_from_trusted_proxies(guarded, monkeypatch):
    from core.settings import reset_settings

    hop = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9"}
    await guarded.web("web-forward0001", "không tin", headers=hop)
    monkeypatch.setenv("MOTCUA_TRUSTED_PROXIES", "127.0.0.1")
    reset_settings()
    await guarded.web("web-forward0001", "tin", headers=hop)
    seen = {m.text: m.metadata["motcua_client"] for m in guarded.processor.seen}
    assert seen == {"không tin": guarded.digest("ip:127.0.0.1"), "tin": guarded.digest("ip:203.0.113.9")}


async def socketio_exchange(url: str, messages: List[dict], replies: int,
                            session: Optional[dict] = None) -> Tuple[List[str], Optional[str]]:
    """Send ``messages`` over socket.io (long polling), one after another, after a ``session_request`` with
    ``session`` when given (as rasa-webchat does); the first ``replies`` bot texts and the confirmed session."""
    import socketio

    client = socketio.AsyncClient()
    said: List[str] = []
    confirmed: List[str] = []
    client.on("bot_uttered", lambda data: said.append(
        data["text"] + (f" [{data['reply_to']}]" if "reply_to" in data else "")))
    client.on("session_confirm", lambda data: confirmed.append(data))
    await client.connect(url, socketio_path="/socket.io", transports=["polling"])
    try:
        if session is not None:
            await client.emit("session_request", session)
            await wait_for(lambda: confirmed)
        for message in messages:
            await client.emit("user_uttered", message)
        await wait_for(lambda: len(said) >= replies)
    finally:
        await client.eio.disconnect(abort=True)  # not waiting for the pending long poll (25 s)
    return said, (confirmed[0] if confirmed else None)


async def test_socketio_messages_are_capped_and_carry_the_connections_digest(guarded):
    said, _ = await socketio_exchange(guarded.url, [{"message": "xin chào",
                                                     "metadata": {"motcua_client": "forged", "page": "/"}}], 1)
    said += (await socketio_exchange(guarded.url, [{"message": LONG}], 1))[0]
    assert said == ["echo: xin chào", TOO_LONG]
    (message,) = guarded.processor.seen
    assert message.metadata == {"page": "/", "motcua_client": guarded.digest("ip:127.0.0.1")}


@pytest.mark.parametrize("limits", [{"address": (1, 2), "conversation": (600, 100)}])
async def test_socketio_messages_count_against_the_connections_address(guarded, limits):
    said, _ = await socketio_exchange(guarded.url, [{"message": f"câu {i}"} for i in range(3)], 3)
    said.sort(key=lambda t: t.startswith(TOO_MANY))  # handled concurrently: the notice may come first
    assert said[:2] == ["echo: câu 0", "echo: câu 1"] and said[2].startswith(TOO_MANY)


async def test_socketio_persistent_session_gets_its_replies_and_keeps_its_conversation_on_reconnect(guarded):
    """rasa-webchat's way: session_request, message, reply in the session's room; a reload names its session
    again and carries on the same conversation (Rasa 3.6's own channel never delivered these replies)."""
    said, session = await socketio_exchange(guarded.url, [{"message": "xin chào", "session_id": "ignored"}], 1,
                                            session={"session_id": None})
    assert said == ["echo: xin chào"] and re.fullmatch(r"[0-9a-f]{48}", session)
    again, same = await socketio_exchange(guarded.url, [{"message": "còn lệ phí"}], 1,
                                          session={"session_id": session.upper()})
    assert again == ["echo: còn lệ phí"] and same == session
    assert [m.sender_id for m in guarded.processor.seen] == [f"sio-{session[:32]}"] * 2
    assert {m.input_channel for m in guarded.processor.seen} == {"socketio"}


@pytest.mark.parametrize("claimed", ["tg-7003", "web-someone00001", "../../x", 12345, {"a": 1}, "0" * 31,
                                     "a" * 48, "a" * 32])  # well-formed but never issued: not signed by the server
async def test_socketio_session_cannot_name_another_conversation(guarded, claimed):
    """A session id the server did not issue gets a fresh session, and a message's own session_id is never
    read: another channel's or another client's conversation cannot be claimed."""
    said, session = await socketio_exchange(guarded.url, [{"message": "cho xem", "session_id": "a" * 48}], 1,
                                            session={"session_id": claimed})
    assert said == ["echo: cho xem"] and session != claimed and re.fullmatch(r"[0-9a-f]{48}", session)
    assert [m.sender_id for m in guarded.processor.seen] == [f"sio-{session[:32]}"]


async def test_socketio_replies_name_the_message_they_answer_when_the_client_numbered_it(guarded):
    """A client that numbers its messages can tell a late reply to one from the answer to the next; a malformed
    number is not echoed, and a message without one gets a reply without it (rasa-webchat's)."""
    said, _ = await socketio_exchange(guarded.url, [{"message": "một", "message_id": "c1-17"},
                                                    {"message": "hai", "message_id": "<script>"},
                                                    {"message": "ba", "message_id": "x" * 65},
                                                    {"message": "bốn"}, {"message": "năm", "message_id": "c1\n"},
                                                    {"message": "sáu", "message_id": 6}], 6,
                                      session={"session_id": None})
    assert sorted(said) == sorted(["echo: một [c1-17]", "echo: hai", "echo: ba", "echo: bốn", "echo: năm",
                                   "echo: sáu"])


async def test_socketio_odd_events_are_ignored_not_crashed(guarded, caplog):
    """python-socketio logs and swallows a handler's exception, so the log is what shows a crash."""
    deep = "[" * 30000 + "]" * 30000  # under the 64 KB packet cap, too deep for the JSON parser
    said, session = await socketio_exchange(guarded.url, [["not", "a", "dict"], {"message": 5},
                                                          {"message": "x", "metadata": deep},
                                                          {"message": "ok", "metadata": {
                                                              "page": "/thu-tuc", "big": "x" * 5000, "n": {"a": 1},
                                                              **{f"k{i}": i for i in range(20)}}}], 2,
                                            session="not a dict")
    assert said == ["echo: x", "echo: ok"] and session
    assert [set(m.metadata) for m in guarded.processor.seen] == [
        {"motcua_client"}, {"motcua_client", "page", *(f"k{i}" for i in range(7))}]
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


def test_socketio_rooms_live_in_redis_only_when_the_nodes_share_one():
    from channels.rasa_socketio import client_manager

    assert client_manager(None) is None and client_manager("sqlite:///x.db") is None
    manager = client_manager("redis://127.0.0.1:6399/0")
    assert type(manager).__name__ == "AsyncRedisManager" and manager.channel == "motcua-socketio"


# -- Rate limits --------------------------------------------------------------------------------------


@pytest.mark.parametrize("limits", [{"address": (600, 100), "conversation": (1, 2)}])
async def test_a_conversation_over_its_allowance_gets_429_on_the_web_and_one_notice_elsewhere(guarded, limits):
    replies = [await guarded.web("web-flood000001", f"câu {i}") for i in range(3)]
    assert [r.status_code for r in replies] == [200, 200, 429]
    assert texts(replies[2])[0].startswith(TOO_MANY) and int(replies[2].headers["Retry-After"]) >= 1
    other = await guarded.web("web-calm0000001", "câu khác")  # another conversation from the same address
    assert other.status_code == 200

    rest = [await guarded.rest("rest-flood", f"câu {i}") for i in range(3)]
    assert [r.status_code for r in rest] == [200, 200, 429] and rest[2].json()[0]["text"].startswith(TOO_MANY)

    for i in range(4):
        await guarded.tg(7003, f"câu {i}")
    sent = [m["text"] for m in guarded.telegram.sent(7003)]
    assert sent[:2] == ["echo: câu 0", "echo: câu 1"] and len(sent) == 3 and sent[2].startswith(TOO_MANY)

    for i in range(4):
        await guarded.zalo_post("zl-flood", f"câu {i}")
    await wait_for(lambda: not guarded.zalo_input._tasks)  # every event's work (answer or notice) is done
    zalo_texts = sorted(guarded.zalo.texts("zl-flood"), key=lambda t: t.startswith(TOO_MANY))  # notice may come first
    assert zalo_texts[:2] == ["echo: câu 0", "echo: câu 1"] and len(zalo_texts) == 3
    assert zalo_texts[2].startswith(TOO_MANY)
    assert [m.text for m in guarded.processor.seen if m.sender_id == "zalo-zl-flood"] == ["câu 0", "câu 1"]


@pytest.mark.parametrize("limits", [{"address": (1, 3), "conversation": (600, 100)}])
async def test_fresh_sessions_from_one_address_share_its_allowance(guarded, limits):
    codes = [(await guarded.web(f"web-session{i:05d}", "xin chào")).status_code for i in range(4)]
    assert codes == [200, 200, 200, 429]
    other = await guarded.web("web-session99999", "xin chào", headers={"X-Forwarded-For": "198.51.100.7"})
    assert other.status_code == 429  # the header is not believed from an untrusted peer


@pytest.mark.parametrize("limits", [{"address": (600, 100), "conversation": (1, 2)}])
async def test_inbox_checks_have_their_own_allowance(guarded, limits):
    polls = [(await guarded.http.post("/webhooks/web/inbox", json={"sender": "web-poller00001"})).status_code
             for _ in range(3)]
    assert polls == [200, 200, 429]
    assert (await guarded.web("web-poller00001", "vẫn hỏi được")).status_code == 200


async def test_the_inbox_takes_the_session_id_in_the_body_only(guarded):
    """The session id is the key to a conversation's notices: never in a URL that proxies and logs keep."""
    assert (await guarded.http.get("/webhooks/web/inbox", params={"sender": "web-poller00002"})).status_code == 405
    bad = await guarded.http.post("/webhooks/web/inbox", json={"sender": "web-x"})
    assert bad.status_code == 400 and "phiên" in bad.json()["error"]
    assert (await guarded.http.post("/webhooks/web/inbox", json={"sender": "web-poller00002"})).json() == []


# -- A reply whatever fails -----------------------------------------------------------------------------

BUSY = ("Xin lỗi, hệ thống đang bận nên chưa trả lời được. Bạn vui lòng nhắn lại sau ít phút, hoặc gọi tổng đài "
        f"{HOTLINE}.")


async def test_a_failing_assistant_still_answers_every_channel_with_the_apology(guarded):
    from sqlalchemy.exc import OperationalError

    guarded.processor.fail = OperationalError("SELECT", {}, Exception("database is locked"))
    web = await guarded.web("web-failing00001", "xin chào")
    assert web.status_code == 200 and texts(web) == [BUSY]
    assert texts(await guarded.rest("rest-failing", "xin chào")) == [BUSY]
    await guarded.tg(7004, "xin chào")
    assert [m["text"] for m in guarded.telegram.sent(7004)] == [BUSY]
    await guarded.zalo_post("zl-failing", "xin chào")
    await wait_for(lambda: guarded.zalo.texts("zl-failing"))
    assert guarded.zalo.texts("zl-failing") == [BUSY]


async def test_no_model_loaded_is_answered_with_the_apology(guarded):
    guarded.agent.processor = None
    assert texts(await guarded.web("web-nomodel00001", "xin chào")) == [BUSY]


async def test_an_answer_whose_turn_was_not_stored_gives_way_to_the_apology(guarded):
    """The answer was ready but saving the turn failed: the citizen sees the apology only and sends the message
    again, never an answer the conversation's stored history does not hold (the cluster test's guarantee)."""
    guarded.processor.fail = RuntimeError("tracker not saved")
    guarded.processor.fail_after_reply = True
    assert texts(await guarded.web("web-saved000001", "xin chào")) == [BUSY]


async def test_a_chat_channels_answer_waits_until_its_turn_is_stored(guarded):
    """Telegram sends as the turn goes: its answer is held until the turn is stored, so a failed save gives the
    apology alone (the citizen sends again) and never the answer and then the same answer again."""
    guarded.processor.fail = RuntimeError("tracker not saved")
    guarded.processor.fail_after_reply = True
    await guarded.tg(7011, "xin chào")
    assert [m["text"] for m in guarded.telegram.sent(7011)] == [BUSY]
    guarded.processor.fail = None
    await guarded.tg(7011, "xin chào")
    assert [m["text"] for m in guarded.telegram.sent(7011)] == [BUSY, "echo: xin chào"]


async def test_the_channels_database_down_still_gets_the_apology(guarded, monkeypatch):
    from channels import clients

    def broken():
        raise RuntimeError("database unreachable")

    monkeypatch.setattr(clients.channel_state(), "inbound", lambda *a: broken())
    monkeypatch.setattr(clients.channel_state(), "first_time", lambda *a: broken())
    assert texts(await guarded.web("web-dbdown00001", "xin chào")) == [BUSY]
    await guarded.tg(7005, "xin chào")
    assert [m["text"] for m in guarded.telegram.sent(7005)] == [BUSY]
    await guarded.zalo_post("zl-dbdown", "xin chào")
    await wait_for(lambda: guarded.zalo.texts("zl-dbdown"))
    assert guarded.zalo.texts("zl-dbdown") == [BUSY]
    assert guarded.processor.seen == []
