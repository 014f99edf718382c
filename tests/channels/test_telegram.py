"""Telegram: reading updates, and the client against the local fake Bot API."""
import asyncio

import pytest

from channels import telegram
from channels.fakes import FakeTelegram
from channels.state import ChannelState

TOKEN = "1234:TEST"


@pytest.fixture
def fake():
    server = FakeTelegram(TOKEN).start()
    yield server
    server.stop()


def test_updates_are_read_by_kind(fake):
    text = telegram.parse_update(fake.text_update(5, " tach thua mat bao lau "))
    assert (text.kind, text.chat_id, text.text) == ("text", 5, "tach thua mat bao lau")
    command = telegram.parse_update(fake.text_update(5, "/start@motcua_bot hello"))
    assert (command.kind, command.text) == ("command", "/start")
    tap = telegram.parse_update(fake.tap_update(5, "ab12cd34:1"))
    assert (tap.kind, tap.text, tap.chat_id) == ("button", "ab12cd34:1", 5) and tap.callback_id
    photo = fake.text_update(5, "x")
    del photo["message"]["text"]
    photo["message"]["photo"] = [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]
    assert telegram.parse_update(photo).kind == "other"
    group = fake.text_update(5, "hi")
    group["message"]["chat"]["type"] = "group"
    assert telegram.parse_update(group) is None


def test_secret_token_check():
    assert telegram.secret_ok("abc", "abc")
    assert not telegram.secret_ok(None, "abc") and not telegram.secret_ok("", "abc")
    assert not telegram.secret_ok("abd", "abc")


def test_generated_webhook_secret_is_kept(tmp_path):
    first = telegram.webhook_secret(None, tmp_path / "s")
    assert first == telegram.webhook_secret(None, tmp_path / "s") and len(first) >= 32
    assert telegram.webhook_secret("configured", tmp_path / "s") == "configured"


def test_long_reply_is_split_and_buttons_carry_short_callback_data(fake, new_db):
    state = ChannelState(new_db("state"))
    client = telegram.TelegramClient(telegram.make_bot(TOKEN, fake.url), state)
    long_payload = '/choose_procedure{"procedure_code":"1.012786","note":"' + "x" * 100 + '"}'
    text = "\n\n".join(f"Đoạn {i}. " + "Hồ sơ gồm đơn đề nghị và bản sao giấy tờ. " * 20 for i in range(12))

    async def scenario():
        await client.send_reply(9, text, [{"title": "👍 Hữu ích", "payload": "/feedback_positive"},
                                          {"title": "Thủ tục khác", "payload": long_payload}])
        tap = telegram.parse_update(fake.tap_update(9, fake.sent(9)[-1]["reply_markup"]["inline_keyboard"][1][0]
                                                    ["callback_data"]))
        payload = await client.button_payload(tap)
        stale = await client.button_payload(telegram.parse_update(fake.tap_update(9, "00000000:0")))
        await client.close()
        return payload, stale

    payload, stale = asyncio.run(scenario())
    messages = fake.sent(9)
    assert len(messages) > 1 and all(len(m["text"]) <= 4096 for m in messages)
    assert " ".join(m["text"] for m in messages).split() == text.split()
    assert all("reply_markup" not in m for m in messages[:-1])
    keyboard = messages[-1]["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in keyboard] == ["👍 Hữu ích", "Thủ tục khác"]
    assert all(len(row[0]["callback_data"].encode()) <= 64 for row in keyboard)
    assert payload == long_payload and stale is None
    assert len(fake.sent(method="answerCallbackQuery")) == 2
    state.close()
