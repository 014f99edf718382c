"""Quoting the record's own sentence for a pointed question (knowledge_base.record_quotes)."""
import re

import pytest

from core.text import fold
from knowledge_base.record_quotes import RecordQuotes, record_sentences
from knowledge_base.text import TextNormalizer, words


@pytest.fixture(scope="module")
def quotes(land_scope):
    normalizer = TextNormalizer.default()
    return RecordQuotes(land_scope, lambda text: words(fold(normalizer.normalize(text))))


def asked(question):
    from knowledge_base.retrieval.lexical import content_stopphrases, strip_phrases

    return strip_phrases(TextNormalizer.default().folded_tokens(question), content_stopphrases())


def test_sentences_are_whole_and_unbulleted(catalogue, land_scope):
    sentences = record_sentences(catalogue.get("1.012786"))
    assert any(s.startswith("Niêm yết công khai") for s in sentences)
    every = [s for proc in land_scope for s in record_sentences(proc)]
    assert every and all(25 <= len(s) <= 420 for s in every)
    assert not [s for s in every if re.match(r"^(?:[-–•+]|[a-zđ]\)|\d{1,2}[.)]\s)", s) or s.endswith((",", ":", ";"))]


@pytest.mark.parametrize("question", ["co phai dang bao hay niem yet gi ko", "có phải niêm yết không"])
def test_a_pointed_question_gets_the_sentence_that_is_about_it(catalogue, quotes, question):
    quote = quotes.quote(catalogue.get("1.012786"), asked(question))
    assert quote.startswith("Niêm yết công khai") and "15 ngày" in quote


def test_two_words_side_by_side_stand_for_a_rare_one(catalogue, quotes):
    # no word of "đăng tin trên báo" is rare in the records; "đăng tin" side by side is, and the sentence that starts
    # with it is the one about it (not "chi phí đăng tin …" nor "… thông tin trên Trang bổ sung")
    question = "công ty tôi làm mất giấy chứng nhận, xin cấp lại có phải đăng tin trên báo không"
    quote = quotes.quote(catalogue.get("1.012786"), asked(question), frozenset({"cong", "ty"}))
    assert quote.startswith("Đăng tin") and "15 ngày" in quote and "tổ chức" in quote


@pytest.mark.parametrize("question", ["điều kiện là gì", "mất bao lâu", "có cần công chứng không",
                                      "diện tích tối thiểu để tách thửa là bao nhiêu",  # "thiểu" alone is no match
                                      "cách nấu phở bò"])
def test_nothing_is_quoted_without_a_sentence_that_holds_the_question(catalogue, quotes, question):
    assert quotes.quote(catalogue.get("1.012784"), asked(question)) is None
    assert quotes.quote(catalogue.get("1.012786"), asked(question)) is None


def test_the_answer_quotes_the_record_for_a_condition_question_and_adds_it_to_a_time_one(catalogue, retriever):
    from knowledge_base.service import KnowledgeBase

    kb = KnowledgeBase.over(catalogue, retriever)
    said = kb.answer("co phai dang bao hay niem yet gi ko", aspect="conditions", code="1.012786").text
    assert 'Hồ sơ thủ tục ghi: "Niêm yết công khai' in said and "15 ngày\"." in said
    assert "không nêu yêu cầu" not in said and said.rstrip().endswith("?")
    timed = kb.answer("niêm yết bao lâu", aspect="time", code="1.012786").text
    assert "Thời hạn giải quyết" in timed and "Niêm yết công khai" in timed
    plain = kb.answer("mất bao lâu", aspect="time", code="1.012786").text
    assert "Hồ sơ thủ tục ghi" not in plain
    overview = kb.answer("có phải niêm yết không", aspect="general", code="1.012786").text
    assert "Cấp thực hiện" in overview and "Niêm yết công khai" in overview  # the overview stays, the quote follows
    # the overview names the one application form, up to its number (the act that issued it is the source's)
    assert "mẫu cần điền là: Đơn đăng ký biến động đất đai, tài sản gắn liền với đất theo Mẫu số 18." in overview
    several = kb.answer("đăng ký khai thác nước thế nào", aspect="general", code="2.002835").text
    assert "Hồ sơ gồm 1 loại giấy tờ." in several and "cần điền" not in several  # four forms: which is the citizen's
    alone = kb.answer("xin cấp lại giấy phép dự báo khí tượng thủy văn thế nào", aspect="general", code="1.000943").text
    assert "Hồ sơ gồm 1 giấy tờ: Đơn đề nghị cấp lại giấy phép hoạt động dự báo" in alone  # the one paper is the form
    weights = kb._quotes.idf
    kb.answer("có phải niêm yết không", aspect="conditions", code="1.012786")
    assert kb._quotes.idf is weights  # counted once, not per answer


