"""The checklist for a citizen's case: structured documents, situations, pages, short answers."""
import re

import pytest

from core.settings import Settings
from knowledge_base.answers import compose_answer
from knowledge_base.checklist import applicant_fits, checklist, requested_case
from knowledge_base.importer.structure import form_number, short_name, split_condition
from knowledge_base.situation import FIRST_REQUEST, Situation, SituationTable, read_situation

INHERITANCE = "bố tôi mất để lại mảnh đất, 3 anh em tôi muốn sang tên sổ đỏ thì cần giấy tờ gì"


@pytest.fixture
def transfer(catalogue):
    return catalogue.get("1.013831")


def test_the_inheritance_checklist_is_the_siblings_own(transfer):
    answer = compose_answer(transfer, "documents", Settings(), situation=read_situation(INHERITANCE))
    first = answer.messages[0]
    items = [line for line in first.splitlines() if line.startswith("- ")]
    assert "Mẫu số 18" in items[0]  # the application form first
    assert "thỏa thuận về việc cấp chung một Giấy chứng nhận" in first  # three siblings, one certificate
    assert "thế chấp" not in answer.text and "cho thuê" not in answer.text  # other situations' papers
    assert "…" not in first and "xem đủ" not in answer.text
    assert "trường hợp thừa kế" in first and len(first) <= 1500
    assert "Nếu" in first  # papers for circumstances not yet known are grouped, not dropped


def test_a_case_dependent_checklist_asks_the_case_first(transfer):
    answer = compose_answer(transfer, "documents", Settings(), situation=read_situation("sang ten so do can gi"))
    assert [o["case"] for o in answer.ask_case][:3] == ["inheritance", "gift", "sale"]
    assert answer.text.rstrip().endswith("?") and "thừa kế" in answer.text and len(answer.messages) == 1
    assert compose_answer(transfer, "fees", Settings()).ask_case == []  # only the checklist depends on it


def test_a_gift_gets_the_contract_the_law_s_transfer_of_rights_covers(transfer):
    """The record's contract lists exchange, sale, inheritance and capital, not the gift case a) names."""
    text = compose_answer(transfer, "documents", Settings(), situation=Situation(case="gift")).text
    assert "Hợp đồng hoặc văn bản về việc chuyển quyền sử dụng đất" in text
    table = SituationTable.default()
    contract = "Hợp đồng về việc chuyển quyền sử dụng đất"
    assert table.widen(contract, frozenset({"sale", "inheritance"})) >= {"gift", "exchange", "capital"}
    assert table.widen(contract, frozenset({"inheritance"})) == {"inheritance"}  # one case named: deliberate
    assert table.widen("Văn bản thỏa thuận", frozenset({"sale", "gift"})) == {"sale", "gift"}


def test_a_sale_lists_the_mortgagees_consent_under_if(transfer):
    text = compose_answer(transfer, "documents", Settings(), situation=Situation(case="sale")).text
    assert re.search(r"Nếu chuyển nhượng, tặng cho .*đang được thế chấp.*, thêm:", text)
    sold = compose_answer(transfer, "documents", Settings(), situation=Situation(case="sale", conditions=("mortgage",)))
    consent = next(line for line in sold.text.splitlines() if "bên nhận thế chấp" in line)
    assert consent.startswith("- ")  # the citizen said the land is mortgaged: simply needed


def test_the_land_users_consent_to_sell_a_house_alone_is_no_paper_of_an_ordinary_sale(transfer):
    # "… đối với trường hợp chuyển nhượng … bằng tài sản gắn liền với đất mà chủ sở hữu tài sản không có quyền sử dụng
    # đất": a sale of the land with it needs no such consent
    from knowledge_base.checklist import checklist

    consent = "Văn bản của người sử dụng đất đồng ý cho chủ sở hữu tài sản"
    sale = checklist(transfer.document_cases[0], Situation(case="sale"))
    assert not any(d.paper.startswith(consent) for d in sale.needed)
    assert any(d.paper.startswith(consent) for _, papers in sale.conditional for d in papers)
    assert read_situation("tôi chỉ bán nhà không bán đất").conditions == ("asset_without_land",)
    # a buyer without land rights (a foreigner buying a house) is no owner selling a house apart from its land
    assert read_situation("tôi là người nước ngoài nên không có quyền sử dụng đất").conditions == ()
    alone = checklist(transfer.document_cases[0], Situation(case="sale", conditions=("asset_without_land",)))
    assert any(d.paper.startswith(consent) for d in alone.needed)


def test_where_says_who_files_where(transfer):
    text = compose_answer(transfer, "where", Settings()).text
    assert "Cá nhân, cộng đồng dân cư" in text and "Chi nhánh Văn phòng đăng ký đất đai" in text
    assert "Trung tâm Phục vụ hành chính công" in text
    own = compose_answer(transfer, "where", Settings(), situation=Situation(applicant="individual")).text
    assert "Tổ chức trong nước" not in own and "Cá nhân" in own


def test_follow_ups_carry_the_short_name_not_the_title(transfer):
    answer = compose_answer(transfer, "fees", Settings())
    assert "trong các trường hợp chuyển đổi" not in answer.text and "1.013831" in answer.text
    assert len(answer.messages[0]) <= 700


def test_long_checklists_continue_on_pages_with_nothing_lost(catalogue):
    paged = [p for p in catalogue.procedures.values()
             if compose_answer(p, "documents", Settings()).more and len(p.document_cases) == 1]
    assert paged, "some record needs more than one page"
    proc = paged[0]
    seen, page, more = [], 1, True
    while more:
        answer = compose_answer(proc, "documents", Settings(), page=page)
        seen += [line.strip() for line in answer.messages[0].splitlines() if line.strip().startswith("- ")]
        more = answer.more
        page = more["page"] if more else page
        assert all(len(m) <= 1500 for m in answer.messages)
    case = proc.document_cases[0]
    assert len(seen) == len(case.documents) and len(set(seen)) == len(seen)


def test_every_answer_fits_its_budget_and_is_never_cut(catalogue):
    for proc in catalogue.procedures.values():
        for aspect in ("documents", "fees", "time", "where", "channels", "steps", "general"):
            for situation in (Situation(), Situation(case="inheritance"), Situation(applicant="organisation")):
                answer = compose_answer(proc, aspect, Settings(), situation=situation)
                budget = 700 if aspect in ("fees", "time", "where", "channels") else 1500
                assert all(len(m) <= budget for m in answer.messages), (proc.code, aspect)
                assert "xem đủ" not in answer.text, (proc.code, aspect)


