"""A record's alternatives of one paper: the citizen's words name theirs, the others are left out."""
import pytest

from core.settings import Settings
from knowledge_base.answers import compose_answer
from knowledge_base.checklist import checklist
from knowledge_base.conditions import admits, amounts, condition_key, conditions_said, sibling_groups
from knowledge_base.situation import Situation

SMALL_WELL = "co so san xuat nho dung gieng khoan khoang 8 m3 moi ngay thi phai dang ky o dau"


@pytest.mark.parametrize("text, said", [
    ("khoảng 8 m3 mỗi ngày", [(8.0, "m3", "day")]),
    ("gieng khoan 15m3/ngay dem", [(15.0, "m3", "day")]),
    ("công trình 3.000 m3/ngày đêm trên 0,5 ha", [(3000.0, "m3", "day"), (0.5, "ha", None)]),
    ("dùng 20 khối nước", [(20.0, "m3", None)]),
    ("1.5 m3 hay 12.5m3 hay 3.000,5 m3", [(1.5, "m3", None), (12.5, "m3", None), (3000.5, "m3", None)]),
    ("bơm 2 m3/giây", [(2.0, "m3", "s")]),
    ("thửa số 1749, tờ bản đồ 12", []),  # numbers without a unit are no amount (nor anything kept)
    ("nhà số 10 Hà Nội", []), ("nha so 10 ha noi", []),  # no hectare
])
def test_amounts_are_read_with_their_unit(text, said):
    assert amounts(text) == said


@pytest.mark.parametrize("condition, said, fits", [
    ("quy mô không vượt quá 10m3/ngày đêm", [(8.0, "m3", "day")], True),
    ("quy mô không vượt quá 10m3/ngày đêm", [(10.0, "m3", None)], True),
    ("quy mô không vượt quá 10m3/ngày đêm", [(15.0, "m3", "day")], False),
    ("quy mô không vượt quá 10m3/ngày đêm", [(8.0, "m3", "s")], None),  # per second is no per day
    ("công trình dưới 3.000 m3/ngày đêm", [(3000.0, "m3", None)], False),
    ("lưu lượng trên 10 m3/ngày đêm", [(12.0, "m3", None)], True),
    ("lưu lượng từ 10 m3/ngày đêm trở lên", [(10.0, "m3", None)], True),
    ("nhỏ hơn hoặc bằng 10 m3", [(10.0, "m3", None)], True),
    ("không được vượt quá 10 m3", [(12.0, "m3", None)], False),
    ("không thể vượt quá 10 m3", [(8.0, "m3", None)], True),  # a negation no entry lists still reads as at most
    ("không lớn hơn 5 ha", [(5.0, "ha", None)], True),
    ("từ 10 m3 đến dưới 100 m3", [(5.0, "m3", None)], False),
    ("từ 10 m3 đến dưới 100 m3", [(10.0, "m3", None)], True),
    ("từ 10 m3 đến dưới 100 m3", [(100.0, "m3", None)], False),
    ("diện tích dưới 1 ha", [(8.0, "m3", None)], None),  # another unit says nothing
    ("cơ sở đang hoạt động", [(8.0, "m3", None)], None),
])
def test_an_amount_falls_within_a_condition_s_bounds_or_not(condition, said, fits):
    assert admits(condition, said) is fits


def test_one_paper_listed_per_situation_is_a_group_of_alternatives(catalogue):
    well = catalogue.get("1.001662").document_cases[0]
    assert sibling_groups(well) == [[0, 1]]  # Tờ khai … Mẫu 13 (≤ 10 m3/ngày đêm) / … Mẫu 14 (moong)
    transfer = catalogue.get("1.013831")  # many conditions, but each on another paper
    assert all(sibling_groups(case) == [] for case in transfer.document_cases)


def _papers(catalogue, code, situation):
    found = checklist(catalogue.get(code).document_cases[0], situation)
    return found, " ".join(d.paper for d in found.needed), [c for c, _ in found.conditional]


