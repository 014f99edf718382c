"""Who files where, read from a record's steps (knowledge_base.importer.structure.filing_places)."""
import pytest

from core.settings import Settings
from knowledge_base.answers import compose_answer
from knowledge_base.importer.structure import filing_places
from knowledge_base.schema import Step
from knowledge_base.situation import Situation


def places(line: str):
    return [(p.who, p.where) for p in filing_places([Step(name=line)])]


def test_a_step_s_label_is_no_part_of_who_files():
    assert places("Bước 1: Người yêu cầu đăng ký nộp hồ sơ đến Trung tâm Phục vụ hành chính công hoặc Văn phòng "
                  "đăng ký đất đai.") == [
        ("Người yêu cầu đăng ký", "Trung tâm Phục vụ hành chính công hoặc Văn phòng đăng ký đất đai")]


def test_a_notice_named_at_length_goes_to_the_place_a_preposition_leads_to():
    """1.014958: the scorpion farmer sends a notice, named with its form's annex, to the department."""
    found = places("Bước 1. Tổ chức, cá nhân chăn nuôi bò cạp vì mục đích thương mại gửi thông báo phương án chăn "
                   "nuôi, phương án quản lý và kiểm soát nguy cơ rủi ro trong hoạt động chăn nuôi theo biểu mẫu tại "
                   "Phụ lục I ban hành kèm theo Thông tư 66/2025/TT-BNNMT tới Sở Nông nghiệp và Môi trường trực tiếp "
                   "hoặc qua dịch vụ bưu chính hoặc qua môi trường mạng.")
    assert len(found) == 1
    who, where = found[0]
    assert who.startswith("Tổ chức, cá nhân chăn nuôi bò cạp") and where.startswith("Sở Nông nghiệp và Môi trường")


@pytest.mark.parametrize("line, who, where", [
    # a step's short title before who files (1.003203)
    ("Nộp hồ sơ: Tổ chức, cá nhân gửi hồ sơ đến Sở Nông nghiệp và Môi trường", "Tổ chức, cá nhân",
     "Sở Nông nghiệp và Môi trường"),
    # the file unnamed after "nộp" (1.002409)
    ("Tổ chức có nhu cầu đề nghị cấp Giấy chứng nhận đủ điều kiện nhập khẩu thuốc thú y chuẩn bị hồ sơ và nộp đến Cơ "
     "quan được Chủ tịch Ủy ban nhân dân cấp tỉnh giao giải quyết thủ tục hành chính trong lĩnh vực chăn nuôi và thú "
     "y.", "Tổ chức có nhu cầu đề nghị cấp Giấy chứng nhận đủ điều kiện nhập khẩu thuốc thú y",
     "Cơ quan được Chủ tịch Ủy ban nhân dân cấp tỉnh giao giải quyết thủ tục hành chính trong lĩnh vực chăn nuôi và "
     "thú y"),
    # a company files; the post is a way of sending, no place (1.000025, 1.000969)
    ("Công ty nông, lâm nghiệp trực thuộc Ủy ban nhân dân cấp tỉnh, gửi hồ sơ thẩm định Đề án về Sở Nông nghiệp và Môi "
     "trường.", "Công ty nông, lâm nghiệp trực thuộc Ủy ban nhân dân cấp tỉnh", "Sở Nông nghiệp và Môi trường"),
    ("nộp hồ sơ: Tổ chức, cá nhân nộp hồ sơ đến Trung tâm Phục vụ hành chính công cấp tỉnh, dịch vụ bưu chính hoặc "
     "thông qua Cổng Dịch vụ công quốc gia.", "Tổ chức, cá nhân", "Trung tâm Phục vụ hành chính công cấp tỉnh"),
])
def test_who_files_where_is_read_past_a_title_an_unnamed_file_and_the_post(line, who, where):
    assert places(line) == [(who, where)]


@pytest.mark.parametrize("line", [
    # views sent in, a file completed after a notice, a bare "nộp" before where the agency answers: no filing place
    "Trong thời hạn 07 ngày kể từ ngày nhận được văn bản lấy ý kiến, cơ quan, tổ chức, cá nhân có ý kiến bằng văn "
    "bản gửi đến Sở Nông nghiệp và Môi trường.",
    "b) Tổ chức quản lý cảng cá được chỉ định trả lời ngay tính đầy đủ của hồ sơ đối với trường hợp nộp trực tiếp tại "
    "Bộ phận Một cửa; trả lời bằng văn bản trong 01 ngày làm việc.",
])
def test_a_bare_verb_is_read_as_a_filing_only_as_nop_den(line):
    assert places(line) == []