def test_every_page_of_every_case_fits_a_bubble_with_nothing_lost(catalogue):
    for proc in catalogue.procedures.values():
        for case in range(1, len(proc.document_cases) + 1):
            page, seen = 1, []
            while page:
                answer = compose_answer(proc, "documents", Settings(), case=case, page=page)
                assert all(len(m) <= 1500 for m in answer.messages), (proc.code, case, page)
                seen.append(" ".join(answer.text.split()))
                page = answer.more["page"] if answer.more else 0
            # a record's 1,700-character condition (1.011470) continues in the next bubble, whole, once, with its
            # paper under it (not alone on a page and again on the next)
            for doc in proc.document_cases[case - 1].documents:
                if doc.condition and len(doc.condition) > 1500:
                    condition = " ".join(doc.condition.rstrip(" .:").split())
                    assert " ".join(seen).count(condition) == 1, (proc.code, case)
                    page_of = next(text for text in seen if condition in text)
                    assert " ".join(doc.paper.split())[:60] in page_of, (proc.code, case)


@pytest.mark.parametrize("name, paper, condition, required", [
    ("Văn bản thỏa thuận về việc cấp chung một Giấy chứng nhận đối với trường hợp có nhiều người nhận chuyển quyền.",
     "Văn bản thỏa thuận về việc cấp chung một Giấy chứng nhận", "có nhiều người nhận chuyển quyền", True),
    ("Giấy tờ chứng minh quyền sử dụng đất (nếu có)", "Giấy tờ chứng minh quyền sử dụng đất", "", False),
    ("Trường hợp có biên bản họp thì người sử dụng đất chỉ nộp bản gốc Giấy chứng nhận.",
     "Người sử dụng đất chỉ nộp bản gốc Giấy chứng nhận", "có biên bản họp", True),
    ("Bản gốc Giấy chứng nhận đã cấp.", "Bản gốc Giấy chứng nhận đã cấp", "", True),
    # an exception is no condition: the paper is needed unless that case, and shown whole
    ("Sơ đồ nhà ở, công trình xây dựng, trừ trường hợp đã nộp giấy tờ có sơ đồ phù hợp với hiện trạng.",
     "Sơ đồ nhà ở, công trình xây dựng, trừ trường hợp đã nộp giấy tờ có sơ đồ phù hợp với hiện trạng", "", True),
    ("Giấy A, trừ trường hợp đã nộp bản chính hoặc trường hợp nộp trực tuyến.",
     "Giấy A, trừ trường hợp đã nộp bản chính hoặc trường hợp nộp trực tuyến", "", True),
    ("Giấy B, trừ các trường hợp được miễn theo quy định.", "Giấy B, trừ các trường hợp được miễn theo quy định",
     "", True),
    # what to do instead in one case is no condition of the paper (1.003634: a lost certificate is declared)
    ("Bản chính Giấy chứng nhận đăng ký tàu cá hoặc Giấy xác nhận đã đăng ký; trường hợp Giấy chứng nhận đăng ký tàu "
     "cá bị mất, chủ tàu phải khai báo và nêu rõ lý do",
     "Bản chính Giấy chứng nhận đăng ký tàu cá hoặc Giấy xác nhận đã đăng ký; trường hợp Giấy chứng nhận đăng ký tàu "
     "cá bị mất, chủ tàu phải khai báo và nêu rõ lý do", "", True),
    # what the case is, though it says "phải"
    ("Tài liệu chứng minh nguồn gốc, đối với trường hợp tổ chức, cá nhân không phải là người trực tiếp khai thác",
     "Tài liệu chứng minh nguồn gốc", "tổ chức, cá nhân không phải là người trực tiếp khai thác", True),
    # an owner is an applicant ("đối với chủ …"), and the form after the condition is the paper's (1.000045: the
    # CITES breeder's log is no paper of every seller of planted wood)
    ("Bản chính Sổ theo dõi nuôi, trồng đối với chủ cơ sở nuôi động vật, trồng thực vật thuộc Phụ lục CITES theo Mẫu "
     "số 10 Phụ lục II ban hành kèm theo Thông tư số 85/2025/TT-BNNMT",
     "Bản chính Sổ theo dõi nuôi, trồng theo Mẫu số 10 Phụ lục II ban hành kèm theo Thông tư số 85/2025/TT-BNNMT",
     "là chủ cơ sở nuôi động vật, trồng thực vật thuộc Phụ lục CITES", True),
    ("Sổ theo dõi nhập, xuất lâm sản đối với chủ lâm sản là tổ chức theo Mẫu số 04 Phụ lục II đối với trường hợp lâm "
     "sản là thực vật rừng.", "Sổ theo dõi nhập, xuất lâm sản theo Mẫu số 04 Phụ lục II",
     "chủ lâm sản là tổ chức và lâm sản là thực vật rừng", True),
    # a policy or a chairman is no owner
    ("Văn bản chấp thuận đối với chủ trương đầu tư dự án nuôi biển", "Văn bản chấp thuận đối với chủ trương đầu tư "
     "dự án nuôi biển", "", True),
    ("Văn bản ủy quyền đối với chủ tịch hội đồng thành viên ký thay", "Văn bản ủy quyền đối với chủ tịch hội đồng "
     "thành viên ký thay", "", True),
    # alternatives with a form each, the last one for a case (1.000070): the first is no paper of that case alone
    ("Báo cáo thăm dò theo Mẫu 38 hoặc báo cáo hiện trạng khai thác đối với trường hợp công trình đang hoạt động theo "
     "Mẫu 40.", "Báo cáo thăm dò theo Mẫu 38 hoặc báo cáo hiện trạng khai thác đối với trường hợp công trình đang hoạt "
     "động theo Mẫu 40", "", True),
    # "mẫu vật" is no form
    ("Bản chính Sổ theo dõi hoạt động đối với cơ sở sản xuất mẫu vật theo Mẫu số 29",
     "Bản chính Sổ theo dõi hoạt động theo Mẫu số 29", "là cơ sở sản xuất mẫu vật", True),
    # a form per case: alternatives of one paper, not both cases at once
    ("Tờ khai đăng ký tàu cá đối với trường hợp cấp mới theo Mẫu số 01 đối với trường hợp cấp lại theo Mẫu số 02",
     "Tờ khai đăng ký tàu cá đối với trường hợp cấp mới theo Mẫu số 01 đối với trường hợp cấp lại theo Mẫu số 02", "",
     True),
    # a list of papers, each for its own kind of applicant, after a semicolon (1.003395)
    ("Một trong các giấy tờ sau: Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm đối với cơ sở thuộc diện cấp; "
     "Giấy chứng nhận GAP đối với cơ sở không thuộc diện cấp", "Một trong các giấy tờ sau: Giấy chứng nhận cơ sở đủ "
     "điều kiện an toàn thực phẩm đối với cơ sở thuộc diện cấp; Giấy chứng nhận GAP đối với cơ sở không thuộc diện "
     "cấp", "", True),
    # a list of papers stays a list, and a form inside it where it is: no condition holds the rest after a semicolon
    ("Một trong các tài liệu sau: + Đối với trường hợp khai thác cây đổ: biên bản theo Mẫu số 10 Phụ lục II; + Đối "
     "với trường hợp nghiên cứu: quyết định phê duyệt", "Một trong các tài liệu sau: + Đối với trường hợp khai thác "
     "cây đổ: biên bản theo Mẫu số 10 Phụ lục II; + Đối với trường hợp nghiên cứu: quyết định phê duyệt", "", True),
    # forms by case (1.004223: each report under its own case, one of them always needed): no one condition
    ("Báo cáo thăm dò theo Mẫu 38 hoặc báo cáo thi công giếng trong trường hợp chưa có công trình khai thác theo Mẫu "
     "39; báo cáo hiện trạng khai thác đối với trường hợp công trình đang hoạt động theo Mẫu 40.",
     "Báo cáo thăm dò theo Mẫu 38 hoặc báo cáo thi công giếng trong trường hợp chưa có công trình khai thác theo Mẫu "
     "39; báo cáo hiện trạng khai thác đối với trường hợp công trình đang hoạt động theo Mẫu 40", "", True),
])
def test_a_documents_condition_is_split_from_the_paper(name, paper, condition, required):
    assert split_condition(name) == (paper, condition, required)


