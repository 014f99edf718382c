"""How the service is doing: per day and channel, top procedures, outcomes, satisfaction, reply time.

Computed from the tracker store's events and the review log; exported as CSV or XLSX; charts
are drawn here as inline SVG (nothing fetched from the internet).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from dataclasses import dataclass, field
from html import escape
from typing import Dict, List, Optional, Tuple

from sqlalchemy import and_, select

from console.conversations import CHANNELS
from core import formatting as fmt


@dataclass
class Report:
    start: dt.date
    end: dt.date
    daily: List[dict] = field(default_factory=list)  # day, channel, conversations, messages
    top_procedures: List[Tuple[str, int]] = field(default_factory=list)
    outcomes: Dict[str, int] = field(default_factory=dict)  # answered / unanswered / handed_off conversations
    feedback: Dict[str, int] = field(default_factory=dict)
    median_reply_ms: Optional[float] = None

    @property
    def satisfaction(self) -> Optional[float]:
        total = self.feedback.get("positive", 0) + self.feedback.get("negative", 0)
        return self.feedback.get("positive", 0) / total if total else None


def build_report(sums, review_engine, start: dt.date, end: dt.date) -> Report:
    """The report of days ``start``..``end`` (inclusive): ``sums`` (a ``console.rollup.Rollup``) for the tracker
    store's figures, the review log (``review_engine``) for outcomes and ratings; every figure an SQL aggregate."""
    from sqlalchemy import func

    from core.stores.review_log import feedback, unanswered

    report = Report(start, end)
    report.daily = sums.daily(start, end)
    report.top_procedures = sums.top_procedures(start, end)
    report.median_reply_ms = sums.median_reply_ms(start, end)
    talked = sums.talked(start, end)
    lo = dt.datetime.combine(start, dt.time())
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
    asked = and_(unanswered.c.asked_at >= lo, unanswered.c.asked_at < hi)
    handoff = unanswered.c.reason == "handoff_requested"
    conversations = func.count(unanswered.c.conversation_id.distinct())
    with review_engine.connect() as conn:
        handed = int(conn.execute(select(conversations).where(and_(asked, handoff))).scalar() or 0)
        missed = int(conn.execute(select(conversations).where(and_(asked, ~handoff, unanswered.c.conversation_id.notin_(
            select(unanswered.c.conversation_id).where(and_(asked, handoff)))))).scalar() or 0)
        ratings = {rating: int(n) for rating, n in conn.execute(
            select(feedback.c.rating, func.count()).where(and_(feedback.c.created_at >= lo, feedback.c.created_at < hi))
            .group_by(feedback.c.rating))}
    report.outcomes = {"answered": max(talked - handed - missed, 0), "unanswered": missed, "handed_off": handed}
    report.feedback = {"positive": ratings.get("positive", 0), "negative": ratings.get("negative", 0)}
    return report


HEADER = ["Ngày", "Kênh", "Cuộc trò chuyện", "Tin nhắn của công dân"]
OUTCOME_NAMES = {"answered": "Trả lời được", "unanswered": "Chưa trả lời được", "handed_off": "Chuyển cán bộ"}
SUMMARY_HEADER = ["Chỉ số", "Giá trị"]
PROCEDURE_HEADER = ["Mã thủ tục", "Tên thủ tục", "Số cuộc trò chuyện"]
OUTCOME_HEADER = ["Kết quả", "Số cuộc trò chuyện", "Tỉ lệ"]
# A spreadsheet reads a cell that starts with one of these as a formula (CSV / formula injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Characters an XLSX file cannot hold (openpyxl refuses them).
ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
NOT_YET = "chưa có"


class Share(float):
    """A fraction written as a percentage ("60%" in CSV and on charts, a percent-formatted number in XLSX)."""


def percent(share: float) -> str:
    """'60%'; a sliver that is not nothing is '<1%', nearly all is '>99%' (never a misleading 0% or 100%)."""
    if 0 < share < 0.01:
        return "<1%"
    if 0.99 < share < 1:
        return ">99%"
    return f"{share:.0%}"


def safe_text(text: str) -> str:
    """``text`` as a spreadsheet shows it and never runs it: an apostrophe before a formula's first character."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def title_of(report: Report) -> str:
    """The exports' title line: 'Thống kê trợ lý thủ tục hành chính từ 01/05/2026 đến 30/05/2026'."""
    return f"Thống kê trợ lý thủ tục hành chính từ {fmt.date(report.start)} đến {fmt.date(report.end)}"


def summary_rows(report: Report) -> List[list]:
    """The indicators of the summary (the page's cards, the CSV's first section, the XLSX's first sheet)."""
    outcomes = [report.outcomes.get(key, 0) for key in OUTCOME_NAMES]
    satisfaction = report.satisfaction
    return [["Từ ngày", report.start], ["Đến ngày", report.end], ["Số ngày", (report.end - report.start).days + 1],
            ["Cuộc trò chuyện", sum(outcomes)], ["Tin nhắn của công dân", sum(r["messages"] for r in report.daily)],
            *([name, n] for name, n in zip(OUTCOME_NAMES.values(), outcomes)),
            ["Đánh giá hữu ích", report.feedback.get("positive", 0)],
            ["Đánh giá chưa đúng", report.feedback.get("negative", 0)],
            ["Tỉ lệ hài lòng", NOT_YET if satisfaction is None else Share(satisfaction)],
            ["Thời gian trả lời trung vị (ms)",
             NOT_YET if report.median_reply_ms is None else round(report.median_reply_ms)]]


