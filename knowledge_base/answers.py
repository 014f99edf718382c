"""Short Vietnamese answers composed from a procedure's record, always naming the source.

Their words are in bot/texts.yml (the group ``answers``, and the ``phrases.answer_*`` pieces).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

from core.formatting import date
from core.text import fold
from core.texts import text
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


def unit_name(unit: str, default: str = "") -> str:
    """A time limit's unit in words ("ngày làm việc"); ``default`` for an unknown or unspecified one."""
    names = {"working_day": text("phrases.answer_unit_working_day"), "day": text("phrases.answer_unit_day"),
             "hour": text("phrases.answer_unit_hour"), "working_hour": text("phrases.answer_unit_working_hour"),
             "week": text("phrases.answer_unit_week"), "month": text("phrases.answer_unit_month"),
             "year": text("phrases.answer_unit_year")}
    return names.get(unit, default)


def _level_name(level: str) -> str:
    names = {"province": text("phrases.answer_level_province"), "commune": text("phrases.answer_level_commune"),
             "ministry": text("phrases.answer_level_ministry"), "other": text("phrases.answer_level_other")}
    return names[level]


def _levels(proc: Procedure) -> str:
    return text("answers.levels", levels=", ".join(_level_name(level) for level in proc.levels))


def _number(value: Optional[float]) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value).replace(".", ",")


def vnd(amount: int) -> str:
    """'1.250.000 đồng'."""
    return text("phrases.answer_amount", amount=f"{amount:,}".replace(",", "."))


def _time_text(ch: Channel) -> str:
    if ch.time.value is None:
        return text("phrases.answer_no_time")
    unit = unit_name(ch.time.unit)
    value = _number(ch.time.value)
    return f"{value} {unit}".strip() if unit else text("phrases.answer_time_no_unit", value=value)


def _fee_text(ch: Channel) -> str:
    parts = []
    for fee in ch.fees:
        if fee.kind == "none":
            base = text("phrases.answer_no_fee" if not fee.set_by_province else "phrases.answer_fee_free")
        elif fee.amount_vnd is not None:
            base = vnd(fee.amount_vnd)
        else:
            base = text("phrases.answer_no_information")
        note = f" ({_shorten(fee.text, 160)})" if fee.text else ""
        parts.append(base + note)
    return "; ".join(parts) or text("phrases.answer_no_information")


def _shorten(value: str, limit: int) -> str:
    value = re.sub(r"\s+", " ", value or "").strip(" -")
    return value if len(value) <= limit else value[: limit - 1].rsplit(" ", 1)[0] + "…"


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
    line = f"{name}: {detail}" if name and detail else (name or detail or step.name)
    return _shorten(line, 220)


def source_line(proc: Procedure) -> str:
    """'Nguồn: thủ tục 1.012786, Quyết định 3380/QĐ-BNNMT, <link>' (+ last update when known)."""
    parts = [text("phrases.answer_source_procedure", code=proc.code)]
    if proc.decision:
        parts.append(text("phrases.answer_source_decision", decision=proc.decision))
    if proc.source_url:
        parts.append(proc.source_url)
    if proc.last_updated:
        return text("phrases.answer_source_updated", sources=", ".join(parts), date=date(proc.last_updated))
    return text("phrases.answer_source", sources=", ".join(parts))


