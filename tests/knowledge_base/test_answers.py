"""Answers composed from the record: aspect, source, province fee note, next step."""
import re
import unicodedata

import pytest

from core.settings import Settings
from knowledge_base.answers import compose_answer, detect_aspect
from knowledge_base.checklist import case_in_reply, case_named, case_named_or_requested
from knowledge_base.situation import Situation


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
    # the question is at the end; a word that names the subject ("tiền sử dụng đất") is a weak cue
    ("so do dang ghi no tien su dung dat, gio nop xong roi muon xoa no thi can gi", "documents"),
    ("thẩm định báo cáo ĐTM cấp tỉnh cần nộp những gì", "documents"),
    ("xin dữ liệu bản đồ thì làm phiếu yêu cầu theo mẫu nào", "documents"),
    ("nộp qua mạng có được không", "channels"),
    ("tiền thuê đất nộp ở đâu", "where"),
    ("xin giay phep khai thac thuy san lan dau het bao nhieu tien", "fees"),
    # how or what is filed only qualifies the question
    ("khi nào có kết quả", "time"),
    ("bao gio co ket qua", "time"),
    ("thời gian giải quyết nếu nộp online", "time"),
    ("lệ phí nộp trực tuyến bao nhiêu", "fees"),
    ("phí nộp trên cổng dịch vụ công", "fees"),
    ("kết quả nhận được gì", "result"),
    # "làm giấy gì" asks the papers; "được cấp giấy gì" (the longer cue ending there) asks the result
    ("nha toi muon de nghi xet ho can ngheo thi lam giay gi", "documents"),
    ("xong thì được cấp giấy gì", "result"),
    # "đủ điều kiện", "kiểm tra điều kiện" name a certificate or a service, not a question of conditions
    ("xin giấy chứng nhận cơ sở đủ điều kiện buôn bán phân bón thì cần hồ sơ gì", "documents"),
    ("phi kiem tra dieu kien co so bao nhieu", "fees"),
    ("điều kiện để được cấp giấy phép khai thác cát", "conditions"),
    ("đất của tôi có đủ điều kiện tách thửa không", "conditions"),  # asked of the citizen's land, not a paper's name
    ("cần đủ điều kiện gì để được cấp sổ đỏ", "conditions"),
    ("đất có sổ đỏ đủ điều kiện tách thửa không", "conditions"),  # "có sổ" folds like "cơ sở"
    ("cơ sở của tôi có đủ điều kiện không", "conditions"),
    ("co so san xuat can du dieu kien gi", "conditions"),
    ("xin giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm cần hồ sơ gì", "documents"),
    ("muon lam ho tro giong cay trong thi nop ho so gi", "documents"),
])
def test_detect_aspect(question, aspect):
    assert detect_aspect(question) == aspect


@pytest.mark.parametrize("question, aspect", [
    ("giay phep xa thai sap het han, gio muon gia han thi can gi", "documents"),
    ("xin gia hạn thời hạn sử dụng đất thì phải chuẩn bị gì", "documents"),  # "thời hạn" is the subject here
    ("lệ phí trước bạ nộp ở đâu", "where"),
    ("làng tôi muốn được công nhận nghề truyền thống thì ai lập hồ sơ", "steps"),  # who prepares it: not the papers
    ("chuyen ruong lua sang trong cay an qua thi dang ky voi ai", "where"),
    ("ai được cấp hồ sơ", "general"),  # an "ai" asking no agency
    ("hồ sơ tách thửa", "general"),  # "hồ sơ" alone may ask anything of the file
    ("mức phí như thế nào", "general"),  # nouns and "như thế nào" leave it to the intent
    ("hồ sơ gửi qua bưu điện được không", "general"),
    ("manh 80m2 mat tien 4m co chia doi duoc khong", "general"),  # "mặt tiền" is a plot's frontage
    ("đất ở đầu ngõ chưa có sổ muốn làm sổ", "general"),  # "ở đầu", a place
    ("bao lau nay nha toi o tren dat nay, gio muon lam so", "general"),
])
def test_strong_aspect_cue(question, aspect):
    """Only words that ask by themselves count as strong (they outweigh the intent classifier's guess)."""
    assert detect_aspect(question, strong=True) == aspect


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
    budget = 700 if aspect in ("fees", "time", "where", "channels") else 1500
    assert all(len(m) <= budget for m in answer.messages)


def test_a_name_ending_in_a_full_stop_reads_once(catalogue):
    answer = compose_answer(catalogue.get("1.012784"), "time", Settings())  # "Tách thửa hoặc hợp thửa đất."
    assert answer.messages[0].startswith("📄 Tách thửa hoặc hợp thửa đất (mã 1.012784).")


def test_fees_note_when_set_by_the_province(lost_certificate):
    text = compose_answer(lost_certificate, "fees", Settings()).text
    assert "do HĐND/UBND cấp tỉnh quy định" in text


def test_an_amount_below_a_thousand_dong_is_given_as_written_with_a_note_to_check(catalogue, lost_certificate):
    text = compose_answer(catalogue.get("3.000125"), "fees", Settings()).text  # the record gives "850 VNĐ"
    assert "850 đồng" in text and 'có thể thiếu chữ "nghìn"' in text
    assert "nghìn" not in compose_answer(lost_certificate, "fees", Settings()).text
    per_unit = catalogue.get("3.000125").copy(deep=True)  # a rate per unit may be that low
    for channel in per_unit.channels:
        channel.fees = [fee.copy(update={"text": "Phí kiểm tra: 850 đồng/kg"}) for fee in channel.fees]
    assert "nghìn" not in compose_answer(per_unit, "fees", Settings()).text
    for rate in ("850 VNĐ/kg", "850đ /kg", "850 đồng /con"):
        for channel in per_unit.channels:
            channel.fees = [fee.copy(update={"text": f"Phí kiểm tra: {rate}"}) for fee in channel.fees]
        assert "nghìn" not in compose_answer(per_unit, "fees", Settings()).text, rate