def test_form_numbers_and_the_glued_count(catalogue):
    assert form_number("Đơn đăng ký biến động theo Mẫu số 18") == "Mẫu số 18"
    form = next(d for d in catalogue.get("1.013831").documents if d.form_number == "Mẫu số 18")
    assert form.originals == 1 and form.name.endswith("Mẫu số 18")  # the record glues "18" and "1 bản chính"


def test_short_names_stop_before_the_list_of_cases():
    name = ("Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất trong các trường hợp "
            "chuyển đổi quyền sử dụng đất nông nghiệp")
    assert short_name(name) == "Đăng ký biến động đất, tài sản gắn liền với đất"
    assert short_name("Tách thửa hoặc hợp thửa đất.") == "Tách thửa hoặc hợp thửa đất"


@pytest.mark.parametrize("text, case, applicant, channel", [
    (INHERITANCE, "inheritance", None, None),  # "3 anh em" is read as several recipients
    ("nha toi chua co so do, lam so lan dau can gi", None, "household", None),
    # left while alive or by inheritance: not said; a family member speaks
    ("dat ong ba de lai chua co so do", None, "household", None),
    ("ông bà tôi mất để lại đất", "inheritance", "household", None),
    ("mua dat cua hang xom sang ten can gi", "sale", None, None),
    ("bo me cho con dat", "gift", None, None),
    ("cong ty toi muon nop online", None, "organisation", "online"),
    ("ban sao giay to", None, None, None),  # "ban" is not "bán" without its accent
])
def test_the_situation_is_read_from_citizens_words(text, case, applicant, channel):
    found = read_situation(text)
    assert (found.case, found.applicant, found.channel) == (case, applicant, channel)


def test_family_words_are_read_in_a_citizens_message_only():
    from knowledge_base.situation import SituationTable
    assert SituationTable.default().about("tài sản chung của vợ chồng, gia đình tôi")[1] == frozenset()


def test_family_words_never_outweigh_a_named_kind_of_applicant():
    assert read_situation("công ty nhà tôi muốn xin giấy phép khai thác").applicant == "organisation"
    assert read_situation("tôi là việt kiều, nhà tôi có mảnh đất ở quê").applicant == "overseas"
    family = read_situation("nhà tôi muốn tách thửa")
    assert family.applicant == "household" and family.applicant_implied
    overseas = read_situation("tôi là việt kiều")
    assert overseas.merged(family).applicant == "overseas"  # a later "nhà tôi" keeps what was said
    assert family.merged(overseas).applicant == "overseas" and not family.merged(overseas).applicant_implied
    assert Situation.from_json(family.to_json()) == family


@pytest.mark.parametrize("text, applicant", [
    # the kind the first person follows is the citizen's; the one a preposition leads to is the other party's
    ("Công ty chúng tôi nhận chuyển nhượng quyền sử dụng đất của một cá nhân, nộp hồ sơ ở đâu?", "organisation"),
    ("cty minh mua dat cua ca nhan can gi", "organisation"),
    ("tôi là cá nhân, muốn bán đất cho công ty thì cần gì", "individual"),
    ("tôi là doanh nghiệp, mua đất của cá nhân", "organisation"),
    # named alone, a kind is read as before, "đối với", "cho" meaning "for" too
    ("mua đất của một cá nhân cần giấy tờ gì", "individual"),
    ("đối với cá nhân thì cần giấy tờ gì", "individual"),
    ("thủ tục cấp phép cho doanh nghiệp cần gì", "organisation"),
    # a pronoun after a comma saying who the citizen is next; a name that only looks like "mình"
    ("Tôi bán đất cho công ty, tôi là cá nhân thì cần gì", "individual"),
    ("em mua đất của hộ gia đình, em là cá nhân thì làm sao", "individual"),
    ("tôi là cá nhân, bán đất cho công ty Minh Phát", "individual"),
    ("nhà tôi ở cạnh công ty bên cạnh, tôi là cá nhân", "individual"),
    # the citizen's own against a kind named later with no preposition before it
    ("doanh nghiệp bên em mua đất hộ gia đình", "organisation"),
    ("công ty của tôi mua đất hộ gia đình", "organisation"),
    ("công ty tôi là công ty TNHH mua đất người dân thì làm gì", "organisation"),
    ("doanh nghiệp chúng tôi là doanh nghiệp nhỏ, mua đất hộ gia đình cần gì", "organisation"),
    # typed without accents, shorthand ("ko", "j", "dc", "tt") expanded with them
    ("cong ty toi muon mua dat ho gia dinh dc ko", "organisation"),
    ("doanh nghiep chung toi mua lai dat ho dan, can nhung j", "organisation"),
    ("htx chung toi thue dat nguoi dan k biet lam tt gi", "organisation"),
    # a sign that folds into a word boundary leaves the words as typed and folded unaligned
    ("nhà΅x công ty tôi", "organisation"),
    # "đổi cho" is an exchange, not "đối với"
    ("hộ gia đình muốn đổi cho công ty một mảnh đất thì cần gì", "household"),
])
def test_the_citizen_s_own_kind_outweighs_the_other_party_s(text, applicant):
    assert read_situation(text).applicant == applicant


