"""Lexical cues the tokenizer adds for the intent classifier (components/cues.py)."""
import pytest

from components.cues import CUE_NEGATIVE, CUE_OTHER_AGENCY, CUE_POSITIVE, CueFinder
from core.text import fold, nfc
from knowledge_base.text import words


def cues(text, breaks=()):
    typed = words(nfc(text.lower()))
    return CueFinder.default().cues([fold(w) for w in typed], typed, breaks)


@pytest.mark.parametrize("text, expected", [
    ("rất hữu ích", [CUE_POSITIVE]),
    ("không hữu ích", ["neghuu", "negich", CUE_NEGATIVE]),
    ("khong huu ich", ["neghuu", "negich", CUE_NEGATIVE]),
    ("câu trả lời vô dụng", [CUE_NEGATIVE]),
    ("không tệ đâu", ["negte", "negdau", CUE_POSITIVE]),
    ("chưa rõ ràng lắm", ["negro", "negrang", CUE_NEGATIVE]),  # 'lắm' is not negated content
    ("làm hộ chiếu ở đâu", [CUE_OTHER_AGENCY]),
    ("nộp online được không", []),        # a question's final 'không' negates nothing
    ("sử dụng đất", []),                   # 'dụng' is not 'đừng'
    ("đất của cha tôi", []),               # unaccented 'cha' is not read as 'chả'
    ("chả hay gì cả", ["neghay", "neggi", "negca"]),
    ("lam so do", []),                      # unaccented 'do' is not 'dở'
    ("cam on nhieu", []),                   # nor 'on' 'ổn'
    ("tra loi do qua", []),
    ("trả lời dở quá", [CUE_NEGATIVE]),
    ("khong ro rang", ["negro", "negrang", CUE_NEGATIVE]),  # two words: unaccented is fine
])
def test_cues(text, expected):
    assert cues(text) == expected


def test_negation_stops_at_a_clause_break():
    # "không, cảm ơn": the comma (index 1) starts a new clause, 'cảm ơn' is not negated
    assert cues("không cảm ơn", breaks=[1]) == []
    assert cues("không cảm ơn") == ["negcam", "negon"]


def test_negation_scope_is_a_few_words():
    assert cues("không phải cái tôi cần hỏi") == ["negphai", "negcai", "negtoi"]


def test_numbers_get_a_cue_by_shape():
    from components.cues import CUE_CHOICE_NUMBER, CUE_LONG_NUMBER, number_cues

    assert number_cues(["so", "cuoi", "0361"]) == [CUE_LONG_NUMBER]  # last digits of a phone
    assert number_cues(["3"]) == number_cues(["2", "a"]) == [CUE_CHOICE_NUMBER]  # a position in the list
    assert number_cues(["thu", "7"]) == number_cues(["5", "sao"]) == number_cues(["3", "3", "4", "4"]) == []
    assert number_cues(["06"]) == []  # a piece of a code
