"""A case told in everyday words is searched in the record's words (knowledge_base/case_wording.py)."""
import pytest

from knowledge_base.case_wording import CaseWording
from knowledge_base.diacritics import DiacriticRestorer, corpus_texts
from knowledge_base.retrieval.texts import dense_text
from knowledge_base.text import TextNormalizer


@pytest.mark.parametrize("text, searched", [
    # a death told with what it left reads as the inheritance it is, who died with it; punctuation stays
    ("bố tôi mất để lại mảnh đất, 3 anh em tôi muốn sang tên", "thừa kế mảnh đất, 3 anh em tôi muốn sang tên"),
    ("Ông bà ngoại mất để lại căn nhà", "thừa kế căn nhà"),
    ("bố tôi mất, để lại mảnh đất", "thừa kế mảnh đất"),
    # "mất" alone is a loss or a cost, and a case the record's words say stays as typed
    ("bo toi mat so do", "bo toi mat so do"),
    ("mẹ tôi mất giấy chứng nhận", "mẹ tôi mất giấy chứng nhận"),
    ("xin phép nhập thức ăn chăn nuôi, công bố mất mấy ngày", "xin phép nhập thức ăn chăn nuôi, công bố mất mấy ngày"),
    ("nhận thừa kế đất, sang tên thế nào", "nhận thừa kế đất, sang tên thế nào"),
    ("tặng cho đất cho thôn", "tặng cho đất cho thôn"),
    ("", ""),
])
def test_a_death_that_left_land_is_searched_as_an_inheritance(text, searched):
    assert CaseWording.default().searched(text) == searched


def test_the_text_the_search_embeds_reads_the_case_after_accents_are_restored():
    """Typed without accents, the restorer gives the words back first; the table then reads them."""
    prepared = dense_text(TextNormalizer.default(), DiacriticRestorer(corpus_texts([])),
                          "bo toi mat de lai manh dat thi sang ten the nao")
    assert prepared.startswith("thừa kế ") and "mất" not in prepared
