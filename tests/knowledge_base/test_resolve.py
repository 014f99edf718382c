"""The one resolver: which procedure a message means, given what the conversation knows."""
from typing import Dict, List, Optional, Sequence

import pytest

from core.settings import Settings
from knowledge_base.resolve import ANSWER, CHOICES, KEEP, NONE, PICK, SURE, Context, Resolution, pick_by_ordinal
from knowledge_base.retrieval.hybrid import Hit, SearchResult
from knowledge_base.service import KnowledgeBase
from knowledge_base.situation import FIRST_REQUEST, UNCLEAR_REQUEST

A, B, C = Hit("1.1", "Tách thửa", 0.9, confidence=0.8), Hit("1.2", "Hợp thửa", 0.8, confidence=0.5), \
    Hit("1.3", "Cấp đổi", 0.1, confidence=0.1)


class Catalogue:
    def __init__(self, codes: Sequence[str]):
        self.codes = set(codes)

    def get(self, code: str) -> Optional[str]:
        return code if code in self.codes else None


class FakeKnowledgeBase:
    """The four questions the resolver asks of a knowledge base, answered from fixed tables."""

    def __init__(self, result: SearchResult, vocab: Sequence[str] = ("thua",), agencies: Optional[Dict] = None):
        self.catalogue = Catalogue(["1.1", "1.2", "1.3", "1.9"])
        self.result, self.vocab, self.agencies = result, set(vocab), agencies or {}
        self.searched: List[str] = []

    def other_agency(self, text: str) -> Optional[str]:
        return self.agencies.get(text)

    def mentions_procedure(self, text: str) -> bool:
        return any(w in self.vocab for w in text.split())

    def limit_for(self, text: str):
        return None

    def asks_of(self, code: str, aspect: str, text: str) -> bool:
        return aspect == "fees" and "dinh" in text.split()  # the current procedure's fee is a "phí thẩm định"

    def names_nothing(self, text: str) -> bool:
        return not any(w not in ("o", "dau", "nop", "phi", "le") for w in text.split())

    def says_only_who(self, text: str) -> bool:
        return text == "toi la viet kieu"

    def within(self, code: str, text: str) -> bool:  # "so" is 1.2's own word, "xa" 1.1's and 1.2's
        own = {"1.1": {"xa"}, "1.2": {"so", "xa"}}.get(code, set())
        named = [w for w in text.split() if w not in ("mat", "bao", "lau", "thi", "co")]
        return bool(named) and set(named) <= own

    def search(self, text: str, top_k: int = 3) -> SearchResult:
        self.searched.append(text)
        return self.result


def resolve(text: str, result: SearchResult, context: Optional[Context] = None, **kw) -> Resolution:
    from knowledge_base.resolve import resolve as resolve_with

    return resolve_with(FakeKnowledgeBase(result, **kw), text, context)


SURE_A = SearchResult([A, B, C], "answer")
CLOSE = SearchResult([A, B, C], "choose")  # C is under a quarter of A's confidence: not offered
ONE_CLOSE = SearchResult([A, C], "choose")
NOTHING = SearchResult([A, B], "unknown")


