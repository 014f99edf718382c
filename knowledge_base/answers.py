"""Short Vietnamese answers composed from a procedure's record, always naming the source."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

from core.formatting import date
from core.text import fold
from core.vocabulary import CHANNELS, filing_channel
from knowledge_base.schema import Channel, Procedure
from knowledge_base.text import TextNormalizer, words

ASPECTS = ("documents", "fees", "time", "steps", "where", "channels", "conditions", "result",
           "legal", "general")

# Folded cue phrases per aspect, most specific first; the first aspect with a cue wins.
_ASPECT_CUES = (
    ("fees", ("le phi", "phi", "bao nhieu tien", "chi phi", "mat tien", "ton tien", "het bao nhieu", "tien")),
    ("time", ("bao lau", "mat bao lau", "bao nhieu ngay", "thoi gian", "thoi han", "may ngay", "bao gio",
              "khi nao co", "lau khong")),
    ("channels", ("online", "truc tuyen", "qua mang", "buu dien", "buu chinh", "dich vu cong", "nop qua")),
    ("where", ("o dau", "noi nop", "co quan nao", "nop tai", "dia chi", "cho nao", "ai giai quyet")),
    ("documents", ("giay to", "ho so gom", "ho so can", "thanh phan ho so", "can nhung gi", "chuan bi gi",
                   "mang theo", "ho so", "mau don", "to khai")),
    ("steps", ("cac buoc", "trinh tu", "quy trinh", "lam the nao", "lam sao", "nhu the nao", "cach lam",
               "thu tuc lam")),
    ("conditions", ("dieu kien", "yeu cau", "ai duoc", "co duoc khong", "duoc phep")),
    ("result", ("ket qua", "nhan duoc gi", "duoc cap gi")),
    ("legal", ("can cu", "phap ly", "nghi dinh", "thong tu", "luat nao", "quy dinh nao", "van ban")),
)

UNIT_NAMES = {"working_day": "ngày làm việc", "day": "ngày", "hour": "giờ", "working_hour": "giờ làm việc",
               "week": "tuần", "month": "tháng", "year": "năm", "unspecified": ""}
_LEVEL_NAMES = {"province": "cấp tỉnh", "commune": "cấp xã", "ministry": "cấp bộ", "other": "cơ quan khác"}
MAX_ITEMS = 6
MAX_MESSAGE = 900
CASE_LABEL = 64  # characters of a document-case button


@dataclass
class Answer:
    """What to send: one or more chat messages, the procedure and aspect, and optional choices."""

    messages: List[str]
    code: Optional[str] = None
    aspect: str = "general"
    choices: List[dict] = field(default_factory=list)
    cases: List[dict] = field(default_factory=list)  # other document cases: {"title", "case" (1-based)}
    next_aspects: Tuple[str, ...] = ()  # what the closing question offers next, as buttons

    @property
    def text(self) -> str:
        """All messages as one text."""
        return "\n\n".join(self.messages)


def detect_aspect(question: str) -> str:
    """The aspect a question asks about ('general' when none is recognised)."""
    tokens = words(fold(TextNormalizer.default().normalize(question)))
    joined = f" {' '.join(tokens)} "
    for aspect, cues in _ASPECT_CUES:
        if any(f" {cue} " in joined for cue in cues):
            return aspect
    return "general"


def _number(value: Optional[float]) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value).replace(".", ",")


def vnd(amount: int) -> str:
    """'1.250.000 đồng'."""
    return f"{amount:,}".replace(",", ".") + " đồng"


def _time_text(ch: Channel) -> str:
    if ch.time.value is None:
        return "chưa ghi thời hạn"
    unit = UNIT_NAMES.get(ch.time.unit, "")
    return (
        f"{_number(ch.time.value)} {unit}".strip() if unit else f"{_number(ch.time.value)} (hồ sơ gốc không ghi đơn vị)"
    )


def _fee_text(ch: Channel) -> str:
    parts = []
    for fee in ch.fees:
        if fee.kind == "none":
            base = "Không thu phí" if not fee.set_by_province else "Hồ sơ ghi: miễn phí"
        elif fee.amount_vnd is not None:
            base = vnd(fee.amount_vnd)
        else:
            base = "Chưa có thông tin"
        note = f" ({_shorten(fee.text, 160)})" if fee.text else ""
        parts.append(base + note)
    return "; ".join(parts) or "Chưa có thông tin"


def _shorten(text: str, limit: int) -> str:
    text = re.sub(r"\s+", " ", text or "").strip(" -")
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


_STEP_LABEL = re.compile(r"^\s*(?:[a-zđ]\)\s*)?Bước\s*\d+\s*[:.\-–]?\s*", re.IGNORECASE)
_BARE_STEP = 60  # a step name shorter than this is a heading ("Nộp hồ sơ"), not what to do;
# so is one that ends by announcing its list ("Văn phòng đăng ký đất đai thực hiện")


def _step_detail(description: str) -> str:
    """The first line of a step's description that says what happens (no heading, no other step)."""
    for line in (description or "").splitlines():
        line = line.strip(" \t-+•*")
        if line and not line.endswith(":") and not re.search(r"\bBước\s*\d", line, re.IGNORECASE):
            return line
    return ""


