"""Answers composed from the record: aspect, source, province fee note, next step."""
import pytest

from knowledge_base.answers import compose_answer, detect_aspect
from motcua.settings import Settings


@pytest.mark.parametrize("question, aspect", [
    ("lam so do mat bao lau", "time"),
    ("Làm sổ đỏ mất bao lâu?", "time"),
    ("le phi tach thua bao nhieu", "fees"),
    ("cần giấy tờ gì", "documents"),
    ("nop online dc ko", "channels"),
    ("nộp hồ sơ ở đâu", "where"),
    ("các bước làm thế nào", "steps"),
    ("điều kiện tách thửa", "conditions"),
    ("căn cứ pháp lý", "legal"),
    ("tach thua", "general"),
])
def test_detect_aspect(question, aspect):
    assert detect_aspect(question) == aspect


@pytest.fixture
def lost_certificate(catalogue):
    return catalogue.get("1.012786")


@pytest.mark.parametrize("aspect", ["documents", "fees", "time", "steps", "where", "channels", "conditions",
                                    "result", "legal", "general"])
def test_every_aspect_names_procedure_source_and_next_step(lost_certificate, aspect):
    answer = compose_answer(lost_certificate, aspect, Settings())
    text = answer.text
    assert "Cấp lại Giấy chứng nhận do bị mất" in text and "1.012786" in text
    assert "Quyết định 3380/QĐ-BNNMT" in text and "https://dichvucong.gov.vn/" in text
    assert answer.messages[-1].rstrip().endswith("?")
    assert all(len(m) <= 1100 for m in answer.messages)


def test_fees_note_when_set_by_the_province(lost_certificate):
    text = compose_answer(lost_certificate, "fees", Settings()).text
    assert "do HĐND/UBND cấp tỉnh quy định" in text


def test_time_per_channel(lost_certificate):
    text = compose_answer(lost_certificate, "time", Settings()).text
    assert "Trực tuyến: 10 ngày làm việc" in text and "Trực tiếp: 20 ngày làm việc" in text


def test_documents_list_cases_and_counts(lost_certificate):
    text = compose_answer(lost_certificate, "documents", Settings()).text
    assert "a) Đối với trường hợp cấp lại Giấy chứng nhận bị mất" in text
    assert "(1 bản chính, 1 bản sao)" in text


def test_choices_and_unknown(catalogue):
    procs = [catalogue.get("1.012786"), catalogue.get("1.012783")]
    answer = compose_answer(None, "time", Settings(), candidates=procs)
    assert [c["payload"] for c in answer.choices] == ["1.012786", "1.012783"]
    unknown = compose_answer(None, "general", Settings(hotline="0123 456 789"))
    assert "0123 456 789" in unknown.text and unknown.code is None
