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
    # an expired paper is extended or issued again, whichever the procedure does
    ("giấy phép khai thác nước ngầm của cty hết hạn tháng sau", {"renew", "reissue"}),
    ("xin them thoi gian tham do khoang san vi chua lam xong", {"renew"}),
    ("gp xả thải quá hạn rồi thì làm sao", {"renew", "reissue"}),
    ("gia han gp khai thac nuoc duoi dat", {"renew"}),
    ("giấy phép xả thải hết hạn rồi, xin gia hạn thế nào", {"renew"}),  # it names which
    ("nhà tôi bị cháy mất sổ đỏ", {"reissue"}),
    ("so do cu qua, muon cap doi sang mau moi", {"reissue"}),
    ("tôi đã mất sổ đỏ rồi làm lại thế nào", {"reissue"}),
    ("bố tôi đã mất, xin cấp lại sổ đỏ bị cháy", {"reissue"}),  # "cấp lại" said outright
    ("muon thay doi, bo sung pham vi chi dinh phong kiem nghiem", {"amend"}),
    ("mat giay dang ky tau ca", {"reissue"}),
    ("so do bi rach nat", {"reissue"}),
    ("muon nang cong suat mo cat len 30 nghin m3", {"amend"}),
    ("ko dung gieng khoan nua thi tra giay phep the nao", {"return"}),
    ("nha may ko dùng giếng khoan nữa", {"return"}),
    ("muốn trả gp khai thác cát", {"return"}),
    ("ban lai mo da dang khai thac cho cong ty khac", {"transfer"}),
    ("xoa dang ky tau ca bi chim", {"deregister"}),
    ("khảo sát xong rồi thì xin xác nhận kết quả khảo sát ở đâu", {"results"}),
    ("da tham do xong, nop bao cao ket qua tham do cho ai", {"results"}),
    # none asked: a first request, and look-alikes of the patterns
    ("xin giấy phép khai thác khoáng sản cần gì", set()),
    ("tach thua mat bao lau", set()),
    ("Hút cát lòng sông để bán thì xin phép mất bao lâu, hồ sơ gồm những gì?", set()),
    ("tàu cá đứng tên bà nội, nay bà mất, chuyển qua tên tôi", set()),
    ("bố tôi mất sổ đỏ vẫn đứng tên bố, anh em muốn chia thừa kế", set()),
    ("bồi thường giải phóng mặt bằng thì hỏi ai", set()),
    ("nộp rồi thì kiểm tra lại hồ sơ ở đâu", set()),
    ("bán lại một phần đất cho hàng xóm", set()),
    ("sổ đỏ bị huỷ thì làm sao", set()),
    ("tạm thời khai thác cát để san lấp có được không", set()),
    ("tham gia hành nghề đo đạc cần chứng chỉ gì", set()),
    ("thủ tục này áp dụng cấp đối với hộ gia đình không", set()),
    ("muốn khảo sát đất làm vật liệu san lấp thì xin phép ai", set()),  # to be allowed, not its results
    ("thăm dò xong muốn xin giấy phép khai thác khoáng sản cần gì", set()),  # the next procedure
    ("khi nào có kết quả", set()),
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
    ("Xác nhận kết quả khảo sát, đánh giá thông tin chung đối với khoáng sản nhóm IV", {"results"}, True),
    ("Chấp thuận khảo sát, đánh giá thông tin chung đối với khoáng sản nhóm IV", set(), False),
])
def test_the_actions_a_name_does_and_whether_it_leads_with_one(table, name, actions, leading):
    assert set(table.named_in(name)) == actions
    assert table.leading(name) is leading


def test_every_official_name_read_as_a_question_fits_its_own_procedure(table, catalogue):
    """No procedure is marked down when a citizen types its own name: the table's two sides agree."""
    procedures = list(catalogue)
    names = [p.name for p in procedures]
    procs = ProcedureActions.of(names, table)
    normalizer = TextNormalizer.default()
    misfits = [(p.code, procs.features(table.asked_in(normalizer.normalize(p.name)), i))
               for i, p in enumerate(procedures)]
    assert [m for m in misfits if m[1] != [0.0, 0.0]] == []
    assert len(procedures) > 300