@pytest.mark.parametrize("question", ["cong ty toi mat so co phai dang bao hay niem yet gi ko",
                                      "hộ gia đình tôi mất sổ đỏ, xin cấp lại có phải niêm yết không"])
def test_who_asks_and_the_asking_word_are_no_part_of_what_is_asked(catalogue, retriever, question):
    """"công ty", "hộ gia đình" say who asks and "xin" only asks: records word neither so, and a rare word no
    sentence holds would otherwise leave the pointed question unquoted."""
    from knowledge_base.service import KnowledgeBase

    quote = KnowledgeBase.over(catalogue, retriever).record_quote(catalogue.get("1.012786"), question)
    assert quote is not None and quote.startswith("Niêm yết công khai")


def test_a_question_of_how_read_as_one_of_conditions_gets_the_summary_of_a_record_without_conditions(
        catalogue, retriever):
    from knowledge_base.service import KnowledgeBase

    kb = KnowledgeBase.over(catalogue, retriever)
    assert not catalogue.get("1.003681").conditions.strip()
    sunk = kb.answer("tau ca bi chim khong truc vot duoc thi xoa dang ky the nao", aspect="conditions",
                     code="1.003681").text
    assert "Mẫu số 10.ĐKT" in sunk and 'Hồ sơ thủ tục ghi: "Đối với tàu bị chìm đắm' in sunk  # the form, then the quote
    # the words' own aspect when they name one
    steps = kb.answer("tàu cá bị chìm thì xóa đăng ký làm thế nào", aspect="conditions", code="1.003681")
    assert steps.aspect == "steps"
    # a question of yes or no keeps the record's sentence alone; a record with conditions answers them
    pointed = kb.answer("tàu bị chìm thì có phải lập biên bản không", aspect="conditions", code="1.003681").text
    assert "Cấp thực hiện" not in pointed
    assert catalogue.get("1.000943").conditions.strip()
    forecast = kb.answer("xin cap lai giay phep du bao the nao", aspect="conditions", code="1.000943").text
    assert "Cấp thực hiện" not in forecast


def test_a_time_answer_quotes_only_a_sentence_that_says_a_time(catalogue, retriever, monkeypatch):
    from knowledge_base.service import KnowledgeBase

    kb = KnowledgeBase.over(catalogue, retriever)
    question = "gia hạn giấy phép khai thác đất san lấp nhóm IV mất bao lâu"
    # the sentence the whole scope's word weights found for its "nhóm IV": about where the file goes, not its time
    sent = "trình hồ sơ cấp giấy phép khai thác khoáng sản nhóm IV cho Chủ tịch Ủy ban nhân dân cấp tỉnh"
    monkeypatch.setattr(kb, "record_quote", lambda proc, asked: sent)
    said = kb.answer(question, aspect="time", code="1.014266").text
    assert "34 ngày làm việc" in said and "Hồ sơ thủ tục ghi" not in said
    assert "Hồ sơ thủ tục ghi" in kb.answer(question, aspect="general", code="1.014266").text
    timed = "Trong thời hạn không quá 03 ngày làm việc, Chủ tịch Ủy ban nhân dân cấp tỉnh quyết định việc gia hạn"
    monkeypatch.setattr(kb, "record_quote", lambda proc, asked: timed)
    assert "Hồ sơ thủ tục ghi" in kb.answer(question, aspect="time", code="1.014266").text