def test_the_situation_slot_survives_anything_a_tracker_holds():
    kept = Situation(case="gift", applicant="individual").merged(Situation(channel="online"))
    assert Situation.from_json(kept.to_json()) == kept
    for junk in ("", "null", "[1]", '{"case": "robbery"}', "{", None):
        assert Situation.from_json(junk) == Situation()
    assert Situation().with_case("inheritance").case == "inheritance" and Situation().with_case("x").case is None


@pytest.mark.parametrize("code, request_, case", [
    ("1.004359", FIRST_REQUEST, 1),  # a) cấp beside b) cấp lại: a licence asked for with no action is a first one
    ("1.004359", "reissue", 2),
    ("1.004359", None, None),  # nothing said: no case picked
    ("1.004359", "renew", None),  # no heading extends it
    ("1.004915", FIRST_REQUEST, 2),  # "* Trường hợp cấp mới" comes second
    ("1.012786", "reissue", 1),  # a lost certificate, not its lost extra page
    ("1.012786", FIRST_REQUEST, None),  # no heading issues a first one
    ("1.013831", FIRST_REQUEST, None),  # case b) issues nothing: not a first issue
    ("1.014264", FIRST_REQUEST, None),  # an amendment procedure: "được cấp giấy phép" in a heading is no first issue
    ("1.004359", "unclear", None),
    ("1.007928", "amend", 3),  # "(iii) Trường hợp thay đổi nội dung thông tin …"
    ("1.014266", "renew", 3),  # "Trường hợp tổ chức, cá nhân đề nghị gia hạn …": the comma is no clause's end
])
def test_the_request_picks_the_case_that_does_it(catalogue, code, request_, case):
    assert requested_case(catalogue.get(code), request_) == case


@pytest.mark.parametrize("question, request_, case", [
    # two first issues, one reissue: the request leaves the two, the words say which
    ("xin cấp mã số vùng trồng sầu riêng để xuất khẩu cần hồ sơ gì", FIRST_REQUEST, 3),
    ("xin cap ma so co so dong goi can gi", FIRST_REQUEST, 2),
    ("xin cấp mã số vùng trồng", None, None),  # no request said: nothing narrows the cases
    ("xin cấp mã số", FIRST_REQUEST, None),  # both first issues: which is still to be asked
])
def test_the_words_pick_among_the_cases_the_request_leaves(catalogue, question, request_, case):
    from knowledge_base.checklist import named_among_requested

    assert named_among_requested(catalogue.get("1.014776"), request_, question) == case


def test_a_first_licence_gets_the_first_issue_papers_and_a_lost_one_the_reissue(catalogue):
    licence = catalogue.get("1.004359")
    first = compose_answer(licence, "documents", Settings(), situation=Situation(request=FIRST_REQUEST)).text
    again = compose_answer(licence, "documents", Settings(), situation=Situation(request="reissue")).text
    assert "Mẫu số 04" in first and "Mẫu số 05" not in first
    assert "Mẫu số 05" in again and "Mẫu số 04" not in again
    # a button for the other case still shows it
    tapped = compose_answer(licence, "documents", Settings(), situation=Situation(request=FIRST_REQUEST), case=2)
    assert "Mẫu số 05" in tapped.text and [c["case"] for c in tapped.cases] == [1]


def test_the_request_is_remembered_and_a_malformed_one_dropped():
    assert Situation.from_json(Situation(request="reissue").to_json()) == Situation(request="reissue")
    for junk in ('{"request": "<script>"}', '{"request": "robbery"}', '{"request": 3}', "[" * 100_000,
                 '{"case": "' + "x" * 5000 + '"}'):
        assert Situation.from_json(junk) == Situation()
    assert Situation(request="reissue").merged(Situation(case="sale")).request == "reissue"
    assert Situation(request="reissue").merged(Situation(request=FIRST_REQUEST)).request == FIRST_REQUEST


def test_a_paper_only_foreigners_add_is_theirs(catalogue):
    assert split_condition("Đối với người nước ngoài, ngoài những giấy tờ nêu trên còn phải có Giấy phép lao động hoặc "
                           "giấy xác nhận không thuộc diện cấp giấy phép lao động.") == (
        "Giấy phép lao động hoặc giấy xác nhận không thuộc diện cấp giấy phép lao động", "là người nước ngoài", True)
    assert read_situation("tôi là người nước ngoài").applicant == "foreigner"
    assert read_situation("chúng tôi là công ty nước ngoài").applicant == "foreigner"
    # foreigners the citizen speaks of are not the applicant
    assert read_situation("tôi muốn bán nhà cho người nước ngoài").applicant is None
    assert read_situation("công ty tôi có thuê lao động là người nước ngoài").applicant == "organisation"
    # a foreigner files what anyone files; a condition about a foreign organisation is not an individual citizen's
    assert applicant_fits(["individual"], "foreigner") and not applicant_fits(["foreigner"], "individual")
    assert SituationTable.default().about("là tổ chức nước ngoài; văn bản chứng minh năng lực hành vi dân sự theo "
                                          "quy định của nước nơi cá nhân mang quốc tịch")[1] == {"foreigner"}
    vet = catalogue.get("1.004756")
    # most who ask are Vietnamese: a foreigner's own papers are a line saying how to see them
    unsaid = compose_answer(vet, "documents", Settings()).text
    assert "Giấy phép lao động" not in unsaid
    assert 'Cá nhân, tổ chức nước ngoài nộp thêm 1 giấy tờ riêng: chọn "Tôi là người nước ngoài" để xem.' in unsaid
    assert compose_answer(vet, "documents", Settings()).foreign_papers
    citizen = compose_answer(vet, "documents", Settings(), situation=Situation(applicant="individual")).text
    assert "Giấy phép lao động" not in citizen and "Mẫu số 01" in citizen
    foreign = compose_answer(vet, "documents", Settings(), situation=Situation(applicant="foreigner")).text
    assert "\n- Giấy phép lao động" in foreign and "giấy tờ riêng" not in foreign
    # an individual building a house is not asked for a foreign owner's extension of ownership
    house = compose_answer(catalogue.get("1.013995"), "documents", Settings(),
                           situation=Situation(applicant="individual")).text
    assert "gia hạn thời hạn sở hữu" not in house