@pytest.mark.parametrize("text, result, context, expected", [
    # a sure match answers; close ones are offered; a lone close one answers
    ("tach thua", SURE_A, Context(), Resolution(ANSWER, code="1.1", confidence=0.8, via="search",
                                                  considered=(A, B, C))),
    ("tach thua", CLOSE, Context(), Resolution(CHOICES, choices=(A, B), considered=(A, B, C))),
    # one close procedure, not sure: offered to confirm, never answered as if sure
    ("tach thua", ONE_CLOSE, Context(), Resolution(CHOICES, choices=(A,), considered=(A, C))),
    # a follow-up whose words name no procedure stays on the one under discussion, without a search
    ("le phi", SURE_A, Context(current="1.9"), Resolution(ANSWER, code="1.9", confidence=1.0, via="current")),
    # words that name a procedure, but all of them in what the current one's record says of the aspect asked
    ("thua dinh", SURE_A, Context(current="1.9", aspect="fees"),
     Resolution(ANSWER, code="1.9", confidence=1.0, via="current")),
    ("thua dinh", SURE_A, Context(current="1.9", aspect="time"),
     Resolution(ANSWER, code="1.1", confidence=0.8, via="search", considered=(A, B, C))),
    # an aspect alone before any procedure: ask which one
    ("nop o dau", SURE_A, Context(), Resolution(NONE, reason="nothing_named")),
    # nothing found: the aspect asked of the current procedure, else not known (with what was considered)
    ("thua flycam", NOTHING, Context(current="1.9", aspect="fees"),
     Resolution(ANSWER, code="1.9", confidence=1.0, via="current", considered=(A, B))),
    ("thua flycam", NOTHING, Context(current="1.9"), Resolution(NONE, reason="no_match", considered=(A, B))),
    ("flycam", NOTHING, Context(), Resolution(NONE, reason="no_match", considered=(A, B))),
    # not sure, but the procedure under discussion is among the close ones: the conversation settles it
    ("tach thua", CLOSE, Context(current="1.2"), Resolution(ANSWER, code="1.2", confidence=1.0, via="current",
                                                             considered=(A, B, C))),
    ("tach thua", CLOSE, Context(current="1.9"), Resolution(CHOICES, choices=(A, B), considered=(A, B, C))),
    # one procedure offered to confirm, and the citizen asks an aspect alone without a no: it is asked of that one
    ("nop o dau", SURE_A, Context(current="1.9", aspect="where", offered=("1.2",)),
     Resolution(ANSWER, code="1.2", confidence=1.0, via="offered")),
    # anything more is searched anew: never answered for the one offered (nor the one before) as if sure
    ("tach thua", CLOSE, Context(current="1.9", aspect="fees", offered=("1.2",)),
     Resolution(CHOICES, choices=(A, B), considered=(A, B, C))),
    ("thua flycam", NOTHING, Context(current="1.9", aspect="fees", offered=("1.2",)),
     Resolution(NONE, reason="no_match", considered=(A, B))),
    # … unless the search, unable to place it, finds one of those offered closest: asked again which
    ("thua flycam", NOTHING, Context(current="1.9", aspect="fees", offered=("1.1", "1.2")),
     Resolution(NONE, reason="nothing_named", considered=(A, B))),
    # never after a no, nor with no aspect asked, nor when another procedure is closest (a new subject: logged)
    ("khong phai, thua flycam", NOTHING, Context(aspect="fees", offered=("1.1", "1.2")),
     Resolution(NONE, reason="no_match", considered=(A, B))),
    ("thua flycam", NOTHING, Context(offered=("1.1",)), Resolution(NONE, reason="no_match", considered=(A, B))),
    ("flycam", NOTHING, Context(aspect="time", offered=("1.2", "1.3")),
     Resolution(NONE, reason="no_match", considered=(A, B))),
    ("tach thua", SURE_A, Context(aspect="fees", offered=("1.2",)),
     Resolution(ANSWER, code="1.1", confidence=0.8, via="search", considered=(A, B, C))),
    # a yes before the aspect is still a yes; a no is never one (what they mean is still to be said)
    ("dung roi, nop o dau", SURE_A, Context(aspect="where", offered=("1.2",)),
     Resolution(ANSWER, code="1.2", confidence=1.0, via="offered")),
    ("thu tuc do nop o dau", SURE_A, Context(aspect="where", offered=("1.2",)),
     Resolution(ANSWER, code="1.2", confidence=1.0, via="offered")),
    ("khong phai, nop o dau", SURE_A, Context(current="1.9", aspect="where", offered=("1.2",)),
     Resolution(NONE, reason="refused")),
    # a no with a new question: that question is searched
    ("sai roi, tach thua", SURE_A, Context(aspect="where", offered=("1.2",)),
     Resolution(ANSWER, code="1.1", confidence=0.8, via="search", considered=(A, B, C))),
    # words the search is not sure of, all of them the one offered's own: asked of it ("mất bao lâu thì có sổ")
    ("mat bao lau thi co so", NOTHING, Context(aspect="time", offered=("1.2",)),
     Resolution(ANSWER, code="1.2", confidence=1.0, via="offered", considered=(A, B))),
    # … but close procedures the search finds are offered, whatever words the one offered holds
    ("mat bao lau thi co so", CLOSE, Context(aspect="time", offered=("1.2",)),
     Resolution(CHOICES, choices=(A, B), considered=(A, B, C))),
    # … of several offered that all hold them: asked again which; a no, a sure search or a word of none: as before
    ("mat bao lau thi co xa", NOTHING, Context(aspect="time", offered=("1.1", "1.2")),
     Resolution(NONE, reason="nothing_named", considered=(A, B))),
    ("khong phai, mat bao lau thi co so", NOTHING, Context(aspect="time", offered=("1.2",)),
     Resolution(NONE, reason="no_match", considered=(A, B))),
    ("mat bao lau thi co so", SURE_A, Context(aspect="time", offered=("1.2",)),
     Resolution(ANSWER, code="1.1", confidence=0.8, via="search", considered=(A, B, C))),
    ("mat bao lau thi co so", NOTHING, Context(offered=("1.2",)),
     Resolution(NONE, reason="no_match", considered=(A, B))),
    # an aspect alone with no aspect asked ("general"), or an unknown code offered: not taken as a yes
    ("nop o dau", SURE_A, Context(offered=("1.2",)), Resolution(NONE, reason="nothing_named")),
    ("nop o dau", SURE_A, Context(aspect="where", offered=("8.8",)), Resolution(NONE, reason="nothing_named")),
    # several offered: an aspect alone is about them (asked again), not the one discussed before
    ("nop o dau", SURE_A, Context(current="1.9", aspect="where", offered=("1.1", "1.2")),
     Resolution(NONE, reason="nothing_named")),
    # a button under an answer carries a known code; an unknown one is ignored
    ("/ask_documents", SURE_A, Context(chosen="1.3"), Resolution(ANSWER, code="1.3", confidence=1.0, via="chosen")),
    ("tach thua", SURE_A, Context(chosen="9.9"), Resolution(ANSWER, code="1.1", confidence=0.8, via="search",
                                                            considered=(A, B, C))),
])
def test_a_question(text, result, context, expected):
    assert resolve(text, result, context) == expected