def test_a_fee_line_beside_other_procedures_notes_an_amount_below_a_thousand_dong_too(catalogue):
    from knowledge_base.answers import compared
    said = compared("fees", [catalogue.get("3.000125"), catalogue.get("1.012784")], Situation(), first=True)
    small, free = [line for line in said.splitlines() if line.startswith("- ")]
    assert "850 đồng" in small and 'có thể thiếu chữ "nghìn"' in small
    assert "nghìn" not in free


def test_a_free_fee_whose_note_gives_amounts_answers_the_amounts(catalogue):
    # 1.004359's column says "Miễn phí", its note "Lệ phí cấp mới 40.000đồng/lần; lệ phí cấp lại 20.000 đồng/lần"
    text = compose_answer(catalogue.get("1.004359"), "fees", Settings()).text
    assert "- Lệ phí cấp mới 40.000 đồng/lần; lệ phí cấp lại 20.000 đồng/lần" in text
    assert "Không thu phí" not in text
    # both rates of 1.007927, not the first alone
    text = compose_answer(catalogue.get("1.007927"), "fees", Settings()).text
    assert "6.000.000 đồng" in text and "3.000.000 đồng" in text and "Không thu phí" not in text
    # a free fee with no amount stays free
    free = catalogue.get("1.012786").copy(deep=True)
    for channel in free.channels:
        channel.fees = [fee.copy(update={"text": "", "set_by_province": False}) for fee in channel.fees[:1]]
        channel.fees[0].kind, channel.fees[0].amount_vnd = "none", 0
    assert "Không thu phí" in compose_answer(free, "fees", Settings()).text


def test_time_per_channel(lost_certificate):
    text = compose_answer(lost_certificate, "time", Settings()).text
    assert "- Trực tuyến, bưu chính: 10 ngày làm việc" in text and "- Trực tiếp: 20 ngày làm việc" in text


def test_documents_list_cases_and_counts(lost_certificate):
    text = compose_answer(lost_certificate, "documents", Settings()).text
    assert "a) cấp lại Giấy chứng nhận bị mất" in text
    assert ": 1 bản chính, 1 bản sao" in text


def test_choices_and_unknown(catalogue):
    procs = [catalogue.get("1.012786"), catalogue.get("1.012783")]
    answer = compose_answer(None, "time", Settings(), candidates=procs)
    assert [c["payload"] for c in answer.choices] == ["1.012786", "1.012783"]
    unknown = compose_answer(None, "general", Settings.of(hotline="0123 456 789"))
    assert "0123 456 789" in unknown.text and unknown.code is None


@pytest.fixture
def first_registration(catalogue):
    """Three document cases (households, overseas Vietnamese, already notified), 25 documents in all."""
    return catalogue.get("1.013978")


def test_many_document_cases_ask_which_then_show_one_and_offer_the_others(first_registration):
    asked = compose_answer(first_registration, "documents", Settings())
    assert "Hồ sơ khác nhau theo 3 trường hợp" in asked.text and "Mẫu số" not in asked.text  # nothing guessed
    assert [c["case"] for c in asked.cases] == [1, 2, 3] and len(asked.messages) == 1
    assert asked.cases[1]["title"].startswith("b) ") and asked.cases[1]["title"].endswith("định cư ở nước ngoài")
    answer = compose_answer(first_registration, "documents", Settings(), case=1)
    assert "Hồ sơ chia theo 3 trường hợp" in answer.text
    assert "a) đăng ký, cấp Giấy chứng nhận cho hộ gia đình, cá nhân" in answer.text
    assert "người gốc Việt Nam định cư ở nước ngoài:" not in answer.text  # case b) is a button away
    assert [c["case"] for c in answer.cases] == [2, 3]
    assert len(answer.messages) <= 3  # one case (a page of it), then the source: not a wall of 25 documents
    picked = compose_answer(first_registration, "documents", Settings(), case=2)
    assert "b) đăng ký, cấp Giấy chứng nhận lần đầu cho người gốc" in picked.text
    assert [c["case"] for c in picked.cases] == [1, 3]
    assert compose_answer(first_registration, "documents", Settings(), case=9).cases == asked.cases  # stale button
    household = compose_answer(first_registration, "documents", Settings(), situation=Situation(applicant="household"))
    assert "a) đăng ký, cấp Giấy chứng nhận cho hộ gia đình" in household.text  # the citizen's words pick it


@pytest.mark.parametrize("code, question, case", [
    ("1.013833", "thay đổi số hiệu thửa đất thì cần gì", 2),
    # "đổi tên" is in the short name, but that name was cut word for word from the first part of an official name
    # listing the cases ("…; …; …"), where it is that part's alone; "lần đầu" is what every case of 1.013978 is
    ("1.013833", "tôi đã đổi tên, giờ muốn cập nhật tên mới trên sổ đỏ thì cần gì", 1),
    # a rewritten short name ("… theo thỏa thuận của hộ gia đình …") frees none of its phrases
    ("1.013980", "gia đình tôi nhận đất theo bản án của tòa án thì cần giấy tờ gì", 3),
    ("1.013980", "gia dinh toi mua dat qua xu ly tai san the chap ngan hang can giay gi", 2),
    # a phrase of the cut short name counts only when nothing else names a case
    ("1.013826", "điều chỉnh thời hạn sử dụng đất của dự án đầu tư do thay đổi quyết định giao đất", 2),
    ("1.013978", "đất ông bà để lại chưa có sổ, làm sổ lần đầu cần gì", None),
    ("1.013833", "dat bi sat lo mat mot phan dien tich thi can gi", 4),
    ("1.003650", "tôi mua lại tàu cá, tàu được mua bán thì cần giấy tờ gì", 3),
    ("1.013831", "đổi ruộng cho nhà bên cạnh thì sang tên thế nào", None),  # "cho nhà" is not "cho Nhà nước"
    ("1.012786", "mất trang bổ sung của sổ đỏ thì cần gì", 2),
    ("1.013833", "đăng ký biến động cần giấy tờ gì", None),  # only words every case shares
    ("1.003650", "tàu cá mới đóng xong, đã được cấp giấy gì chưa", None),  # "mới", "đã", "được" alone pick none
    ("1.003650", "", None),
    # "đổi số" spans "thay đổi | số hiệu": both words are other headings' too ("thay đổi", folded "sở hữu")
    ("1.013833", "đổi số căn cước trên sổ đỏ thì cần gì", None),
    ("1.013833", "mục b đổi những gì", None),  # a heading's enumerator "b)" is no word of it
    ("1.003650", "tàu cá nhập khẩu được tặng cho cần gì", 4),
    ("1.003650", "thuê tàu trần thì cần gì", 5),
])
def test_a_case_is_picked_only_by_words_of_its_own_heading(catalogue, code, question, case):
    assert case_named(catalogue.get(code), question) == case