def test_what_is_asked_of_the_paper_says_more_than_the_applicant_a_heading_names(catalogue):
    # every heading of 1.007928 is for "tổ chức, cá nhân"; the company asking to amend gets case (iii)
    answer = compose_answer(catalogue.get("1.007928"), "documents", Settings(),
                            situation=Situation(applicant="organisation", request="amend"))
    assert "(iii) Trường hợp thay đổi nội dung thông tin" in answer.messages[0]


@pytest.mark.parametrize("sentence, paper, condition", [
    ("Vận đơn (đối với trường hợp hàng hóa nhập theo đường không, đường biển hoặc đường sắt).", "Vận đơn",
     "hàng hóa nhập theo đường không, đường biển hoặc đường sắt"),
    ("Tờ khai đăng ký công trình khai thác nước dưới đất (đối với trường hợp sử dụng nước dưới đất tự chảy trong "
     "moong) theo Mẫu 14 tại Phụ lục I", "Tờ khai đăng ký công trình khai thác nước dưới đất theo Mẫu 14 tại Phụ lục I",
     "sử dụng nước dưới đất tự chảy trong moong"),
    # forms by case inside one paper: no one condition for the paper
    ("Đề án khai thác nước theo Mẫu 42, Mẫu 46 (đối với trường hợp công trình chưa khai thác nước), Mẫu 43, Mẫu 47 "
     "(đối với trường hợp công trình đang khai thác)",
     "Đề án khai thác nước theo Mẫu 42, Mẫu 46 (đối với trường hợp công trình chưa khai thác nước), Mẫu 43, Mẫu 47 "
     "(đối với trường hợp công trình đang khai thác)", ""),
])
def test_a_case_in_parentheses_is_the_papers_condition(sentence, paper, condition):
    assert split_condition(sentence)[:2] == (paper, condition)


def test_a_foreigner_sees_a_person_s_and_a_company_s_papers_under_if(catalogue):
    text = compose_answer(catalogue.get("1.014839"), "documents", Settings(),
                          situation=Situation(applicant="foreigner")).text
    assert "Nếu là tổ chức, thêm:" in text and "Nếu là cá nhân, thêm:" in text


def test_a_second_case_after_a_parenthesised_one_leaves_the_sentence_unread():
    sentence = ("b) Sơ đồ mặt bằng vị trí ao/lồng nuôi có xác nhận của chủ cơ sở (đối với trường hợp thay đổi quy mô "
                "sản xuất); trường hợp thay đổi chủ cơ sở phải có giấy tờ chứng minh sự thay đổi.")
    assert split_condition(sentence)[1] == ""
    assert split_condition("Giấy A. Bản sao B (trường hợp nộp trực tiếp) kèm bản chính")[1] == ""


def test_the_case_s_own_conditions_come_before_a_proxy_s_or_a_remeasurement_s(catalogue):
    """A couple's marriage certificate ("Nếu không thể khai thác …") is listed before the papers of filing through a
    representative or measuring the parcel again, which almost every land record has and few citizens need."""
    couple = catalogue.get("1.013980")
    answer = compose_answer(couple, "documents", Settings(), case=5, situation=Situation())
    first = answer.messages[0]
    assert "kết hôn" in first
    assert "người đại diện" in first and first.index("kết hôn") < first.index("người đại diện")
    later = compose_answer(couple, "documents", Settings(), case=5, situation=Situation(), page=2).text
    assert "Mảnh trích đo" in later and "Mẫu số 22" in later  # later, never dropped


@pytest.mark.parametrize("condition, unread", [
    ("là tổ chức", 0), ("hộ gia đình đang sử dụng đất", 0), ("là người nước ngoài", 0),
    ("là công ty trực thuộc tập đoàn, tổng công ty hoặc Bộ, ngành chủ quản", 9),
    ("hộ gia đình, cá nhân có nhu cầu cấp Giấy chứng nhận quyền sở hữu nhà ở", 11),
])
def test_what_a_condition_says_beyond_who_files(condition, unread):
    assert SituationTable.default().unread(condition) == unread


def test_who_the_citizen_is_settles_only_a_condition_that_says_no_more(catalogue):
    """A household needs the paper 'đối với trường hợp hộ gia đình đang sử dụng đất'; the house's building permit
    paper 'đối với trường hợp hộ gia đình, cá nhân có nhu cầu cấp Giấy chứng nhận quyền sở hữu nhà ở' only if so."""
    first = catalogue.get("1.013978")
    text = compose_answer(first, "documents", Settings(), case=1, situation=Situation(applicant="household")).text
    members = next(line for line in text.splitlines() if "thành viên có chung quyền sử dụng đất" in line)
    assert members.startswith("- ")  # simply needed
    pages = "\n".join(compose_answer(first, "documents", Settings(), case=1, situation=Situation(applicant="household"),
                                     page=p).text for p in range(1, 5))
    assert "Nếu hộ gia đình, cá nhân có nhu cầu cấp Giấy chứng nhận quyền sử dụng đất, quyền sở hữu" in pages


