"""Importing one-stop exports: CSV and XLSX, bad rows reported, good rows kept, re-import idempotent."""
import datetime as dt

import pytest
from openpyxl import Workbook

from dossiers.importer import ImportFileError, import_file

HEADER = ["Mã hồ sơ", "Mã thủ tục", "Tên thủ tục", "Kênh nộp", "Chủ hồ sơ", "Số điện thoại", "Số CCCD",
          "Ngày tiếp nhận", "Ngày hẹn trả", "Trạng thái", "Thời điểm trạng thái", "Bước hiện tại", "Đơn vị xử lý",
          "Yêu cầu bổ sung", "Nghĩa vụ tài chính"]
GOOD = [
    ["000.00.06.H56-261110-0001", "1.012786", "Cấp lại GCN do bị mất", "Trực tuyến", "Nguyễn Văn An", "0912345678",
     "", "10/11/2026 09:00", "", "4", "10/11/2026 09:00", "Thẩm định", "VPĐKĐĐ", "", ""],
    ["000.00.06.h56-261110-0002", "1.012786", "", "truc tiep", "Trần Thị Bình", "", "079203004567",
     "2026-11-10 10:30", "2026-11-25 10:30", "Yêu cầu bổ sung giấy tờ", "2026-11-12 09:00", "", "", "Bản sao CCCD", ""],
    ["000.00.06.H56-261110-0003", "1.012786", "", "Bưu chính", "Lê Văn C", "0987 654 321", "", "10/11/2026",
     "", "6", "16/11/2026 14:00", "", "", "", "1.250.000 đ"],
]
BAD = [
    (["000.00.06.H56-2611-0004", "1.012786", "", "Trực tuyến", "X", "0912345678", "", "10/11/2026", "", "4", "", "", "",
      "", ""], "bad dossier code"),
    (["000.00.06.H56-261110-0005", "1.012786", "", "fax", "X", "0912345678", "", "10/11/2026", "", "4", "", "", "", "",
      ""], "channel"),
    (["000.00.06.H56-261110-0006", "1.012786", "", "Trực tuyến", "X", "0912345678", "", "hôm qua", "", "4", "", "", "",
      "", ""], "not a date"),
    (["000.00.06.H56-261110-0007", "1.012786", "", "Trực tuyến", "X", "0912345678", "", "10/11/2026", "", "11", "", "",
      "", "", ""], "status"),
    (["000.00.06.H56-261110-0008", "1.012786", "", "Trực tuyến", "X", "", "", "10/11/2026", "", "4", "", "", "", "",
      ""], "verify"),
]


def write_csv(path, rows, delimiter=","):
    import csv

    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        writer.writerow(HEADER)
        writer.writerows(rows)


def write_xlsx(path, rows):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append([dt.datetime(2026, 11, 10, 9) if v == "10/11/2026 09:00" else v for v in row])
    book.save(path)


@pytest.mark.parametrize("kind", ["csv", "csv;", "xlsx"])
def test_import_keeps_good_rows_and_reports_bad_ones(service, tmp_path, kind):
    rows = GOOD[:1] + [b[0] for b in BAD] + GOOD[1:]
    path = tmp_path / ("export.xlsx" if kind == "xlsx" else "export.csv")
    if kind == "xlsx":
        write_xlsx(path, rows)
    else:
        write_csv(path, rows, delimiter=kind[3:] or ",")
    report = import_file(service, path)
    assert (report.rows, report.created, len(report.errors)) == (8, 3, 5)
    assert [line for line, _ in report.errors] == [3, 4, 5, 6, 7]
    for (_, reason), (_, expected) in zip(report.errors, BAD):
        assert expected in reason
    assert service.view("000.00.06.H56-261110-0002").open_supplements[0]["items"] == "Bản sao CCCD"
    assert service.view("000.00.06.H56-261110-0003").unpaid_notices[0]["amount_vnd"] == 1_250_000
    assert service.view("000.00.06.H56-261110-0001").due_at == dt.datetime(2026, 11, 25, 9)
    again = import_file(service, path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert service.count() == 3
    assert any("5 rejected" in line for line in report.lines())


def test_status_change_in_a_later_export(service, tmp_path):
    path = tmp_path / "day1.csv"
    write_csv(path, GOOD[:1])
    import_file(service, path)
    service.subscribe("000.00.06.H56-261110-0001", "conv", "telegram")
    changed = list(GOOD[0])
    changed[9], changed[10] = "9", "19/11/2026 15:00"
    write_csv(tmp_path / "day2.csv", [changed])
    report = import_file(service, tmp_path / "day2.csv")
    assert (report.updated, report.notices) == (1, 1)


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    ("Mã hồ sơ,Trạng thái\n1,2\n".encode(), "missing column"),
    ("Mã hồ sơ,Mã thủ tục,Kênh nộp,Ngày tiếp nhận,Trạng thái\n".encode(), "phone"),
    ("Mã hồ sơ,Mã thủ tục\n".encode("utf-16"), "UTF-8"),
])
def test_bad_files_get_a_clear_error(service, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFileError, match=message):
        import_file(service, path)


def test_unsupported_and_corrupt_files(service, tmp_path):
    (tmp_path / "x.pdf").write_bytes(b"%PDF")
    with pytest.raises(ImportFileError, match="unsupported"):
        import_file(service, tmp_path / "x.pdf")
    (tmp_path / "x.xlsx").write_bytes(b"not a zip")
    with pytest.raises(ImportFileError, match="XLSX"):
        import_file(service, tmp_path / "x.xlsx")
    with pytest.raises(ImportFileError, match="no such file"):
        import_file(service, tmp_path / "missing.csv")