def test_a_title_saying_for_whom_keeps_the_line_unread_and_a_bare_filing_ends_at_its_place():
    # 3.000179: "Cấp Trung ương - Bước 1:" and "Cấp tỉnh - Bước 1:" would give two places for everyone
    assert places("Cấp tỉnh - Bước 1: Tổ chức, cá nhân nộp hồ sơ đến Sở Nông nghiệp và Môi trường") == []
    assert places("Trường hợp cấp lại: Tổ chức, cá nhân nộp hồ sơ đến Sở Nông nghiệp và Môi trường") == []
    assert places("a) Bước 1: Tổ chức, cá nhân nộp hồ sơ đến Sở Nông nghiệp và Môi trường") == [
        ("Tổ chức, cá nhân", "Sở Nông nghiệp và Môi trường")]
    assert places("Chủ đầu tư dự án nộp đến Sở Nông nghiệp và Môi trường 01 bộ hồ sơ") == [
        ("Chủ đầu tư dự án", "Sở Nông nghiệp và Môi trường")]
    assert places("Cá nhân đã nộp đến UBND cấp xã văn bản đề nghị") == []  # done before, no filing


@pytest.mark.parametrize("line", [
    # a result handed on after the department has decided is no filing
    "Bước 4: Người nhập khẩu có trách nhiệm nộp Thông báo kết quả xác nhận thực phẩm đạt yêu cầu nhập khẩu cho cơ "
    "quan hải quan để thông quan hàng hóa.",
    # the agency's own steps
    "Sở Nông nghiệp và Môi trường gửi văn bản lấy ý kiến đến Ủy ban nhân dân cấp xã.",
    "Trong thời hạn 02 ngày làm việc, cơ quan tiếp nhận gửi hồ sơ đến Văn phòng đăng ký đất đai.",
    # a notice sent to no office
    "Tổ chức, cá nhân gửi thông báo cho người dân trong khu vực biết.",
])
def test_lines_that_are_no_filing_give_no_place(line):
    assert places(line) == []


def test_a_checklist_ends_with_the_one_place_its_citizen_files_at(catalogue):
    scorpion = compose_answer(catalogue.get("1.014958"), "documents", Settings(), situation=Situation()).text
    assert "Nộp hồ sơ tại: Sở Nông nghiệp và Môi trường" in scorpion
    # 1.013831: individuals file at the one-stop centre, land given to the State at the commune: not said as one
    transfer = compose_answer(catalogue.get("1.013831"), "documents", Settings(),
                              situation=Situation(case="sale")).text
    assert "Nộp hồ sơ tại" not in transfer


@pytest.mark.parametrize("line, who, where", [
    # what is sent and how, before the office it goes to
    ("Tổ chức, cá nhân lựa chọn nộp hồ sơ thông qua một trong các hình thức Trực tiếp hoặc qua đường bưu điện về Sở "
     "Nông nghiệp và Môi trường hoặc thông qua hệ thống dịch vụ công trực tuyến.", "Tổ chức, cá nhân",
     "Sở Nông nghiệp và Môi trường"),
    # who files after when they do; the list the line leads to is left out
    ("Trước khi vận chuyển động vật ra khỏi địa bàn cấp tỉnh chủ hàng gửi 01 bộ hồ sơ đăng ký kiểm dịch theo quy định "
     "tại Điều 4 Thông tư số 01/2026/TT-BNNMT đến Cơ quan quản lý chuyên ngành thú y cấp tỉnh, hồ sơ gồm:",
     "Chủ hàng", "Cơ quan quản lý chuyên ngành thú y cấp tỉnh"),
])
def test_the_place_follows_what_is_sent_and_who_follows_when(line, who, where):
    assert places(line) == [(who, where)]


def test_a_filing_said_inside_an_agency_s_step_is_not_read_across_its_clauses():
    assert places("b) Tổ chức quản lý cảng cá trả lời ngay tính đầy đủ của hồ sơ đối với trường hợp nộp trực tiếp tại "
                  "Bộ phận Một cửa; trả lời bằng văn bản trong 01 ngày đối với trường hợp nộp hồ sơ qua dịch vụ bưu "
                  "chính và hình thức trực tuyến tại Cổng Dịch vụ công quốc gia.") == []


@pytest.mark.parametrize("line, who, where", [
    # a case's lead before who files
    ("- Trường hợp cá nhân, cộng đồng dân cư nộp hồ sơ đến Trung tâm Phục vụ hành chính công hoặc Văn phòng đăng ký "
     "đất đai.", "Cá nhân, cộng đồng dân cư", "Trung tâm Phục vụ hành chính công hoặc Văn phòng đăng ký đất đai"),
    # what the office does next, and the next sentence, are no part of the place
    ("Trường hợp tổ chức, cá nhân nộp hồ sơ tại Ủy ban nhân dân cấp xã thì Ủy ban nhân dân cấp xã có trách nhiệm "
     "gửi tờ khai cho Sở.", "Tổ chức, cá nhân", "Ủy ban nhân dân cấp xã"),
    ("Chủ cơ sở gửi hồ sơ đến Cục Chăn nuôi và Thú y. Đối với cơ sở đăng ký cấp lại thì gửi trước 03 tháng.",
     "Chủ cơ sở", "Cục Chăn nuôi và Thú y"),
])
def test_a_case_s_lead_and_what_follows_the_place_are_left_out(line, who, where):
    assert places(line) == [(who, where)]


