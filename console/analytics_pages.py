"""Thống kê: the report over a range of days (a date range picker, or the last 7 / 30 / 90 days), and the same
report downloaded as CSV or Excel (each download audited)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Dict, Iterable, Mapping, Tuple
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from console.analytics import OUTCOME_NAMES, Report, build_report, daily_chart, share_bar, to_csv, to_xlsx
from console.auth import requires
from console.web import console_of, error, render, staff_of
from core import formatting as fmt
from core.clock import today_local

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DEFAULT_DAYS = 30
MAX_DAYS = 366
SHORTCUTS = (7, 30, 90)


@dataclass(frozen=True)
class Period:
    """The days a report covers; ``problem`` says why the range asked for was not used (empty when it was)."""

    start: dt.date
    end: dt.date
    problem: str = ""

    @property
    def days(self) -> int:
        """How many days, both ends counted."""
        return (self.end - self.start).days + 1

    @property
    def query(self) -> str:
        """The range as a query string, for links that keep it (the exports)."""
        return urlencode({"start": self.start.isoformat(), "end": self.end.isoformat()})


class RangeError(ValueError):
    """A range staff cannot be shown; the message says why, in Vietnamese."""


def last_days(days: int, today: dt.date, problem: str = "") -> Period:
    """The ``days`` days ending today."""
    return Period(today - dt.timedelta(days=days - 1), today, problem)


def day_of(text: str, which: str) -> dt.date:
    """The ISO date ``text`` (as an <input type="date"> sends it); RangeError naming ``which`` end otherwise."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise RangeError(f"Ngày {which} «{text[:40]}» không hợp lệ: hãy chọn ngày trong ô chọn ngày.") from None


def checked_range(start_text: str, end_text: str, today: dt.date) -> Period:
    """The range from ``start_text`` to ``end_text`` (a missing end is today, a missing start 30 days before the
    end), or RangeError: the end before the start, later than today, or more than 366 days."""
    end = day_of(end_text, "kết thúc") if end_text else today
    start = day_of(start_text, "bắt đầu") if start_text else end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if end > today:
        raise RangeError(f"Ngày kết thúc {fmt.date(end)} chưa tới (hôm nay là {fmt.date(today)}).")
    if end < start:
        raise RangeError(f"Ngày kết thúc {fmt.date(end)} ở trước ngày bắt đầu {fmt.date(start)}.")
    days = (end - start).days + 1
    if days > MAX_DAYS:
        raise RangeError(f"Khoảng từ {fmt.date(start)} đến {fmt.date(end)} dài {days} ngày; "
                         f"mỗi lần chỉ xem được tối đa {MAX_DAYS} ngày.")
    return Period(start, end)


def period_of(params: Mapping[str, str], today: dt.date) -> Period:
    """The range a request asks for: ``start``/``end`` (ISO dates) first, else ``days`` (1 to 366) ending today,
    else the last 30 days. Input that cannot be used gives the last 30 days and says why in ``problem``."""
    start_text, end_text = (params.get("start") or "").strip(), (params.get("end") or "").strip()
    if start_text or end_text:
        try:
            return checked_range(start_text, end_text, today)
        except RangeError as wrong:
            return last_days(DEFAULT_DAYS, today, str(wrong))
    days_text = (params.get("days") or "").strip()
    if not days_text:
        return last_days(DEFAULT_DAYS, today)
    try:
        days = int(days_text)
    except ValueError:
        return last_days(DEFAULT_DAYS, today, f"Số ngày «{days_text[:40]}» không hợp lệ.")
    return last_days(min(max(days, 1), MAX_DAYS), today)


def report_over(request: Request, period: Period) -> Tuple[Report, int]:
    """(report of ``period``, events not summed yet): the console's sums brought up to date first. Blocking."""
    console = console_of(request)
    sums = console.current_sums()
    return build_report(sums, console.review.engine, period.start, period.end), sums.pending()


def names_of(catalogue, codes: Iterable[str]) -> Dict[str, str]:
    """The names of the procedures ``codes`` that the catalogue still has."""
    procedures = ((code, catalogue.get(code)) for code in codes)
    return {code: procedure.name for code, procedure in procedures if procedure is not None}


@requires()
def analytics(request: Request) -> Response:
    """The report page."""
    period = period_of(request.query_params, today_local())
    report, pending = report_over(request, period)
    names = names_of(console_of(request).catalogue, (code for code, _ in report.top_procedures))
    note = f"{period.problem} Đang hiển thị {DEFAULT_DAYS} ngày gần nhất." if period.problem else None
    return render(request, "analytics.html", report=report, period=period, today=today_local(), names=names,
                  shortcuts=SHORTCUTS, chart=daily_chart(report), shares=share_bar(report.outcomes, OUTCOME_NAMES),
                  pending=pending, error=note)


@requires()
def analytics_export(request: Request) -> Response:
    """The report as ``analytics.csv`` or ``analytics.xlsx``; a range that cannot be used is refused (400)."""
    kind = request.path_params["kind"]
    if kind not in ("csv", "xlsx"):
        return error(request, 404, "Không có định dạng này.")
    period = period_of(request.query_params, today_local())
    if period.problem:
        return error(request, 400, f"{period.problem} Hãy chọn lại khoảng thời gian trên trang Thống kê.")
    console = console_of(request)
    report, _ = report_over(request, period)
    names = names_of(console.catalogue, (code for code, _ in report.top_procedures))
    console.store.audit(staff_of(request).username, "export_analytics", kind, start=period.start.isoformat(),
                        end=period.end.isoformat(), days=period.days)
    name = f"motcua-thong-ke-{report.start:%Y%m%d}-{report.end:%Y%m%d}.{kind}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if kind == "csv":
        return Response(to_csv(report, names), media_type="text/csv; charset=utf-8", headers=disposition)
    return Response(to_xlsx(report, names), headers=disposition, media_type=XLSX)


routes = [
    Route("/analytics", analytics),
    Route("/analytics.{kind:str}", analytics_export),
]
