"""Vietnamese text handling: normalisation, folding, shorthand and synonyms."""
import pytest

from core.text import fold, nfc
from knowledge_base.text import TextNormalizer, split_outside_parens, words


@pytest.mark.parametrize("a, b", [
    ("hoà giải", "hòa giải"),            # tone-mark placement
    ("thuỷ văn", "thủy văn"),
    ("Hoà", "Hòa"),
    ("ho\u0300a", "hòa"),                 # decomposed (NFD) input
])
def test_nfc_unifies_tone_placement_and_composition(a, b):
    assert nfc(a.lower()) == nfc(b.lower())


@pytest.mark.parametrize("text, folded", [
    ("Sổ Đỏ", "so do"),
    ("ĐĂNG KÝ BIẾN ĐỘNG", "dang ky bien dong"),
    ("nước dưới đất", "nuoc duoi dat"),
    ("đ", "d"),
])
def test_fold_strips_diacritics_and_case(text, folded):
    assert fold(text) == folded


@pytest.mark.parametrize("text, expected", [
    ("ko dc", "không được"),
    ("GCN QSDD", "giấy chứng nhận quyền sử dụng đất"),
    ("thẩm định đtm", "thẩm định đánh giá tác động môi trường"),
    ("tham dinh dtm", "tham dinh đánh giá tác động môi trường"),
    ("UBND xã", "ủy ban nhân dân xã"),
    ("Đc", "được"),
    # accented words that fold like shorthand keys are words of their own
    ("phạt nguội", "phạt nguội"),
    ("hành nghề dược", "hành nghề dược"),
    ("phat nguoi", "phat người"),
    ("dạ vâng ạ", "dạ vâng ạ"),
    ("gọi sđt", "gọi số điện thoại"),
    # "a" is "anh", except where it ends the sentence: there it is the particle "ạ" / "à"
    ("a oi cho e hoi", "anh oi cho em hoi"),
    ("chua a", "chua a"),
    ("bot a", "bot a"),
    ("cam on a nhe", "cam on anh nhe"),
])
def test_abbreviations_expand(text, expected):
    assert TextNormalizer.default().normalize(text) == expected


def test_kept_normal_forms_are_the_computed_ones_and_survive_a_copy():
    import copy
    import pickle

    from knowledge_base.text import NORMALIZED_LONGEST
    n = TextNormalizer({"ko": "không", "dc": "được"}, {})
    assert n.normalize("Ko dc") == n.normalize("Ko dc") == "không được"
    kept = n._normalized.cache_info().currsize
    long_text = "ko " * NORMALIZED_LONGEST
    assert n.normalize(long_text) == n.expand_abbreviations(long_text)  # computed, not kept
    assert n._normalized.cache_info().currsize == kept
    for other in (pickle.loads(pickle.dumps(n)), copy.deepcopy(n)):
        assert other.normalize("Ko dc") == "không được"
        assert other._normalized.cache_info().currsize == 1  # its own kept texts, not the original's


def test_synonyms_are_leftmost_longest_without_overlap():
    n = TextNormalizer.default()
    assert n.synonym_expansions(words("tach so do")) == ["tách thửa"]
    assert n.synonym_expansions(words("sang ten so do")) == ["đăng ký biến động chuyển nhượng quyền sử dụng đất"]
    assert "nước dưới đất" in n.for_search("xin phép khai thác nước ngầm")
    assert "khoáng sản" in n.for_search("mo da")


@pytest.mark.parametrize("text", [
    "hồ sơ của tôi đến đâu rồi", "ho so cua toi den dau roi", "số điện thoại của tôi", "so dien thoai cua toi",
    "Sở Nông nghiệp ở đâu", "số nhà 12", "bao nhiêu số"])
def test_words_that_fold_like_so_are_not_read_as_so_do(text):
    # "sổ" (the certificate) folds like hồ sơ, số, sở: only the citizen's "sổ" is slang.
    assert "giấy chứng nhận" not in TextNormalizer.default().for_search(text)


@pytest.mark.parametrize("text", ["làm sổ mất bao lâu", "lam so mat bao lau", "hồ sơ sổ đỏ", "ho so so do",
                                  "cái sổ bị rách", "cấp lại sổ"])
def test_the_certificate_is_still_read_as_slang(text):
    assert "giấy chứng nhận" in TextNormalizer.default().for_search(text)


def test_accented_and_unaccented_questions_fold_alike():
    n = TextNormalizer.default()
    assert n.folded_tokens("Làm lại sổ đỏ bị mất") == n.folded_tokens("lam lai so do bi mat")
    assert n.folded_tokens("Sổ đỏ KO được") == n.folded_tokens("so do ko dc")


def test_split_outside_parentheses():
    assert split_outside_parens("Tổ chức (không bao gồm doanh nghiệp, HTX), Doanh nghiệp") == [
        "Tổ chức (không bao gồm doanh nghiệp, HTX)", "Doanh nghiệp"]


def test_words_keep_document_codes_whole():
    assert "151/2025/nđ-cp" in words("Nghị định số 151/2025/NĐ-CP")


@pytest.mark.parametrize("reply, refused, asked", [
    ("mất bao lâu", False, "mat bao lau"),
    ("Đúng rồi, mất bao lâu?", False, "mat bao lau"),
    ("vâng ạ lệ phí bao nhiêu", False, "le phi bao nhieu"),
    ("ok nộp ở đâu", False, "nop o dau"),
    ("thủ tục đó nộp online được không", False, "nop online duoc khong"),
    ("không biết mất bao lâu", False, "khong biet mat bao lau"),  # "không" alone opens many questions
    ("không phải, mất bao lâu", True, "mat bao lau"),
    ("ko phai", True, ""),
    ("Sai rồi, tôi hỏi tách thửa", True, "toi hoi tach thua"),
    ("nhầm rồi", True, ""),
])
def test_a_reply_to_an_offer_says_yes_or_no_before_what_it_asks(reply, refused, asked):
    from knowledge_base.text import reply_to_offer

    assert reply_to_offer(reply) == (refused, asked)
