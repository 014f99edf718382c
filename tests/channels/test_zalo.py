"""Zalo: webhook signatures and events; the OA client against the local fake Zalo API."""
import asyncio
import json

import pytest

from channels import zalo
from channels.fakes import FakeZalo, zalo_event
from channels.state import ChannelState, Tokens

APP, KEY = "3001", "oa-secret"


def signed(event: dict):
    body = json.dumps(event).encode()
    return body, zalo.signature(APP, body, event["timestamp"], KEY)


def test_signature_is_sha256_of_app_body_timestamp_secret():
    import hashlib

    body = b'{"timestamp":"1700000000000"}'
    expected = "mac=" + hashlib.sha256(b"3001" + body + b"1700000000000" + b"oa-secret").hexdigest()
    assert zalo.signature(APP, body, "1700000000000", KEY) == expected


def test_verify_accepts_genuine_fresh_events_only():
    event = zalo_event(APP, "u1", "xin chào", timestamp_ms=1_800_000_000_000)
    body, mac = signed(event)
    now = 1_800_000_010_000
    assert zalo.verify(mac, body, APP, KEY, 300, now_ms=now) is None
    assert zalo.verify(None, body, APP, KEY, 300, now_ms=now) == "missing signature"
    assert zalo.verify("mac=" + "0" * 64, body, APP, KEY, 300, now_ms=now) == "bad signature"
    assert zalo.verify(mac, body.replace(b"xin", b"xim"), APP, KEY, 300, now_ms=now) == "bad signature"
    assert zalo.verify(zalo.signature(APP, body, event["timestamp"], "other"), body, APP, KEY, 300, now_ms=now) \
        == "bad signature"
    assert zalo.verify(mac, body, APP, KEY, 300, now_ms=now + 3_600_000) == "stale timestamp"
    assert zalo.verify(mac, b"not json", APP, KEY, 300, now_ms=now) == "no timestamp"


def test_events_are_read_by_kind():
    text = zalo.parse_event(zalo_event(APP, "u1", "tach thua", msg_id="m1"))
    assert (text.kind, text.user_id, text.text, text.message_id) == ("text", "u1", "tach thua", "m1")
    assert zalo.parse_event(zalo_event(APP, "u1", event_name="user_send_image")).kind == "media"
    assert zalo.parse_event(zalo_event(APP, "u1", event_name="user_send_sticker")).kind == "media"
    follow = zalo.parse_event({"event_name": "follow", "follower": {"id": "u9"}, "timestamp": "1"})
    assert (follow.kind, follow.user_id) == ("follow", "u9")
    assert zalo.parse_event({"event_name": "user_seen_message", "timestamp": "1"}).kind == "ignore"
    assert zalo.conversation_id("u1") == "zalo-u1" and zalo.user_of("zalo-u1") == "u1"


@pytest.fixture
def fake():
    server = FakeZalo(APP, "app-secret", "tok-1", "ref-1").start()
    yield server
    server.stop()


@pytest.fixture
def state(new_db):
    s = ChannelState(new_db("state"))
    s.tokens(zalo.TOKEN_NAME, Tokens("tok-1", "ref-1", 1))
    yield s
    s.close()


def client(fake, state, secret="app-secret"):
    return zalo.ZaloClient(APP, secret, state, api_base=fake.url, oauth_base=fake.url)


@pytest.mark.parametrize("code", [-216, -220])
def test_send_renews_an_expired_token_once_and_keeps_the_new_refresh_token(fake, state, new_db, code):
    async def scenario():
        c = client(fake, state)
        await c.send_text("u1", "một")
        fake.expire(code)
        await c.send_text("u1", "hai")  # invalid / expired, refresh, retried once
        await c.close()
        # a second worker on the same database uses the renewed token without refreshing again
        other_state = ChannelState(new_db("state"))
        other = client(fake, other_state)
        await other.send_text("u2", "ba")
        await other.close()
        other_state.close()

    asyncio.run(scenario())
    assert fake.texts("u1") == ["một", "hai"] and fake.texts("u2") == ["ba"]
    assert fake.refreshes == 1
    stored = state.tokens(zalo.TOKEN_NAME)
    assert (stored.access_token, stored.refresh_token, stored.version) == (fake.access_token, fake.refresh_token, 2)


def test_concurrent_expiry_refreshes_once(fake, state):
    async def scenario():
        c = client(fake, state)
        fake.expire()
        await asyncio.gather(*(c.send_text(f"u{i}", "xin chào") for i in range(10)))
        await c.close()

    asyncio.run(scenario())
    assert fake.refreshes == 1 and len(fake.texts()) == 10


def test_failures_raise_a_clear_error(fake, state):
    fake.fail_users["u-blocked"] = -230

    async def scenario():
        c = client(fake, state, secret="wrong-secret")
        with pytest.raises(zalo.ZaloSendError, match="-230"):
            await c.send_text("u-blocked", "xin chào")
        fake.expire()
        with pytest.raises(zalo.ZaloSendError, match="refresh refused"):
            await c.send_text("u1", "xin chào")  # the app secret is wrong: no renewal
        await c.close()
        dead = zalo.ZaloClient(APP, "app-secret", state, api_base="http://127.0.0.1:9", oauth_base=fake.url)
        with pytest.raises(zalo.ZaloSendError, match="not reachable"):
            await dead.send_text("u1", "xin chào")
        await dead.close()

    asyncio.run(scenario())
    assert fake.texts() == []


def test_a_bad_parameter_does_not_spend_the_refresh_token(fake, state):
    async def scenario():
        c = client(fake, state)
        with pytest.raises(zalo.ZaloSendError, match="-201"):
            await c.send_text("u1", "x" * 2001)
        await c.close()

    asyncio.run(scenario())
    assert fake.refreshes == 0 and state.tokens(zalo.TOKEN_NAME).version == 1
