"""Other agencies' services: the table, its matching, and the knowledge base's redirect."""
import pytest
import yaml

from core.text import fold
from knowledge_base.scope import OtherAgencies
from knowledge_base.text import DATA_DIR, PhraseTable, words


def test_no_term_names_one_of_our_procedures(catalogue):
    """A term that occurs in a procedure's name would turn our own questions away."""
    with open(DATA_DIR / "other_domains.yml", encoding="utf-8") as fh:
        groups = yaml.safe_load(fh)["agencies"]
    names = [" " + " ".join(words(fold(p.name))) + " " for p in catalogue]
    terms = [" ".join(words(fold(t))) for group in groups for t in group["terms"]]
    assert len(terms) > 100
    clashes = {t: n.strip()[:80] for t in terms for n in names if f" {t} " in n}
    assert clashes == {}


@pytest.mark.parametrize("text, agency", [
    ("làm hộ chiếu ở đâu", "Công an"),
    ("lam ho chieu o dau", "Công an"),
    ("dang ky ket hon can giay to gi", "Ủy ban nhân dân xã"),
    ("Đăng ký xe máy cần gì", "Công an"),
    ("tra cứu BHXH", "Bảo hiểm xã hội"),
    ("cấp lại sổ đỏ bị mất", None),
    ("hồ chiếu", None),  # accents typed must match: not "hộ chiếu"
    ("làm căn cước mất bao lâu", "Công an"),
    ("làm cccd ở đâu", "Công an"),
    # papers our own procedures ask for, and questions that name our procedures, are ours
    ("có cần căn cước không", None),
    ("sang tên sổ đỏ có cần căn cước công dân không", None),
    ("thừa kế đất cần giấy khai sinh không", None),
    ("có cần giấy đăng ký kết hôn không", None),
    ("làm sổ hộ khẩu ở đâu", "Công an"),  # "sổ hộ khẩu" is longer than our "sổ"
    # mixed questions: another agency's word, but the question is about one of our procedures
    ("hộ kinh doanh xin giấy phép xả thải ở đâu", None),
    ("doanh nghiep da co giay phep kinh doanh xin khai thac nuoc ngam the nao", None),
    ("nguoi nuoc ngoai co visa mua nha dat duoc khong", None),
    ("đăng ký kinh doanh chăn nuôi gia cầm có cần kiểm dịch không", None),
    # generic words left over do not make another agency's question ours
    ("cấp đổi bằng lái xe ở đâu", "Công an"),
    ("đăng ký tạm trú cần gì", "Công an"),
    ("học bạ của con bị mất", "Giáo dục"),
    # another agency named; unaccented "so" of a protected phrase ("số mấy", "số điện thoại") is not "sổ"
    ("giờ làm việc của chi cục thuế", "Thuế"),
    ("tong dai cong an la so may", "Công an"),
    ("so dien thoai cuu hoa", "Công an"),
    ("văn phòng công chứng có làm thứ bảy không", "công chứng"),
    ("lam so do o so nong nghiep", None),
    # tobacco trade is Công Thương's; the crop, and quitting, are no trade
    ("giấy phép bán lẻ thuốc lá ở tiệm tạp hóa", "Công Thương"),
    ("kinh doanh thuoc la dien tu co can giay phep ko", "Công Thương"),
    ("trồng cây thuốc lá có cần đăng ký giống không", None),
    ("làm sao để bỏ thuốc lá", None),
    # a labour accident is social insurance's; a disaster-response team's injuries, fishers' and mines' are ours
    ("giam dinh y khoa ty le thuong tat sau tai nan lao dong", "Bảo hiểm xã hội"),
    ("công nhân bị tai nạn lao động thì hưởng chế độ gì", "Bảo hiểm xã hội"),
    ("đội viên xung kích bị tai nạn lao động khi đi cứu lũ có được trợ cấp không", None),
    ("luc luong xung kich phong chong thien tai bi tai nan lao dong", None),
    ("hỗ trợ ngư dân bị tai nạn lao động khi khai thác hải sản xa bờ", None),
    ("giấy phép khai thác đá có cần kế hoạch phòng tai nạn lao động không", None),
    # what an identity card says is also why land is registered anew
    ("đăng ký biến động do thay đổi thông tin trên thẻ căn cước", None),
])
def test_agency_for(text, agency):
    found = OtherAgencies.default().agency_for(text)
    assert (found is None) if agency is None else (agency in found)


def test_phrase_table_is_leftmost_longest_and_accent_aware():
    table = PhraseTable([("sổ", 1), ("sổ đỏ", 2), ("hồ sơ", 3)])
    assert table.find(["so", "do", "so"], ["sổ", "đỏ", "so"]) == [(0, 2, 2), (2, 3, 1)]
    assert table.find(["ho", "so"], ["hồ", "sơ"]) == [(0, 2, 3)]
    assert table.find(["so"], ["số"]) == []
    strict = PhraseTable([("dở", "bad"), ("dở ẹc", "bad")], strict_words=True)
    assert strict.find(["do"], ["do"]) == [] and strict.find(["do"], ["dở"]) == [(0, 1, "bad")]
    assert strict.find(["do", "ec"], ["do", "ec"]) == [(0, 2, "bad")]


@pytest.mark.parametrize("question, agency", [
    ("làm căn cước mất bao lâu", "Công an"),
    ("lam ho chieu o dau", "Công an"),
    ("đăng ký kết hôn cần giấy tờ gì", "Ủy ban nhân dân xã"),
    ("chuyen nhuong dat cho con sau khi ly hon", None),
    ("tach thua can gi", None),
    ("xin visa đi Nhật", "Công an"),
    ("nop ho so qua vneid duoc khong", None),  # VNeID is one of our channels
    ("tải ứng dụng vneid", "Công an"),
])
def test_knowledge_base_other_agency_needs_no_index(tmp_path, question, agency):
    from core.settings import Settings
    from knowledge_base.service import KnowledgeBase

    kb = KnowledgeBase(Settings.of(index_dir=tmp_path / "none", embedding_model=str(tmp_path / "no-model")))
    found = kb.other_agency(question)
    assert (found is None) if agency is None else (agency in found)
    assert kb._retriever is None