def test_a_reissue_asked_is_not_overruled_by_words_the_first_issue_s_heading_shares(catalogue):
    cages = catalogue.get("1.004692")  # case 1 "Hồ sơ đăng ký lại", case 2 "Hồ sơ đề nghị cấp Giấy xác nhận nuôi …"
    question = "xin cấp lại giấy xác nhận nuôi cá lồng bè vì thay đổi quy mô thì cần gì"
    assert case_named(cages, question) == 2
    assert case_named_or_requested(cages, question) == 1
    assert case_named_or_requested(cages, "xin giấy xác nhận nuôi cá lồng bè thì cần gì") == 2  # no reissue asked
    text = compose_answer(cages, "documents", Settings(), question=question,
                          situation=Situation(request="reissue")).text
    assert "Mẫu số 26.NT" in text and "Mẫu số 25.NT" not in text
    # so does a reply to the question which case: "tôi cần cấp lại …"
    assert case_in_reply(cages, "tôi cần cấp lại giấy xác nhận nuôi lồng bè") == 1
    # a reissue asked in an earlier message does not overrule the case this one names (1.003790: case 2 is the import
    # for research, case 4 its reissue)
    research = catalogue.get("1.003790")
    again = "còn nhập để nghiên cứu khoa học thì hồ sơ gồm những gì"
    assert case_named_or_requested(research, again) == case_named(research, again) == 2
    text = compose_answer(research, "documents", Settings(), question=again,
                          situation=Situation(request="reissue")).text
    assert "dưới đây là: b) đề nghị cấp phép nhập khẩu thủy sản sống để nghiên cứu khoa học" in text


def test_the_messages_own_words_pick_a_case_before_a_remembered_situation(catalogue):
    boat = catalogue.get("1.003650")  # "tặng cho" is in case 3 (mua bán, tặng cho) and case 4 (nhập khẩu, tặng cho…)
    answer = compose_answer(boat, "documents", Settings(), situation=Situation(case="sale"),
                            question="đăng ký tàu cá nhập khẩu cần giấy tờ gì")
    assert "4) tàu cá nhập khẩu" in answer.text and not answer.which_case
    assert "3) tàu được mua bán" in compose_answer(boat, "documents", Settings(), situation=Situation(case="sale")).text


def test_the_transfer_case_is_asked_only_where_its_answer_picks_the_document_case(catalogue):
    transfer = compose_answer(catalogue.get("1.013831"), "documents", Settings())  # every answer picks case a)
    assert transfer.ask_case and all(o["document_case"] is None for o in transfer.ask_case)
    for code in ("1.013949", "2.002750"):  # case a) differs by sale or lease, the others by other things
        asked = compose_answer(catalogue.get(code), "documents", Settings())
        assert asked.which_case and not asked.ask_case, code


def test_which_case_lists_every_case_whole_enough_to_choose_and_names_its_source(catalogue):
    from knowledge_base.answers import source_line
    from knowledge_base.checklist import case_symbol

    asked_somewhere = 0
    for proc in catalogue.procedures.values():
        answer = compose_answer(proc, "documents", Settings())
        if not answer.which_case:
            continue
        asked_somewhere += 1
        message = answer.messages[0]
        assert len(answer.messages) == 1 and len(message) <= 1500 and source_line(proc) in message, proc.code
        listed = [line for line in message.splitlines()[2:-2]]
        assert len(listed) == len(proc.document_cases), proc.code
        for i, (line, case) in enumerate(zip(listed, proc.document_cases), 1):
            symbol = case_symbol(case.name, i)
            assert line.lower().startswith(symbol), (proc.code, line)
            assert len(re.sub(r"\W", "", line[len(symbol):])) >= 6, (proc.code, line)  # never a bare "đ)"
        assert len(set(listed)) == len(listed), proc.code
    assert asked_somewhere >= 10


@pytest.mark.parametrize("code, reply, case", [
    ("1.003650", "2", 2), ("1.003650", "số 3 nhé", 3), ("1.003650", "trường hợp 4 ạ", 4),
    ("1.003650", "cái thứ hai", 2), ("1.003650", "cái cuối", 7), ("1.003650", "tau nhap khau", 4),
    ("1.003650", "lệ phí bao nhiêu", None), ("1.003650", "9", None),
    ("1.013949", "b", 2), ("1.013949", "đ", 5), ("1.013949", "d", 4),  # the typed accent tells đ) from d)
    ("1.013949", "trường hợp h ạ", 8), ("1.013949", "2", 2), ("1.013949", "gia hạn sử dụng đất", 8),
    ("1.013978", "a", 1), ("1.013978", "trường hợp a", 1), ("1.013978", "a ạ", 1), ("1.013949", "b a", 2),
    ("1.013949", "ý b", 2), ("1.013949", "chắc là b", 2), ("1.003650", "cái cuối cùng", 7),
    ("1.003650", "mua lại", 3), ("1.013978", "tôi là việt kiều", 2),  # the situation a reply says
    ("1.013978", "dạ b ạ", 2), ("1.013978", "vâng, b", 2), ("1.013978", "b á", 2), ("1.013978", "xem trường hợp b", 2),
    ("1.013978", "còn trường hợp c thì sao", 3), ("1.013978", "dạ số 2", 2),
    ("1.013978", "á", None), ("1.013978", "a ơi", None),  # "á" is no "a"; "a ơi" calls the bot "anh"
    ("1.013978", unicodedata.normalize("NFD", "b ạ"), 2),  # decomposed accents (Unikey "tổ hợp")
    ("1.013833", "đ", 4),  # "đ" typed for a lone "d)"
    # sentences, not choices: "a"/"c" stand for "anh"/"chị", "thứ hai" and "cuối cùng" say other things
    ("1.013978", "tôi là con thứ hai", None), ("1.013978", "giấy tờ cuối cùng là gì", None),
    ("1.013978", "a cần giấy tờ gì", None), ("1.013978", "c cần giấy tờ gì", None),
])
def test_a_typed_reply_chooses_a_document_case(catalogue, code, reply, case):
    from knowledge_base.checklist import case_in_reply

    assert case_in_reply(catalogue.get(code), reply) == case


