"""Parsers of the portal's flattened tables, on real tricky records read from ../shared."""
import pytest

from knowledge_base.importer import tables
from knowledge_base.importer.records import record_to_procedure
from knowledge_base.importer.report import ImportReport
from tests.conftest import RECORDS, record


def test_channels_differ_per_method_with_fee_note_set_by_law():
    chans = tables.parse_channels(record("1.012786")["cach_thuc_thuc_hien"])
    by = {c.method: c for c in chans}
    assert set(by) == {"online", "postal", "direct"}
    assert (by["online"].time.value, by["online"].time.unit) == (10, "working_day")
    assert by["direct"].time.value == 20
    fee = by["direct"].fees[0]
    assert fee.kind == "none" and fee.set_by_province
    assert fee.text.startswith("- Theo quy định của Luật phí và lệ phí")


def test_channel_time_without_unit_is_kept_with_a_note():
    chans = tables.parse_channels("Hình thức nộpThời gianPhí, lệ phíMô tảTrực tiếp1Miễn phí")
    assert chans[0].time.value == 1 and chans[0].time.unit == "unspecified"
    assert "không ghi đơn vị" in chans[0].time.note


def test_channel_amount_in_vnd_and_description():
    text = ("Hình thức nộpThời gianPhí, lệ phíMô tảTrực tuyến15 Ngày850 VNĐ"
            "Trực tiếp15 Ngày1,500,000 Việt Nam Đồng(Phí thẩm định)Nộp tại bộ phận một cửa")
    online, direct = tables.parse_channels(text)
    assert online.fees[0].amount_vnd == 850 and online.time.unit == "day"
    assert direct.fees[0].amount_vnd == 1_500_000 and direct.fees[0].text == "Phí thẩm định"
    assert direct.description == "Nộp tại bộ phận một cửa"


def test_an_amount_its_note_gives_a_thousand_times_over_is_the_note_s():
    text = ("Hình thức nộpThời gianPhí, lệ phíMô tảTrực tiếp5 Ngày làm việc900 VNĐ(Phí thẩm định nội dung quảng cáo "
            "thuốc thú y: 900.000 đồng/lần)Trực tuyến5 Ngày làm việc900 VNĐ(Phí: 900 đồng/lần, tối đa 900.000 đồng)")
    direct, online = tables.parse_channels(text)
    assert direct.fees[0].amount_vnd == 900_000  # 1.004022: the column says 900, its note 900.000 đồng
    assert online.fees[0].amount_vnd == 900  # a note giving the column's own figure too leaves it
    by = {c.method: c for c in tables.parse_channels(record("1.004022")["cach_thuc_thuc_hien"])}
    assert {f.amount_vnd for c in by.values() for f in c.fees} == {900_000}


def test_an_unknown_time_is_the_time_column_s_and_a_case_number_no_fee_note():
    """1.014265: "Trực tiếp" + "Không có thông tin" (time) + "Không có thông tin" (fee) + "(1) Trường hợp …"."""
    text = ("Hình thức nộpThời gianPhí, lệ phíMô tảTrực tiếpKhông có thông tinKhông có thông tin(1) Trường hợp tổ "
            "chức đề nghị cấp lại: 03 ngày làm việc")
    (direct,) = tables.parse_channels(text)
    assert direct.time.value is None and [(f.kind, f.text) for f in direct.fees] == [("unknown", "")]
    assert direct.description.startswith("(1) Trường hợp tổ chức")
    online = tables.parse_channels("Hình thức nộpThời gianPhí, lệ phíMô tảTrực tuyếnKhông có thông tinMiễn phí(Chi "
                                   "phí khác: theo Luật Giá)")[0]
    assert [(f.kind, f.text) for f in online.fees] == [("none", "Chi phí khác: theo Luật Giá")]


def test_channels_reject_text_without_methods():
    with pytest.raises(tables.ParseError):
        tables.parse_channels("Hình thức nộpThời gianPhí, lệ phíMô tảGửi thư tay")