def test_family_words_alone_leave_a_household_paper_under_if(catalogue):
    """'đất ông bà để lại' says a family member speaks, not that they file as a household: an heir may file alone."""
    first = catalogue.get("1.013978")
    said = read_situation("đất ông bà để lại chưa có sổ, làm sổ lần đầu cần gì")
    assert said.applicant == "household" and said.applicant_implied
    text = "\n".join(compose_answer(first, "documents", Settings(), case=1, situation=said, page=page).text
                     for page in (1, 2))  # the heir's papers come first ("để lại"), this one on the second page
    assert "Nếu hộ gia đình đang sử dụng đất" in text
    assert SituationTable.default().unread("là cá nhân nước ngoài tại Việt Nam") == 0
    assert SituationTable.default().unread("là doanh nghiệp nhà nước") > 1  # a kind of company, not any company


def test_a_condition_that_only_cites_the_law_comes_last(catalogue):
    """'Nếu thuộc trường hợp quy định tại khoản 4 Điều 45 Luật Đất đai' tells a citizen nothing: after the others."""
    found = checklist(catalogue.get("1.013978").document_cases[0], Situation(applicant="individual"))
    conditions = [condition for condition, _ in found.conditional]
    cited = [i for i, c in enumerate(conditions) if c.startswith("thuộc trường hợp quy định tại")]
    assert cited and min(cited) > max(i for i, c in enumerate(conditions) if i not in cited)


def test_land_left_by_grandparents_shows_an_inheritance_s_papers_first(catalogue):
    """"đất ông bà để lại" says inheritance or gift without saying which: the heir's paper comes first among the
    "Nếu …" groups of the first registration (it was on the second page), and nothing is settled by it."""
    said = read_situation("đất ông bà để lại từ lâu chưa có sổ đỏ, giờ muốn làm sổ lần đầu cần giấy tờ gì")
    assert said.case is None and said.likely == ("inheritance", "gift")
    assert Situation.from_json(said.to_json()) == said
    assert read_situation("bố tôi mất để lại mảnh đất").likely == ()  # a case said replaces the hint
    first = catalogue.get("1.013978")
    answer = compose_answer(first, "documents", Settings(), case=1, situation=said)
    groups = [line for line in answer.messages[0].splitlines() if line.startswith("Nếu ")]
    assert "thừa kế" in groups[0]
    heir = next(line for line in answer.text.splitlines() if "nhận thừa kế quyền sử dụng đất theo" in line)
    assert heir.startswith("  - ")  # still under its "Nếu …"
    plain = compose_answer(first, "documents", Settings(), case=1, situation=Situation()).messages[0]
    assert "thừa kế" not in plain.split("Nếu ", 1)[1].splitlines()[0]
    assert Situation.from_json('{"likely": ["inheritance", "nonsense", 3, "inheritance"]}').likely == ("inheritance",)
    for other in ("tách thửa có phải để lại lối đi không", "de lai so dien thoai", "để lại hồ sơ ở bộ phận một cửa",
                  "đất do nhà nước giao để lại", "chia ba để lại lối đi", "ong de lai so dien thoai",
                  "người bán để lại cho tôi sổ gốc", "gia đình để lại lối đi khi tách thửa",
                  "ba de lai ho so o bo phan mot cua", "nop 2 bo, de lai 1 bo o nha"):
        assert read_situation(other).likely == (), other
    for family in ("dat bo me de lai", "đất ông nội để lại", "dat bo toi de lai", "đất ba má để lại",
                   "đất bà ngoại để lại"):
        assert read_situation(family).likely == ("inheritance", "gift"), family
    assert said.without_case().likely == ()  # another field's procedure: the land's hint goes with its case


@pytest.mark.parametrize("text, only_who", [
    ("tôi là người nước ngoài", True),
    ("dạ, tôi là việt kiều ạ", True),
    ("công ty tôi", True),
    ("việt kiều có được ủy quyền không", False),  # a question beside who they are
    ("tôi là người nước ngoài muốn mua nhà", False),
    ("tách thửa", False),  # a condition of the checklist, not who they are
    ("nộp ở đâu", False),
])
def test_a_message_saying_only_who_the_citizen_is_is_told_apart(text, only_who):
    """The resolver's sure policy takes no procedure from "tôi là người nước ngoài" alone."""
    from knowledge_base.situation import SituationTable

    assert SituationTable.default().says_only_who(text) == only_who


@pytest.mark.parametrize("text, who", [
    ("công ty tôi làm mất sổ", {"cong", "ty"}),
    ("hộ gia đình tôi xin cấp lại", {"ho", "gia", "dinh"}),
    ("tách thửa", set()),  # a condition, not who asks
])
def test_the_words_saying_who_asks_are_told_apart(text, who):
    from knowledge_base.situation import SituationTable

    assert SituationTable.default().applicant_words(text) == who


def test_a_paper_issued_to_an_army_or_police_unit_is_theirs_alone(catalogue):
    """1.012753 lists the station decision "cho đơn vị quân đội, đơn vị công an" with no "đối với" before it: a
    company is not told to bring it; one who has not said who they are sees it under "Nếu …"."""
    proc = catalogue.get("1.012753")
    doc = next(d for case in proc.document_cases for d in case.documents if "đóng quân" in d.name)
    assert doc.applicant_types == ["armed_forces"]
    assert doc.condition == "là đơn vị, doanh nghiệp thuộc quân đội, công an"
    company = compose_answer(proc, "documents", Settings(), situation=Situation(applicant="organisation")).text
    assert "đóng quân" not in company and "Mẫu số 15d" in company
    anyone = compose_answer(proc, "documents", Settings(), situation=Situation()).text
    assert "Nếu là đơn vị, doanh nghiệp thuộc quân đội, công an" in anyone
    unit = compose_answer(proc, "documents", Settings(), situation=read_situation("đơn vị quân đội chúng tôi")).text
    assert "đóng quân" in unit and "Mẫu số 15d" in unit  # and what any organisation files


@pytest.mark.parametrize("message, applicant", [
    ("đơn vị quân đội chúng tôi đang dùng đất làm kho", "armed_forces"),
    ("chúng tôi là doanh nghiệp quốc phòng, xin cấp sổ", "armed_forces"),
    # a unit named as a neighbour or a seller says nothing of who files
    ("nhà tôi ở cạnh doanh trại quân đội, muốn tách thửa", "household"),
    ("tôi là cá nhân mua lại đất của đơn vị quân đội", "individual"),
    ("đất giáp ranh đơn vị công an", None),
])
def test_only_a_unit_speaking_of_itself_is_an_army_or_police_applicant(message, applicant):
    assert read_situation(message).applicant == applicant