def test_a_question_asking_an_action_the_name_does_not_do_is_a_mismatch_and_a_first_request_shuns_extensions(table):
    names = ["Cấp giấy phép thăm dò khoáng sản", "Gia hạn giấy phép thăm dò khoáng sản",
             "Cấp, cấp lại, gia hạn chứng chỉ hành nghề"]
    procs = ProcedureActions.of(names, table)
    renew = frozenset({"renew"})
    assert [procs.features(renew, i) for i in range(3)] == [[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]]
    assert [procs.features(frozenset(), i) for i in range(3)] == [[0.0, 0.0], [0.0, 1.0], [0.0, 0.0]]
    # a match is never a reward: "gia hạn visa" is no surer of a procedure for it
    assert features(renew, frozenset({"renew"}), True) == [0.0, 0.0]


def test_a_name_leading_with_another_action_than_the_one_asked_contradicts_the_question(table):
    names = ["Trả lại giấy phép hành nghề khoan nước dưới đất", "Cấp giấy phép hành nghề khoan nước dưới đất",
             "Cấp, cấp lại, gia hạn chứng chỉ hành nghề",
             "Bổ sung khối lượng công tác thăm dò khi giấy phép thăm dò khoáng sản đã hết thời hạn"]
    procs = ProcedureActions.of(names, table)
    normalize = TextNormalizer.default().normalize
    again = table.said_in(normalize("cấp lại giấy phép hành nghề khoan nước dưới đất mất bao lâu"))
    assert again == {"reissue"}
    # returning is no reissue; a first issue names no action to contradict; one that names the reissue fits
    assert [procs.contradicts(again, i) for i in range(3)] == [True, False, False]
    # "hết hạn" only implies an extension or a new issue: an amendment for an expired licence is not contradicted
    told = normalize("giấy phép thăm dò hết hạn, đơn vị phải khoan thêm thì xin gì")
    assert asked(table, told) == {"renew", "reissue"} and table.said_in(told) == frozenset()
    assert procs.leading[3] and not procs.contradicts(table.said_in(told), 3)
    assert procs.contradicts(table.said_in(normalize("xin gia hạn giấy phép thăm dò")), 3)
    # a lost paper is issued again, but the words name no action: nothing is contradicted by them
    assert table.said_in(normalize("giấy phép khoan bị mất")) == frozenset()


def test_a_sure_match_for_another_action_than_the_one_asked_is_offered_not_answered(retriever, monkeypatch):
    from knowledge_base.retrieval.actions import ProcedureActions as Actions

    question = "cap lai so do bi mat the nao"
    result = retriever.search(question)
    assert result.decision == "answer" and result.best is not None
    top = retriever._index_of[result.best.code]
    # the same search, the top procedure's name leading with an action the question does not ask
    leading = tuple(True if i == top else lead for i, lead in enumerate(retriever.actions.leading))
    named = tuple(frozenset({"return"}) if i == top else n for i, n in enumerate(retriever.actions.named))
    monkeypatch.setattr(retriever, "actions", Actions(retriever.actions.table, named, leading))
    again = retriever.search(question)
    assert again.decision == "choose" and again.best.code == result.best.code


def test_a_malformed_table_is_refused_with_the_entry_named(tmp_path):
    path = tmp_path / "actions.yml"
    path.write_text("renew:\n  asked: ['gia han(']\n  named: ['gia han']\n", encoding="utf-8")
    with pytest.raises(ValueError, match="renew.asked"):
        ActionTable.load(path)
    path.write_text("renew:\n  asked: ['gia han']\n", encoding="utf-8")
    with pytest.raises(ValueError, match="renew.named: no pattern"):
        ActionTable.load(path)
    for text, message in [
        ("renew:\n  asked: 'gia han'\n  named: ['gia han']\n", "renew.asked: expected a list"),
        ("renew:\n  asked: ['']\n  named: ['gia han']\n", "renew.asked: expected a list"),
        ("renew:\n  asked: [null]\n  named: ['gia han']\n", "renew.asked: expected a list"),
        ("renew:\n", "renew: expected some of"),
        ("renew:\n  asked: ['gia han']\n  name: ['gia han']\n", "renew: expected some of"),
        ("renew:\n  named: ['gia han']\n", "renew.asked: no pattern"),
        ("expired:\n  asked: ['het han']\n  done_by: [renew]\n", "expired.done_by: no action named renew"),
        ("renew:\n  asked: ['gia han', '(?:x)?']\n  named: ['gia han']\n", "renew.asked: .* every text"),
    ]:
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ValueError, match=message):
            ActionTable.load(path)
    path.write_text("renew: [gia han\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not YAML"):
        ActionTable.load(path)