def test_documents_with_cases_a_and_b_and_counts():
    cases = tables.parse_documents(record("1.012786")["thanh_phan_ho_so"])
    assert [c.name for c in cases] == ["a) Đối với trường hợp cấp lại Giấy chứng nhận bị mất",
                                       "b) Đối với trường hợp mất Trang bổ sung"]
    first = cases[0].documents
    assert first[1].name.startswith("Đơn đăng ký biến động đất đai")
    assert (first[1].originals, first[1].copies) == (1, 1)
    last = cases[1].documents[-1]
    assert (last.originals, last.copies) == (0, 1)


def test_document_form_file_name_is_split_from_the_document_name():
    cases = tables.parse_documents(record("2.001621")["thanh_phan_ho_so"])
    doc = cases[0].documents[0]
    assert doc.name == "Đơn đề nghị hỗ trợ" and doc.form == "MẪU ĐƠN ĐỀ NGHỊ HỖ TRỢ.docx"
    cases = tables.parse_documents(record("1.014272")["thanh_phan_ho_so"])
    assert len(cases) > 5
    doc = cases[0].documents[0]
    assert doc.name.endswith("đến thời điểm đề nghị cấp lại")
    assert doc.form.startswith("Mau 36") and doc.has_electronic_form


def test_documents_trailing_dossier_count_becomes_a_note():
    cases = tables.parse_documents(record("1.000025")["thanh_phan_ho_so"])
    assert cases[-1].note.startswith("(01) bộ hồ sơ")
    assert all(d.originals == 1 for d in cases[0].documents)


@pytest.mark.parametrize("body, name, originals, copies", [
    ("Thông báo theo biểu mẫu tại Phụ lục I ban hành kèm theo Thông tư 66/20251 bản chính",
     "Thông báo theo biểu mẫu tại Phụ lục I ban hành kèm theo Thông tư 66/2025", 1, 0),
    ("Tờ khai theo Mẫu số 03 ban hành kèm theo Thông tư số 02/2026/TT-BNNMT ngày 01/01/20261 bản chính, 2 bản sao",
     "Tờ khai theo Mẫu số 03 ban hành kèm theo Thông tư số 02/2026/TT-BNNMT ngày 01/01/2026", 1, 2),
    ("Bản sao theo Nghị định số 40/2016/NĐ-CP ngày 15 tháng 5 năm 20161 bản chính",
     "Bản sao theo Nghị định số 40/2016/NĐ-CP ngày 15 tháng 5 năm 2016", 1, 0),
    ("Đơn theo Mẫu số 181 bản chính", "Đơn theo Mẫu số 18", 1, 0),
    ("Bản vẽ theo Mẫu số 222 bản sao", "Bản vẽ theo Mẫu số 22", 0, 2),
    # no count of 0, and after "năm" or "/" only a year is given back ("năm" is also "five")
    ("Đơn theo Mẫu 10 bản sao", "Đơn theo Mẫu", 0, 10),
    ("Quyết định ngày 02/7/20250 bản chính, 1 bản sao", "Quyết định ngày 02/7/2025", 0, 1),
    ("Ảnh chụp trong năm 12 bản sao", "Ảnh chụp trong năm", 0, 12),
])
def test_a_number_glued_to_the_count_is_given_back(body, name, originals, copies):
    doc = tables.parse_documents(tables.DOC_HEADER + body)[0].documents[0]
    assert (doc.name, doc.originals, doc.copies) == (name, originals, copies)


def test_documents_without_table_header_fail_clearly():
    with pytest.raises(tables.ParseError, match="header"):
        tables.parse_documents("Đơn đề nghị 1 bản chính")


def test_legal_basis_code_and_title_are_separated():
    laws = tables.parse_legal_basis(record("1.000025")["can_cu_phap_ly"])
    assert [(l.code, l.title) for l in laws] == [
        ("118/2014/NĐ-CP", "Nghị định 118/2014/NĐ-CP"),
        ("02/2015/TT-BNNPTNT", "Thông tư 02/2015/TT-BNNPTNT"),
    ]
    laws = tables.parse_legal_basis(record("1.012786")["can_cu_phap_ly"])
    assert ("151/2025/NĐ-CP", "Quy định về phân định thẩm quyền của chính quyền địa phương 02 cấp, phân quyền, "
            "phân cấp trong lĩnh vực đất đai") in [(l.code, l.title) for l in laws]
    assert ("31/2024/QH15", "Luật Đất đai ngày 18/01/2024") in [(l.code, l.title) for l in laws]