def test_who_asks_what_to_file_is_shown_the_first_filing_not_the_one_filed_again(catalogue):
    """1.010733 lists the dossier filed again after the appraisal council before the first one."""
    proc = catalogue.get("1.010733")
    first = compose_answer(proc, "documents", Settings(), situation=Situation(),
                           question="thẩm định báo cáo ĐTM cấp tỉnh cần nộp những gì").text
    assert "mẫu số 02" in first and "09a" not in first
    again = compose_answer(proc, "documents", Settings(), situation=Situation(),
                           question="hồ sơ nộp lại sau khi họp hội đồng gồm những gì").text
    assert "09a" in again


@pytest.mark.parametrize("paper, application", [
    ("Bản Đăng ký chuyển đổi cơ cấu cây trồng, vật nuôi trên đất trồng lúa theo mẫu tại Phụ lục IV", True),
    ("Giấy đăng ký kiểm dịch thực vật vận chuyển nội địa (theo mẫu qui định tại Phụ lục II)", True),
    ("Giấy đăng ký công nhận GAP khác (theo Mẫu số 24 Phụ lục I)", True),
    ("Giấy đăng ký kinh doanh", False),  # a certificate another body issued
    ("Giấy đăng ký tàu cá", False),
    ("Bản sao giấy chứng nhận đăng ký doanh nghiệp", False),
])
def test_a_registration_asked_for_is_the_application(paper, application):
    from knowledge_base.conditions import is_application
    from knowledge_base.schema import Document

    assert is_application(Document(name=paper)) is application


def test_the_rice_field_registration_is_the_form_to_fill(catalogue):
    from knowledge_base.checklist import application_form

    assert application_form(catalogue.get("1.008004")).endswith("theo mẫu tại Phụ lục IV")


@pytest.mark.parametrize("code, question, case", [
    # a household's purpose change is the one "thuộc diện không chấp thuận chủ trương đầu tư" (đ, not d)
    ("1.013949", "hộ gia đình tôi muốn chuyển đất vườn lên thổ cư thì cần giấy tờ gì", 5),
    ("1.013949", "ho gia dinh toi chuyen muc dich su dung dat sang dat o can gi", 5),
    ("1.013823", "hộ gia đình tôi muốn chuyển đất vườn lên thổ cư thì cần giấy tờ gì", 1),  # listed first there
    ("1.013949", "hộ gia đình tôi xin gia hạn sử dụng đất", 8),  # named as before
    # a project or an investor named: the investor's cases stay
    ("1.013949", "hộ gia đình tôi có dự án trang trại, muốn chuyển mục đích sử dụng đất", None),
    ("1.013949", "cá nhân tôi là nhà đầu tư, chuyển mục đích sử dụng đất cần gì", None),
    ("1.013949", "công ty tôi muốn chuyển mục đích sử dụng đất", None),  # not an individual or household
    ("1.013949", "hộ gia đình tôi xin giao đất", None),  # three cases still give land
    ("1.013831", "hộ gia đình tôi muốn chuyển nhượng đất", None),  # no investor's case in the record
    # a project denied is none; a business use, hectares, rice or protection forest land may be an investor's
    ("1.013949", "hộ gia đình tôi không có dự án, muốn chuyển mục đích sử dụng đất sang đất ở", 5),
    ("1.013949", "ho gia dinh toi ko phai nha dau tu, muon len tho cu", 5),
    ("1.013949", "cá nhân tôi muốn chuyển mục đích 2 ha đất sang đất thương mại dịch vụ", None),
    ("1.013949", "hộ gia đình tôi muốn chuyển mục đích sử dụng đất trồng lúa sang đất ở", None),
    ("1.013949", "hộ gia đình tôi muốn chuyển mục đích sử dụng đất rừng phòng hộ", None),
    ("1.013949", "còn chuyển mục đích sử dụng đất thì cần giấy tờ gì", None),  # who asks is not said here
    ("1.013949", "hộ gia đình tôi chưa có dự án được duyệt, muốn chuyển mục đích sử dụng đất", None),
    ("1.013949", "cá nhân tôi muốn chuyển 2 héc-ta đất vườn sang đất ở", None),
    ("1.013949", "hộ gia đình tôi ở quận 3 Hà Nội muốn chuyển đất vườn lên thổ cư", 5),  # "3 Hà" is no area
])
def test_an_individual_or_household_speaking_of_no_project_is_no_investor(catalogue, code, question, case):
    from knowledge_base.checklist import named_without_investors

    assert named_without_investors(catalogue.get(code), question) == case


def test_a_household_turning_garden_into_residential_land_gets_its_own_case_papers(catalogue):
    answer = compose_answer(catalogue.get("1.013949"), "documents", Settings(),
                            situation=read_situation("hộ gia đình tôi muốn chuyển đất vườn lên thổ cư"),
                            question="hộ gia đình tôi muốn chuyển đất vườn lên thổ cư thì cần giấy tờ gì").text
    assert "dưới đây là: đ) chuyển mục đích sử dụng đất thuộc diện không chấp thuận" in answer
    assert "Đơn đề nghị giao đất/thuê đất/chuyển mục đích sử dụng đất" in answer
    assert "quyết định chấp thuận chủ trương đầu tư" not in answer  # case d)'s paper
    # garden land is no rice land: the rice-land paper (Mẫu số 26) is not theirs, and the reply says which was left out
    assert "Mẫu số 26" not in answer
    assert "không liệt kê 1 giấy tờ chỉ dành cho đất trồng lúa, vì bạn nói đất của bạn là đất vườn" in answer


