"""Citizen-facing texts and buttons used by the actions (Vietnamese, short, with a next step)."""
from __future__ import annotations

from typing import Dict, List

CHOOSE = "Có vài thủ tục gần với câu hỏi của bạn. Bạn chọn đúng thủ tục giúp mình nhé:"
CHOICE_NOT_UNDERSTOOD = "Mình chưa rõ bạn chọn thủ tục nào. Bạn bấm vào một nút ở trên, hoặc hỏi lại tên thủ tục nhé."
FEEDBACK_THANKS = "Cảm ơn bạn đã đánh giá! Bạn cần hỏi thêm gì không?"
FALLBACK = ("Xin lỗi, mình chưa hiểu ý bạn. Bạn thử hỏi ngắn gọn tên thủ tục và điều cần biết "
            "(ví dụ: \"tách thửa cần giấy tờ gì\"), hoặc gọi tổng đài {hotline}.")


def feedback_negative(hotline: str) -> str:
    """Apology after a bad rating, with where to get help."""
    return (f"Xin lỗi vì câu trả lời chưa đúng ý bạn. Mình đã ghi lại để cán bộ kiểm tra. Bạn có thể hỏi lại "
            f"cụ thể hơn, nhắn \"gặp nhân viên\", hoặc gọi {hotline}.")


def unknown(hotline: str) -> str:
    """Plain 'I do not know' with the desk, the hotline and a person as next steps."""
    return (f"Xin lỗi, mình chưa tìm thấy thủ tục phù hợp với câu hỏi này. Mình đã ghi lại để cán bộ bổ sung. "
            f"Bạn có thể mô tả lại việc cần làm, gọi tổng đài {hotline}, hoặc nhắn \"gặp nhân viên\".")


def other_agency(agency: str) -> str:
    """Another agency's service: name the agency, offer what this assistant does know."""
    return (f"Việc này do {agency} giải quyết, không thuộc thủ tục của Sở Nông nghiệp và Môi trường. "
            f"Bạn vui lòng liên hệ cơ quan đó. Nếu cần hỏi về đất đai, môi trường, tài nguyên nước hay khoáng sản, "
            f"bạn cứ nhắn mình nhé.")


def choice_button(code: str, name: str) -> Dict[str, str]:
    """A button that chooses a procedure by code."""
    title = name if len(name) <= 70 else name[:67].rsplit(" ", 1)[0] + "…"
    return {"title": title, "payload": f'/choose_option{{"procedure_code":"{code}"}}'}


def case_button(code: str, case: int, title: str) -> Dict[str, str]:
    """A button that shows the documents of another case of the same procedure."""
    return {"title": f"📄 {title}",
            "payload": f'/ask_documents{{"procedure_code":"{code}","document_case":"{case}"}}'}


def feedback_buttons() -> List[Dict[str, str]]:
    """Rate the answer."""
    return [{"title": "👍 Hữu ích", "payload": "/feedback_positive"},
            {"title": "👎 Chưa đúng", "payload": "/feedback_negative"}]


def help_buttons() -> List[Dict[str, str]]:
    """Next steps when nothing fits."""
    return [{"title": "Gặp nhân viên", "payload": "/request_human"},
            {"title": "Giờ làm việc, liên hệ", "payload": "/ask_office_hours"}]


WEEKDAYS = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")


def clock(time) -> str:
    """A time of day as Vietnamese offices write it: 8h00, 13h30."""
    return f"{time.hour}h{time.minute:02d}"


def periods(calendar) -> str:
    """The office hours of a working day (calendar.yml): "8h00–12h00, 13h00–17h00"."""
    return ", ".join(f"{clock(start)}–{clock(end)}" for start, end in calendar.office_hours)


def next_opening(calendar, now) -> str:
    """When the desk opens next, as a citizen reads it: "8h00 thứ Tư, 25/11"."""
    opening = calendar.next_opening(now)
    return f"{clock(opening.time())} {WEEKDAYS[opening.weekday()]}, {opening:%d/%m}"


def office_hours(calendar, now, hotline: str) -> str:
    """The desk's hours from the working calendar (calendar.yml), whether it is open now, and the hotline."""
    end = calendar.open_until(now)
    if end is not None:
        state = f"Bây giờ đang trong giờ làm việc (đến {clock(end)})."
    else:
        state = f"Bây giờ ngoài giờ làm việc; Bộ phận Một cửa mở lại lúc {next_opening(calendar, now)}."
    return (f"Bộ phận Một cửa làm việc từ thứ Hai đến thứ Sáu ({periods(calendar)}), trừ ngày lễ, Tết và ngày nghỉ bù. "
            f"{state} Tổng đài hỗ trợ: {hotline}. Bạn cần hỏi thủ tục nào?")


def handoff(calendar, hotline: str) -> str:
    """The citizen asked for a person on a channel staff cannot answer on: the hotline and the desk, in office hours."""
    return (f"Mình đã ghi nhận yêu cầu gặp cán bộ. Trong giờ hành chính (thứ Hai–thứ Sáu, {periods(calendar)}) bạn gọi "
            f"tổng đài {hotline} hoặc đến Bộ phận Một cửa để được hỗ trợ trực tiếp. Bạn có muốn hỏi tiếp mình không?")


def handoff_limited(calendar, now, hotline: str, by_this_conversation: bool = True) -> str:
    """A request for a person not queued: this conversation asked settings.channels.handoff_per_hour times within the
    hour (its requests will be answered), or many came from this connection (a shared address: this citizen
    may never have asked). The hotline and the desk instead, with when the desk is open."""
    end = calendar.open_until(now)
    if end is not None:
        when = f"bây giờ bạn gọi tổng đài {hotline} hoặc đến Bộ phận Một cửa (làm việc đến {clock(end)})"
    else:
        when = f"bạn gọi tổng đài {hotline} hoặc đến Bộ phận Một cửa từ {next_opening(calendar, now)}"
    if by_this_conversation:
        reason = ("Bạn đã gửi yêu cầu gặp cán bộ nhiều lần trong một giờ qua nên mình chưa gửi thêm; cán bộ sẽ "
                  "trả lời các yêu cầu bạn đã gửi.")
    else:
        reason = ("Hiện có quá nhiều yêu cầu gặp cán bộ từ cùng kết nối mạng này nên lúc này mình "
                  "chưa gửi được yêu cầu của bạn.")
    return f"{reason} Nếu cần gấp, {when}. Trong lúc chờ, bạn vẫn có thể hỏi mình về thủ tục."


def handoff_queued(calendar, now, hotline: str) -> str:
    """The citizen asked for a person on a channel staff can answer: say when one will come."""
    if calendar.is_open(now):
        return ("Mình đã báo cán bộ của Sở; cán bộ sẽ vào trò chuyện tại đây trong ít phút. Bạn cứ nhắn câu hỏi, "
                f"hoặc gọi tổng đài {hotline} nếu cần gấp.")
    opening = calendar.next_opening(now)
    return ("Hiện ngoài giờ làm việc. Mình đã chuyển yêu cầu cho cán bộ; cán bộ sẽ trả lời tại đây từ "
            f"{opening:%Hh%M} ngày {opening:%d/%m/%Y}. Trong lúc chờ, bạn vẫn có thể hỏi mình về thủ tục.")
