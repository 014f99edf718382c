"""Thống kê: the report over the last ``days`` days (outcomes, daily chart, top procedures), and the same
report downloaded as CSV or Excel (each download audited)."""
from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from console.analytics import build_report, daily_chart, share_bar, to_csv, to_xlsx
from console.auth import requires
from console.web import console_of, error, render, staff_of
from core.clock import today_local

OUTCOMES = {"answered": "Trả lời được", "unanswered": "Chưa trả lời được", "handed_off": "Chuyển cán bộ"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def report_of(request: Request):
    """(report, days) for the request's ``days`` (1 to 366, else 30), ending today. Blocking."""
    try:
        days = min(max(int(request.query_params.get("days", "30")), 1), 366)
    except ValueError:
        days = 30
    end = today_local()
    console = console_of(request)
    return build_report(console.conversations, console.review.engine, end - dt.timedelta(days=days - 1), end), days


@requires()
def analytics(request: Request) -> Response:
    """The report page."""
    report, days = report_of(request)
    catalogue = console_of(request).catalogue
    names = {code: getattr(catalogue.get(code), "name", code) for code, _ in report.top_procedures}
    return render(request, "analytics.html", report=report, days=days, names=names, chart=daily_chart(report),
                  shares=share_bar(report.outcomes, OUTCOMES))


@requires()
def analytics_export(request: Request) -> Response:
    """The report as ``analytics.csv`` or ``analytics.xlsx``."""
    kind = request.path_params["kind"]
    if kind not in ("csv", "xlsx"):
        return error(request, 404, "Không có định dạng này.")
    report, days = report_of(request)
    console_of(request).store.audit(staff_of(request).username, "export_analytics", kind, days=days)
    name = f"motcua-thong-ke-{report.start:%Y%m%d}-{report.end:%Y%m%d}.{kind}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if kind == "csv":
        return Response(to_csv(report), media_type="text/csv; charset=utf-8", headers=disposition)
    return Response(to_xlsx(report), headers=disposition, media_type=XLSX)


routes = [
    Route("/analytics", analytics),
    Route("/analytics.{kind:str}", analytics_export),
]