def step_line(step) -> str:
    """One step as a chat line: without the record's 'Bước N:' labels (the answer numbers the
    steps), and a bare heading ("Cơ quan tiếp nhận hồ sơ thực hiện") followed by what it does."""
    name = step.name
    while _STEP_LABEL.match(name):
        name = _STEP_LABEL.sub("", name, count=1)
    name = name.strip(" :;.")
    heading = len(name) < _BARE_STEP or fold(name.lower()).endswith(("thuc hien", "nhu sau", "cac noi dung sau"))
    detail = _step_detail(step.description) if heading else ""
    if detail and fold(detail.lower()).startswith(fold(name.lower())):
        name = ""
    text = f"{name}: {detail}" if name and detail else (name or detail or step.name)
    return _shorten(text, 220)


def source_line(proc: Procedure) -> str:
    """'Nguồn: thủ tục 1.012786, Quyết định 3380/QĐ-BNNMT, <link>' (+ last update when known)."""
    parts = [f"thủ tục {proc.code}"]
    if proc.decision:
        parts.append(f"Quyết định {proc.decision}")
    if proc.source_url:
        parts.append(proc.source_url)
    line = "Nguồn: " + ", ".join(parts)
    if proc.last_updated:
        line += f" (cập nhật {date(proc.last_updated)})"
    return line


def _case_lines(case, with_name: bool) -> str:
    lines = [f"{_shorten(case.name, 160)}:"] if case.name and with_name else []
    for doc in case.documents[:MAX_ITEMS]:
        counts = []
        if doc.originals:
            counts.append(f"{doc.originals} bản chính")
        if doc.copies:
            counts.append(f"{doc.copies} bản sao")
        suffix = f" ({', '.join(counts)})" if counts else ""
        lines.append(f"- {_shorten(doc.name, 200)}{suffix}")
    if len(case.documents) > MAX_ITEMS:
        lines.append(f"- … và {len(case.documents) - MAX_ITEMS} giấy tờ khác (xem đủ tại link nguồn)")
    if case.note and not case.documents:
        lines.append(_shorten(case.note, 300))
    return "\n".join(lines)


_CASE_PREFIX = re.compile(
    r"^(?:(?:đối với trường hợp|đối với|trường hợp|thành phần hồ sơ|hồ sơ|thực hiện thủ tục)\s+)+", re.IGNORECASE
)
_ENUMERATOR = re.compile(r"^((?:\d+|[a-zđ])(?:\.\d+)?[.)]\s+)(.*)$", re.IGNORECASE)