def test_another_agencys_service_is_named_before_any_search():
    kb = FakeKnowledgeBase(SURE_A, agencies={"xin visa": "Công an"})
    from knowledge_base.resolve import resolve as resolve_with

    for policy in ("question", SURE):
        assert resolve_with(kb, "xin visa", Context(policy=policy)) == Resolution(NONE, reason="other_agency",
                                                                                   agency="Công an")
    assert kb.searched == []


@pytest.mark.parametrize("text, context, expected", [
    ("/choose_option", Context(chosen="1.2", offered=("1.1", "1.2"), policy=PICK),
     Resolution(ANSWER, code="1.2", confidence=1.0, via="chosen")),
    ("cái thứ hai", Context(offered=("1.1", "1.2"), policy=PICK),
     Resolution(ANSWER, code="1.2", confidence=1.0, via="offered")),
    ("cái cuối", Context(offered=("1.1", "1.2", "1.3"), policy=PICK),
     Resolution(ANSWER, code="1.3", confidence=1.0, via="offered")),
    ("tach thua", Context(offered=("1.1", "1.2"), policy=PICK), Resolution(NONE, reason="not_chosen")),
    ("/choose_option", Context(chosen="9.9", offered=("1.1",), policy=PICK), Resolution(NONE, reason="unknown_code")),
])
def test_a_pick_among_offered_choices_never_searches(text, context, expected):
    kb = FakeKnowledgeBase(SURE_A)
    from knowledge_base.resolve import resolve as resolve_with

    assert resolve_with(kb, text, context) == expected and kb.searched == []


@pytest.mark.parametrize("text, result, expected", [
    ("tach thua", SURE_A, Resolution(ANSWER, code="1.1", confidence=0.8, via="search", considered=(A, B, C))),
    ("tach thua", CLOSE, Resolution(NONE, reason="no_match", considered=(A, B, C))),  # unsure: not answered
    ("   ", SURE_A, Resolution(NONE, reason="nothing_named")),
    # who the citizen is, and nothing else: no procedure, however sure the search
    ("toi la viet kieu", SURE_A, Resolution(NONE, reason="nothing_named")),
])
def test_a_message_the_classifier_could_not_place_takes_only_a_sure_match(text, result, expected):
    assert resolve(text, result, Context(policy=SURE)) == expected