def test_legal_basis_with_codes_and_dates_inside_titles():
    # "…NĐ-CP ngày 25/01/2026" + "40/2026/NĐ-CP" once read as "…NĐ-C" + "P ngày 25/01/20" + "2640/2026/NĐ-CP"
    laws = [(l.code, l.title) for l in tables.parse_legal_basis(record("1.003870")["can_cu_phap_ly"])]
    assert ("40/2026/NĐ-CP", "Nghị định số 40/2026/NĐ-CP ngày 25/01/2026") in laws
    assert ("146/2025/QH15", "Luật số 146/2025/QH15 ngày 11/12/2025 của Quốc hội sửa đổi, bổ sung một số điều của "
            "15 luật trong lĩnh vực nông nghiệp và môi trường") in laws
    assert not any(title.startswith(("P ", "T ", "C ")) for _, title in laws)
    # "Luật 08/2017/QH14" + "08/2017/QH14" once read as "…QH" + "1408/2017/QH14"
    assert "08/2017/QH14" in [code for code, _ in laws] and "1408/2017/QH14" not in [code for code, _ in laws]
    # a title in capitals right after a code cell starts a new document
    laws = [(l.code, l.title) for l in tables.parse_legal_basis(record("1.004122")["can_cu_phap_ly"])]
    assert laws[0] == ("28/2023/QH15", "Luật 28/2023/QH15") and laws[1][1].startswith("QUY ĐỊNH VIỆC HÀNH NGHỀ")
    # the same document listed twice is kept once
    laws = [(l.code, l.title) for l in tables.parse_legal_basis(record("1.012784")["can_cu_phap_ly"])]
    assert ("43/2024/QH15", "Luật số 43/2024/QH15 ngày 29/6/2024") in laws
    assert laws.count(("101/2024/NĐ-CP", "Nghị định 101/2024/NĐ-CP")) == 1


def test_result_drops_page_furniture_and_keeps_code():
    results = tables.parse_results(record("1.012786")["ket_qua_xu_ly"])
    assert len(results) == 1
    assert results[0].name == "Giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất."
    assert results[0].code == "KQ.G10.001148"
    assert "Chọn cơ quan" not in results[0].name


def test_numbered_steps():
    steps = tables.parse_steps(record("1.012786")["trinh_tu_thuc_hien"])
    assert [s.name.split(":")[0] for s in steps[:5]] == ["Bước 1", "Bước 2", "Bước 3", "Bước 4", "Bước 5"]
    assert "Trung tâm Phục vụ hành chính công" in steps[0].name


def test_a_lettered_step_run_on_after_the_one_before_is_its_own_step():
    """The flattened list 'a. Tiêu hủy …\n… NĐ-CP). b. Gửi hồ sơ\nTrong thời hạn 30 ngày …' is two steps; a letter
    inside a sentence ("điểm b. khoản 1") or a heading without its own line is not split."""
    steps = tables.parse_steps("a. Tiêu hủy động vật\nKhi tiêu hủy, xã lập biên bản (Mẫu số 1a). b. Gửi hồ sơ\n"
                               "Trong thời hạn 30 ngày, cơ sở nộp hồ sơ đến xã theo điểm b. khoản 1 Điều 5.\n"
                               "-\tThành lập tổ thẩm định:\nXã thành lập tổ.")
    assert [s.name for s in steps] == ["Bước 1: a. Tiêu hủy động vật", "Bước 2: b. Gửi hồ sơ",
                                       "Bước 3: Thành lập tổ thẩm định:"]  # the answer drops "a. ", "b. "
    assert steps[1].description.startswith("Trong thời hạn 30 ngày") and "điểm b. khoản 1" in steps[1].description
    hurried = record("1.013997")["trinh_tu_thuc_hien"]
    assert any("30 ngày" in s.description and "Gửi hồ sơ" in s.name for s in tables.parse_steps(hurried))


@pytest.mark.parametrize("raw, levels", [
    ("Cấp tỉnh", ["province"]), ("Cấp tỉnh, Cấp xã", ["province", "commune"]),
    ("Cấp bộ, Cấp tỉnh, Cơ quan khác", ["ministry", "province", "other"]),
])
def test_levels(raw, levels):
    assert tables.parse_levels(raw) == levels