def _case_lines(case, with_name: bool) -> str:
    lines = [f"{_shorten(case.name, 160)}:"] if case.name and with_name else []
    for doc in case.documents[:MAX_ITEMS]:
        counts = []
        if doc.originals:
            counts.append(text("phrases.answer_originals", count=doc.originals))
        if doc.copies:
            counts.append(text("phrases.answer_copies", count=doc.copies))
        suffix = f" ({', '.join(counts)})" if counts else ""
        lines.append(f"- {_shorten(doc.name, 200)}{suffix}")
    if len(case.documents) > MAX_ITEMS:
        lines.append("- " + text("phrases.answer_more_documents", count=len(case.documents) - MAX_ITEMS))
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
    cleaned = re.sub(r"\s+", " ", name or "").strip(" :;,")
    match = _ENUMERATOR.match(cleaned)
    enumerator, rest = (match.group(1), match.group(2)) if match else (f"{number}. ", cleaned)
    stripped = _CASE_PREFIX.sub("", rest)
    rest = stripped if len(stripped) >= 12 else rest  # "Hồ sơ năng lực" keeps its "Hồ sơ"
    rest = re.sub(r"[\s,;:]*\bgồm$", "", rest).strip(" :;,")
    label = enumerator + rest if rest else text("phrases.answer_case", number=number)
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
        return [text("answers.no_documents")], []
    if len(cases) == 1:
        return [_case_lines(cases[0], False)], []
    everything = [_case_lines(c, True) for c in cases]
    if case is None and len("\n".join(everything)) <= MAX_MESSAGE:
        return everything, []
    shown = case if case is not None and 1 <= case <= len(cases) else 1
    intro = text("answers.cases_intro", count=len(cases))
    others = [{"title": case_label(c.name, i), "case": i} for i, c in enumerate(cases, 1) if i != shown]
    return [intro, everything[shown - 1]], others


def _channels_lines(proc: Procedure, what: str) -> List[str]:
    lines = []
    for ch in proc.channels:
        value = _time_text(ch) if what == "time" else _fee_text(ch)
        lines.append(f"- {filing_channel(ch.method).name}: {value}")
    return lines or [text("answers.no_information")]


def _body(proc: Procedure, aspect: str) -> List[str]:
    if aspect == "fees":
        lines = [text("answers.fees_heading")] + _channels_lines(proc, "fees")
        if proc.province_fees.strip():
            lines.append(text("answers.province_fees", fees=proc.province_fees.strip()))
        elif any(f.set_by_province for ch in proc.channels for f in ch.fees):
            lines.append(text("answers.fees_set_by_province"))
        return ["\n".join(lines)]
    if aspect == "time":
        return ["\n".join([text("answers.time_heading")] + _channels_lines(proc, "time"))]
    if aspect == "channels":
        if not proc.channels:
            return [text("answers.no_channels")]
        methods = ", ".join(filing_channel(c.method).name.lower() for c in proc.channels)
        line = text("answers.channels", methods=methods)
        return [f"{line} {text('answers.online_portal')}" if proc.channel("online") else line]
    if aspect == "where":
        agencies = proc.competent_agencies or proc.agencies
        lines = [_levels(proc)]
        if agencies:
            lines.append(text("answers.agencies", agencies="; ".join(agencies[:4])))
        if proc.address:
            lines.append(text("answers.address", address=_shorten(proc.address, 250)))
        else:
            lines.append(text("answers.default_address"))
        return ["\n".join(lines)]
    if aspect == "steps":
        if not proc.steps:
            return [text("answers.no_steps")]
        lines = [f"{i}. {step_line(s)}" for i, s in enumerate(proc.steps[:MAX_ITEMS], 1)]
        if len(proc.steps) > MAX_ITEMS:
            lines.append(text("phrases.answer_more_steps"))
        return ["\n".join([text("answers.steps_heading")] + lines)]
    if aspect == "conditions":
        if not proc.conditions:
            return [text("answers.no_conditions")]
        return [text("answers.conditions", conditions=_shorten(proc.conditions, 700))]
    if aspect == "result":
        if not proc.results:
            return [text("answers.no_results")]
        return [text("answers.results", results="; ".join(_shorten(r.name, 200) for r in proc.results[:3]))]
    if aspect == "legal":
        if not proc.legal_basis:
            return [text("answers.no_legal_basis")]
        lines = [f"- {_shorten(l.title, 160)}" + (f" ({l.code})" if l.code and l.code not in l.title else "")
                 for l in proc.legal_basis[:MAX_ITEMS]]
        return ["\n".join([text("answers.legal_heading")] + lines)]
    # general: a compact overview
    overview = [_levels(proc)]
    times = "; ".join(f"{filing_channel(c.method).name.lower()} {_time_text(c)}" for c in proc.channels)
    if times:
        overview.append(text("answers.general_time", times=times))
    if proc.documents:
        overview.append(text("answers.document_count", count=len(proc.documents)))
    return ["\n".join(overview)]


