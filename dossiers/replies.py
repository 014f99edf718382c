"""What a citizen reads about a dossier or a deadline: short Vietnamese, ending in a next step."""
from __future__ import annotations

import datetime as dt
from typing import List, Optional

from dossiers.codes import NO_RESULT, STOPPED_BY_AGENCY, WAITING_ON_CITIZEN
from dossiers.service import DossierView
from knowledge_base.answers import UNIT_NAMES, vnd

WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
DEFAULT_PICKUP = "tại nơi bạn đã nộp hồ sơ, mang theo Giấy tiếp nhận hồ sơ và hẹn trả kết quả"
ASK_WHY_LATE = "bạn có thể hỏi bộ phận một cửa về lý do và thời gian dự kiến."
CHANNEL_NAMES = {"direct": "nộp trực tiếp", "online": "nộp trực tuyến", "postal": "nộp qua bưu chính"}


def day(value: dt.datetime) -> str:
    """'Thứ Tư, 25/11/2026'."""
    return f"{WEEKDAYS[value.weekday()]}, {value:%d/%m/%Y}"


def moment(value: dt.datetime) -> str:
    """'09:00 Thứ Tư, 25/11/2026'."""
    return f"{value:%H:%M} {day(value)}"


def money(amount: Optional[int]) -> str:
    """'1.250.000 đồng', or 'theo thông báo' without an amount."""
    return vnd(amount) if amount is not None else "theo thông báo"


def status_reply(view: DossierView, hotline: str) -> List[str]:
    """The answer to a verified status lookup, as chat messages."""
    head = f"Hồ sơ {view.code}"
    if view.procedure_name:
        head += f" ({view.procedure_name})"
    lines = [f"{head}: {view.status_name}, cập nhật lúc {moment(view.status_at)}."]
    if view.current_step or view.handling_unit:
        lines.append("Bước hiện tại: " + " - ".join(x for x in (view.current_step, view.handling_unit) if x) + ".")
    lines.append(f"Ngày tiếp nhận: {day(view.received_at)}.")
    if view.due_at:
        lines.append(f"Hẹn trả kết quả: {moment(view.due_at)}.")
    if view.finished_at and view.due_at:
        lines.append("Hồ sơ đã giải quyết trễ hạn." if view.late else "Hồ sơ đã giải quyết đúng hạn.")
    elif view.status_code in WAITING_ON_CITIZEN:
        lines.append("Thời hạn giải quyết tạm dừng trong lúc chờ bạn bổ sung hoặc nộp nghĩa vụ tài chính.")
    elif view.working_days_left is not None:
        if view.late:
            lines.append(f"Hồ sơ đang trễ hạn {abs(view.working_days_left)} ngày làm việc; {ASK_WHY_LATE}")
        elif view.working_days_left == 0:
            lines.append("Hôm nay là ngày hẹn trả kết quả.")
        else:
            lines.append(f"Còn {view.working_days_left} ngày làm việc đến hạn.")
    for item in view.open_supplements:
        deadline = f" trước {day(item['deadline'])}" if item.get("deadline") else ""
        lines.append(f"Cần bổ sung{deadline}: {item['items']}")
    for notice in view.unpaid_notices:
        what = f" ({notice['description']})" if notice.get("description") else ""
        lines.append(f"Cần nộp nghĩa vụ tài chính: {money(notice.get('amount_vnd'))}{what}; "
                     "nộp xong hồ sơ sẽ được xử lý tiếp.")
    if view.status_code == 9:
        lines.append(f"Kết quả đã có: nhận {view.result_pickup or DEFAULT_PICKUP}.")
    elif view.status_code == 10:
        lines.append("Kết quả đã được trả.")
    elif view.status_code in STOPPED_BY_AGENCY:
        lines.append(f"Bạn có thể liên hệ bộ phận một cửa hoặc gọi {hotline} để biết lý do.")
    elif view.result_pickup:
        lines.append(f"Khi có kết quả, bạn nhận {view.result_pickup}.")
    return ["\n".join(lines)]


