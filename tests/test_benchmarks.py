"""The benchmarks: the load benchmark's unseen-text phases really send new texts; the NLU verdict."""
import asyncio

import pytest
from aiohttp import web

from benchmarks.bench_load import QUESTIONS, citizen_conversations, closed_loop, conversation_loop, unseen_questions
from core.text import fold
from tests.rest_stub import rest_stub

NAMES = ["Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất",
         "Cấp giấy phép môi trường cấp tỉnh", "Cấp lại giấy chứng nhận do bị mất",
         "Tách thửa hoặc hợp thửa đất", "Cấp giấy phép khai thác nước dưới đất"]


def test_unseen_questions_are_distinct_mixed_and_new():
    questions = unseen_questions(NAMES, 300, seed=3)
    assert len(questions) == len(set(questions)) == 300
    unaccented = sum(fold(q) == q.lower() for q in questions)
    assert 90 < unaccented < 210  # about half, as citizens type
    assert not set(questions) & set(QUESTIONS)  # the warm-up never fills a cache with them
    assert unseen_questions(NAMES, 300, seed=3) == questions  # a run can be repeated


def test_shared_closed_loop_sends_each_text_once():
    received = []

    async def webhook(request):
        received.append((await request.json())["message"])
        await asyncio.sleep(0.001)
        return web.json_response([{"text": "ok"}])

    async def scenario():
        async with rest_stub(webhook) as url:
            texts = [f"câu hỏi {i}" for i in range(200)]
            return await closed_loop(url, texts, 20, 30, 150, conversation_length=12, shared=True)

    result = asyncio.run(scenario())
    assert result["errors"] == 0 and result["n"] >= 150
    assert len(received) == len(set(received))  # twenty conversations, no text twice


def test_citizen_conversations_never_repeat_a_text_and_mix_accents():
    conversations = citizen_conversations(NAMES, 500, seed=5)
    texts = [t for c in conversations for t in c]
    assert all(len(c) == 4 for c in conversations) and len(texts) == len(set(texts)) == 2000
    assert 700 < sum(fold(t) == t.lower() for t in texts) < 1300  # about half unaccented
    assert not set(texts) & set(QUESTIONS)  # the warm-up never fills a cache with them
    assert citizen_conversations(NAMES, 500, seed=5) == conversations


def test_conversation_loop_sends_each_conversation_once_in_order_under_one_sender():
    received = []

    async def webhook(request):
        body = await request.json()
        received.append((body["sender"], body["message"]))
        await asyncio.sleep(0.001)
        return web.json_response([{"text": "ok"}])

    conversations = [[f"c{i} m{k}" for k in range(4)] for i in range(60)]

    async def scenario():
        async with rest_stub(webhook) as url:
            return await conversation_loop(url, conversations, 20, 30, 10_000)

    result = asyncio.run(scenario())
    assert result["errors"] == 0 and result["n"] == 240
    by_sender = {}
    for sender, text in received:
        by_sender.setdefault(sender, []).append(text)
    assert sorted(by_sender.values()) == sorted(conversations)  # whole conversations, in order, one sender each


def test_nlu_target_is_judged_on_the_mean_of_the_repetitions():
    from benchmarks.bench_nlu import summary

    runs = [{"accented": 0.96, "unaccented": 0.958}, {"accented": 0.952, "unaccented": 0.946}]
    text = summary([42, 7], runs)
    assert "seed 42: 0.960 / 0.958" in text and "seed 7: 0.952 / 0.946" in text
    assert "accented 0.956 (range 0.952-0.960) OK" in text
    assert "unaccented 0.952 (range 0.946-0.958) OK" in text  # one split below 0.95, the mean above
    assert "MISSED" in summary([1], [{"accented": 0.949, "unaccented": 0.96}])


