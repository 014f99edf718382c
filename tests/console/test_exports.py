"""Analytics exports and charts: the CSV's sections and the XLSX's sheets with procedure names, the guard
against formulas, the date range a request asks for, and charts that label the latest day and every share."""
import csv
import datetime as dt
import html
import io
import re

import pytest

from console.analytics import Report, daily_chart, share_bar, to_csv, to_xlsx
from console.analytics_pages import period_of
from tests.console.conftest import login

TODAY = dt.date(2026, 5, 31)
NAMES = {"1.012786": "Cấp lại Giấy chứng nhận do bị mất", "1.013831": "Đăng ký khai sinh"}
OUTCOMES = {"answered": "Trả lời được", "unanswered": "Chưa trả lời được", "handed_off": "Chuyển cán bộ"}


def a_report(start=dt.date(2026, 5, 1), end=TODAY, procedures=(("1.012786", 12), ("1.013831", 3))):
    """A report with two channels on the first and the last day, two procedures and every outcome."""
    return Report(start, end,
                  daily=[{"day": start, "channel": "web", "conversations": 4, "messages": 9},
                         {"day": start, "channel": "zalo", "conversations": 2, "messages": 3},
                         {"day": end, "channel": "telegram", "conversations": 1, "messages": 5}],
                  top_procedures=list(procedures), outcomes={"answered": 5, "unanswered": 1, "handed_off": 1},
                  feedback={"positive": 3, "negative": 1}, median_reply_ms=812.4)


def csv_rows(data: bytes):
    assert data.startswith("\ufeff".encode())  # BOM: Excel reads UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def section(rows, title):
    """The rows of a CSV section, header first, up to the blank line after it."""
    start = rows.index([title]) + 1
    end = rows.index([], start) if [] in rows[start:] else len(rows)
    return rows[start:end]


def test_csv_holds_the_summary_every_table_and_procedure_names():
    rows = csv_rows(to_csv(a_report(), NAMES))
    assert rows[0] == ["Thống kê trợ lý thủ tục hành chính từ 01/05/2026 đến 31/05/2026"]
    summary = dict(section(rows, "Tổng hợp")[1:])
    assert summary == {"Từ ngày": "2026-05-01", "Đến ngày": "2026-05-31", "Số ngày": "31", "Cuộc trò chuyện": "7",
                       "Tin nhắn của công dân": "17", "Trả lời được": "5", "Chưa trả lời được": "1",
                       "Chuyển cán bộ": "1", "Đánh giá hữu ích": "3", "Đánh giá chưa đúng": "1",
                       "Tỉ lệ hài lòng": "75%", "Thời gian trả lời trung vị (ms)": "812"}
    assert section(rows, "Theo ngày") == [["Ngày", "Kênh", "Cuộc trò chuyện", "Tin nhắn của công dân"],
                                          ["2026-05-01", "web", "4", "9"], ["2026-05-01", "zalo", "2", "3"],
                                          ["2026-05-31", "telegram", "1", "5"]]
    assert section(rows, "Thủ tục hỏi nhiều") == [["Mã thủ tục", "Tên thủ tục", "Số cuộc trò chuyện"],
                                                  ["1.012786", "Cấp lại Giấy chứng nhận do bị mất", "12"],
                                                  ["1.013831", "Đăng ký khai sinh", "3"]]
    assert section(rows, "Kết quả") == [["Kết quả", "Số cuộc trò chuyện", "Tỉ lệ"], ["Trả lời được", "5", "71%"],
                                        ["Chưa trả lời được", "1", "14%"], ["Chuyển cán bộ", "1", "14%"]]
    assert [r[0] for r in rows if len(r) == 1] == [rows[0][0], "Tổng hợp", "Theo ngày", "Thủ tục hỏi nhiều", "Kết quả"]