@pytest.mark.parametrize("text, result, current, expected", [
    ("tach thua hom nay", CLOSE, "1.9", Resolution(ANSWER, code="1.1", confidence=0.8, via="search",
                                                    considered=(A, B, C))),  # the best, even unsure
    ("nop hom nay", SURE_A, "1.9", Resolution(ANSWER, code="1.9", confidence=1.0, via="current")),
    ("/ask_result_ready thua", SURE_A, "1.9", Resolution(ANSWER, code="1.9", confidence=1.0, via="current")),
    ("tach thua", NOTHING, "1.9", Resolution(ANSWER, code="1.9", confidence=1.0, via="current", considered=(A, B))),
    ("nop hom nay", SURE_A, None, Resolution(NONE, reason="nothing_named")),
    ("tach thua", NOTHING, None, Resolution(NONE, reason="no_match", considered=(A, B))),
])
def test_a_question_about_something_else_keeps_the_procedure_unless_the_words_name_one(text, result, current,
                                                                                        expected):
    assert resolve(text, result, Context(current=current, policy=KEEP)) == expected


def test_an_unknown_policy_is_refused():
    with pytest.raises(ValueError, match="unknown policy"):
        Context(policy="guess")


def test_ordinals():
    assert pick_by_ordinal("so 2", ["a", "b"]) == "b" and pick_by_ordinal("cái đầu", ["a", "b"]) == "a"
    assert pick_by_ordinal("cái thứ ba", ["a", "b"]) is None and pick_by_ordinal("không", ["a"]) is None


@pytest.fixture(scope="module")
def kb(catalogue, retriever, base_model_dir):
    return KnowledgeBase.over(catalogue, retriever, Settings.of(hotline="0123 456 789"))


def test_the_knowledge_base_resolves_with_the_land_scope(kb):
    found = kb.resolve("lam lai so do bi mat")
    assert (found.kind, found.code, found.via) == (ANSWER, "1.012786", "search") and 0 < found.confidence <= 1
    assert found.considered and found.considered[0].code == "1.012786"
    assert kb.resolve("xin visa đi Nhật").reason == "other_agency"
    assert kb.resolve("nộp ở đâu?") == Resolution(NONE, reason="nothing_named")
    assert kb.resolve("còn lệ phí thì sao?", Context(current="1.012784")) == Resolution(
        ANSWER, code="1.012784", confidence=1.0, via="current")


@pytest.mark.parametrize("text, request_", [
    ("lam lai so do bi mat", "reissue"),  # "mất sổ": issued again
    ("cấp lại giấy chứng nhận", "reissue"),
    ("xin cấp giấy phép khai thác thủy sản cần gì", FIRST_REQUEST),  # a first one, in so many words
    ("làm sổ đỏ lần đầu", FIRST_REQUEST),
    ("tách thửa đất cần giấy tờ gì", None),  # names the procedure only: says nothing of what the citizen holds
    ("giấy phép khai thác thủy sản của tôi bị mất", "reissue"),  # five words between the paper and "bị mất"
    ("xin lại giấy phép", "reissue"),
    ("cho em xin phép hỏi hồ sơ tách thửa", None),  # politeness, no first request
    ("xin chứng nhận lại cho cơ sở", None),  # again: no first request
    ("thông tin trong giấy phép khai thác có được giữ bí mật không", None),  # "bí mật" is no loss
    ("có thể nuôi tôm khi ao bị hỏng bờ không", None),  # "có thể" is no card ("thẻ")
    ("cần giấy tờ gì", None),  # names nothing
    ("giấy phép hết hạn", UNCLEAR_REQUEST),  # extended or issued again
    ('/ask_documents{"procedure_code":"1.012786"}', None),  # a button's payload
])
def test_the_request_a_message_makes_of_a_paper(kb, text, request_):
    assert kb.request_in(text) == request_
    assert kb.situation_in(text).request == request_