def test_console_benchmark_times_every_page_of_a_small_generated_store(tmp_path):
    import shutil

    from benchmarks.bench_console import PAGES, parser, run
    from core.settings import ROOT

    catalogue = tmp_path / "catalogue"
    catalogue.mkdir()
    for code in ("1.012786", "1.012784", "1.013831"):
        shutil.copy(ROOT / f"knowledge_base/catalogue/{code}.yml", catalogue)
    args = parser().parse_args(["--conversations", "200", "--repeat", "1", "--export-repeat", "1", "--skip-postgres",
                                "--catalogue", str(catalogue)])
    rows = [row for row in run(args) if row.kind != "catch-up"]
    pages = [row.page for row in rows]
    assert set(PAGES) <= set(pages)  # every menu page with its filters
    assert any(p.startswith("/unanswered/") for p in pages) and any(p.startswith("/conversations/") for p in pages)
    assert {p.split("?")[0] for p in pages if p.startswith("/analytics.")} == {"/analytics.csv", "/analytics.xlsx"}
    assert [row.line() for row in rows if row.status != "200"] == []
    assert all(row.n == 1 and row.p95 > 0 and row.kb > 0 for row in rows)


def test_grouping_separability_bounds_what_a_threshold_on_the_similarity_reaches():
    import numpy as np

    from benchmarks.bench_grouping import separability

    texts = ["sổ đỏ mất", "mất sổ đỏ rồi", "nộp ở đâu ạ", "nơi nộp hồ sơ", "lệ phí bao nhiêu"]
    truth = [0, 0, 1, 1, 2]
    clean = {"so do mat": [1, 0, 0], "mat so do roi": [0.9, 0.1, 0], "noi nop ho so": [0, 1, 0],
             "nop o dau": [0.1, 0.9, 0], "le phi bao nhieu": [0, 0, 1]}

    def embed(contents):
        assert contents == ["so do mat", "mat so do roi", "nop o dau", "noi nop ho so", "le phi bao nhieu"]
        return np.array([clean[c] for c in contents], float)

    auc, at_recall, at_precision = separability(texts, truth, embed)
    assert (auc, at_recall, at_precision) == (1.0, 1.0, 1.0)  # every same-meaning pair above every other

    def mixed(contents):  # the two meanings' vectors swapped for one question of each
        vectors = embed(contents)
        vectors[[1, 3]] = vectors[[3, 1]]
        return vectors

    auc, at_recall, at_precision = separability(texts, truth, mixed)
    assert auc < 0.5 and at_recall < 0.5 and at_precision == 0.0


def test_grouping_separability_counts_a_tie_as_a_half_and_never_splits_one():
    import numpy as np

    from benchmarks.bench_grouping import separability

    same = lambda contents: np.ones((len(contents), 3))  # noqa: E731 - every pair scores the same
    auc, at_recall, at_precision = separability(["a b", "c d", "e f"], [0, 0, 1], same)
    assert auc == 0.5 and at_recall == pytest.approx(1 / 3) and at_precision == 0.0


def test_rasa_floor_project_answers_every_intent_by_a_rule_with_a_reply():
    """The load benchmark's floor bot (keyword intents, rules, canned replies) is a whole project: every intent
    has keyword examples and a rule, every rule's reply is in the domain, with the default reply for the rest."""
    import yaml

    from benchmarks.bench_load import FLOOR_FILES

    domain = yaml.safe_load(FLOOR_FILES["domain.yml"])
    nlu = {block["intent"]: block["examples"] for block in yaml.safe_load(FLOOR_FILES["data/nlu.yml"])["nlu"]}
    rules = [rule["steps"] for rule in yaml.safe_load(FLOOR_FILES["data/rules.yml"])["rules"]]
    config = yaml.safe_load(FLOOR_FILES["config.yml"])
    assert [c["name"] for c in config["pipeline"]] == ["KeywordIntentClassifier"]
    assert [p["name"] for p in config["policies"]] == ["RulePolicy"]
    assert set(nlu) == set(domain["intents"]) == {steps[0]["intent"] for steps in rules}
    assert all(steps[1]["action"] in domain["responses"] for steps in rules)
    assert "utter_default" in domain["responses"]
    assert all(examples.strip() for examples in nlu.values())