def test_an_empty_report_exports_without_dividing_by_zero():
    empty = Report(TODAY, TODAY)
    rows = csv_rows(to_csv(empty))
    assert dict(section(rows, "Tổng hợp")[1:])["Tỉ lệ hài lòng"] == "chưa có"
    assert section(rows, "Kết quả")[1] == ["Trả lời được", "0", "0%"]
    from openpyxl import load_workbook

    assert load_workbook(io.BytesIO(to_xlsx(empty))).sheetnames == ["Tổng hợp", "Theo ngày", "Thủ tục hỏi nhiều",
                                                                     "Kết quả"]


def test_xlsx_has_the_summary_first_every_table_and_procedure_names():
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(to_xlsx(a_report(), NAMES)))
    assert book.sheetnames == ["Tổng hợp", "Theo ngày", "Thủ tục hỏi nhiều", "Kết quả"]
    values = {name: [list(r) for r in book[name].iter_rows(values_only=True)] for name in book.sheetnames}
    summary = dict(values["Tổng hợp"][1:])
    assert summary["Từ ngày"] == dt.datetime(2026, 5, 1) and summary["Số ngày"] == 31
    assert summary["Tỉ lệ hài lòng"] == 0.75 and book["Tổng hợp"]["B12"].number_format == "0.0%"
    assert values["Theo ngày"][1] == [dt.datetime(2026, 5, 1), "web", 4, 9]
    assert values["Thủ tục hỏi nhiều"] == [["Mã thủ tục", "Tên thủ tục", "Số cuộc trò chuyện"],
                                           ["1.012786", "Cấp lại Giấy chứng nhận do bị mất", 12],
                                           ["1.013831", "Đăng ký khai sinh", 3]]
    assert values["Kết quả"][1][:2] == ["Trả lời được", 5] and values["Kết quả"][1][2] == pytest.approx(5 / 7)
    for sheet in book:
        assert all(cell.font.bold for cell in sheet[1]) and sheet.freeze_panes == "A2"
    assert book["Thủ tục hỏi nhiều"].column_dimensions["B"].width >= len(NAMES["1.012786"])


@pytest.mark.parametrize("hostile", ["=HYPERLINK(\"http://x\",\"bấm\")", "+84912345678", "-1+2", "@SUM(A1)",
                                     "\tgiấu", "\r=1"])
def test_text_that_a_spreadsheet_would_run_is_written_as_text(hostile):
    from openpyxl import load_workbook

    report = a_report(procedures=[(hostile, 2), ("1.013831", 1)])
    names = {hostile: hostile, "1.013831": "an toàn - không đổi"}
    rows = section(csv_rows(to_csv(report, names)), "Thủ tục hỏi nhiều")
    assert rows[1] == ["'" + hostile, "'" + hostile, "2"]
    assert rows[2] == ["1.013831", "an toàn - không đổi", "1"]  # only a leading character counts
    sheet = load_workbook(io.BytesIO(to_xlsx(report, names)))["Thủ tục hỏi nhiều"]
    assert [sheet["A2"].value, sheet["B2"].value] == ["'" + hostile.replace("\r", "\n")] * 2  # XML reads CR as LF
    assert sheet["A2"].data_type == "s" and sheet["B3"].value == "an toàn - không đổi"


def test_xlsx_drops_characters_a_workbook_cannot_hold():
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(to_xlsx(a_report(), {"1.012786": "Cấp lại\x00\x07 sổ"})))["Thủ tục hỏi nhiều"]
    assert sheet["B2"].value == "Cấp lại sổ"


