"""The actions a question asks for (extend, reissue, amend, return, transfer, deregister) against the names'."""
import pytest

from knowledge_base.retrieval.actions import ActionTable, ProcedureActions, features
from knowledge_base.text import TextNormalizer


@pytest.fixture(scope="module")
def table():
    return ActionTable.load()


def asked(table, question):
    return set(table.asked_in(TextNormalizer.default().normalize(question)))


@pytest.mark.parametrize("question, actions", [
    ("giấy phép khai thác nước ngầm của cty hết hạn tháng sau", {"renew"}),
    ("xin them thoi gian tham do khoang san vi chua lam xong", {"renew"}),
    ("gp xả thải quá hạn rồi thì làm sao", {"renew"}),
    ("nhà tôi bị cháy mất sổ đỏ", {"reissue"}),
    ("mat giay dang ky tau ca", {"reissue"}),
    ("so do bi rach nat", {"reissue"}),
    ("muon nang cong suat mo cat len 30 nghin m3", {"amend"}),
    ("ko dung gieng khoan nua thi tra giay phep the nao", {"return"}),
    ("ban lai mo da dang khai thac cho cong ty khac", {"transfer"}),
    ("xoa dang ky tau ca bi chim", {"deregister"}),
    # none asked: a first request, and look-alikes of the patterns
    ("xin giấy phép khai thác khoáng sản cần gì", set()),
    ("tach thua mat bao lau", set()),
    ("Hút cát lòng sông để bán thì xin phép mất bao lâu, hồ sơ gồm những gì?", set()),
    ("tàu cá đứng tên bà nội, nay bà mất, chuyển qua tên tôi", set()),
])
def test_the_actions_a_question_asks_for_are_read_from_its_words(table, question, actions):
    assert asked(table, question) == actions


@pytest.mark.parametrize("name, actions, leading", [
    ("Cấp giấy phép khai thác khoáng sản (cấp Tỉnh)", set(), False),
    ("Gia hạn giấy phép thăm dò khoáng sản (cấp Tỉnh)", {"renew"}, True),
    ("Cấp gia hạn, điều chỉnh nội dung giấy phép cho các hoạt động trong phạm vi bảo vệ công trình thủy lợi",
     {"renew", "amend"}, True),
    ("Cấp lại giấy chứng nhận đăng ký tàu cá", {"reissue"}, True),
    ("Cấp, cấp lại giấy chứng nhận cơ sở đủ điều kiện sản xuất thức ăn thủy sản", {"reissue"}, False),
    ("Trả lại giấy phép khai thác khoáng sản (cấp Tỉnh)", {"return"}, True),
    ("Chuyển nhượng quyền khai thác khoáng sản (cấp Tỉnh)", {"transfer"}, True),
])
def test_the_actions_a_name_does_and_whether_it_leads_with_one(table, name, actions, leading):
    assert set(table.named_in(name)) == actions
    assert table.leading(name) is leading


def test_a_question_asking_an_action_the_name_does_not_do_is_a_mismatch_and_a_first_request_shuns_extensions(table):
    names = ["Cấp giấy phép thăm dò khoáng sản", "Gia hạn giấy phép thăm dò khoáng sản",
             "Cấp, cấp lại, gia hạn chứng chỉ hành nghề"]
    procs = ProcedureActions.of(names, table)
    renew = frozenset({"renew"})
    assert [procs.features(renew, i) for i in range(3)] == [[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]]
    assert [procs.features(frozenset(), i) for i in range(3)] == [[0.0, 0.0], [0.0, 1.0], [0.0, 0.0]]
    # a match is never a reward: "gia hạn visa" is no surer of a procedure for it
    assert features(renew, frozenset({"renew"}), True) == [0.0, 0.0]


def test_a_malformed_table_is_refused_with_the_entry_named(tmp_path):
    path = tmp_path / "actions.yml"
    path.write_text("renew:\n  asked: ['gia han(']\n  named: ['gia han']\n", encoding="utf-8")
    with pytest.raises(ValueError, match="renew.asked"):
        ActionTable.load(path)
    path.write_text("renew:\n  asked: ['gia han']\n", encoding="utf-8")
    with pytest.raises(ValueError, match="renew.named: no pattern"):
        ActionTable.load(path)
    path.write_text("renew: [gia han\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not YAML"):
        ActionTable.load(path)