def case_label(name: str, number: int, limit: int = CASE_LABEL) -> str:
    """A button label for a document case: its enumerator ("a)", or its number) and what sets it
    apart. A long one loses its middle, not its end: cases often differ only in their last words
    ("… đối với cá nhân" / "… đối với tổ chức")."""
    text = re.sub(r"\s+", " ", name or "").strip(" :;,")
    match = _ENUMERATOR.match(text)
    enumerator, rest = (match.group(1), match.group(2)) if match else (f"{number}. ", text)
    stripped = _CASE_PREFIX.sub("", rest)
    rest = stripped if len(stripped) >= 12 else rest  # "Hồ sơ năng lực" keeps its "Hồ sơ"
    rest = re.sub(r"[\s,;:]*\bgồm$", "", rest).strip(" :;,")
    label = enumerator + rest if rest else f"Trường hợp {number}"
    if len(label) <= limit:
        return label
    head = label[: limit // 3].rsplit(" ", 1)[0]
    tail = label[-(limit - len(head) - 1):].split(" ", 1)[-1]
    return f"{head}…{tail}"


def _documents(proc: Procedure, case: Optional[int] = None) -> Tuple[List[str], List[dict]]:
    """The documents to prepare, and buttons for the other cases when only one case is shown.

    A record with several cases (a) households, b) overseas Vietnamese, …) lists them all when
    they fit one chat bubble; otherwise the answer shows one case (``case``, 1-based; the first by
    default) and offers the others, instead of five bubbles of documents the citizen mostly does
    not need.
    """
    cases = proc.document_cases
    if not cases:
        return ["Hồ sơ gốc chưa liệt kê thành phần hồ sơ."], []
    if len(cases) == 1:
        return [_case_lines(cases[0], False)], []
    everything = [_case_lines(c, True) for c in cases]
    if case is None and len("\n".join(everything)) <= MAX_MESSAGE:
        return everything, []
    shown = case if case is not None and 1 <= case <= len(cases) else 1
    intro = (f"Hồ sơ khác nhau theo {len(cases)} trường hợp. Dưới đây là một trường hợp; "
             "muốn xem trường hợp khác, bạn chọn ở cuối tin nhắn.")
    others = [{"title": case_label(c.name, i), "case": i} for i, c in enumerate(cases, 1) if i != shown]
    return [intro, everything[shown - 1]], others


def _channels_lines(proc: Procedure, what: str) -> List[str]:
    lines = []
    for ch in proc.channels:
        value = _time_text(ch) if what == "time" else _fee_text(ch)
        lines.append(f"- {filing_channel(ch.method).name}: {value}")
    return lines or ["Hồ sơ gốc chưa ghi thông tin này."]


def _body(proc: Procedure, aspect: str) -> List[str]:
    if aspect == "fees":
        lines = ["Phí, lệ phí theo hồ sơ thủ tục:"] + _channels_lines(proc, "fees")
        if proc.province_fees.strip():
            lines.append("Mức thu tại tỉnh (Sở cập nhật): " + proc.province_fees.strip())
        elif any(f.set_by_province for ch in proc.channels for f in ch.fees):
            lines.append("Lưu ý: mức thu cụ thể do HĐND/UBND cấp tỉnh quy định, có thể khác nhau giữa các tỉnh.")
        return ["\n".join(lines)]
    if aspect == "time":
        return ["\n".join(["Thời hạn giải quyết:"] + _channels_lines(proc, "time"))]
    if aspect == "channels":
        if not proc.channels:
            return ["Hồ sơ gốc chưa ghi hình thức nộp."]
        methods = ", ".join(filing_channel(c.method).name.lower() for c in proc.channels)
        extra = " Nộp trực tuyến tại Cổng Dịch vụ công quốc gia (dichvucong.gov.vn)." if proc.channel("online") else ""
        return [f"Có thể nộp hồ sơ: {methods}.{extra}"]
    if aspect == "where":
        agencies = proc.competent_agencies or proc.agencies
        levels = ", ".join(_LEVEL_NAMES[l] for l in proc.levels)
        lines = [f"Cấp thực hiện: {levels}."]
        if agencies:
            lines.append("Cơ quan giải quyết: " + "; ".join(agencies[:4]) + ".")
        if proc.address:
            lines.append("Nơi tiếp nhận: " + _shorten(proc.address, 250))
        else:
            lines.append("Nộp tại Bộ phận Một cửa (Trung tâm Phục vụ hành chính công) của tỉnh hoặc xã/phường.")
        return ["\n".join(lines)]
    if aspect == "steps":
        if not proc.steps:
            return ["Hồ sơ gốc chưa ghi trình tự thực hiện."]
        lines = [f"{i}. {step_line(s)}" for i, s in enumerate(proc.steps[:MAX_ITEMS], 1)]
        if len(proc.steps) > MAX_ITEMS:
            lines.append("… (xem đủ các bước tại link nguồn)")
        return ["Các bước thực hiện:\n" + "\n".join(lines)]
    if aspect == "conditions":
        return ["Điều kiện: " + (_shorten(proc.conditions, 700) if proc.conditions
                                  else "hồ sơ gốc không nêu yêu cầu, điều kiện riêng.")]
    if aspect == "result":
        if not proc.results:
            return ["Hồ sơ gốc chưa ghi kết quả."]
        return ["Kết quả nhận được: " + "; ".join(_shorten(r.name, 200) for r in proc.results[:3])]
    if aspect == "legal":
        if not proc.legal_basis:
            return ["Hồ sơ gốc chưa ghi căn cứ pháp lý."]
        lines = [f"- {_shorten(l.title, 160)}" + (f" ({l.code})" if l.code and l.code not in l.title else "")
                 for l in proc.legal_basis[:MAX_ITEMS]]
        return ["Căn cứ pháp lý:\n" + "\n".join(lines)]
    # general: a compact overview
    overview = [f"Cấp thực hiện: {', '.join(_LEVEL_NAMES[l] for l in proc.levels)}."]
    times = "; ".join(f"{filing_channel(c.method).name.lower()} {_time_text(c)}" for c in proc.channels)
    if times:
        overview.append(f"Thời hạn: {times}.")
    if proc.documents:
        overview.append(f"Hồ sơ gồm {len(proc.documents)} loại giấy tờ.")
    return ["\n".join(overview)]


_NEXT_STEP = {
    "documents": "Bạn muốn xem thêm lệ phí hay thời hạn giải quyết?",
    "fees": "Bạn muốn xem hồ sơ cần chuẩn bị hay nơi nộp?",
    "time": "Bạn muốn xem hồ sơ cần chuẩn bị hay cách nộp trực tuyến?",
    "channels": "Bạn muốn xem hồ sơ cần chuẩn bị hay thời hạn giải quyết?",
    "where": "Bạn muốn xem hồ sơ cần chuẩn bị hay lệ phí?",
    "steps": "Bạn muốn xem hồ sơ cần chuẩn bị hay thời hạn giải quyết?",
    "conditions": "Bạn muốn xem hồ sơ cần chuẩn bị hay các bước thực hiện?",
    "result": "Bạn muốn xem hồ sơ cần chuẩn bị hay thời hạn giải quyết?",
    "legal": "Bạn muốn xem hồ sơ cần chuẩn bị hay lệ phí?",
    "general": "Bạn muốn hỏi về hồ sơ, lệ phí, thời hạn hay nơi nộp?",
}


# The aspects each closing question above offers, in its order (the channels show them as buttons).
_NEXT_ASPECTS = {
    "documents": ("fees", "time"), "fees": ("documents", "where"), "time": ("documents", "channels"),
    "channels": ("documents", "time"), "where": ("documents", "fees"), "steps": ("documents", "time"),
    "conditions": ("documents", "steps"), "result": ("documents", "time"), "legal": ("documents", "fees"),
    "general": ("documents", "fees", "time", "where"),
}


_ASKED = {
    "documents": "hồ sơ cần chuẩn bị", "fees": "phí, lệ phí", "time": "thời hạn giải quyết",
    "channels": "cách nộp", "where": "nơi nộp hồ sơ", "steps": "các bước thực hiện",
    "conditions": "điều kiện", "result": "kết quả nhận được", "legal": "căn cứ pháp lý",
    "general": "thông tin chính",
}


def which_procedure(aspect: str, procedures: Sequence[Procedure]) -> Answer:
    """An aspect asked before any procedure was named ("nộp ở đâu?"): ask which one.

    For how to file, say first how many of the deployment's ``procedures`` take each channel.
    """
    aspect = aspect if aspect in ASPECTS else "general"
    lines = []
    if aspect == "channels" and procedures:
        count = {m: sum(any(c.method == m for c in p.channels) for p in procedures) for m in CHANNELS}
        lines.append(f"Trong {len(procedures)} thủ tục mình hỗ trợ: {count['online']} thủ tục nộp trực tuyến được "
                     f"(Cổng Dịch vụ công quốc gia, đăng nhập bằng tài khoản VNeID), {count['postal']} thủ tục "
                     f"nộp qua bưu chính, {count['direct']} thủ tục nộp trực tiếp.")
    lines.append(f"Bạn hỏi về thủ tục nào ạ? Bạn nhắn việc cần làm (ví dụ: \"cấp lại sổ đỏ bị mất\", "
                 f"\"tách thửa\"), mình sẽ trả lời {_ASKED[aspect]} của thủ tục đó.")
    return Answer(["\n".join(lines)], aspect=aspect)


def _split(text: str, limit: int = MAX_MESSAGE) -> List[str]:
    """Split a long message at line breaks so each part fits a chat bubble."""
    if len(text) <= limit:
        return [text]
    parts, cur = [], ""
    for line in text.split("\n"):
        if cur and len(cur) + len(line) + 1 > limit:
            parts.append(cur)
            cur = line
        else:
            cur = f"{cur}\n{line}" if cur else line
    if cur:
        parts.append(cur)
    return parts


def _pack(parts: List[str], limit: int = MAX_MESSAGE) -> List[str]:
    """Parts joined into as few chat bubbles as fit; a part too long for one is split at line breaks."""
    messages: List[str] = []
    for part in parts:
        if messages and len(messages[-1]) + len(part) + 1 <= limit:
            messages[-1] += "\n" + part
        else:
            messages.extend(_split(part, limit))
    return messages


def compose_answer(proc: Optional[Procedure], aspect: str, settings, candidates: Sequence[Procedure] = (),
                   case: Optional[int] = None) -> Answer:
    """Compose the answer; without a procedure, offer ``candidates`` or admit not knowing.

    ``case`` (1-based) picks the document case to show when a record has several.
    """
    aspect = aspect if aspect in ASPECTS else "general"
    if proc is None:
        if candidates:
            choices = [{"title": c.name[:80], "payload": c.code} for c in candidates]
            listing = "\n".join(f"{i}. {c.name[:160]} ({c.code})" for i, c in enumerate(candidates, 1))
            return Answer([f"Bạn đang hỏi về thủ tục nào dưới đây?\n{listing}\nHãy chọn một thủ tục để mình trả lời."],
                          aspect=aspect, choices=choices)
        return Answer(
            [
                f"Xin lỗi, mình chưa tìm được thủ tục phù hợp với câu hỏi. Bạn thử nói rõ hơn việc cần làm "
                f'(ví dụ: "cấp lại sổ đỏ bị mất"), hoặc gọi tổng đài {settings.office.hotline} để được hỗ trợ.'
            ],
            aspect=aspect,
        )
    head = f"Thủ tục: {proc.name.rstrip('. ')} (mã {proc.code})."  # some names end with a full stop
    cases: List[dict] = []
    if aspect == "documents":
        parts, cases = _documents(proc, case)
        body = [f"Hồ sơ cần chuẩn bị:\n{parts[0]}"] + parts[1:]
    else:
        body = _body(proc, aspect)
    messages = _pack([f"{head}\n{body[0]}"] + body[1:])
    if proc.staff_notes.strip():
        messages.extend(_split("Ghi chú của Sở: " + proc.staff_notes.strip()))
    messages.append(f"{source_line(proc)}\n{_NEXT_STEP[aspect]}")
    return Answer(messages, code=proc.code, aspect=aspect, cases=cases, next_aspects=_NEXT_ASPECTS[aspect])
