"""Channel-neutral pieces: splitting replies, numbered options, the channels' shared state."""
import datetime as dt

import pytest

from channels.state import ChannelState
from channels.text import channel_text, numbered_options, option_number, split_text


@pytest.mark.parametrize("limit", [40, 100, 4096])
def test_split_keeps_every_word_in_order_and_under_the_limit(limit):
    text = "\n\n".join(f"Mục {i}: " + "giấy tờ cần nộp, bản chính và bản sao. " * (i % 7 + 1) for i in range(30))
    pieces = split_text(text, limit)
    assert all(0 < len(p) <= limit for p in pieces)
    assert " ".join(pieces).split() == text.split()
    if len(text) > limit:
        assert len(pieces) > 1


def test_split_prefers_paragraphs_then_sentences_and_cuts_long_words():
    assert split_text("Đoạn một.\n\nĐoạn hai dài hơn.", 25) == ["Đoạn một.", "Đoạn hai dài hơn."]
    assert split_text("Câu thứ nhất rất dài. Câu thứ hai.", 30) == ["Câu thứ nhất rất dài.", "Câu thứ hai."]
    assert split_text("x" * 50, 20) == ["x" * 20, "x" * 20, "x" * 10]
    assert split_text("", 100) == [] and split_text("ngắn", 100) == ["ngắn"]


@pytest.mark.parametrize("text,count,expected", [
    ("2", 3, 1), (" số 1 ", 3, 0), ("chon 3.", 3, 2), ("Chọn 2", 2, 1), ("4", 3, None), ("0", 3, None),
    ("2 thửa", 3, None), ("1234", 3, None), ("hai", 3, None), ("", 3, None)])
def test_option_numbers(text, count, expected):
    assert option_number(text, count) == expected


def test_numbered_options_say_how_to_choose():
    text = numbered_options("Bạn hỏi thủ tục nào?", ["Tách thửa", "Hợp thửa"])
    assert text.splitlines() == ["Bạn hỏi thủ tục nào?", "1. Tách thửa", "2. Hợp thửa", "Bạn nhắn số (1–2) để chọn."]
    assert "{" not in channel_text("busy", hotline="1800")


class Clock:
    def __init__(self):
        self.now = dt.datetime(2026, 11, 20, 9, 0)

    def __call__(self):
        return self.now


@pytest.fixture
def state(new_db):
    clock = Clock()
    s = ChannelState(new_db("state"), clock=clock, option_ttl_minutes=30)
    s.clock_ = clock
    yield s
    s.close()


def test_offered_options_round_trip_and_expire(state):
    payload = '/choose_procedure{"procedure_code":"1.012786","aspect":"documents","extra":"' + "x" * 80 + '"}'
    first = state.offer("telegram", "tg-1", [{"title": "A", "payload": "/a"}, {"title": "B", "payload": payload}])
    second = state.offer("telegram", "tg-1", [{"title": "C", "payload": "/c"}])
    assert state.option("telegram", "tg-1", first, 1) == ("B", payload)  # longer than Telegram's 64 bytes
    assert state.option("telegram", "tg-1", None, 0) == ("C", "/c")  # latest offer
    assert state.option("telegram", "tg-2", first, 1) is None  # another citizen's buttons
    assert state.latest_offer_size("telegram", "tg-1") == 1
    state.clock_.now += dt.timedelta(minutes=31)
    assert state.option("telegram", "tg-1", second, 0) is None and state.latest_offer_size("telegram", "tg-1") == 0
    state.withdraw_offers("telegram", "tg-1")
    assert state.option("telegram", "tg-1", first, 0) is None


def test_retried_messages_are_seen_once(state):
    assert state.first_time("zalo", "m1") is True
    assert state.first_time("zalo", "m1") is False
    assert state.first_time("telegram", "m1") is True


def test_tokens_compare_and_set(state, new_db):
    from channels.state import Tokens

    assert state.tokens("zalo") is None
    assert state.tokens("zalo", Tokens("a1", "r1", 1)) == Tokens("a1", "r1", 1)
    assert state.tokens("zalo", Tokens("ignored", "ignored", 1)).access_token == "a1"  # the seed is used once
    assert state.replace_tokens("zalo", 1, "a2", "r2") is True
    assert state.replace_tokens("zalo", 1, "a3", "r3") is False  # someone else refreshed first
    other = ChannelState(new_db("state"))  # another worker sees the new pair
    assert other.tokens("zalo") == Tokens("a2", "r2", 2)
    other.close()


def test_contacts_and_web_inbox(state):
    assert state.contact("web", "web-abcdefgh") == (None, None)
    state.inbound("web", "web-abcdefgh")
    state.polled("web", "web-abcdefgh")
    assert state.contact("web", "web-abcdefgh") == (state.clock_.now, state.clock_.now)
    state.web_push("web-abcdefgh", {"text": "Hồ sơ …", "kind": "notice"})
    state.web_push("web-other123", {"text": "khác"})
    got = state.web_fetch("web-abcdefgh")
    assert [m["text"] for m in got] == ["Hồ sơ …"] and state.web_fetch("web-abcdefgh") == []  # handed out once