def test_a_filing_again_after_a_failed_round_is_not_where_one_files():
    assert places("Trường hợp cơ sở không đáp ứng điều kiện, trong thời hạn 06 tháng kể từ ngày lập biên bản đánh giá, "
                  "tổ chức, cá nhân khắc phục và gửi báo cáo kết quả khắc phục đến Sở Nông nghiệp và Môi trường.") == []


@pytest.mark.parametrize("line", [
    # an agency's step after a when-clause naming who filed
    "Khi nhận được hồ sơ của tổ chức, cá nhân, Sở Nông nghiệp và Môi trường gửi văn bản lấy ý kiến đến Ủy ban nhân dân "
    "cấp xã.",
    "Sau khi thẩm định hồ sơ của cá nhân, cơ quan tiếp nhận gửi hồ sơ đến Văn phòng đăng ký đất đai.",
    # the office is in the next sentence, which the agency speaks
    "Tổ chức, cá nhân nộp hồ sơ trực tiếp. Sau khi tiếp nhận, Sở gửi kết quả cho Ủy ban nhân dân cấp xã.",
])
def test_an_agency_s_step_beside_who_filed_gives_no_place(line):
    assert places(line) == []


def test_a_place_is_listed_once_and_without_what_the_record_calls_it_later():
    line = ("Tổ chức, cá nhân nộp hồ sơ đến Trung tâm phục vụ hành chính công cấp tỉnh (sau đây gọi tắt là Bộ phận Một "
            "cửa).")
    assert [(p.who, p.where) for p in filing_places([Step(name=line), Step(name=line)])] == [
        ("Tổ chức, cá nhân", "Trung tâm phục vụ hành chính công cấp tỉnh")]


def test_cases_listed_together_end_with_the_place_too(catalogue):
    """1.004915's two cases (a first issue, a reissue) fit one message: it ends with where to file."""
    text = compose_answer(catalogue.get("1.004915"), "documents", Settings(), situation=Situation()).text
    assert "Trường hợp cấp mới" in text and "Trường hợp cấp lại" in text
    assert "Nộp hồ sơ tại: cơ quan được Chủ tịch Ủy ban nhân dân cấp tỉnh giao tiếp nhận hồ sơ" in text


@pytest.mark.parametrize("line, who, where", [
    # "cơ sở" who files is no "Sở" after a when-clause; a renewal's deadline is a when-clause too
    ("Trước khi Quyết định chỉ định hết hiệu lực 90 ngày, cơ sở kiểm nghiệm nộp hồ sơ đến Sở Nông nghiệp và Môi "
     "trường.", "Cơ sở kiểm nghiệm", "Sở Nông nghiệp và Môi trường"),
    ("Trong thời hạn 30 ngày làm việc trước khi Giấy phép hết hiệu lực, tổ chức, cá nhân gửi hồ sơ đến Sở Nông "
     "nghiệp và Môi trường.", "Tổ chức, cá nhân", "Sở Nông nghiệp và Môi trường"),
    # "thành lập" is who they are; an address's "P." and "TP." end no sentence
    ("Doanh nghiệp được thành lập theo pháp luật gửi hồ sơ đến Sở Nông nghiệp và Môi trường.",
     "Doanh nghiệp được thành lập theo pháp luật", "Sở Nông nghiệp và Môi trường"),
    ("Tổ chức, cá nhân nộp hồ sơ đến UBND phường, số 5 đường Lê Lợi, P. Bến Nghé, TP. Hồ Chí Minh.",
     "Tổ chức, cá nhân", "UBND phường, số 5 đường Lê Lợi, P. Bến Nghé, TP. Hồ Chí Minh"),
])
def test_who_and_where_keep_what_only_looks_like_a_boundary(line, who, where):
    assert places(line) == [(who, where)]