def test_an_amount_the_citizen_gives_picks_the_form_for_it(catalogue):
    proc = catalogue.get("1.001662")
    said = conditions_said(proc, SMALL_WELL)
    found, needed, conditional = _papers(catalogue, "1.001662", Situation(said=said))
    assert "Mẫu 13" in needed and "Mẫu 14" not in needed and not conditional and found.left_out == 1
    # a larger well admits neither condition: both stay under "Nếu …"
    assert conditions_said(proc, "khai thác khoảng 15 m3 mỗi ngày") == ()
    assert conditions_said(proc, "khai thac khoang 15 m3 moi ngay") == ()  # the amount decides, not "khoáng"
    found, needed, conditional = _papers(catalogue, "1.001662", Situation())
    assert len(conditional) == 2 and found.left_out == 0


def test_a_phrase_only_one_condition_has_names_it(catalogue):
    proc = catalogue.get("1.010727")
    said = conditions_said(proc, "xưởng của công ty đang hoạt động, xin giấy phép môi trường thì cần hồ sơ gì")
    answer = compose_answer(proc, "documents", Settings(), situation=Situation(said=said))
    assert "Mẫu số 22d" in answer.text and "22b" not in answer.text and "22c" not in answer.text
    # words every condition shares name none ("dự án đầu tư" is two of them)
    assert conditions_said(proc, "dự án đầu tư cần giấy phép môi trường") == ()


def test_only_keys_of_named_conditions_are_kept_never_the_words():
    situation = Situation(said=(condition_key("cơ sở đang hoạt động"),))
    assert Situation.from_json(situation.to_json()) == situation
    assert "hoạt" not in situation.to_json()
    junk = '{"said": ["0123abcd", "not a key", 7, "ABCDEF01", "' + "f" * 9 + '"]}'
    assert Situation.from_json(junk).said == ("0123abcd",)
    many = Situation(said=tuple(f"{i:08x}" for i in range(40)))
    assert len(Situation().merged(many).said) == 16 and Situation().merged(many).said[-1] == f"{39:08x}"


def test_a_word_typed_with_accents_names_only_itself():
    from knowledge_base.conditions import named_among

    headings = ["sử dụng nước tự chảy trong moong khai thác khoáng sản", "khai thác quy mô nhỏ của hộ gia đình"]
    assert named_among(headings, "khai thác khoảng 15 m3") is None  # "khoảng" (about) is no "khoáng" (mineral)
    assert named_among(headings, "khai thac khoang 15 m3") == 1  # typed without accents, it may be (nothing tells)
    assert named_among(headings, "moong khai thác khoáng sản") == 1
    assert named_among(headings, "moong khai thac khoang san") == 1  # typed without accents: any accent
    assert named_among(["đất bị sạt lở", "đất bị thu hồi"], "đất bị sạt lỡ mất một phần") == 1  # ngã for hỏi
    assert named_among(["đất bị sạt lở", "đất bị thu hồi"], "đất bị sạt lơ") == 1  # no tone typed: any
    assert named_among(["nhận thừa kế đất", "nhận tặng cho"], "nhan thừa kê dat") == 1


def _keys(proc):
    return [condition_key(d.condition) for d in proc.document_cases[0].documents[:2]]


def test_a_later_message_replaces_what_it_speaks_of(catalogue):
    proc = catalogue.get("1.001662")
    small, pit = _keys(proc)
    assert conditions_said(proc, SMALL_WELL) == (small,)
    # "à nhầm": the amount said again names none, so the earlier one goes; other keys stay
    assert conditions_said(proc, "à nhầm, khoảng 15 m3 mỗi ngày", ("0123abcd", small)) == ("0123abcd",)
    assert conditions_said(proc, "moong khai thác khoáng sản thì sao", (small,)) == (pit,)
    assert conditions_said(proc, "mất bao lâu", (small,)) == (small,)  # speaks of neither: kept


def test_a_group_with_two_named_settles_none(catalogue):
    found, needed, conditional = _papers(catalogue, "1.001662", Situation(said=tuple(_keys(catalogue.get("1.001662")))))
    assert "Mẫu 13" not in needed and len(conditional) == 2 and found.left_out == 0


def test_what_a_condition_excepts_is_not_settled_by_an_amount(catalogue):
    # "… không vượt quá 10m3/ngày đêm, trừ hộ gia đình khai thác … để dùng cho sinh hoạt của mình"
    proc = catalogue.get("1.001662")
    assert conditions_said(proc, "hộ gia đình tôi khoảng 8 m3 mỗi ngày dùng cho sinh hoạt") == ()