@pytest.mark.parametrize("text, land", [
    ("hộ gia đình tôi muốn chuyển đất vườn lên thổ cư", ("garden",)),
    ("chuyen dat ao len tho cu can gi", ("pond",)),
    ("đất ruộng nhà tôi muốn làm nhà", ("rice",)),
    ("đất vườn và đất lúa nhà tôi", ("garden", "rice")),
    ("đất rừng sản xuất của gia đình", ("forest",)),
    ("đất nông nghiệp lên đất ở", ()),  # an umbrella holding rice land names no kind
    ("nhà tôi gần vườn quốc gia", ()),  # a national park is no garden
    ("mua áo cá sấu", ()),
    ("mua ao ca sau", ()),  # nor is a pond or a forest said by its bare word: "đào ao nuôi cá", "xã Rừng Thông"
    ("chuyển mục đích để đào ao nuôi cá", ()),
    ("tôi ở xã Rừng Thông muốn chuyển đất nông nghiệp lên thổ cư", ()),
    # a kind of land named as the target or a neighbour is not the citizen's
    ("muốn chuyển sang đất vườn", ()),
    ("nhà tôi cạnh đất rừng, muốn chuyển đất nông nghiệp lên đất ở", ()),
    ("chuyển đất lúa lên đất vườn", ("rice",)),
])
def test_the_kind_of_land_is_read_from_citizens_words(text, land):
    assert read_situation(text).land == land


def test_a_paper_for_another_kind_of_land_only_is_left_out_and_kept_when_unsaid_or_named(catalogue):
    proc = catalogue.get("1.013949")

    def papers(said: str) -> str:  # case đ), the purpose change no investor needs (rice land may be an investor's)
        return compose_answer(proc, "documents", Settings(), situation=read_situation(said), case=5,
                              question=f"{said} thì cần giấy tờ gì").text

    assert "Mẫu số 26" not in papers("hộ gia đình tôi muốn chuyển đất ao lên thổ cư")
    # rice land said, or no kind of land said: the paper is there, under "Nếu …" (the rice land is a case, not settled)
    assert "Mẫu số 26" in papers("hộ gia đình tôi muốn chuyển đất lúa lên thổ cư")
    assert "Mẫu số 26" in papers("hộ gia đình tôi muốn chuyển đất vườn và đất lúa lên thổ cư")
    assert "Mẫu số 26" in papers("hộ gia đình tôi muốn chuyển mục đích lên thổ cư")


def test_a_paper_is_left_out_only_by_wording_that_says_which_land_it_is_for(catalogue):
    # forestry papers speak of forests ("chủ rừng", "thực vật rừng") for every applicant: none is left out
    table = SituationTable.default()
    assert table.land_for("chủ rừng đề nghị cấp, cấp lại mã số rừng trồng theo nhóm chủ rừng") == frozenset()
    assert table.land_for("chuyển mục đích sử dụng đất chuyên trồng lúa") == {"rice"}
    assert table.land_for("đề nghị giao đất và giao rừng") == {"forest"}
    assert table.land_for("mọi loại đất, trừ đất chuyên trồng lúa") == frozenset()  # an exception is not read
    garden = Situation(land=("garden",))
    for code in ("1.014605", "3.000502", "1.011470", "1.000045"):
        proc = catalogue.get(code)
        for n, case in enumerate(proc.document_cases, 1):
            assert checklist(case, garden) == checklist(case, Situation()), (code, n)


def test_the_kinds_of_land_are_remembered_together_and_junk_dropped():
    both = read_situation("đất vườn").merged(read_situation("còn đất ao thì sao"))
    assert both.land == ("garden", "pond") and Situation.from_json(both.to_json()) == both
    assert both.without_case().land == ()  # another field's procedure: the land said is not its own
    assert Situation.from_json('{"land": ["garden", "moon", 3]}').land == ("garden",)
    assert Situation.from_json('{"land": "garden"}').land == ()


def test_papers_of_every_case_together_say_the_other_land_left_out_too(catalogue):
    """A record whose cases all fit one message lists them together: a paper for another kind of land is left out
    there too, said, and offered on a button (``Answer.other_land``)."""
    full = catalogue.get("1.013949")
    purpose = full.document_cases[4]  # đ): the certificate, the application, the rice-land paper (Mẫu số 26)
    short = purpose.copy(update={"name": "đ) chuyển mục đích sử dụng đất",
                                 "documents": [purpose.documents[0], purpose.documents[-1]]})
    other = purpose.copy(update={"name": "e) gia hạn", "documents": [purpose.documents[0]]})
    small = full.copy(update={"document_cases": [short, other]})
    answer = compose_answer(small, "documents", Settings(), situation=Situation(land=("garden",)))
    assert "đ) chuyển mục đích sử dụng đất:" in answer.text and "e) gia hạn:" in answer.text  # listed together
    assert "Mẫu số 26" not in answer.text and "chỉ dành cho đất trồng lúa" in answer.text
    assert answer.other_land == ("rice",)
    assert "Mẫu số 26" in compose_answer(small, "documents", Settings(), situation=Situation()).text


def test_a_records_letters_and_section_numbers_are_not_shown_and_the_application_leads(catalogue):
    # 1.004918 lists "b) Bản thuyết minh …" before "a) Đơn đề nghị …" under "4.3.1.1. Hồ sơ đề nghị cấp …"
    text = compose_answer(catalogue.get("1.004918"), "documents", Settings()).text
    assert "4.3.1" not in text and "- a)" not in text and "- b)" not in text
    application = text.index("- Đơn đề nghị cấp Giấy chứng nhận đủ điều kiện cơ sở sản xuất")
    assert application < text.index("- Bản thuyết minh về cơ sở vật chất")


def test_a_household_business_selling_forest_plants_is_not_told_the_seller_s_log_is_not_theirs(catalogue):
    # 1.000045: "Sổ theo dõi nhập, xuất lâm sản đối với chủ lâm sản là tổ chức, hộ kinh doanh xuất bán lâm sản …"
    log = [d for d in catalogue.get("1.000045").document_cases[0].documents if d.form_number == "Mẫu số 04"]
    assert len(log) == 1 and {"individual", "organisation"} <= set(log[0].applicant_types)
    pages = []
    for page in (1, 2):
        pages.append(compose_answer(catalogue.get("1.000045"), "documents", Settings(),
                                    situation=Situation(applicant="individual"), page=page).text)
    text = "\n".join(pages)
    assert "Nếu chủ lâm sản là tổ chức, hộ kinh doanh xuất bán lâm sản và lâm sản là thực vật rừng, thêm:" in text
    # the breeder's log is under its own "Nếu …", no paper of every seller
    assert "Nếu là chủ cơ sở nuôi động vật" in text and "\n- Bản chính Sổ theo dõi nuôi, trồng" not in text
