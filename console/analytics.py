"""How the service is doing: per day and channel, top procedures, outcomes, satisfaction, reply time.

Computed from the tracker store's events and the review log; exported as CSV or XLSX; charts
are drawn here as inline SVG (nothing fetched from the internet).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from html import escape
from typing import Dict, List, Optional, Tuple

from sqlalchemy import and_, select

from console.conversations import Conversations, channel_of

CHANNELS = ("web", "telegram", "zalo", "rest")


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


def build_report(conversations: Conversations, review_engine, start: dt.date, end: dt.date) -> Report:
    """The report of days ``start``..``end`` (inclusive)."""
    from core.stores.review_log import feedback, unanswered

    report = Report(start, end)
    lo = dt.datetime.combine(start, dt.time()).timestamp()
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time()).timestamp()
    ev = conversations.events
    per_day: Dict[Tuple[dt.date, str], dict] = defaultdict(lambda: {"conversations": set(), "messages": 0})
    procedures: Dict[str, set] = defaultdict(set)
    talked: set = set()
    delays: List[float] = []
    if ev is not None:
        with conversations.engine.connect() as conn:
            rows = conn.execute(select(ev.c.sender_id, ev.c.type_name, ev.c.timestamp, ev.c.data).where(and_(
                ev.c.timestamp >= lo, ev.c.timestamp < hi, ev.c.type_name.in_(("user", "bot", "slot"))))
                .order_by(ev.c.sender_id, ev.c.id)).all()
        waiting: Dict[str, float] = {}
        for sender, kind, ts, data in rows:
            if kind == "user":
                day = dt.datetime.fromtimestamp(ts).date()
                cell = per_day[(day, channel_of(sender))]
                cell["conversations"].add(sender)
                cell["messages"] += 1
                talked.add(sender)
                waiting[sender] = ts
            elif kind == "bot" and sender in waiting:
                delays.append((ts - waiting.pop(sender)) * 1000)
            elif kind == "slot":
                event = json.loads(data)
                if event.get("name") == "procedure_code" and event.get("value"):
                    procedures[event["value"]].add(sender)
    report.daily = [
        {"day": day, "channel": channel, "conversations": len(v["conversations"]), "messages": v["messages"]}
        for (day, channel), v in sorted(per_day.items())
    ]
    report.top_procedures = sorted(((code, len(s)) for code, s in procedures.items()), key=lambda x: (-x[1], x[0]))[:10]
    lo_dt, hi_dt = dt.datetime.fromtimestamp(lo), dt.datetime.fromtimestamp(hi)
    with review_engine.connect() as conn:
        misses = conn.execute(select(unanswered.c.conversation_id, unanswered.c.reason).where(and_(
            unanswered.c.asked_at >= lo_dt, unanswered.c.asked_at < hi_dt))).all()
        ratings = Counter(r[0] for r in conn.execute(select(feedback.c.rating).where(and_(
            feedback.c.created_at >= lo_dt, feedback.c.created_at < hi_dt))))
    handed = {c for c, reason in misses if reason == "handoff_requested"}
    missed = {c for c, reason in misses if reason != "handoff_requested"} - handed
    report.outcomes = {"answered": len(talked - handed - missed), "unanswered": len(missed),
                       "handed_off": len(handed)}
    report.feedback = {"positive": ratings.get("positive", 0), "negative": ratings.get("negative", 0)}
    report.median_reply_ms = statistics.median(delays) if delays else None
    return report


HEADER = ["Ngày", "Kênh", "Cuộc trò chuyện", "Tin nhắn của công dân"]


def rows_of(report: Report) -> List[list]:
    return [[r["day"].isoformat(), r["channel"], r["conversations"], r["messages"]] for r in report.daily]


def to_csv(report: Report) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(rows_of(report))
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens Vietnamese text correctly


def to_xlsx(report: Report) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Theo ngày"
    sheet.append(HEADER)
    for row in rows_of(report):
        sheet.append(row)
    summary = book.create_sheet("Tổng hợp")
    summary.append(["Chỉ số", "Giá trị"])
    for name, value in (("Trả lời được", report.outcomes.get("answered", 0)),
                        ("Chưa trả lời được", report.outcomes.get("unanswered", 0)),
                        ("Chuyển cán bộ", report.outcomes.get("handed_off", 0)),
                        ("Đánh giá hữu ích", report.feedback.get("positive", 0)),
                        ("Đánh giá chưa đúng", report.feedback.get("negative", 0)),
                        ("Tỉ lệ hài lòng", round(report.satisfaction, 3) if report.satisfaction is not None else ""),
                        ("Thời gian trả lời trung vị (ms)",
                         round(report.median_reply_ms) if report.median_reply_ms is not None else "")):
        summary.append([name, value])
    procedures = book.create_sheet("Thủ tục hỏi nhiều")
    procedures.append(["Mã thủ tục", "Số cuộc trò chuyện"])
    for code, count in report.top_procedures:
        procedures.append([code, count])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


COLOURS = {"web": "#0b6e4f", "telegram": "#2a7ab8", "zalo": "#0068ff", "rest": "#888888"}


def daily_chart(report: Report, width: int = 720, height: int = 220) -> str:
    """Stacked bars of citizens' messages per day and channel, as inline SVG with a text alternative."""
    days = [report.start + dt.timedelta(days=i) for i in range((report.end - report.start).days + 1)]
    totals = {(r["day"], r["channel"]): r["messages"] for r in report.daily}
    peak = max([sum(totals.get((d, c), 0) for c in CHANNELS) for d in days] + [1])
    bar = max((width - 40) / max(len(days), 1), 2)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 40}" role="img" '
             f'aria-label="Tin nhắn của công dân theo ngày và kênh, cao nhất {peak} tin một ngày">']
    for i, day in enumerate(days):
        y = height
        for channel in CHANNELS:
            value = totals.get((day, channel), 0)
            if not value:
                continue
            h = value / peak * (height - 10)
            y -= h
            parts.append(f'<rect x="{30 + i * bar:.1f}" y="{y:.1f}" width="{bar * 0.8:.1f}" height="{h:.1f}" '
                         f'fill="{COLOURS[channel]}"><title>{day:%d/%m} {channel}: {value}</title></rect>')
        if len(days) <= 31 and (i % max(len(days) // 10, 1) == 0):
            parts.append(f'<text x="{30 + i * bar:.1f}" y="{height + 15}" font-size="11">{day:%d/%m}</text>')
    parts.append(f'<text x="0" y="12" font-size="11">{peak}</text>')
    for j, channel in enumerate(CHANNELS):
        parts.append(f'<rect x="{30 + j * 110}" y="{height + 24}" width="10" height="10" fill="{COLOURS[channel]}"/>'
                     f'<text x="{44 + j * 110}" y="{height + 33}" font-size="12">{escape(channel)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def share_bar(parts: Dict[str, int], labels: Dict[str, str], width: int = 720) -> str:
    """One horizontal bar split by share (answered / unanswered / handed off), inline SVG."""
    total = sum(parts.values()) or 1
    x, out = 0.0, [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="46" role="img" aria-label="'
                   + escape(", ".join(f"{labels[k]}: {v}" for k, v in parts.items())) + '">']
    colours = ["#0b6e4f", "#c0392b", "#e69f00"]
    for (key, value), colour in zip(parts.items(), colours):
        w = value / total * width
        out.append(f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="24" fill="{colour}"><title>{escape(labels[key])}: '
                   f'{value}</title></rect>')
        if w > 60:
            out.append(f'<text x="{x + 4:.1f}" y="40" font-size="12">{escape(labels[key])} {value / total:.0%}</text>')
        x += w
    out.append("</svg>")
    return "".join(out)