@pytest.mark.parametrize("text, short", [
    ("tôi là việt kiều", True), ("tau nhap khau", True), ("việt kiều có được mua nhà không", False),
    ("hộ chiếu cho việt kiều?", False), ("tôi là việt kiều về nước đã lâu nay muốn hỏi thêm một việc khác", False),
    ("tôi là việt kiều, chưa có sổ", True), ("tàu nhập khẩu đã khai báo", True), ("không phải việt kiều", False),
])
def test_a_short_reply_is_a_statement_of_a_few_words(text, short):
    from knowledge_base.checklist import is_short_reply

    assert is_short_reply(text) is short


def test_a_reply_about_something_else_chooses_by_symbol_only(catalogue):
    from knowledge_base.checklist import case_in_reply

    boat = catalogue.get("1.003650")
    assert case_in_reply(boat, "tau nhap khau", by_words=False) is None
    assert case_in_reply(boat, "4", by_words=False) == 4


def test_cases_that_fit_one_bubble_are_listed_together(catalogue):
    capacity = catalogue.get("1.003082")  # "Hồ sơ năng lực" and "Mẫu đơn, tờ khai": parts of one dossier
    answer = compose_answer(capacity, "documents", Settings())
    assert "Hồ sơ năng lực:" in answer.text and "Mẫu đơn, tờ khai:" in answer.text and answer.cases == []


@pytest.mark.parametrize("name, number, label", [
    ("a) Đối với trường hợp thực hiện thủ tục đăng ký, cấp Giấy chứng nhận cho hộ gia đình, cá nhân, cộng đồng dân cư",
     1, "a) đăng ký, cấp Giấy…cho hộ gia đình, cá nhân, cộng đồng dân cư"),
    ("2) Hồ sơ đối với tàu cải hoán gồm", 2, "2) tàu cải hoán"),
    ("Hồ sơ cấp giấy phép hoạt động dự báo, cảnh báo đối với tổ chức", 2,
     "2. cấp giấy phép hoạt động dự báo, cảnh báo đối với tổ chức"),
    ("Hồ sơ năng lực", 1, "1. Hồ sơ năng lực"),
    ("", 3, "Trường hợp 3"),
])
def test_case_labels_keep_what_sets_a_case_apart(name, number, label):
    from knowledge_base.answers import CASE_LABEL, case_label

    assert case_label(name, number) == label and len(label) <= CASE_LABEL


def test_no_two_cases_of_a_record_share_a_label(catalogue):
    from knowledge_base.answers import case_label

    for proc in catalogue.procedures.values():
        labels = [case_label(c.name, i) for i, c in enumerate(proc.document_cases, 1)]
        assert len(set(labels)) == len(labels), proc.code


@pytest.mark.parametrize("name, description, expected", [
    # the answer numbers the steps itself: the record's labels go, doubled ones too
    ("Bước 1: a) Bước 1: Nộp hồ sơ", "Tổ chức nộp 01 bộ hồ sơ tại Bộ phận Một cửa.",
     "Nộp hồ sơ: Tổ chức nộp 01 bộ hồ sơ tại Bộ phận Một cửa."),
    # a heading that announces a list gets the first thing done, not a sub-heading or another step
    ("Bước 2: Cơ quan tiếp nhận hồ sơ thực hiện", "+ Tiếp nhận:\nVề cấp chứng chỉ - Bước 1: Nộp hồ sơ\n"
     "- Kiểm tra tính đầy đủ của hồ sơ.", "Cơ quan tiếp nhận hồ sơ thực hiện: Kiểm tra tính đầy đủ của hồ sơ."),
    ("Bước 3: Văn phòng đăng ký đất đai, Chi nhánh Văn phòng đăng ký đất đai thực hiện", "Hủy Giấy chứng nhận đã cấp.",
     "Văn phòng đăng ký đất đai, Chi nhánh Văn phòng đăng ký đất đai thực hiện: Hủy Giấy chứng nhận đã cấp."),
    # a step that already says what to do is kept as it is
    ("Bước 1: Người sử dụng đất nộp hồ sơ đến Trung tâm Phục vụ hành chính công của tỉnh hoặc Văn phòng đăng ký",
     "Khi nộp hồ sơ, người yêu cầu được chọn nộp bản sao.",
     "Người sử dụng đất nộp hồ sơ đến Trung tâm Phục vụ hành chính công của tỉnh hoặc Văn phòng đăng ký"),
    ("Bước 2: Thẩm định", "", "Thẩm định"),
    ("Bước 4: Trả kết quả", "Trả kết quả cho người nộp.", "Trả kết quả cho người nộp."),
    # a sub-item's letter or number is no sentence ("1. a."), and the next item's heading run on is dropped
    ("Bước 1: a. Tiêu hủy động vật", "Xã lập biên bản tiêu hủy theo Mẫu số 1a (Nghị định 116/2025/NĐ-CP). b. Gửi hồ sơ",
     "Tiêu hủy động vật: Xã lập biên bản tiêu hủy theo Mẫu số 1a (Nghị định 116/2025/NĐ-CP)."),
    ("Bước 5: 1. Cơ quan kiểm tra xem xét sự phù hợp", "", "Cơ quan kiểm tra xem xét sự phù hợp"),
    ("Bước 2: Nộp theo điểm a) khoản 2 Điều 5", "", "Nộp theo điểm a) khoản 2 Điều 5"),
    # what a colon announces, and an "a." that starts a list, are the step's own words
    ("Bước 1: Tiếp nhận", "Cán bộ kiểm tra hồ sơ, gồm: c) Bản vẽ thửa đất",
     "Tiếp nhận: Cán bộ kiểm tra hồ sơ, gồm: c) Bản vẽ thửa đất"),
    ("Bước 1: Tiếp nhận", "Cán bộ kiểm tra hồ sơ. a. Hồ sơ đủ thì tiếp nhận",
     "Tiếp nhận: Cán bộ kiểm tra hồ sơ. a. Hồ sơ đủ thì tiếp nhận"),
    ("Bước 1: Tiếp nhận", "Cán bộ tiếp nhận hồ sơ gồm: a) Đơn đăng ký; b) Bản vẽ thửa đất",
     "Tiếp nhận: Cán bộ tiếp nhận hồ sơ gồm: a) Đơn đăng ký; b) Bản vẽ thửa đất"),
])
def test_a_step_reads_as_one_line_of_what_to_do(name, description, expected):
    from knowledge_base.answers import step_line
    from knowledge_base.schema import Step

    assert step_line(Step(name=name, description=description)) == expected