@pytest.mark.parametrize("params, expected", [
    ({"start": "2026-05-01", "end": "2026-05-10"}, (dt.date(2026, 5, 1), dt.date(2026, 5, 10), "")),
    ({"start": "2026-05-31", "end": "2026-05-31"}, (TODAY, TODAY, "")),
    ({"start": "2025-05-31", "end": "2026-05-31"}, (dt.date(2025, 5, 31), TODAY, "")),  # 366 days
    ({"start": "2026-05-20"}, (dt.date(2026, 5, 20), TODAY, "")),
    ({"end": "2026-04-30"}, (dt.date(2026, 4, 1), dt.date(2026, 4, 30), "")),
    ({"start": "2026-05-01", "end": "2026-05-10", "days": "7"}, (dt.date(2026, 5, 1), dt.date(2026, 5, 10), "")),
    ({}, (dt.date(2026, 5, 2), TODAY, "")),
    ({"days": "7"}, (dt.date(2026, 5, 25), TODAY, "")),
    ({"days": "90"}, (dt.date(2026, 3, 3), TODAY, "")),
    ({"days": "0"}, (TODAY, TODAY, "")),
    ({"days": "5000"}, (dt.date(2025, 5, 31), TODAY, "")),
    ({"start": "", "end": "", "days": ""}, (dt.date(2026, 5, 2), TODAY, "")),
])
def test_the_range_a_request_asks_for(params, expected):
    period = period_of(params, TODAY)
    assert (period.start, period.end, period.problem) == expected


@pytest.mark.parametrize("params, problem", [
    ({"start": "2026-05-10", "end": "2026-05-01"}, "Ngày kết thúc 01/05/2026 ở trước ngày bắt đầu 10/05/2026."),
    ({"start": "2025-05-30", "end": "2026-05-31"},
     "Khoảng từ 30/05/2025 đến 31/05/2026 dài 367 ngày; mỗi lần chỉ xem được tối đa 366 ngày."),
    ({"start": "2026-05-01", "end": "2026-06-01"}, "Ngày kết thúc 01/06/2026 chưa tới (hôm nay là 31/05/2026)."),
    ({"start": "hôm qua", "end": "2026-05-10"},
     "Ngày bắt đầu «hôm qua» không hợp lệ: hãy chọn ngày trong ô chọn ngày."),
    ({"start": "2026-05-01", "end": "2026-02-30"},
     "Ngày kết thúc «2026-02-30» không hợp lệ: hãy chọn ngày trong ô chọn ngày."),
    ({"days": "bảy"}, "Số ngày «bảy» không hợp lệ."),
])
def test_a_range_that_cannot_be_used_gives_the_last_30_days_and_says_why(params, problem):
    period = period_of(params, TODAY)
    assert (period.start, period.end, period.problem) == (dt.date(2026, 5, 2), TODAY, problem)


def day_labels(svg):
    return re.findall(r'">(\d\d/\d\d(?:/\d{4})?)</text>', svg)  # titles hold dates too, not in <text>


@pytest.mark.parametrize("days", [1, 7, 30, 31])
def test_the_daily_chart_labels_every_day_up_to_31(days):
    start = TODAY - dt.timedelta(days=days - 1)
    expected = [f"{start + dt.timedelta(days=i):%d/%m}" for i in range(days)]
    assert day_labels(daily_chart(a_report(start=start))) == expected


