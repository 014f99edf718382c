"""Parts of a case another agency decides: found in citizens' words, ours left alone."""
import pytest

from knowledge_base.limits import Limits


@pytest.mark.parametrize("question, topic", [
    ("thế có phải nộp thuế không", "tax"),
    ("the co phai nop thue khong", "tax"),
    ("sang tên sổ đỏ có phải nộp thuế thu nhập cá nhân không", "tax"),
    ("lệ phí trước bạ bao nhiêu", "tax"),
    ("hợp đồng có cần công chứng không", "notary"),
    ("cong chung hop dong o dau", "notary"),
    ("nhan thua ke dat cua bo me thi lam van ban khai nhan di san o dau", "notary"),
    ("đã ký hợp đồng chuyển nhượng có công chứng, giờ sang tên cần hồ sơ gì", None),  # the registration after it
    ("hop dong cong chung xong roi thi nop ho so sang ten o dau", None),
    ("đã khai nhận di sản rồi, giờ sang tên sổ đỏ cần gì", None),
    ("hợp đồng tặng cho đất có công chứng không", "notary"),
    ("hop dong chuyen nhuong co cong chung khong", "notary"),
    ("sang tên sổ đỏ do thừa kế có cần văn bản khai nhận di sản không", None),  # a paper of our checklist
    ("dang ky ket hon o dau", "marriage"),
    ("xoa no le phi truoc ba tren so do", None),  # 1.013988 is ours
    ("thuê đất làm trang trại", None),  # rent, not tax
    ("le phi bao nhieu", None),
    ("chung nhan gao thom duoc mien thue nhap khau", None),
])
def test_limits_are_found_and_ours_are_not(question, topic):
    found = Limits.default().find(question)
    assert (found.topic if found else None) == topic


def test_every_limit_names_its_agency_and_ends_a_sentence():
    for limit in Limits.default().topics.values():
        assert limit.agency and limit.answer.endswith(".") and len(limit.answer) <= 600


def test_a_topic_s_procedure_is_one_of_ours(catalogue):
    named = [t for t in Limits.default().topics.values() if t.procedure]
    assert named and all(catalogue.get(t.procedure) is not None for t in named)


@pytest.mark.parametrize("question, procedure", [
    ("công chứng hợp đồng mua bán đất ở đâu", "1.013831"),
    ("cong chung hop dong tang cho nha dat o dau", "1.013831"),
    ("công chứng hợp đồng mua bán xe máy ở đâu", None),
    ("công chứng di chúc ở đâu", None),
    ("phí công chứng bao nhiêu", None),
    ("công chứng hợp đồng thuê nhà ở đâu", None),
    ("công chứng hợp đồng thế chấp sổ đỏ ở đâu", None),
    ("công chứng hợp đồng chuyển nhượng nhà ở đâu", "1.013831"),
])
def test_a_topic_leads_to_its_procedure_only_when_the_question_names_its_subject(question, procedure):
    found = Limits.default().find(question)
    assert found is not None and found.topic == "notary" and found.procedure == procedure
