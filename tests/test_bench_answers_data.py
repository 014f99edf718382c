"""The answer benchmark's data and checks (no servers): the conversations file is well formed and wide enough,
its codes exist in the catalogue, and a reply is judged as the benchmark documents."""
import asyncio
import re
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from benchmarks.bench_answers import (
    CONVERSATIONS,
    Conversation,
    Turn,
    check_turn,
    find_button,
    load_conversations,
    play,
    report,
)
from core.text import fold
from tests.rest_stub import rest_stub

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "knowledge_base/catalogue"
CODE = re.compile(r"\b\d\.\d{6}\b")


def codes_in(facts):
    for fact in facts:
        for text in fact if isinstance(fact, list) else [fact]:
            yield from CODE.findall(text)


@pytest.fixture(scope="module")
def conversations():
    return load_conversations(CONVERSATIONS)


def test_enough_conversations_over_enough_procedures(conversations):
    assert len(conversations) >= 80
    codes = {c for conv in conversations for t in conv.turns for c in codes_in(t.must)}
    assert len(codes) >= 40


def test_every_code_is_in_the_catalogue(conversations):
    codes = {c for conv in conversations for t in conv.turns for c in codes_in(t.must + t.must_not)}
    missing = sorted(c for c in codes if not (CATALOGUE / f"{c}.yml").exists())
    assert not missing


def test_about_half_the_turns_are_typed_without_diacritics(conversations):
    said = [t.say for conv in conversations for t in conv.turns if t.say is not None]
    plain = sum(fold(s) == s.lower() for s in said)
    assert 0.35 <= plain / len(said) <= 0.65


def test_the_loader_refuses_malformed_turns(tmp_path):
    bad = {
        "say and tap": '- id: a\n  turns:\n    - {say: "x", tap: "y"}\n',
        "neither": '- id: a\n  turns:\n    - {must: ["x"]}\n',
        "must not a list": '- id: a\n  turns:\n    - {say: "x", must: "1.013831"}\n',
        "budget not int": '- id: a\n  turns:\n    - {say: "x", budget: "700"}\n',
        "unknown key": '- id: a\n  turns:\n    - {say: "x", mustnt: ["y"]}\n',
        "opens with a tap": '- id: a\n  turns:\n    - {tap: "x"}\n',
        "duplicate id": '- id: a\n  turns: [{say: "x"}]\n- id: a\n  turns: [{say: "y"}]\n',
        "empty alternatives": '- id: a\n  turns:\n    - {say: "x", must: [[]]}\n',
    }
    for name, text in bad.items():
        path = tmp_path / "c.yml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ValueError):
            load_conversations(path)
        assert name


def test_a_reply_is_judged_folded_with_alternatives_and_budget():
    turn = Turn(say="x", tap=None, must=["Mẫu số 18", ["phòng công chứng", "tổ chức công chứng"]],
                must_not=["thế chấp"], budget=60)
    right = [{"text": "Đơn theo mau so 18; hỏi Văn phòng công chứng."}]
    assert check_turn(turn, right) == []
    wrong = [{"text": "Đơn theo Mẫu số 18 và văn bản của bên nhận THE CHAP ... " + "x" * 40}]
    failures = check_turn(turn, wrong)
    assert any("missing" in f for f in failures) and any("thế chấp" in f for f in failures)
    assert any("budget 60" in f for f in failures)
    assert check_turn(turn, []) == ["no reply"]
    # must is also met by a button's title; must_not looks at the texts only
    asked = Turn(say="x", tap=None, must=["thừa kế"], must_not=["thế chấp"], budget=700)
    reply = [{"text": "Bạn nhận đất theo trường hợp nào?",
              "buttons": [{"title": "Thừa kế", "payload": "/a"}, {"title": "Đất đang thế chấp", "payload": "/b"}]}]
    assert check_turn(asked, reply) == []
    assert find_button(reply, "the chap")["payload"] == "/b"
    assert find_button(reply, "mua bán") is None


def test_a_conversation_taps_the_offered_button():
    received = []

    async def webhook(request):
        body = await request.json()
        received.append((body["sender"], body["message"]))
        if body["message"] == "/case_inheritance":
            return web.json_response([{"text": "Sang tên (1.013831): Đơn theo Mẫu số 18."}])
        return web.json_response([{"text": "Bạn nhận đất do thừa kế hay mua bán?",
                                   "buttons": [{"title": "Thừa kế", "payload": "/case_inheritance"},
                                               {"title": "Mua bán", "payload": "/case_sale"}]}])

    async def scenario():
        conversation = Conversation("c", [
            Turn(say="sang tên sổ đỏ", tap=None, must=["thừa kế"], must_not=[], budget=700),
            Turn(say=None, tap="thừa kế", must=["1.013831", "Mẫu số 18"], must_not=[], budget=1500),
            Turn(say=None, tap="tặng cho", must=[], must_not=[], budget=1500),
        ])
        async with rest_stub(webhook) as url, aiohttp.ClientSession() as session:
            return await play(session, url, conversation, "s1")

    results = asyncio.run(scenario())
    assert [r.right for r in results] == [True, True, False]
    assert received == [("s1", "sang tên sổ đỏ"), ("s1", "/case_inheritance")]
    assert "no button" in results[2].failures[0]
    text = report(results)
    assert "turns right: 2/3" in text and "TARGET MISSED" in text and "conversations fully right: 0/1" in text