@pytest.mark.parametrize("days", [32, 45, 60, 90, 91, 200, 365, 366])
def test_the_daily_chart_always_labels_the_first_and_latest_day(days):
    start = TODAY - dt.timedelta(days=days - 1)
    labels = day_labels(daily_chart(a_report(start=start)))
    written = "%d/%m/%Y" if start.year < TODAY.year else "%d/%m"  # the year when the range covers two
    assert labels[0] == f"{start:{written}}" and labels[-1] == f"{TODAY:{written}}"
    assert len(labels) == len(set(labels))
    assert 5 <= len(labels) <= 60  # readable, not crowded
    svg = daily_chart(a_report(start=start))
    ends = [float(x) + float(w) for x, w in re.findall(r'<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg)]
    assert max(ends) <= 720  # every bar inside the chart, however many days


def test_each_bar_shows_its_total_and_the_axes_are_named():
    svg = daily_chart(a_report(start=dt.date(2026, 5, 25)))
    assert re.findall(r'text-anchor="middle">(\d+)</text>', svg) == ["12", "5"]  # above the bars of 25/05, 31/05
    assert "<title>25/05/2026: 12 tin nhắn (web 9, zalo 3)</title>" in svg
    assert "<title>31/05/2026: 5 tin nhắn (telegram 5)</title>" in svg
    assert ">Số tin nhắn</text>" in svg and ">Ngày</text>" in svg
    wide = daily_chart(a_report(start=TODAY - dt.timedelta(days=365)))
    assert "<title>01/06/2025: 0 tin nhắn</title>" in wide and "<title>31/05/2026: 5 tin nhắn (telegram 5)" in wide


def legend(svg):
    return [html.unescape(text) for text in re.findall(r'font-size="12">([^<]+)</text>', svg)]


def test_every_share_is_labelled_even_a_narrow_one():
    svg = share_bar({"answered": 1000, "unanswered": 3, "handed_off": 0}, OUTCOMES)
    assert legend(svg) == ["Trả lời được: 1000 (>99%)", "Chưa trả lời được: 3 (<1%)", "Chuyển cán bộ: 0 (0%)"]
    assert 'aria-label="Trả lời được: 1000 (&gt;99%), Chưa trả lời được: 3 (&lt;1%), Chuyển cán bộ: 0 (0%)"' in svg
    even = share_bar({"answered": 2, "unanswered": 1, "handed_off": 1}, OUTCOMES, width=300)
    assert 'y="72"' in even  # too narrow for one row: one legend line per share
    assert legend(even) == ["Trả lời được: 2 (50%)", "Chưa trả lời được: 1 (25%)", "Chuyển cán bộ: 1 (25%)"]
    empty = share_bar({"answered": 0, "unanswered": 0, "handed_off": 0}, OUTCOMES)
    assert "Trả lời được: 0 (0%)" in empty and "Chuyển cán bộ: 0 (0%)" in empty


def test_the_page_picks_a_range_and_the_exports_carry_it(client, console_env):
    from openpyxl import load_workbook

    from core.clock import today_local

    _, store = console_env
    today = today_local()
    start = today - dt.timedelta(days=3)
    login(client, "viewer")
    page = client.get(f"/analytics?start={start.isoformat()}&end={today.isoformat()}").text
    assert f'name="start" value="{start.isoformat()}"' in page and f'name="end" value="{today.isoformat()}"' in page
    query = f"start={start.isoformat()}&amp;end={today.isoformat()}"
    assert f'href="/analytics.csv?{query}"' in page and f'href="/analytics.xlsx?{query}"' in page
    assert "Thống kê 4 ngày" in page and "Chuyển cán bộ: 0 (0%)" in page
    rows = csv_rows(client.get(f"/analytics.csv?start={start.isoformat()}&end={today.isoformat()}").content)
    assert rows[0] == [f"Thống kê trợ lý thủ tục hành chính từ {start:%d/%m/%Y} đến {today:%d/%m/%Y}"]
    assert ["1.012786", "Cấp lại Giấy chứng nhận do bị mất", "1"] in section(rows, "Thủ tục hỏi nhiều")
    book = load_workbook(io.BytesIO(client.get(f"/analytics.xlsx?start={start.isoformat()}").content))
    assert book["Thủ tục hỏi nhiều"]["B2"].value == "Cấp lại Giấy chứng nhận do bị mất"
    audit = [e for e in store.audit_log() if e["action"] == "export_analytics"]
    assert len(audit) == 2 and f'"start": "{start.isoformat()}"' in audit[0]["detail"]
    assert 'aria-current="page">7 ngày' in client.get("/analytics?days=7").text


def test_a_range_that_cannot_be_used_is_explained(client):
    from core.clock import today_local

    today = today_local()
    login(client, "viewer")
    page = client.get(f"/analytics?start={today.isoformat()}&end={(today - dt.timedelta(days=2)).isoformat()}")
    assert page.status_code == 200 and "ở trước ngày bắt đầu" in page.text
    assert "Đang hiển thị 30 ngày gần nhất." in page.text and "Thống kê 30 ngày" in page.text
    refused = client.get("/analytics.csv?start=ngay-mai")
    assert refused.status_code == 400 and "«ngay-mai» không hợp lệ" in refused.text
    assert "Hãy chọn lại khoảng thời gian" in refused.text