def test_choices_offered_again_ask_to_confirm_when_there_is_one(catalogue):
    from knowledge_base.answers import which_offered

    one = which_offered("steps", [catalogue.get("1.012786")])
    assert one.text.startswith("Bạn muốn biết các bước thực hiện của thủ tục dưới đây phải không ạ?")
    assert one.choices == [{"title": catalogue.get("1.012786").chat_name, "payload": "1.012786"}]
    two = which_offered("documents", [catalogue.get("1.012786"), catalogue.get("1.012784")])
    assert two.text.startswith("Bạn muốn biết hồ sơ") and "của thủ tục nào ạ?" in two.text and len(two.choices) == 2


def test_a_time_asked_of_procedures_offered_is_answered_for_each_of_them(catalogue):
    """"mất bao lâu" after two procedures were offered and none picked: each one's time with its record, and the
    same choices; a place only a record naming one for everyone can give, else the citizen is asked to pick."""
    from knowledge_base.answers import which_offered

    lost, split = catalogue.get("1.012786"), catalogue.get("1.012784")
    both = which_offered("time", [lost, split])
    assert both.text.startswith("Thời hạn giải quyết của các thủ tục vừa gợi ý")
    for proc in (lost, split):
        line = next(x for x in both.text.split("\n") if f"thủ tục {proc.code}" in x)
        assert proc.chat_name in line and "ngày" in line and "Quyết định" in line
    assert [c["payload"] for c in both.choices] == ["1.012786", "1.012784"] and len(both.text) <= 700
    scorpion = which_offered("where", [catalogue.get("1.014958")])
    assert "Sở Nông nghiệp và Môi trường" in scorpion.text and scorpion.text.startswith("Nơi nộp hồ sơ của thủ tục")
    transfer = which_offered("where", [catalogue.get("1.013831"), catalogue.get("1.014958")])
    # 1.013831 names three places by who files, too long for a line: a tap gives them; the other's is said
    assert "1.013831, Quyết định 3380/QĐ-BNNMT): bấm chọn thủ tục này để xem nơi nộp hồ sơ." in transfer.text
    assert "Sở Nông nghiệp và Môi trường" in transfer.text and len(transfer.choices) == 2
    neither = which_offered("where", [catalogue.get("1.013994"), catalogue.get("1.012787")])  # no filing places
    assert neither.text.startswith("Bạn muốn biết nơi nộp hồ sơ của thủ tục nào ạ?")
    # a record naming no filing place but the agency that receives: a tap shows it, nothing says it is unknown
    agency = next(p for p in catalogue if not p.filing_places and p.agencies and p.channels)
    beside = which_offered("where", [agency, catalogue.get("1.014958")]).text
    assert f"{agency.code}, Quyết định" in beside and "chưa nêu" not in beside and "bấm chọn thủ tục này" in beside


def test_the_ways_of_filing_asked_of_procedures_offered_are_said_for_each_of_them(catalogue):
    """"nộp online được không" after two procedures were offered: the ways each record names, and the same choices."""
    from knowledge_base.answers import which_offered

    rename, exchange = catalogue.get("1.013833"), catalogue.get("1.012783")
    both = which_offered("channels", [rename, exchange])
    assert both.text.startswith("Cách nộp của các thủ tục vừa gợi ý")
    assert "1.013833, Quyết định 2304/QĐ-BNNMT): trực tiếp." in both.text
    assert "1.012783, Quyết định 3380/QĐ-BNNMT): trực tuyến, bưu chính, trực tiếp." in both.text
    assert [c["payload"] for c in both.choices] == ["1.013833", "1.012783"] and len(both.text) <= 700


def test_a_place_asked_of_one_procedure_offered_gives_where_each_kind_of_applicant_files(catalogue):
    """An heir asks where to file and the search offers 1.013831 alone: its record names a place for organisations
    and one for individuals, each said under it; the gift to the State's commune office is no heir's."""
    from knowledge_base.answers import compared

    heir = compared("where", [catalogue.get("1.013831")], Situation(case="inheritance"), first=True)
    assert heir is not None and len(heir) <= 700
    lines = heir.split("\n")
    assert lines[1].startswith("- ") and "thủ tục 1.013831" in lines[1] and lines[1].endswith(":")
    assert lines[2].startswith("  + Tổ chức") and lines[3].startswith("  + Cá nhân") and "Chi nhánh" in lines[3]
    assert "Ủy ban nhân dân cấp xã" not in heir


def test_a_time_without_unit_takes_the_one_its_steps_give(catalogue):
    from knowledge_base.importer.records import _same_record
    from knowledge_base.importer.structure import time_units_from_steps
    from knowledge_base.schema import Step, TimeUnit

    licence = catalogue.get("1.004359")  # the cell says "5"; a step "trong thời hạn 05 ngày làm việc"
    assert {(c.time.unit, c.time.unit_from) for c in licence.channels} == {(TimeUnit.working_day, "steps")}
    assert "- 5 ngày làm việc (đơn vị theo các bước thực hiện)" in compose_answer(licence, "time", Settings()).text
    # steps that give the number two units leave it without one; the reading is no change of the record
    proc = licence.copy(deep=True)
    for channel in proc.channels:
        channel.time.unit, channel.time.unit_from = TimeUnit.unspecified, None
    before = proc.copy(deep=True)
    proc.steps = [Step(name="Trong 05 ngày làm việc thẩm định"), Step(name="trả kết quả trong 05 ngày")]
    time_units_from_steps(proc)
    assert {c.time.unit for c in proc.channels} == {TimeUnit.unspecified}
    assert "5 (hồ sơ gốc không ghi đơn vị)" in compose_answer(proc, "time", Settings()).text
    assert _same_record(before, licence)