def test_forms_listed_side_by_side_are_one_of_and_the_named_one_is_the_citizen_s(catalogue):
    proc = catalogue.get("2.002835")  # four "Tờ khai …", one per kind of water use, none with a condition
    assert [len(g) for g in sibling_groups(proc.document_cases[0])] == [4]
    found, needed, conditional = _papers(catalogue, "2.002835", Situation())
    assert [len(g) for g in found.one_of] == [4] and not found.needed
    answer = compose_answer(proc, "documents", Settings(), situation=Situation())
    assert "Một trong các mẫu đơn, tờ khai sau" in answer.text
    said = conditions_said(proc, "doanh nghiep dao ho tru nuoc tao canh quan thi dang ky the nao")
    found, needed, conditional = _papers(catalogue, "2.002835", Situation(said=said))
    assert "Mẫu 17" in needed and "Mẫu 15" not in needed and not found.one_of and found.left_out == 3
    # papers that are not alternatives (an application and a statement of experience) are all needed
    drilling = catalogue.get("1.004122").document_cases[0]
    assert sibling_groups(drilling) == []


@pytest.mark.parametrize("code, text", [
    ("1.002338", "kiểm dịch động vật trên cạn vận chuyển ra khỏi tỉnh"),  # "trên cạn" is the procedure's name
    ("2.002835", "đăng ký khai thác nước mặt, nước biển"),  # so are "nước mặt", "nước biển"
    ("1.001662", "8 m3 mỗi ngày lấy từ moong khai thác khoáng sản"),  # the amount and a phrase disagree
    ("1.001662", "khoảng 5 m3 mỗi phút"),  # a rate the bound is not in
])
def test_words_that_do_not_tell_one_paper_name_none(catalogue, code, text):
    assert conditions_said(catalogue.get(code), text) == ()


def test_an_exception_s_words_the_condition_shares_do_not_block_it(catalogue):
    # "trừ hộ gia đình khai thác nước dưới đất …": "khai thác nước dưới đất" is the whole record's subject
    proc = catalogue.get("1.001662")
    assert conditions_said(proc, "công ty khai thác nước dưới đất 8 m3/ngày") == (_keys(proc)[0],)


@pytest.mark.parametrize("text", ["quoc lo 1 ha tinh", "mã KT12m3", "2 ha nam", "ở Hà Nội 3 hà"])
def test_places_and_codes_are_no_amounts(text):
    assert amounts(text) == []


def test_a_range_per_day_bounds_both_ends():
    assert admits("từ 10 m3/ngày đêm đến dưới 100 m3/ngày đêm", [(5.0, "m3", "day")]) is False
    assert admits("từ 10 m3/ngày đêm đến dưới 100 m3/ngày đêm", [(50.0, "m3", "day")]) is True


def test_alternatives_count_once_and_only_those_for_the_citizen_are_one_of(catalogue):
    from knowledge_base.conditions import paper_count
    from knowledge_base.schema import Document, DocumentCase

    assert paper_count(catalogue.get("2.002835")) == 1  # "Hồ sơ gồm 1 loại giấy tờ": one of four forms
    assert paper_count(catalogue.get("1.013831")) == len(catalogue.get("1.013831").documents)
    forms = DocumentCase(name="", documents=[
        Document(name="Tờ khai đăng ký nuôi cá theo Mẫu 01", form_number="Mẫu số 01"),
        Document(name="Tờ khai đăng ký nuôi tôm theo Mẫu 02", form_number="Mẫu số 02",
                 applicant_types=["foreigner"]),
        Document(name="Bản sao giấy chứng nhận đăng ký doanh nghiệp"),
    ])
    found = checklist(forms, Situation())  # the foreigner's form is not this citizen's: one form left, needed
    assert not found.one_of and [d.form_number for d in found.needed][:1] == ["Mẫu số 01"]
    assert len(checklist(forms, Situation(applicant="foreigner")).one_of) == 1


def test_a_form_number_is_added_unless_the_name_holds_it_whole():
    from knowledge_base.checklist import item
    from knowledge_base.schema import Document

    assert "(Mẫu số 1)" in item(Document(name="Tờ khai theo Mẫu 13 kèm theo Nghị định", form_number="Mẫu số 1"))
    assert "(Mẫu số 13)" not in item(Document(name="Tờ khai theo Mẫu 13 kèm theo Nghị định", form_number="Mẫu số 13"))