def rows_of(report: Report) -> List[list]:
    """The per-day table: day, channel, conversations, citizens' messages."""
    return [[r["day"], r["channel"], r["conversations"], r["messages"]] for r in report.daily]


def procedure_rows(report: Report, names: Dict[str, str]) -> List[list]:
    """The most asked procedures: code, name (empty when the catalogue no longer has it), conversations."""
    return [[code, names.get(code, ""), count] for code, count in report.top_procedures]


def outcome_rows(report: Report) -> List[list]:
    """Each outcome: its name, its conversations and their share of all conversations."""
    counts = {key: report.outcomes.get(key, 0) for key in OUTCOME_NAMES}
    total = sum(counts.values())
    return [[OUTCOME_NAMES[key], n, Share(n / total if total else 0)] for key, n in counts.items()]


def sections(report: Report, names: Dict[str, str]) -> List[Tuple[str, List[str], List[list]]]:
    """(title, header, rows) of every table both exports hold, in order: one definition for CSV and XLSX."""
    return [("Tổng hợp", SUMMARY_HEADER, summary_rows(report)), ("Theo ngày", HEADER, rows_of(report)),
            ("Thủ tục hỏi nhiều", PROCEDURE_HEADER, procedure_rows(report, names)),
            ("Kết quả", OUTCOME_HEADER, outcome_rows(report))]