def test_a_time_given_only_in_the_description_is_said_or_its_cases_counted(catalogue):
    live_fish = compose_answer(catalogue.get("1.003361"), "time", Settings())  # no time in the column
    said = live_fish.messages[0]
    assert "chưa ghi thời hạn" not in said and "không ghi ở cột thời hạn, mà ghi trong phần mô tả" in said
    assert ("- 28 ngày làm việc (đối với trường hợp cấp mới), 02 ngày làm việc (đối với trường hợp cấp lại) kể từ ngày "
            "nhận được hồ sơ đầy đủ, hợp lệ theo quy định.") in said
    # three cases of four steps each (the mine closure): too long for a time answer, so counted, never cut
    closure = compose_answer(catalogue.get("1.014278"), "time", Settings())
    assert "thời hạn riêng cho 3 trường hợp" in closure.text and "chưa ghi thời hạn" not in closure.text
    assert len(closure.text) <= 700 and "…" not in closure.text
    # a record whose column gives a time says it as before
    assert "Hồ sơ thủ tục không ghi ở cột" not in compose_answer(catalogue.get("1.012786"), "time", Settings()).text


def test_limits_the_steps_add_up_to_give_the_unit_of_a_bare_number(catalogue):
    from knowledge_base.importer.structure import time_units_from_steps
    from knowledge_base.schema import Step, TimeUnit

    proc = catalogue.get("1.007926").copy(deep=True)  # "20": steps of 18, then 2 working days
    assert {(c.time.unit, c.time.unit_from) for c in proc.channels} == {(TimeUnit.working_day, "steps")}
    assert "Các bước thực hiện còn ghi" not in compose_answer(proc, "time", Settings()).text  # they add up: said
    for channel in proc.channels:
        channel.time.unit, channel.time.unit_from = TimeUnit.unspecified, None
    for steps in ([Step(name="trong thời hạn 18 ngày làm việc"), Step(name="trong thời hạn 02 ngày")],  # two units
                  [Step(name="trong thời hạn 18 ngày làm việc, hoặc 02 ngày làm việc")],  # one step's alternatives
                  [Step(name="trong thời hạn 17 ngày làm việc"), Step(name="trong thời hạn 02 ngày làm việc")]):
        proc.steps = steps
        time_units_from_steps(proc)
        assert {c.time.unit for c in proc.channels} == {TimeUnit.unspecified}


def test_a_time_the_steps_say_otherwise_is_followed_by_their_limits(catalogue):
    quarantine = compose_answer(catalogue.get("1.002338"), "time", Settings())  # the cell "1"; a farm may take 5
    said = quarantine.messages[0]
    assert "- Bưu chính, trực tiếp: 1 ngày làm việc (đơn vị theo các bước thực hiện)" in said
    assert ("Các bước thực hiện còn ghi thời hạn riêng cho từng bước: Tiếp nhận và kiểm tra hồ sơ: 1 ngày làm việc; "
            "Nội dung kiểm dịch: 5 ngày làm việc, 1 ngày làm việc. Tổng thời gian có thể khác con số trên, bạn nên hỏi "
            "cơ quan giải quyết khi nộp hồ sơ.") in said
    assert len(said) <= 700
    # steps after steps: each unit from the least to the most
    many = compose_answer(catalogue.get("1.014130"), "time", Settings()).messages[0]
    assert "còn ghi thời hạn riêng cho từng bước: từ 1 đến 5 ngày làm việc; từ 15 đến 45 ngày." in many
    # a step whose name heads them all is not named ("1. Trình tự thực hiện")
    seed = compose_answer(catalogue.get("1.004918"), "time", Settings()).text
    assert "từng bước: 9 ngày làm việc, 1 ngày làm việc, 90 ngày, 2 ngày làm việc." in seed
    assert len(many) <= 700
    # a record whose cell gives its unit, or whose steps state only its number, lists nothing
    for code in ("1.012786", "1.003650"):
        assert "Các bước thực hiện còn ghi" not in compose_answer(catalogue.get(code), "time", Settings()).text


def test_a_unit_read_from_the_steps_sets_no_legal_due_date(catalogue):
    from dossiers.procedures import CatalogueLimits

    limits = CatalogueLimits(catalogue)
    assert limits("1.004359", "direct") is None  # "5" and a step's "05 ngày làm việc": told, not enforced
    assert limits("1.012786", "direct") is not None  # the record's own cell gives its unit


def test_twins_offered_together_are_told_apart_by_their_level(catalogue):
    """1.014258 and 1.014256 share the chat name "Xác nhận đăng ký thu hồi khoáng sản": offered together, each
    carries its level, in the list and on its button; offered with another procedure, neither does."""
    from knowledge_base.answers import offered_names, which_offered

    commune, province = catalogue.get("1.014258"), catalogue.get("1.014256")
    assert commune.chat_name == province.chat_name
    both = which_offered("time", [commune, province])
    titles = [c["title"] for c in both.choices]
    assert titles == [f"{commune.chat_name} (cấp xã)", f"{province.chat_name} (cấp tỉnh)"]
    assert all(title in both.text for title in titles)
    assert offered_names([commune, catalogue.get("1.012786")])[0] == commune.chat_name
    listed = compose_answer(None, "documents", Settings(), candidates=[commune, province]).text
    assert "(cấp xã) (1.014258)" in listed and "(cấp tỉnh) (1.014256)" in listed