def test_unknown_level_is_an_error():
    with pytest.raises(tables.ParseError, match="unknown level"):
        tables.parse_levels("Cấp thôn")


def test_empty_markers():
    assert tables.is_empty("Không có thông tin") and tables.is_empty("  ") and not tables.is_empty("Có")


def test_field_failure_is_reported_and_official_text_kept():
    rec = dict(record("1.012786"), thanh_phan_ho_so="Đơn đề nghị (không có bảng)")
    report = ImportReport()
    proc = record_to_procedure(rec, report, "x.json")
    assert proc is not None and report.failures == [("x.json", "document_cases",
                                                     "no document table header (Tên giấy tờ / Số lượng) found")]
    assert proc.document_cases[0].note == "Đơn đề nghị (không có bảng)"


def test_record_missing_a_required_key_is_rejected_with_reason():
    rec = dict(record("1.012786"), ma_thu_tuc="")
    report = ImportReport()
    assert record_to_procedure(rec, report, "bad.json") is None
    assert report.rejected == [("bad.json", "missing required key(s): ma_thu_tuc")]


@pytest.mark.parametrize("name, code, expected", [
    ("Cấp giấy phép môi trường (cấp Tỉnh) ( 1.010727 )", "1.010727", "Cấp giấy phép môi trường (cấp Tỉnh)"),
    ("Chứng nhận Nhãn sinh thái Việt Nam (2.002469)", "2.002469", "Chứng nhận Nhãn sinh thái Việt Nam"),
    ("Tách thửa hoặc hợp thửa đất", "1.012784", "Tách thửa hoặc hợp thửa đất"),
    ("Đăng ký theo Nghị định (1.010727) cũ", "1.012784", "Đăng ký theo Nghị định (1.010727) cũ"),  # another code stays
])
def test_a_name_keeps_no_copy_of_its_own_code(name, code, expected):
    assert tables.name_without_code(name, code) == expected


def test_the_receiving_place_loses_the_filing_step_label_copied_into_it():
    assert tables.receiving_address("Bước 1. Nộp hồ sơ: \nTổ chức nộp hồ sơ tại Bộ phận Một cửa.") == \
        "Tổ chức nộp hồ sơ tại Bộ phận Một cửa."
    assert (
        tables.receiving_address("Trung tâm Phục vụ hành chính công tỉnh") == "Trung tâm Phục vụ hành chính công tỉnh"
    )
    assert tables.receiving_address("Không có thông tin") == tables.text_or_empty("Không có thông tin")


def test_the_real_records_lose_their_code_in_name_and_step_label_in_address():
    proc = record_to_procedure(record("1.010733"), ImportReport(), "1.010733")
    assert proc.name == "Thẩm định báo cáo đánh giá tác động môi trường (Cấp tỉnh)"
    assert proc.address.startswith("- Tổ chức/cá nhân lựa chọn nộp hồ sơ")


def test_lettered_cases_follow_the_vietnamese_alphabet():
    from knowledge_base.schema import DocumentCase

    def named(*names):
        return [DocumentCase(name=n, documents=[], note="x") for n in names]

    # 1.013949 lists "đ)" last, after "h)"
    ordered = tables.in_letter_order(named("a) Giao đất", "d) Chuyển mục đích", "h) Gia hạn", "đ) Chuyển mục đích"))
    assert [c.name[:2] for c in ordered] == ["a)", "d)", "đ)", "h)"]
    # not all lettered, or a letter twice: the record's order
    assert [c.name for c in tables.in_letter_order(named("b) X", "Trường hợp khác", "a) Y"))] == \
        ["b) X", "Trường hợp khác", "a) Y"]
    assert [c.name for c in tables.in_letter_order(named("b) X", "a) Y", "a) Z"))] == ["b) X", "a) Y", "a) Z"]
    imported = record_to_procedure(record("1.013949"), ImportReport(), "1.013949")
    assert [c.name[:2] for c in imported.document_cases][3:6] == ["d)", "đ)", "e)"]