@pytest.mark.parametrize("line, who, where", [
    # 1.002338: how it is sent, after the place, is the channels' part
    ("Trước khi vận chuyển động vật ra khỏi địa bàn cấp tỉnh chủ hàng gửi 01 bộ hồ sơ đăng ký kiểm dịch đến Cơ quan "
     "quản lý chuyên ngành thú y cấp tỉnh (sau đây gọi là Cơ quan kiểm dịch động vật nội địa), theo một trong các "
     "hình thức sau: qua Cổng dịch vụ công hoặc qua dịch vụ bưu chính công ích hoặc gửi trực tiếp.",
     "Chủ hàng", "Cơ quan quản lý chuyên ngành thú y cấp tỉnh"),
    # 2.000873: the step's title glued before its text, and a when-clause listing its cases with a semicolon
    ("Bước 1: Đăng ký kiểm dịch Trước khi vận chuyển động vật thủy sản sử dụng làm giống ra khỏi địa bàn cấp tỉnh; "
     "động vật thủy sản thương phẩm xuất phát từ vùng công bố dịch ra khỏi địa bàn cấp tỉnh, chủ hàng gửi 01 bộ hồ sơ "
     "đăng ký kiểm dịch đến Cơ quan quản lý chuyên ngành thú y cấp tỉnh (sau đây gọi là Cơ quan kiểm dịch động vật nội "
     "địa).", "Chủ hàng", "Cơ quan quản lý chuyên ngành thú y cấp tỉnh"),
    # the channels in other words: "bằng cách thức …", "… hoặc qua dịch vụ bưu chính hoặc qua ủy quyền …"
    ("Tổ chức, cá nhân nộp hồ sơ đến Sở Nông nghiệp và Môi trường (đối với khu rừng đặc dụng thuộc địa phương quản "
     "lý) bằng cách thức trực tiếp hoặc qua dịch vụ bưu chính hoặc trực tuyến tại Cổng Dịch vụ công Quốc gia.",
     "Tổ chức, cá nhân", "Sở Nông nghiệp và Môi trường (đối với khu rừng đặc dụng thuộc địa phương quản lý)"),
    ("Tổ chức, cá nhân nộp hồ sơ tại Trung tâm phục vụ hành chính công cấp tỉnh hoặc qua dịch vụ bưu chính hoặc qua "
     "ủy quyền theo quy định của pháp luật hoặc trực tuyến tại Cổng Dịch vụ công quốc gia.", "Tổ chức, cá nhân",
     "Trung tâm phục vụ hành chính công cấp tỉnh"),
    ("Chủ cơ sở gửi hồ sơ đến Sở Nông nghiệp và Môi trường trực tiếp hoặc gửi qua dịch vụ bưu chính hoặc qua môi "
     "trường điện tử.", "Chủ cơ sở", "Sở Nông nghiệp và Môi trường"),
    # what for, after the place
    ("Cá nhân có yêu cầu gia hạn chứng chỉ hành nghề đã được cấp nộp hồ sơ đến Cục Đo đạc, Bản đồ và Thông tin địa "
     "lý Việt Nam để làm thủ tục gia hạn.", "Cá nhân có yêu cầu gia hạn chứng chỉ hành nghề đã được cấp",
     "Cục Đo đạc, Bản đồ và Thông tin địa lý Việt Nam"),
    # 1.012833: a when-clause ending in a semicolon, then everyone who files
    ("Sau khi dự án hoàn thành; tổ chức, cá nhân nộp hồ sơ đến Sở Nông nghiệp và Môi trường.", "Tổ chức, cá nhân",
     "Sở Nông nghiệp và Môi trường"),
    # 1.014834: "để" inside the place's own brackets is part of it
    ("Chủ cơ sở nộp hồ sơ đến Ủy ban nhân dân cấp xã (chủ cơ sở được lựa chọn địa phương để đề nghị cấp Giấy xác "
     "nhận).", "Chủ cơ sở",
     "Ủy ban nhân dân cấp xã (chủ cơ sở được lựa chọn địa phương để đề nghị cấp Giấy xác nhận)"),
])
def test_a_title_before_when_and_how_after_where_are_left_out(line, who, where):
    assert places(line) == [(who, where)]


def test_a_semicolon_outside_a_when_clause_still_ends_who_files():
    """Only a when-clause may list its cases across a semicolon: elsewhere the line is read no further."""
    assert places("Tổ chức hoàn thiện hồ sơ; cá nhân nộp hồ sơ đến Sở Nông nghiệp và Môi trường.") == []


def test_a_place_for_another_case_is_left_out_while_one_is_left(catalogue):
    """1.013831: a gift of land to the State is filed at the commune; an heir files where every individual does."""
    transfer = catalogue.get("1.013831")
    heir = compose_answer(transfer, "where", Settings(), situation=Situation(case="inheritance",
                                                                           applicant="individual")).text
    assert "Văn phòng đăng ký đất đai" in heir and "Ủy ban nhân dân cấp xã" not in heir
    donor = compose_answer(transfer, "where", Settings(), situation=Situation(case="gift", applicant="individual")).text
    assert "Ủy ban nhân dân cấp xã" in donor and "Văn phòng đăng ký đất đai" in donor
    # 1.001686's one place names a trade ("buôn bán"), read as a sale: it is still the place
    seller = compose_answer(catalogue.get("1.001686"), "where", Settings(),
                            situation=Situation(case="inheritance")).text
    assert "chăn nuôi và thú y" in seller