@pytest.mark.parametrize("question", ["mau don nao", "đơn theo mẫu nào vậy", "tờ khai mẫu gì"])
def test_which_form_asked_of_procedures_offered_is_answered_for_each_of_them(catalogue, question):
    """A papers question asking only which form to fill gets each offered procedure's application form; asking for
    every paper, a checklist each would not fit: the citizen is asked to pick."""
    from knowledge_base.answers import which_offered

    offered = [catalogue.get("1.012786"), catalogue.get("1.012784")]
    forms = which_offered("documents", offered, question=question)
    assert forms.text.startswith("Mẫu đơn, tờ khai của các thủ tục vừa gợi ý")
    assert "Mẫu số 18" in forms.text and "Mẫu số 21" in forms.text and len(forms.choices) == 2
    for papers in ("can mang nhung giay to gi", "không biết dùng mẫu nào, cần giấy tờ gì nữa"):
        asked = which_offered("documents", offered, question=papers)
        assert asked.text.startswith("Bạn muốn biết hồ sơ cần chuẩn bị của thủ tục nào ạ?"), papers


def test_a_record_giving_no_time_is_said_so_beside_one_that_does(catalogue):
    """A procedure whose record gives no time for any channel is said to give none, beside the other's time; when
    no offered record gives one, the citizen is asked to pick."""
    from knowledge_base.answers import which_offered

    silents = [p for p in catalogue if p.channels and all(c.time.value is None for c in p.channels)]
    said = which_offered("time", [silents[0], catalogue.get("1.012786")]).text
    assert f"{silents[0].code}, Quyết định" in said and "thông tin đã công bố chưa nêu thời hạn giải quyết." in said
    assert "20 ngày làm việc" in said and len(said) <= 700
    asked = which_offered("time", silents[:2])
    assert asked.text.startswith("Bạn muốn biết thời hạn giải quyết của thủ tục nào ạ?")


def test_a_form_asked_of_procedures_offered_says_which_records_give_one_at_more_length_or_none(catalogue):
    """Of three procedures offered, one names its form: it is said; one has four forms, one per kind of water use: a
    tap shows them; one names no application at all: that is said, not promised on a tap."""
    from knowledge_base.answers import which_offered

    offered = [catalogue.get("2.002835"), catalogue.get("1.000025"), catalogue.get("1.012786")]
    said = which_offered("documents", offered, question="mẫu đơn nào").text
    lines = said.split("\n")
    assert "2.002835" in lines[1] and lines[1].endswith("bấm chọn thủ tục này để xem mẫu đơn, tờ khai.")
    assert "1.000025" in lines[2] and lines[2].endswith("thông tin đã công bố chưa nêu mẫu đơn, tờ khai.")
    assert "1.012786" in lines[3] and "Mẫu số 18" in lines[3] and len(said) <= 700


def test_places_by_kind_that_make_the_message_too_long_are_left_to_a_tap(catalogue):
    """Rice field to fruit trees: the crop change files at the commune, the purpose change names a long place for
    each kind of applicant; together they pass 700 characters, so the second's are left to a tap and the first's is
    still said."""
    from knowledge_base.answers import compared

    crop, purpose = catalogue.get("1.008004"), catalogue.get("1.013992")
    said = compared("where", [crop, purpose], Situation(), first=True)
    assert said is not None and len(said) <= 700
    lines = said.split("\n")
    assert "1.008004" in lines[1] and lines[1].endswith("Ủy ban nhân dân cấp xã.")
    assert "1.013992" in lines[2] and lines[2].endswith("bấm chọn thủ tục này để xem nơi nộp hồ sơ.")
    heir = compared("where", [catalogue.get("1.013831")], Situation(case="inheritance"), first=True)
    assert heir is not None and "  + Cá nhân" in heir  # places by kind that fit are still said


def test_lines_beside_offered_procedures_say_no_less_than_their_records(catalogue):
    """A form after an enumerator ("a) Đơn đề nghị … theo Mẫu số 01.CC") is named, not "chưa nêu"; places that
    name one kind of applicant twice are no places by kind; a form number is not left ending in a bare "Phụ lục",
    and a form named only "theo mẫu quy định tại Phụ lục" keeps its words."""
    from knowledge_base.answers import _brief, compared
    from knowledge_base.checklist import application_form

    lost = catalogue.get("1.012786")
    port = compared("documents", [catalogue.get("1.004478"), lost], Situation(), first=True, question="mẫu đơn nào")
    assert "1.004478, Quyết định 68/QĐ-BNNMT): Đơn đề nghị công bố mở cảng cá theo Mẫu số 01.CC Phụ lục XII." in port
    assert "theo Mẫu số 18." in port
    water = catalogue.get("2.002835")
    assert len({p.who for p in water.filing_places}) < len(water.filing_places)
    assert _brief(water, "where", Situation()) is None
    assert application_form(catalogue.get("1.000943")).endswith("theo Mẫu số 09")
    assert application_form(catalogue.get("1.004629")).endswith("theo mẫu quy định tại Phụ lục")


def test_a_receiving_address_is_said_whole(catalogue):
    for code in ("1.000987", "1.010727"):  # 430 and 459 characters: they were cut at 300, mid-word
        proc = catalogue.get(code)
        text = compose_answer(proc, "where", Settings()).text
        assert " ".join(proc.address.split()) in text
        assert all(len(m) <= 700 for m in compose_answer(proc, "where", Settings()).messages)


def test_an_address_saying_more_than_the_steps_places_follows_them(catalogue):
    # 1.000049: the steps say where an extension goes; the address where a first certificate does
    text = compose_answer(catalogue.get("1.000049"), "where", Settings()).text
    assert "nộp tại cơ quan đã cấp chứng chỉ hành nghề." in text
    assert "Nơi tiếp nhận: Cá nhân đề nghị cấp chứng chỉ hành nghề" in text and "nơi cá nhân tham gia sát hạch." in text
    # an address that only repeats a place the steps give is not said twice
    same = next(p for p in catalogue if p.address.strip() and len(p.filing_places) == 1
                and p.filing_places[0].where.lower() in p.address.lower() and not p.filing_places[0].applicant_types)
    assert "Nơi tiếp nhận:" not in compose_answer(same, "where", Settings()).text