@pytest.mark.parametrize("entry, name, form", [
    # right after the legal document the name cites, the file begins
    ("Tờ khai theo Mẫu 13 tại Phụ lục I kèm theo Nghị định số 23/2026/NĐ-CPMau13.docx",
     "Tờ khai theo Mẫu 13 tại Phụ lục I kèm theo Nghị định số 23/2026/NĐ-CP", "Mau13.docx"),
    ("Bản thuyết minh (theo Thông tư số 21/2015/TT-BNNPTNT).phu luc VII.docx",
     "Bản thuyết minh (theo Thông tư số 21/2015/TT-BNNPTNT).", "phu luc VII.docx"),
    ("Thuyết minh theo Nghị định số 43/2026/NĐ-CPThuyet minh.dang ky GMO SX khep kin.docx",
     "Thuyết minh theo Nghị định số 43/2026/NĐ-CP", "Thuyet minh.dang ky GMO SX khep kin.docx"),
    # a legal document the name goes on after is no end; an upper-case letter run into the name's end is
    ("Đơn theo Nghị định số 112/2026/NĐ-CP ngày 01 tháng 4 năm 2026 của Chính phủ (bản chính)Mẫu số 05.docx",
     "Đơn theo Nghị định số 112/2026/NĐ-CP ngày 01 tháng 4 năm 2026 của Chính phủ (bản chính)", "Mẫu số 05.docx"),
    ("Giấy đăng ký (theo Thông tư số 21/2015/TT-BNNPTNT). Số lượng 02 bản.Phụ lục XXIV-TT21.docx",
     "Giấy đăng ký (theo Thông tư số 21/2015/TT-BNNPTNT). Số lượng 02 bản.", "Phụ lục XXIV-TT21.docx"),
    # a full stop or a lower-case word run into the file's name
    ("Đơn kèm theo 01 ảnh màu cỡ 4x6 cm có nền màu trắng.mau so 12 (1).doc",
     "Đơn kèm theo 01 ảnh màu cỡ 4x6 cm có nền màu trắng.", "mau so 12 (1).doc"),
    ("Bản kê trong 03 năm trước thời điểm chứng chỉ hết hạnmau so 20.doc",
     "Bản kê trong 03 năm trước thời điểm chứng chỉ hết hạn", "mau so 20.doc"),
    # an issuer's name is no end when the word goes on ("TT-BNNMTT ngày …"); "Mau" and a number, in any case
    ("Mẫu 2a tại Phụ lục V kèm theo Thông tư số 01/2026/TT-BNNMTT ngày 01/01/2026.Mau 2a. Don dang ky.docx",
     "Mẫu 2a tại Phụ lục V kèm theo Thông tư số 01/2026/TT-BNNMTT ngày 01/01/2026.", "Mau 2a. Don dang ky.docx"),
    ("Các mẫu đơn đã quy định cụ thể tại từng TTHCMau 1a. Don dang ky.docxMau 1b. Don.docx",
     "Các mẫu đơn đã quy định cụ thể tại từng TTHC", "Mau 1a. Don dang ky.docxMau 1b. Don.docx"),
    # no place to split: the name is kept whole, never cut inside a number
    ("Hồ sơ của Chính phủ (bản chính)~$ụ lục 12.10.docx", "Hồ sơ của Chính phủ (bản chính)~$ụ lục 12.10.docx", ""),
])
def test_a_form_file_glued_to_the_name_is_split_where_the_name_ends(entry, name, form):
    assert tables._split_form(entry) == (name, form)


def test_no_document_name_of_the_real_records_ends_in_a_file_name():
    import re

    from knowledge_base.importer.tables import DOC_HEADER

    glued = {}
    paths = sorted(RECORDS.glob("*.json"))
    assert len(paths) == 537
    for path in paths:
        text = record(path.stem).get("thanh_phan_ho_so") or ""
        if DOC_HEADER not in text:
            continue
        for case in tables.parse_documents(text):
            for doc in case.documents:
                if re.search(r"\.(?:docx?|pdf|xlsx?)$", doc.name, re.IGNORECASE):
                    glued[path.stem] = doc.name[-40:]
    # three where nothing tells the name's end from the file's ("chăn nuôibáo cáo.pdf", "…)~$ụ lục 12.10.docx",
    # "… trú”Phụ lục Đơn thanh toán … .doc"); 146 names in 69 records before the rules of 5/12/2026
    assert set(glued) <= {"1.014743", "1.014132", "1.010091"}, glued