def _next_step(aspect: str) -> str:
    """The closing question of an answer about ``aspect``."""
    questions = {
        "documents": text("answers.next_documents"), "fees": text("answers.next_fees"),
        "time": text("answers.next_time"), "channels": text("answers.next_channels"),
        "where": text("answers.next_where"), "steps": text("answers.next_steps"),
        "conditions": text("answers.next_conditions"), "result": text("answers.next_result"),
        "legal": text("answers.next_legal"), "general": text("answers.next_general"),
    }
    return questions[aspect]


# The aspects each closing question above offers, in its order (the channels show them as buttons).
_NEXT_ASPECTS = {
    "documents": ("fees", "time"), "fees": ("documents", "where"), "time": ("documents", "channels"),
    "channels": ("documents", "time"), "where": ("documents", "fees"), "steps": ("documents", "time"),
    "conditions": ("documents", "steps"), "result": ("documents", "time"), "legal": ("documents", "fees"),
    "general": ("documents", "fees", "time", "where"),
}


def _asked(aspect: str) -> str:
    """What a question about ``aspect`` asks for, as words inside a sentence."""
    asked = {
        "documents": text("phrases.answer_asked_documents"), "fees": text("phrases.answer_asked_fees"),
        "time": text("phrases.answer_asked_time"), "channels": text("phrases.answer_asked_channels"),
        "where": text("phrases.answer_asked_where"), "steps": text("phrases.answer_asked_steps"),
        "conditions": text("phrases.answer_asked_conditions"), "result": text("phrases.answer_asked_result"),
        "legal": text("phrases.answer_asked_legal"), "general": text("phrases.answer_asked_general"),
    }
    return asked[aspect]


def which_procedure(aspect: str, procedures: Sequence[Procedure]) -> Answer:
    """An aspect asked before any procedure was named ("nộp ở đâu?"): ask which one.

    For how to file, say first how many of the deployment's ``procedures`` take each channel.
    """
    aspect = aspect if aspect in ASPECTS else "general"
    lines = []
    if aspect == "channels" and procedures:
        count = {m: sum(any(c.method == m for c in p.channels) for p in procedures) for m in CHANNELS}
        lines.append(text("answers.channel_counts", total=len(procedures), online=count["online"],
                          postal=count["postal"], direct=count["direct"]))
    lines.append(text("answers.which_procedure", asked=_asked(aspect)))
    return Answer(["\n".join(lines)], aspect=aspect)


def _split(message: str, limit: int = MAX_MESSAGE) -> List[str]:
    """Split a long message at line breaks so each part fits a chat bubble."""
    if len(message) <= limit:
        return [message]
    parts, cur = [], ""
    for line in message.split("\n"):
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
            question = "\n".join([text("answers.choose"), listing, text("answers.choose_closing")])
            return Answer([question], aspect=aspect, choices=choices)
        return Answer([text("answers.not_found", hotline=settings.office.hotline)], aspect=aspect)
    head = text("answers.head", name=proc.name.rstrip(". "), code=proc.code)  # some names end with a full stop
    cases: List[dict] = []
    if aspect == "documents":
        parts, cases = _documents(proc, case)
        body = [f"{text('answers.documents_heading')}\n{parts[0]}"] + parts[1:]
    else:
        body = _body(proc, aspect)
    messages = _pack([f"{head}\n{body[0]}"] + body[1:])
    if proc.staff_notes.strip():
        messages.extend(_split(text("answers.staff_notes", notes=proc.staff_notes.strip())))
    messages.append(f"{source_line(proc)}\n{_next_step(aspect)}")
    return Answer(messages, code=proc.code, aspect=aspect, cases=cases, next_aspects=_NEXT_ASPECTS[aspect])