def test_a_place_the_record_does_not_give_is_not_stated_as_its_own(catalogue):
    # 1.000045 names its deciding agency but no receiving place: the usual one-stop shop is said to be usual only
    text = compose_answer(catalogue.get("1.000045"), "where", Settings()).text
    assert "Cơ quan giải quyết: Chi cục Kiểm lâm." in text
    assert "Hồ sơ thủ tục không ghi địa chỉ tiếp nhận. Thường nộp tại Bộ phận Một cửa" in text
    # a ministry's procedure is not sent to the province's shop
    text = compose_answer(catalogue.get("1.002161"), "where", Settings()).text
    assert "Thường nộp tại Bộ phận Một cửa" not in text and "cơ quan trung ương" in text
    # one whose steps say where its file goes says that place
    text = compose_answer(catalogue.get("1.003462"), "where", Settings()).text
    assert "nộp tại Cục Chăn nuôi và Thú y." in text and "không ghi địa chỉ" not in text


def test_a_lower_rate_for_a_time_is_the_fee_until_its_last_day(catalogue, monkeypatch):
    import datetime as dt

    import knowledge_base.answers as answers

    vet = catalogue.get("2.001064")  # 50.000 đồng; 25.000 đồng "đến hết ngày 31 tháng 12 năm 2026" (64/2025/TT-BTC)
    monkeypatch.setattr(answers, "today_local", lambda: dt.date(2026, 12, 31))
    text = compose_answer(vet, "fees", Settings()).text
    assert "- 25.000 đồng/CCHN đến hết ngày 31/12/2026 (theo 64/2025/TT-BTC); sau đó 50.000 đồng" in text
    monkeypatch.setattr(answers, "today_local", lambda: dt.date(2027, 1, 1))
    text = compose_answer(vet, "fees", Settings()).text
    assert "25.000 đồng/CCHN đến hết" not in text and "50.000 đồng" in text
    # before its first day, or with no act named
    from knowledge_base.schema import Fee

    later = Fee(kind="fee", amount_vnd=50000, text="50.000 đồng/lần; 25.000 đồng/lần (áp dụng từ ngày 01 tháng 7 năm "
                "2027 đến hết ngày 31 tháng 12 năm 2027)")
    assert answers._rate_in_force(later, dt.date(2027, 6, 30)) == ""
    assert answers._rate_in_force(later, dt.date(2027, 7, 1)) == \
        "25.000 đồng/lần đến hết ngày 31/12/2027; sau đó 50.000 đồng/lần"


@pytest.mark.parametrize("question, aspect, also", [
    ("tách thửa nộp hồ sơ ở đâu, lệ phí bao nhiêu?", "where", ("fees",)),
    ("so do ghi sai ten can giay to gi va mat bao lau", "documents", ("time",)),
    ("cần giấy tờ gì, nộp ở đâu, mất mấy ngày", "documents", ("where", "time")),
    ("lệ phí bao nhiêu", "fees", ()),
    # a noun that names the subject asks nothing: "thời hạn sử dụng đất", "hồ sơ"
    ("xin gia hạn thời hạn sử dụng đất thì chuẩn bị gì", "documents", ()),
    # conditions or steps are answered alone
    ("điều kiện tách thửa là gì, mất bao lâu", "conditions", ()),
    # how many days is a time, not a fee; a street front is no cost; a subject's cost is not asked; the registration
    # fee is the tax office's
    ("tách thửa đất hết bao nhiêu ngày", "time", ()),
    ("nhà mặt tiền muốn tách thửa cần giấy tờ gì", "documents", ()),
    ("ho tro chi phi quang ba san pham nop ho so o dau", "where", ()),
    ("bán đất cần giấy tờ gì, lệ phí trước bạ bao nhiêu", "documents", ()),
    ("tách thửa cần giấy tờ gì, có mất phí không", "documents", ("fees",)),
    # how long a permit lasts, the land was used, or how early to file is no time the procedure takes
    ("giấy phép có hiệu lực bao lâu, cần giấy tờ gì", "documents", ()),
    ("đất sử dụng ổn định bao lâu thì được cấp sổ, cần giấy tờ gì", "documents", ()),
    ("phải đăng ký kiểm dịch trước mấy ngày và nộp ở đâu", "where", ()),
])
def test_a_second_short_aspect_asked_is_read(question, aspect, also):
    from knowledge_base.answers import also_asked

    assert also_asked(question, aspect) == also


def test_a_second_short_aspect_asked_is_answered_too(catalogue):
    proc = catalogue.get("1.004359")
    answer = compose_answer(proc, "time", Settings(), also=("fees",))
    assert answer.messages[1].startswith("Phí, lệ phí theo hồ sơ thủ tục:\n- Lệ phí cấp mới 40.000 đồng/lần")
    assert "Thời hạn giải quyết" in answer.messages[0] and len(answer.messages) == 3
    # the closing question offers what else, not what was just answered
    assert answer.next_aspects == ("documents", "channels")
    both = compose_answer(catalogue.get("1.012784"), "where", Settings(), also=("fees",))
    assert both.next_aspects == ("documents", "time")
    assert both.messages[-1].endswith("Bạn muốn xem thêm hồ sơ cần chuẩn bị hay thời hạn giải quyết?")
    assert all(len(m) <= 700 for m in both.messages[1:-1])


@pytest.mark.parametrize("question, aspect, together", [
    # read as the fee (the question ends there), but the papers are asked too: they lead
    ("tách thửa đất cần giấy tờ gì, lệ phí bao nhiêu", "fees", ("documents", ("fees",))),
    ("can giay to gi, nop o dau, mat bao lau", "time", ("documents", ("where", "time"))),
    # a noun naming the papers asks none ("hồ sơ" is the subject)
    ("nộp hồ sơ tách thửa ở đâu", "where", ("where", ())),
    ("lệ phí bao nhiêu", "fees", ("fees", ())),
    ("điều kiện tách thửa, cần giấy tờ gì", "conditions", ("conditions", ())),
])
def test_the_papers_lead_when_asked_beside_a_fee_time_or_place(question, aspect, together):
    from knowledge_base.answers import asked_together

    assert asked_together(question, aspect) == together