def result_ready_reply(view: DossierView, hotline: str) -> str:
    """'When will my result be ready?' about the dossier the citizen has just looked up."""
    head = f"Hồ sơ {view.code}"
    if view.status_code == 9:
        text = f"{head} đã có kết quả: bạn nhận {view.result_pickup or DEFAULT_PICKUP}."
    elif view.status_code == 10:
        text = f"{head} đã trả kết quả."
    elif view.status_code in NO_RESULT:
        text = (f"{head} không còn được xử lý ({view.status_name.lower()}), nên không có ngày trả kết quả. "
                f"Bạn liên hệ bộ phận một cửa hoặc gọi {hotline} nếu cần biết thêm.")
    elif view.status_code in WAITING_ON_CITIZEN:
        waiting = "bổ sung giấy tờ" if view.status_code == 5 else "nộp nghĩa vụ tài chính"
        text = (f"{head} đang chờ bạn {waiting}: thời hạn giải quyết tạm dừng và tính tiếp khi bạn hoàn thành, "
                "nên ngày trả kết quả sẽ lùi theo số ngày chờ.")
    elif view.due_at is None:
        text = f"{head} chưa có ngày hẹn trả kết quả. Bạn hỏi bộ phận một cửa hoặc gọi {hotline} nhé."
    else:
        text = f"{head} hẹn trả kết quả lúc {moment(view.due_at)}"
        if view.late and view.working_days_left is not None:
            text += f", đã trễ {abs(view.working_days_left)} ngày làm việc; {ASK_WHY_LATE}"
        elif view.working_days_left:
            text += f" (còn {view.working_days_left} ngày làm việc)."
        else:
            text += "."
    return text + " Bạn cần hỏi thêm gì không?"


def denied_reply() -> str:
    """The one answer for an unknown code and for a wrong verification (never says which)."""
    return ("Mã hồ sơ hoặc số xác minh không khớp với hồ sơ nào. Bạn kiểm tra lại mã trên Giấy tiếp nhận "
            "hồ sơ và 4 số cuối điện thoại hoặc căn cước của người nộp, rồi thử lại nhé.")


def locked_reply(until: dt.datetime, hotline: str, scope: str = "") -> str:
    """The answer while a lookup is locked out: the dossier's lock (failures from anyone) is told apart
    from the conversation's or the client's own, so an owner knows staff can open it."""
    if scope == "dossier":
        return (f"Hồ sơ này đang tạm khóa tra cứu đến {moment(until)} vì có nhiều lần nhập sai số xác minh. "
                f"Nếu bạn là người nộp hồ sơ, hãy gọi {hotline} để cán bộ kiểm tra và mở khóa.")
    return (f"Bạn đã nhập sai quá nhiều lần nên việc tra cứu tạm khóa đến {moment(until)}. "
            f"Bạn thử lại sau thời gian này hoặc gọi {hotline} để được hỗ trợ.")


def deadline_reply(procedure_name: str, channel: str, received: dt.datetime, due: dt.datetime,
                   value: float, unit: str, note: str = "", counted_from: Optional[dt.datetime] = None) -> str:
    """The answer to 'if I file now, when is the result due?'."""
    text = (f"{procedure_name}: thời hạn giải quyết khi {CHANNEL_NAMES.get(channel, channel)} là {value:g} "
            f"{UNIT_NAMES.get(unit, unit)}. Nếu hồ sơ hợp lệ được tiếp nhận lúc {moment(received)}, hạn trả kết quả "
            f"dự kiến là {moment(due)}")
    notes = []
    if counted_from and counted_from.date() != received.date():
        notes.append(f"nộp ngoài giờ làm việc nên tính từ {moment(counted_from)}")
    if unit.startswith("working"):
        notes.append("đã trừ thứ Bảy, Chủ nhật và ngày nghỉ lễ")
    text += f" ({'; '.join(notes)})." if notes else "."
    if note:
        text += f" Lưu ý: {note.strip()}"
    return text + " Thời hạn tính từ khi nhận đủ hồ sơ hợp lệ. Bạn cần hỏi giấy tờ cần chuẩn bị không?"