def test_papers_under_no_heading_after_the_cases_join_every_case():
    from knowledge_base.importer.structure import OTHER_CASES, with_common_part
    from knowledge_base.schema import Document, DocumentCase

    def case(name, *papers):
        return DocumentCase(name=name, documents=[Document(name=p) for p in papers])

    joined = with_common_part([case("Đối với tàu bị chìm đắm", "Biên bản Mẫu số 12"),
                               case("Đối với tàu phá dỡ", "Biên bản Mẫu số 11"), case("", "Tờ khai Mẫu số 10")])
    assert [[d.name for d in c.documents] for c in joined] == [
        ["Tờ khai Mẫu số 10", "Biên bản Mẫu số 12"], ["Tờ khai Mẫu số 10", "Biên bản Mẫu số 11"],
        ["Tờ khai Mẫu số 10"]]
    assert joined[2].name == OTHER_CASES
    joined[0].documents[0].name = "changed"  # each case holds its own copy
    assert joined[1].documents[0].name == "Tờ khai Mẫu số 10"
    left = [
        # a note, not a paper
        [case("(1) Đối với thuốc mới", "Đơn"), case("", "Lưu ý: hồ sơ viết bằng tiếng Việt")],
        # a paper some case lists too: the group is a case of its own (the usual filing beside an exemption)
        [case("Đối với lô được miễn giảm", "Giấy đăng ký Mẫu số 16"), case("", "Giấy đăng ký Mẫu số 16", "Vận đơn")],
        # a part of the dossier, not a case
        [case("Hồ sơ năng lực", "Báo cáo năng lực"), case("", "Đơn đăng ký")],
        # the group under no heading is not the last
        [case("", "Đơn"), case("Đối với tổ chức", "Quyết định thành lập")],
    ]
    for cases in left:
        assert with_common_part(cases) == cases
    proc = record_to_procedure(record("1.003681"), ImportReport(), "1.003681")
    forms = [[d.form_number for d in c.documents] for c in proc.document_cases]
    assert forms == [["Mẫu số 10", "Mẫu số 12"], ["Mẫu số 10", "Mẫu số 13"], ["Mẫu số 10", "Mẫu số 11"], ["Mẫu số 10"]]
    # cases that each come on top of the papers under no heading ("ngoài giấy tờ quy định tại điểm a1 và a2"): those
    # papers are no case alone
    beside = with_common_part([case("Đối với nhập khẩu giống, ngoài giấy tờ quy định tại điểm a1", "Thiết kế"),
                               case("Đối với xuất khẩu giống, ngoài giấy tờ quy định tại điểm a1", "Thỏa thuận"),
                               case("", "Văn bản đề nghị")])
    assert [[d.name for d in c.documents] for c in beside] == [["Văn bản đề nghị", "Thiết kế"],
                                                               ["Văn bản đề nghị", "Thỏa thuận"]]
    seedlings = record_to_procedure(record("3.000179"), ImportReport(), "3.000179")
    assert len(seedlings.document_cases) == 2


def test_a_form_code_dot_is_no_end_of_the_name():
    # "Mẫu số 09.QLT" is one form: the name ends after the decree it cites, before the file
    name, form = tables._split_form("Đơn đăng ký theo Mẫu số 09.QLT Phụ lục IA ban hành kèm theo Nghị định số "
                                    "32/2026/NĐ-CP;Mẫu số 09.QLT. Buôn bán.docx")
    assert name == "Đơn đăng ký theo Mẫu số 09.QLT Phụ lục IA ban hành kèm theo Nghị định số 32/2026/NĐ-CP;"
    assert form == "Mẫu số 09.QLT. Buôn bán.docx"
    # a file named "Mau …" right after the form's number is the file, as before
    assert tables._split_form("Tờ khai theo Mẫu số 03.Mau 03.doc") == ("Tờ khai theo Mẫu số 03.", "Mau 03.doc")
    proc = record_to_procedure(record("1.001686"), ImportReport(), "1.001686")
    names = [d.name for d in proc.documents]
    assert not any(n.endswith((".", "Mẫu số 09", "Mẫu số 10")) and "Mẫu số" in n[-12:] for n in names)
    assert any(n.startswith("Đơn đăng ký theo Mẫu số 09.QLT Phụ lục IA") for n in names)