def csv_cell(value: object) -> object:
    """A value as the CSV writes it: percentages, ISO dates, text guarded against formulas."""
    if isinstance(value, Share):
        return percent(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return safe_text(value) if isinstance(value, str) else value


def to_csv(report: Report, names: Optional[Dict[str, str]] = None) -> bytes:
    """One CSV file: the title line, then each section (title, header, rows) after a blank line.

    ``names`` maps procedure codes to their names. UTF-8 with a BOM, so Excel opens Vietnamese text correctly.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_text(title_of(report))])
    for title, header, rows in sections(report, names or {}):
        writer.writerow([])
        writer.writerow([title])
        writer.writerow(header)
        writer.writerows([csv_cell(value) for value in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_cell(value: object) -> Tuple[object, Optional[str]]:
    """(value, number format) of a value in an XLSX cell; text guarded against formulas and cleaned."""
    if isinstance(value, Share):
        return float(value), "0.0%"
    if isinstance(value, dt.date):
        return value, "DD/MM/YYYY"
    if isinstance(value, str):
        return ILLEGAL_XML.sub("", safe_text(value)), None
    return value, None


def shown_width(value: object) -> int:
    """About how many characters wide a cell's value shows."""
    if isinstance(value, Share):
        return 6
    return 10 if isinstance(value, dt.date) else len(str(value))


def to_xlsx(report: Report, names: Optional[Dict[str, str]] = None) -> bytes:
    """An Excel workbook: one sheet per section ("Tổng hợp" first), bold headers, columns sized to their text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    for title, header, rows in sections(report, names or {}):
        sheet = book.create_sheet(title)
        widths = [len(text) for text in header]
        for c, text in enumerate(header, start=1):
            sheet.cell(1, c, text).font = bold
        for r, row in enumerate(rows, start=2):
            for c, value in enumerate(row, start=1):
                shown, number_format = xlsx_cell(value)
                cell = sheet.cell(r, c, shown)
                if number_format:
                    cell.number_format = number_format
                widths[c - 1] = max(widths[c - 1], shown_width(shown if isinstance(shown, str) else value))
        for c, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(c)].width = min(max(width + 2, 10), 80)
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


COLOURS = {"web": "#0b6e4f", "telegram": "#2a7ab8", "zalo": "#0068ff", "rest": "#888888"}
SHARE_COLOURS = ("#0b6e4f", "#c0392b", "#e69f00")
LEFT, TOP = 44, 26  # room for the messages axis and the totals above the highest bar
LABEL_GAP = 16  # px between two slanted day labels
CHAR_PX = 7  # about how wide a character of 12 px text is


def day_labels(count: int, bar: float) -> List[int]:
    """The days (indexes) whose date goes under the axis: every day up to 31 days, else as many as fit;
    always the first and the latest."""
    if count <= 31:
        return list(range(count))
    step = math.ceil(LABEL_GAP / bar)
    picked = [i for i in range(0, count - 1, step) if i == 0 or count - 1 - i >= step]  # none crowding the latest
    return picked + [count - 1]


def daily_chart(report: Report, width: int = 720, height: int = 220) -> str:
    """Stacked bars of citizens' messages per day and channel, as inline SVG with a text alternative.

    Each bar's total is written above it when it fits and is in the bar's tooltip always; dates under the axis
    (``day_labels``), upright when the bars are wide enough, else slanted.
    """
    days = [report.start + dt.timedelta(days=i) for i in range((report.end - report.start).days + 1)]
    counts = {(r["day"], r["channel"]): r["messages"] for r in report.daily}
    totals = [sum(counts.get((d, c), 0) for c in CHANNELS) for d in days]
    peak = max(totals + [1])
    # dd/mm, or dd/mm/yyyy when a long range covers parts of two years (its two ends would read the same)
    long_dates = len(days) > 31 and report.start.year != report.end.year
    label = fmt.date if long_dates else fmt.short_date
    left = LEFT + 16 if long_dates else LEFT  # room for the first slanted date
    bar = (width - left - 8) / len(days)
    upright = bar >= CHAR_PX * len(label(days[0])) + 8
    room = 24 if upright else (56 if long_dates else 42)  # below the axis, for the dates
    base, bottom = TOP + height, TOP + height + room + 40
    labelled = set(day_labels(len(days), bar))
    summary = (f"Tin nhắn của công dân theo ngày và kênh, từ {fmt.date(report.start)} đến {fmt.date(report.end)}: "
               f"{sum(totals)} tin, cao nhất {peak} tin một ngày")
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{bottom}" '
             f'viewBox="0 0 {width} {bottom}" role="img" aria-label="{escape(summary)}">',
             '<text x="0" y="10" font-size="11">Số tin nhắn</text>',
             f'<line x1="{left - 4}" y1="{TOP}" x2="{width}" y2="{TOP}" stroke="#d5dbe0"/>',
             f'<text x="{left - 6}" y="{TOP + 4}" font-size="11" text-anchor="end">{peak}</text>',
             f'<text x="{left - 6}" y="{base + 4}" font-size="11" text-anchor="end">0</text>']
    for i, (day, total) in enumerate(zip(days, totals)):
        x, w, y = left + i * bar, bar * 0.8, float(base)
        detail = ", ".join(f"{c} {counts[(day, c)]}" for c in CHANNELS if counts.get((day, c)))
        parts.append(f'<g><title>{fmt.date(day)}: {total} tin nhắn{f" ({detail})" if detail else ""}</title>')
        for channel in CHANNELS:
            value = counts.get((day, channel), 0)
            if value:
                h = value / peak * (height - 4)
                y -= h
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
                             f'fill="{COLOURS[channel]}"/>')
        if total and w >= 6 * len(str(total)) + 2:  # 10 px digits are about 6 px wide
            parts.append(f'<text x="{x + w / 2:.1f}" y="{y - 3:.1f}" font-size="10" '
                         f'text-anchor="middle">{total}</text>')
        parts.append("</g>")
        if i in labelled:
            cx = x + w / 2
            parts.append(f'<text x="{cx:.1f}" y="{base + 16}" font-size="11" text-anchor="middle">{label(day)}</text>'
                         if upright else
                         f'<text x="{cx:.1f}" y="{base + 12}" font-size="11" text-anchor="end" '
                         f'transform="rotate(-45 {cx:.1f} {base + 12})">{label(day)}</text>')
    parts.append(f'<line x1="{left - 4}" y1="{base}" x2="{width}" y2="{base}" stroke="#5b6670"/>')
    parts.append(f'<text x="{left + (width - left) / 2:.0f}" y="{base + room + 12}" font-size="11" '
                 f'text-anchor="middle">Ngày</text>')
    for j, channel in enumerate(CHANNELS):
        parts.append(f'<rect x="{left + j * 110}" y="{base + room + 22}" width="10" height="10" '
                     f'fill="{COLOURS[channel]}"/><text x="{left + 14 + j * 110}" y="{base + room + 31}" '
                     f'font-size="12">{escape(channel)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def share_bar(parts: Dict[str, int], labels: Dict[str, str], width: int = 720) -> str:
    """One horizontal bar split by share (answered / unanswered / handed off), inline SVG.

    Every share is named in a legend below the bar, with its count and percentage, however narrow its segment.
    """
    total = sum(parts.values())
    texts = [f"{labels[key]}: {value} ({percent(value / total if total else 0)})" for key, value in parts.items()]
    slot = width / max(len(parts), 1)
    one_row = all(14 + len(text) * CHAR_PX <= slot for text in texts)  # else one legend line per share
    height = 50 if one_row else 30 + 20 * len(parts)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(", ".join(texts))}">',
           f'<rect x="0" y="0" width="{width}" height="24" fill="#eef2f0"/>']
    x = 0.0
    for j, (value, text, colour) in enumerate(zip(parts.values(), texts, SHARE_COLOURS)):
        w = value / total * width if total else 0
        if w:
            out.append(f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="24" fill="{colour}">'
                       f'<title>{escape(text)}</title></rect>')
        x += w
        lx, ly = (j * slot, 32) if one_row else (0, 32 + 20 * j)
        out.append(f'<rect x="{lx:.1f}" y="{ly}" width="10" height="10" fill="{colour}"/>'
                   f'<text x="{lx + 14:.1f}" y="{ly + 9}" font-size="12">{escape(text)}</text>')
    out.append("</svg>")
    return "".join(out)
