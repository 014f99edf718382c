"""Short Vietnamese answers composed from a procedure's record, always naming the source.

Their words are in bot/texts.yml (the group ``answers``, and the ``phrases.answer_*`` pieces).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional, Sequence, Tuple, Union

from core.clock import today_local
from core.formatting import date
from core.text import fold
from core.texts import text
from core.vocabulary import CHANNELS, filing_channel
from knowledge_base.checklist import (
    applicant_fits,
    application_form,
    case_named_or_requested,
    case_symbol,
    cases_in,
    checklist,
    describe,
    first_round_case,
    fitting_case,
    lines,
    named_among_requested,
    named_without_investors,
    needs_case,
    pages,
    requested_case,
    situation_question,
)
from knowledge_base.conditions import is_application, paper_count
from knowledge_base.schema import Channel, Fee, FeeKind, FilingPlace, Procedure
from knowledge_base.situation import Situation, SituationTable
from knowledge_base.text import (
    CASE_ENUMERATOR,
    NOTE_AMOUNT,
    SECTION_NUMBER,
    TextNormalizer,
    bare_step_name,
    clean_space,
    words,
)
from knowledge_base.time_answers import described_times, step_limits_said, time_text, vague_time

ASPECTS = ("documents", "fees", "time", "steps", "where", "channels", "conditions", "result",
           "legal", "general")

# Cues of when the file is done: a time question whatever else the message asks ("kiểm dịch bao lâu xong")
_DONE_CUES = ("bao lau xong", "bao lau thi xong", "bao lau moi xong", "bao lau co ket qua", "bao lau thi co ket qua")
# Folded cue phrases per aspect. Vietnamese puts the question at the end ("sổ đang ghi nợ tiền sử dụng
# đất, giờ muốn xóa nợ thì cần gì"), so among the strongest cues present the one that ends last wins; on a
# tie, the earlier aspect of this table. Two kinds of cue are weaker than the rest: modifiers (how or what
# is filed: "lệ phí nộp trực tuyến bao nhiêu" asks the fee, "khi nào có kết quả" the time), and words that
# also name the subject or close any question ("tiền sử dụng đất", "hồ sơ", "có được không").
_ASPECT_CUES = (
    ("fees", ("le phi", "phi", "bao nhieu tien", "chi phi", "mat tien", "ton tien", "het bao nhieu", "tien")),
    ("time", ("bao lau", "mat bao lau", "bao nhieu ngay", "thoi gian", "thoi han", "may ngay", "bao gio",
              "khi nao co", "lau khong", *_DONE_CUES)),
    ("channels", ("online", "truc tuyen", "qua mang", "buu dien", "buu chinh", "dich vu cong", "nop qua")),
    ("where", ("o dau", "noi nop", "co quan nao", "nop tai", "dia chi", "cho nao", "ai giai quyet", "nop cho ai",
               "gui cho ai", "xin phep ai", "dang ky voi ai", "bao voi ai")),
    ("documents", ("giay to", "ho so gom", "ho so can", "ho so gi", "thanh phan ho so", "can nhung gi", "chuan bi gi",
                   "can gi", "gom nhung gi", "can giay gi", "lam don", "nop nhung gi", "can nop gi", "mau nao",
                   "theo mau", "mang theo", "ho so", "mau don", "to khai", "giay gi")),
    ("steps", ("cac buoc", "trinh tu", "quy trinh", "lam the nao", "lam sao", "nhu the nao", "cach lam",
               "thu tuc lam", "lam gi truoc", "ai lap ho so")),
    ("conditions", ("dieu kien", "yeu cau", "ai duoc", "co duoc khong", "duoc phep")),
    ("result", ("ket qua", "nhan duoc gi", "duoc cap gi", "cap giay gi", "duoc giay gi", "nhan duoc giay",
                "duoc nhan giay", "nhan giay gi")),
    ("legal", ("can cu", "phap ly", "nghi dinh", "thong tu", "luat nao", "quy dinh nao", "van ban",
               "quy dinh o dau")),
)
_MODIFIER_CUES = frozenset({"online", "truc tuyen", "qua mang", "dich vu cong", "ket qua"})
_FILLER_CUES = frozenset({"tien", "ho so", "yeu cau", "van ban", "co duoc khong"})
# Question words that ask an aspect by themselves, whatever the rest of the sentence names: they outweigh the
# intent classifier, which errs on long questions ("… nay muốn điều chỉnh thì cần gì" was classed as a question of
# conditions, "… thì nộp hồ sơ gì" as one of the filing place). Nouns ("lệ phí", "thời hạn", "địa chỉ", "giấy
# tờ") are not among them: "xin gia hạn thời hạn sử dụng đất thì chuẩn bị gì" asks no time.
ASKING_CUES = frozenset({"can gi", "can nhung gi", "gom nhung gi", "ho so gom", "nop nhung gi", "can nop gi",
                         "ho so gi", "chuan bi gi", "can giay gi", "mau nao", "o dau", "noi nop", "co quan nao",
                         "cho nao", "bao lau", "mat bao lau", "bao nhieu ngay", "may ngay", "bao nhieu tien",
                         "ai lap ho so", "nop cho ai", "gui cho ai", "xin phep ai", "dang ky voi ai",
                         *_DONE_CUES})
# a time cue never outweighs a question of conditions or of the result: "đất sử dụng ổn định bao lâu thì được cấp
# sổ", "giấy phép có hiệu lực bao lâu" ask them; a cue of when the file is done (_DONE_CUES) does outweigh them
_TIME_YIELDS_TO = frozenset({"conditions", "result"})
# Words that name a paper or a service, not what is asked of it: "giấy chứng nhận (cơ sở) đủ điều kiện … cần hồ sơ
# gì" asks the papers, "phí kiểm tra điều kiện bao nhiêu" the fee; "đất có đủ điều kiện tách thửa không" still asks
# the conditions
_NAME_PHRASES = re.compile(r"\b(?:(?:giay chung nhan|chung nhan|cong nhan|gcn)(?: co so)?(?: (?:da|duoc|la))? du"
                           r"|kiem tra) (dieu kien)\b(?! (?:gi|nao|khong|ko|k|chua|the nao)\b)")
# "bao lâu nay" (for long now) and "ở đầu ngõ" (at the head of the lane, folded "o dau") ask nothing
_NOT_ASKING = re.compile(r"\bbao lau nay\b|\bo dau (?:ngo|lang|xom|hem|duong|thon|ban|ap|cau|doc|con)\b")


# a question of how it is done ("xóa đăng ký thế nào", "ra sao"; "làm thế nào", "như thế nào" are the steps' cues)
_HOW = re.compile(r"\b(?:the nao|ra sao|cach nao)\b")


def _cue_strength(cue: str) -> int:
    return 0 if cue in _FILLER_CUES else 1 if cue in _MODIFIER_CUES else 2

# Aspects whose answer quotes the record's own sentence when the question names something in it ("có phải
# niêm yết không" asks no condition the record lists, but one of its steps says it): it is the answer to the
# first ones and follows the others' answer; a checklist, a fee or a filing place has its own structured answer.
QUOTE_ANSWERS = ("conditions", "steps")
QUOTED_ASPECTS = (*QUOTE_ANSWERS, "general", "time", "result")
MAX_ITEMS = 6
MAX_MESSAGE = 1500  # a checklist message
SHORT_MESSAGE = 700  # a fee, time or place answer
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
    more: Optional[dict] = None  # the next page of a long answer ("Xem tiếp"): {"case", "page"}
    ask_case: List[dict] = field(default_factory=list)  # a question about the citizen's case: {"title", "case"}
    which_case: bool = False  # a question: which of the record's document cases (``cases``) is the citizen's
    foreign_papers: bool = False  # a checklist left out papers for foreigners only (a button shows them)
    other_land: Tuple[str, ...] = ()  # kinds of land whose papers a checklist left out (a button each shows them)
    case_shown: Optional[int] = None  # the document case a checklist shows, of a record with several (1-based)

    @property
    def text(self) -> str:
        """All messages as one text."""
        return "\n\n".join(self.messages)


def _prepared(question: str) -> str:
    """The question's folded words between spaces, words that name a paper or a service, or ask nothing, blanked."""
    normalized = TextNormalizer.default().normalize(question)
    tokens = words(fold(normalized))
    joined = f" {' '.join(tokens)} "
    joined = _NAME_PHRASES.sub(lambda m: m.group(0)[:m.start(1) - m.start(0)] + "_" * len(m.group(1)), joined)
    joined = _NOT_ASKING.sub(lambda m: "_" * len(m.group(0)), joined)
    if "ở đầu" in normalized.lower():  # typed with its accents, "ở đầu" is a place, never "ở đâu"
        joined = joined.replace(" o dau ", " _____ ")
    return joined


def _cues(question: str) -> List[Tuple[Tuple[int, int, int, int], str, str]]:
    """(rank, aspect, cue) of every aspect cue in the question, words that name a paper or a service aside."""
    joined = _prepared(question)
    found = []
    for order, (aspect, cues) in enumerate(_ASPECT_CUES):
        for cue in cues:
            at = joined.rfind(f" {cue} ")
            if at >= 0:  # the last, then the longest cue
                found.append(((_cue_strength(cue), at + len(cue), len(cue), -order), aspect, cue))
    return found


def detect_aspect(question: str, strong: bool = False) -> str:
    """The aspect a question asks about ('general' when none is recognised). With ``strong``, only the question
    words of ``ASKING_CUES`` count ("cần gì", "ở đâu", "bao lâu"; not a noun such as "lệ phí", "thời hạn", "địa
    chỉ", which may name the subject): the action lets them outweigh the intent classifier's guess."""
    return _strongest(_cues(question), strong)


def _strongest(cues: List[Tuple[Tuple[int, int, int, int], str, str]], strong: bool = False) -> str:
    found = [(rank, aspect) for rank, aspect, cue in cues if not strong or cue in ASKING_CUES]
    return max(found)[1] if found else "general"


def asked_over(intent_aspect: str, question: str) -> str:
    """The aspect a message asks, its question words weighed against the intent classifier's guess
    (``intent_aspect``): question words ("cần gì", "ở đâu", "bao lâu") win when they are also the whole message's
    strongest reading and the words name nothing of the intent's aspect ("sang tên xong được nhận giấy tờ gì"
    asks the result); a time cue never outweighs conditions or the result. Else the intent's, or when that is
    "general", the words' own."""
    cues = _cues(question)  # read once: this runs on every message
    named, asking = _strongest(cues), _strongest(cues, strong=True)
    # a cue of the intent's own aspect, words that may name the subject ("hồ sơ", "tiền") aside
    intent_named = any(found == intent_aspect and cue not in _FILLER_CUES for _, found, cue in cues)
    done = any(cue in _DONE_CUES for _, _, cue in cues)
    if asking != "general" and asking == named and not intent_named \
            and not (asking == "time" and intent_aspect in _TIME_YIELDS_TO and not done):
        return asking
    return named if intent_aspect == "general" else intent_aspect


# The aspects answered beside the one a message asks when it asks two ("tách thửa nộp hồ sơ ở đâu, lệ phí bao nhiêu"):
# the short ones, each by its question words ("ở đâu", "bao lâu", "lệ phí"), never a noun that may name the subject
# ("xin gia hạn thời hạn sử dụng đất": no time asked)
SHORT_ASPECTS = ("fees", "time", "where")
_ALSO = (
    # a fee asked for: "lệ phí bao nhiêu", "bao nhiêu tiền", "có mất phí không"; not "hết bao nhiêu ngày", "mặt tiền",
    # "chi phí quảng bá" (the subject), nor "lệ phí trước bạ" (the tax office's)
    ("fees", re.compile(r" (?:bao nhieu tien|(?:le phi|phi|chi phi)(?: (?!truoc ba\b)\w+){0,3} (?:het |mat )?bao nhieu"
                        r"(?! ngay| lau)|(?:co )?(?:mat|ton) (?:phi|tien) (?:khong|ko|k)) ")),
    # the time the procedure takes: not how long a permit lasts, the land was used, or how early to file
    ("time", re.compile(r"(?<!truoc)(?<!hieu luc)(?<!on dinh)(?<!su dung)"
                        r" (?:mat bao lau|bao lau|bao nhieu ngay|may ngay) ")),
    ("where", re.compile(r" (?:o dau|noi nop|co quan nao|nop cho ai|gui cho ai) ")),
)


# the papers asked by question words ("cần giấy tờ gì", "hồ sơ gồm những gì"), never by a noun alone
_PAPERS_ASKED = re.compile(r" (?:can gi|can nhung gi|gom nhung gi|ho so gom|nop nhung gi|can nop gi|ho so gi"
                           r"|chuan bi gi|can giay gi|giay to gi|giay to nao|nhung giay to nao) ")


def also_asked(question: str, aspect: str) -> Tuple[str, ...]:
    """The short aspects ``question`` asks beside ``aspect`` by its question words, in the order asked; none unless
    ``aspect`` is the papers or a short one itself (a question of conditions or steps is answered alone)."""
    if not question or aspect not in ("documents", *SHORT_ASPECTS):
        return ()
    return _also_in(_prepared(question), aspect)


def _also_in(joined: str, aspect: str) -> Tuple[str, ...]:
    asked = sorted((m.end(), found) for found, pattern in _ALSO if found != aspect
                   for m in pattern.finditer(joined))
    return tuple(dict.fromkeys(found for _, found in asked))


def asked_together(question: str, aspect: str) -> Tuple[str, Tuple[str, ...]]:
    """The aspect to answer first and the short ones to answer beside it: the papers lead when a fee, time or place
    question asks them too ("tách thửa cần giấy tờ gì, lệ phí bao nhiêu" is read as the fee, the question ending
    there; the papers are what the citizen cannot do without)."""
    if not question or aspect not in ("documents", *SHORT_ASPECTS):
        return aspect, ()
    joined = _prepared(question)  # read once for both
    if aspect != "documents" and _PAPERS_ASKED.search(joined):
        return "documents", tuple(dict.fromkeys((*_also_in(joined, "documents"), aspect)))
    return aspect, _also_in(joined, aspect)


def _level_name(level: str) -> str:
    names = {"province": text("phrases.answer_level_province"), "commune": text("phrases.answer_level_commune"),
             "ministry": text("phrases.answer_level_ministry"), "other": text("phrases.answer_level_other")}
    return names[level]


def _levels(proc: Procedure) -> str:
    return text("answers.levels", levels=", ".join(_level_name(level) for level in proc.levels))


def offered_names(procedures: Sequence[Procedure]) -> List[str]:
    """The names a list offering ``procedures`` shows: each one's chat name, and its level where another offered
    one has the same name ("Xác nhận đăng ký thu hồi khoáng sản (cấp xã)" beside "… (cấp tỉnh)")."""
    names = [p.chat_name for p in procedures]
    return [f"{name} ({', '.join(_level_name(level) for level in p.levels)})" if names.count(name) > 1 and p.levels
            else name for name, p in zip(names, procedures)]


def vnd(amount: int) -> str:
    """'1.250.000 đồng'."""
    return text("phrases.answer_amount", amount=f"{amount:,}".replace(",", "."))


FEE_NOTE = 220
FEE_AMOUNTS = 450  # a note giving the amounts is the answer itself: kept longer


# a lower rate for a time, beside the usual one ("50.000 đồng/lần (theo … 101/2020/TT-BTC);25.000 đồng/lần (áp dụng
# từ kể từ ngày 01 tháng 7 năm 2025 đến hết ngày 31 tháng 12 năm 2026 theo quy định tại Thông tư 64/2025/TT-BTC …)")
_RATE_UNTIL = re.compile(r"(\d{1,3}(?:\.\d{3})+\s*đồng(/[^\s();]+)?)\s*\(áp dụng\b([^()]*?)đến hết ngày\s*(\d{1,2})\s*"
                         r"tháng\s*(\d{1,2})\s*năm\s*(\d{4})([^()]*)", re.IGNORECASE)
_FROM_DAY = re.compile(r"ngày\s*(\d{1,2})\s*tháng\s*(\d{1,2})\s*năm\s*(\d{4})")


def _rate_in_force(fee: Fee, today: dt.date) -> str:
    """The lower rate a fee's note gives until a day not yet past, with that day and the usual amount after it; ""
    when the note gives none, or its day is past."""
    found = _RATE_UNTIL.search(fee.text or "")
    if not found or fee.amount_vnd is None:
        return ""
    start = _FROM_DAY.search(found.group(3))
    try:
        until = dt.date(int(found.group(6)), int(found.group(5)), int(found.group(4)))
        since = dt.date(int(start.group(3)), int(start.group(2)), int(start.group(1))) if start else None
    except ValueError:
        return ""
    if until < today or (since is not None and since > today):
        return ""
    acts = ", ".join(_LEGAL_REFERENCE.findall(found.group(7)))
    after = vnd(fee.amount_vnd) + (found.group(2) or "")  # "50.000 đồng/CCHN": the unit of the lower rate
    rate = " ".join(found.group(1).split())
    if not acts:
        return text("phrases.answer_fee_until_no_act", rate=rate, until=date(until), after=after)
    return text("phrases.answer_fee_until", rate=rate, until=date(until), acts=acts, after=after)


# No fee or charge is set below this many đồng: two records give "180", "350" and "850 VNĐ" (2.001730, 3.000125),
# most likely thousands of đồng written without their unit. They are answered as given, with a note to check (not a
# rate per unit, "500 đồng/m3", which may be that low).
SMALLEST_FEE = 1000
_PER_UNIT = re.compile(r"\d\s*(?:đồng|vnđ|vnd|đ)\s*/", re.IGNORECASE)  # "850 đồng/kg", "850đ /kg", "850 VNĐ/kg"


def _below_a_thousand(proc: Procedure) -> bool:
    """Whether the record gives a fee under ``SMALLEST_FEE``, not a rate per unit (its answers say to check it)."""
    return any(0 < (f.amount_vnd or 0) < SMALLEST_FEE and not _PER_UNIT.search(f.text or "")
               for ch in proc.channels for f in ch.fees)


def _fee_text(ch: Channel) -> str:
    parts = []
    today = today_local()
    for fee in ch.fees:
        lower = _rate_in_force(fee, today)
        if lower:
            parts.append(lower)
            continue
        # a fee whose amounts only its note gives ("Miễn phí (Lệ phí cấp mới 40.000 đồng/lần; …)", read at import):
        # the note is the answer, whole
        in_note = fee.amount_vnd is None and bool(NOTE_AMOUNT.search(fee.text or ""))
        whole = sentences(fee.text, FEE_AMOUNTS) if in_note else ""
        if whole:
            parts.append(whole.rstrip("."))
            continue
        if in_note or fee.kind == "none" and _LEGAL_REFERENCE.search(fee.text or "") \
                and "phí" in (fee.text or "").lower():
            base = text("phrases.answer_fee_by_law")  # "no fee" beside a note that names a fee circular: it has one
        elif fee.kind == "none":
            base = text("phrases.answer_no_fee" if not fee.set_by_province else "phrases.answer_fee_free")
        elif fee.amount_vnd is not None:
            base = vnd(fee.amount_vnd)
        else:
            base = text("phrases.answer_no_information")
        kept = sentences(fee.text, FEE_NOTE) or _references(fee.text) if fee.text else ""
        note = f" ({kept.rstrip('.')})" if kept else ""
        parts.append(base + note)
    return "; ".join(parts) or text("phrases.answer_no_information")


def _shorten(value: str, limit: int) -> str:
    value = re.sub(r"\s+", " ", value or "").strip(" -")
    return value if len(value) <= limit else value[: limit - 1].rsplit(" ", 1)[0] + "…"


_LEGAL_REFERENCE = re.compile(r"\b\d{1,4}/\d{4}/[A-ZĐ]+(?:-[A-ZĐ]+)*")


def _references(value: str) -> str:
    """The legal documents a note names ("theo 38/2023/TT-BTC"), when the note is too long to keep whole."""
    found = list(dict.fromkeys(_LEGAL_REFERENCE.findall(value or "")))
    return text("phrases.answer_per_documents", documents=", ".join(found[:3])) if found else ""


def sentences(value: str, limit: int) -> str:
    """The whole sentences of ``value`` that fit ``limit`` characters ("" when the first does not):
    an answer never stops mid-sentence."""
    value = re.sub(r"\s+", " ", value or "").strip(" -")
    if len(value) <= limit:
        return value
    kept = ""
    for m in re.finditer(r".+?(?:[.;!?](?=\s|$)|$)", value):
        piece = m.group(0).strip()
        if not piece or len(kept) + len(piece) + 1 > limit:
            break
        kept = f"{kept} {piece}".strip()
    return kept.rstrip(";") + ("." if kept and not kept.endswith(".") else "")


# the next item's heading run on after a sentence ("… NĐ-CP). b. Gửi hồ sơ"); never "a" (a list starts there) nor
# after a colon or a semicolon ("gồm: a) Đơn; b) Bản vẽ" lists what the line announces)
_NEXT_ITEM = re.compile(r"(?<=\.)\s+[b-zđ][.)]\s+[^.;:]{1,40}$", re.IGNORECASE)
_BARE_STEP = 60  # a step name shorter than this is a heading ("Nộp hồ sơ"), not what to do;
# so is one that ends by announcing its list ("Văn phòng đăng ký đất đai thực hiện")


def _step_detail(description: str) -> str:
    """The first line of a step's description that says what happens (no heading, no other step)."""
    for line in (description or "").splitlines():
        line = line.strip(" \t-+•*")
        if line and not line.endswith(":") and not re.search(r"\bBước\s*\d", line, re.IGNORECASE):
            return _NEXT_ITEM.sub("", line)  # "… NĐ-CP). b. Gửi hồ sơ": the next item's heading, run on
    return ""


def step_line(step) -> str:
    """One step as a chat line: without the record's 'Bước N:' labels (the answer numbers the
    steps), and a bare heading ("Cơ quan tiếp nhận hồ sơ thực hiện") followed by what it does."""
    name = bare_step_name(step.name).strip(" :;.")  # "a. Tiêu hủy động vật": the answer numbers steps
    heading = len(name) < _BARE_STEP or fold(name.lower()).endswith(
        ("thuc hien", "nhu sau", "cac noi dung sau", "sau day", "cac co quan sau"))
    detail = _step_detail(step.description) if heading else ""
    if detail and fold(detail.lower()).startswith(fold(name.lower())):
        name = ""
    line = f"{name}: {detail}" if name and detail else (name or detail or step.name)
    return sentences(line, 300) or line  # one long sentence stays whole: a step is never cut


def _record_named(proc: Procedure) -> List[str]:
    """'thủ tục 1.012786', 'Quyết định 3380/QĐ-BNNMT': the record a line of an answer comes from."""
    parts = [text("phrases.answer_source_procedure", code=proc.code)]
    if proc.decision:
        parts.append(text("phrases.answer_source_decision", decision=proc.decision))
    return parts


def source_line(proc: Procedure) -> str:
    """'Nguồn: thủ tục 1.012786, Quyết định 3380/QĐ-BNNMT, <link>' (+ last update when known)."""
    parts = _record_named(proc)
    if proc.source_url:
        parts.append(proc.source_url)
    if proc.last_updated:
        return text("phrases.answer_source_updated", sources=", ".join(parts), date=date(proc.last_updated))
    return text("phrases.answer_source", sources=", ".join(parts))


_CASE_PREFIX = re.compile(
    r"^(?:(?:đối với trường hợp|đối với|trường hợp|thành phần hồ sơ|hồ sơ|thực hiện thủ tục)\s+)+", re.IGNORECASE
)


def case_label(name: str, number: int, limit: int = CASE_LABEL) -> str:
    """A button label for a document case: its enumerator ("a)", or its number) and what sets it
    apart. A long one loses its middle, not its end: cases often differ only in their last words
    ("… đối với cá nhân" / "… đối với tổ chức")."""
    cleaned = SECTION_NUMBER.sub("", re.sub(r"\s+", " ", name or "")).strip(" :;,")
    match = CASE_ENUMERATOR.match(cleaned)
    enumerator, rest = (cleaned[:match.end()], cleaned[match.end():]) if match else (f"{number}. ", cleaned)
    stripped = _CASE_PREFIX.sub("", rest)
    rest = stripped if len(stripped) >= 12 else rest  # "Hồ sơ năng lực" keeps its "Hồ sơ"
    rest = re.sub(r"[\s,;:]*\b(?:bao\s+)?gồm$", "", rest).strip(" :;,")  # "…, gồm", "…, bao gồm" announce a list
    return elide(enumerator + rest if rest else text("phrases.answer_case", number=number), limit)


def elide(label: str, limit: int) -> str:
    """``label`` within ``limit`` characters by leaving out its middle at word breaks: names of close cases and
    procedures often differ only in their last words ("… đối với cá nhân" / "… đối với tổ chức")."""
    if len(label) <= limit:
        return label
    head = label[: limit // 3].rsplit(" ", 1)[0]
    tail = label[-(limit - len(head) - 1):].split(" ", 1)[-1]
    return f"{head}…{tail}"


@dataclass
class _Documents:
    messages: List[str]
    cases: List[dict] = field(default_factory=list)
    more: Optional[dict] = None
    ask_case: List[dict] = field(default_factory=list)
    which: bool = False  # the message asks which document case is the citizen's (``cases`` are the answers)
    foreign: bool = False  # papers for foreigners only were left out (see ``Checklist.for_foreigners``)
    shown: Optional[int] = None  # the document case shown, when the record has several
    other_land: Tuple[str, ...] = ()  # kinds of land whose papers were left out (see ``Checklist.other_land``)


def _documents(proc: Procedure, situation: Situation, case: Optional[int], page: int,
               question: str = "") -> _Documents:
    """The papers this citizen needs (see ``knowledge_base.checklist``), one page of them.

    A record with several document cases shows the one a button chose (``case``, 1-based), or the one the
    situation or the question's words pick, and offers the others as buttons. When nothing picks one, all
    cases go together if they fit one message, else the answer asks which case is the citizen's. When the
    papers of the case differ by transfer case and the citizen has not said theirs, the answer is one
    question with buttons instead.
    """
    if not proc.document_cases:
        return _Documents([text("answers.no_documents")])
    if case is not None and not 1 <= case <= len(proc.document_cases):
        case = None  # a stale button: answered as if none was tapped
    # the message's own words before the situation, which may have been said for another record
    # then the transfer case said, what is asked of the paper ("cấp lại"), the words among the cases that do it ("xin
    # cấp mã số vùng trồng"), for a household, the words among the cases that are not an investor's ("lên thổ cư"),
    # and last the applicant alone: a heading's "tổ chức, cá nhân" says less of the case than "điều chỉnh" does; with
    # none of these, the first filing where every other case is a filing again
    picked = case if case is not None else case_named_or_requested(proc, question) \
        or fitting_case(proc, replace(situation, applicant=None)) or requested_case(proc, situation.request) \
        or named_among_requested(proc, situation.request, question) \
        or named_without_investors(proc, question) or fitting_case(proc, situation) \
        or first_round_case(proc)
    if picked is None and len(proc.document_cases) == 1:
        picked = 1
    shown = picked or 1
    chosen = proc.document_cases[shown - 1]
    every = [{"title": case_label(c.name, i), "case": i} for i, c in enumerate(proc.document_cases, 1)]
    others = [c for c in every if c["case"] != shown]
    ask = needs_case(chosen, situation)
    # with no case picked, the transfer case is asked only when every answer picks a document case by itself
    # ("thừa kế" is the transfer record's case a); otherwise which document case comes first
    if picked is None and not all(fitting_case(proc, situation.with_case(tag)) for tag in ask):
        ask = []
    if ask and page == 1:
        question, buttons = situation_question(ask)
        return _Documents([question], ask_case=[dict(b, document_case=picked) for b in buttons])
    if picked is None:  # parts of one dossier that fit one message go together
        together, foreign, kinds, left = [text("answers.documents_heading")], 0, [], 0
        for i, c in enumerate(proc.document_cases, 1):
            listed_case = checklist(c, situation)
            together += [f"{case_label(c.name, i, limit=10_000)}:"] + lines(listed_case)
            foreign += listed_case.for_foreigners
            kinds += [k for k in listed_case.other_land if k not in kinds]
            left += listed_case.other_land_papers
        together += [text("answers.for_foreigners", count=foreign)] if foreign else []
        together += _other_land_line(kinds, left, situation)
        def fits(body: List[str]) -> bool:
            return len("\n".join(body)) + len(proc.chat_name) <= MAX_MESSAGE - 100

        if fits(together):
            placed = together + _where_line(proc, situation)  # where to file, when it fits too
            return _Documents(["\n".join(placed if fits(placed) else together)], foreign=bool(foreign),
                              other_land=tuple(kinds))
        if page == 1:  # neither the situation nor the question's words pick a case: ask which
            return _Documents([_which_case(proc)], cases=every, which=True)
    found = checklist(chosen, situation)
    named = describe(situation) if situation.case in cases_in(chosen) else None
    heading = [text("answers.documents_for_case", case=named)] if named else [text("answers.documents_heading")]
    if len(proc.document_cases) > 1:
        heading.insert(0, text("answers.cases_shown", count=len(proc.document_cases),
                               case=_case_title(chosen.name, shown)))
    where = _where_line(proc, situation)
    room = MAX_MESSAGE - len(text("answers.head", name=proc.chat_name, code=proc.code)) \
        - len("\n".join(heading + where)) - len(text("answers.more_pages", page=99, pages=99)) - 10
    listed = pages(lines(found), room) or [[]]
    page = min(max(page, 1), len(listed))
    body = heading + listed[page - 1] if listed[page - 1] else heading + [_case_note(chosen)]
    last = page == len(listed)
    if last and found.left_out:
        body.append(text("answers.left_out", count=found.left_out))
    if last:
        body += _other_land_line(found.other_land, found.other_land_papers, situation)
    if last and found.for_foreigners:
        body.append(text("answers.for_foreigners", count=found.for_foreigners))
    if last:
        body += where
    more = {"case": shown, "page": page + 1} if page < len(listed) else None
    if more:
        body.append(text("answers.more_pages", page=page, pages=len(listed)))
    return _Documents(["\n".join(body)], cases=others, more=more,
                      foreign=last and bool(found.for_foreigners),
                      shown=shown if len(proc.document_cases) > 1 else None,
                      other_land=tuple(found.other_land) if last else ())


def _other_land_line(kinds: Sequence[str], papers: int, situation: Situation) -> List[str]:
    """The line saying that ``papers`` for other ``kinds`` of land were left out, and how to see them (none when
    none)."""
    if not kinds:
        return []
    land = SituationTable.default().land_labels
    return [text("answers.other_land", count=papers, kinds=" hoặc ".join(land[k] for k in kinds),
                 said=", ".join(land[k] for k in situation.land))]


def _case_title(name: str, number: int) -> str:
    """A document case's name for the message: whole, or its first clause, or its enumerator alone."""
    label = case_label(name, number, limit=10_000)
    if len(label) <= 250:
        return label
    first = label.split(";")[0].strip()
    return first if len(first) <= 250 else label.split(")")[0] + ")" if ")" in label[:6] else text(
        "phrases.answer_case", number=number)


def _which_case(proc: Procedure) -> str:
    """The question which document case is the citizen's, every case listed by its enumerator and name (a long
    name loses its middle to fit one message; a case the record leaves unnamed is named by its first paper)."""
    intro = text("answers.ask_document_case", count=len(proc.document_cases))
    example = case_symbol(proc.document_cases[1].name, 2) if len(proc.document_cases) > 1 else "1"
    closing = text("answers.ask_document_case_closing", example=example)
    room = MAX_MESSAGE - len(text("answers.head", name=proc.chat_name, code=proc.code)) - len(intro) \
        - len(closing) - len(source_line(proc)) - 10
    titles = []
    for i, case in enumerate(proc.document_cases, 1):
        first = case.documents[0].paper if case.documents else ""
        if case.name.strip() or not first:
            title = _case_title(case.name, i)
            # too long for a whole title, and no first clause to stand for it ("đ)", "Trường hợp 3"): its ends
            bare = len(re.sub(r"\W", "", title)) < 6 or title == text("phrases.answer_case", number=i)
            titles.append(case_label(case.name, i, limit=250) if bare and case.name.strip() else title)
        else:
            paper = elide(first.rstrip(" .;:,"), 120)  # a name for the case, not the whole paper
            titles.append(f"{i}. {text('phrases.answer_case_first', paper=paper)}")
    share = room // len(titles) - 1
    if sum(len(t) + 1 for t in titles) > room:
        titles = [t if len(t) <= share else case_label(t, i, limit=share) for i, t in enumerate(titles, 1)]
    return "\n".join([intro, *titles, closing])


def _case_note(case) -> str:
    return sentences(case.note, 600) or text("answers.no_documents")


def _channels_lines(proc: Procedure, what: str) -> List[str]:
    """One line per distinct value: channels with the same time or fee share it."""
    grouped: Dict[str, List[str]] = {}
    for ch in proc.channels:
        value = time_text(ch) if what == "time" else _fee_text(ch)
        grouped.setdefault(value, []).append(filing_channel(ch.method).name)
    lines = []
    for value, names in grouped.items():
        label = ", ".join([names[0]] + [n.lower() for n in names[1:]])
        lines.append(f"- {label}: {value}" if len(grouped) > 1 or len(names) < len(CHANNELS) else f"- {value}")
    return lines or [text("answers.no_information")]


def _methods(proc: Procedure) -> str:
    """The ways the record lets a file be filed ("trực tiếp, bưu chính, trực tuyến"); "" when it names none."""
    return ", ".join(filing_channel(c.method).name.lower() for c in proc.channels)


def _fitting_places(proc: Procedure, situation: Situation) -> List[FilingPlace]:
    """The record's filing places for the citizen's kind of applicant (all of them when it is not known), without
    those for a case the citizen's is not ("Người sử dụng đất tặng cho quyền sử dụng đất cho Nhà nước …" beside an
    inheritance) while another place is left (a case read in who files may be a word of its trade: "buôn bán")."""
    fitting = [p for p in proc.filing_places if applicant_fits(p.applicant_types, situation.applicant)]
    others = [p for p in fitting if p.cases and situation.case and situation.case not in p.cases]
    return [p for p in fitting if p not in others] if len(others) < len(fitting) else fitting


def _places(places: Sequence[FilingPlace]) -> List[str]:
    """Who files where (``_fitting_places``: the citizen's kind of applicant only, when known), within the short
    budget."""
    if not places:
        return []
    lines = [text("answers.where_heading")]
    for place in places:
        line = text("answers.where_line", who=place.who, where=place.where) if place.who else f"- {place.where}"
        if sum(len(x) + 1 for x in lines) + len(line) > SHORT_MESSAGE - 80:
            break
        lines.append(line)
    return lines if len(lines) > 1 else []


ADDRESS = 650  # characters of a receiving address said by whole sentences (the longest on 7/12/2026: 640)
ONE_PLACE = 250  # characters of a filing place a checklist ends with (a longer one is the "where" answer's)


def _one_place(proc: Procedure, situation: Situation) -> Optional[str]:
    """Where this citizen files, when the record names one place for their kind of applicant and says it briefly:
    a checklist ends with it ("Nộp hồ sơ tại: Sở Nông nghiệp và Môi trường …")."""
    places = {p.where for p in _fitting_places(proc, situation)}
    where = next(iter(places)) if len(places) == 1 else ""
    return where if where and len(where) <= ONE_PLACE else None


BRIEF_PLACES = 450  # characters of the places a line beside an offered procedure may give, each with who files there
Brief = Union[str, Tuple[str, ...]]  # what a line beside an offered procedure says: a value, or the lines under it


def _places_in_brief(proc: Procedure, situation: Situation) -> Optional[Tuple[str, ...]]:
    """Where each kind of applicant files, one indented line each to go under the procedure's ("  + Cá nhân …: Trung
    tâm …"), when the record names several places for this citizen, each with who files there, in ``BRIEF_PLACES``;
    None otherwise."""
    places = _fitting_places(proc, situation)
    said = tuple(f"  + {p.who}: {p.where}" for p in places)
    fits = sum(len(line) + 1 for line in said) <= BRIEF_PLACES
    apart = len({p.who for p in places}) == len(places)  # one line per kind: the same kind twice says no place
    return said if len(places) > 1 and all(p.who for p in places) and apart and fits else None


def _where_line(proc: Procedure, situation: Situation) -> List[str]:
    """The line a checklist ends with: where this citizen files, when the record names one place (else none)."""
    place = _one_place(proc, situation)
    return [text("answers.documents_where", where=place)] if place else []


def _body(proc: Procedure, aspect: str, situation: Situation) -> List[str]:
    if aspect == "fees":
        lines = [text("answers.fees_heading")] + _channels_lines(proc, "fees")
        if proc.province_fees.strip():
            lines.append(text("answers.province_fees", fees=proc.province_fees.strip()))
        elif any(f.set_by_province for ch in proc.channels for f in ch.fees):
            lines.append(text("answers.fees_set_by_province"))
        if _below_a_thousand(proc):
            lines.append(text("answers.fees_below_a_thousand"))
        return ["\n".join(lines)]
    if aspect == "time":
        described = described_times(proc)
        if described:  # no channel gives a time; their descriptions do
            return ["\n".join([text("answers.time_heading")] + described)]
        limits = vague_time(proc)
        steps = [step_limits_said(proc, limits)] if limits else []
        return ["\n".join([text("answers.time_heading")] + _channels_lines(proc, "time") + steps)]
    if aspect == "channels":
        if not proc.channels:
            return [text("answers.no_channels")]
        line = text("answers.channels", methods=_methods(proc))
        return [f"{line} {text('answers.online_portal')}" if proc.channel("online") else line]
    if aspect == "where":
        agencies = proc.competent_agencies or proc.agencies
        lines = [_levels(proc)]
        fitting = _fitting_places(proc, situation)
        places = _places(fitting)
        # whole: a receiving address cut short sends the citizen nowhere ("… Cổng Dịch vụ công quốc gia tại địa chỉ
        # http://dichvucong.go"); a long one makes a message of its own
        address = text("answers.address", address=sentences(proc.address, ADDRESS) or clean_space(proc.address)) \
            if proc.address.strip() else ""
        if places:
            # the steps may say where one request goes and the address where the others do (1.000049: an extension
            # to the office that issued the certificate, a first one to the department where the exam was taken)
            said = fold(proc.address.lower())
            beside = address and not any(fold(p.where.lower()) in said for p in fitting)
            return ["\n".join(lines + places + ([address] if beside else []))]
        if agencies:
            lines.append(text("answers.agencies", agencies="; ".join(agencies[:4])))
        if address:
            lines.append(address)
        else:
            ministry = set(proc.levels) == {"ministry"}
            lines.append(text("answers.default_address_ministry" if ministry else "answers.default_address"))
        return ["\n".join(lines)]
    if aspect == "steps":
        if not proc.steps:
            return [text("answers.no_steps")]
        lines = [f"{i}. {step_line(s)}" for i, s in enumerate(proc.steps, 1)]
        return ["\n".join([text("answers.steps_heading")] + lines)]
    if aspect == "conditions":
        if not proc.conditions:
            return [text("answers.no_conditions")]
        return [text("answers.conditions", conditions=sentences(proc.conditions, 900))]
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
    times = "; ".join(f"{filing_channel(c.method).name.lower()} {time_text(c)}" for c in proc.channels)
    if times:
        overview.append(text("answers.general_time", times=times))
    if proc.documents:
        form = application_form(proc)  # "xoá đăng ký thế nào" learns which form to fill, not only how many papers
        count = paper_count(proc)
        if not form:
            overview.append(text("answers.document_count", count=count))
        elif count == 1:
            overview.append(text("answers.document_only_form", form=form))
        else:
            overview.append(text("answers.document_count_form", count=count, form=form))
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
        FORM: text("phrases.answer_asked_form"),
    }
    return asked[aspect]


def said_unsure(asked: Answer) -> Answer:
    """A case question (``Answer.ask_case``) said of a procedure the search is not sure of: the same question and
    buttons, opened by saying so and closed by what to do if it is another procedure."""
    said = "\n".join([text("answers.unsure_case"), asked.messages[0], text("answers.unsure_case_closing")])
    return replace(asked, messages=[said])


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


def which_offered(aspect: str, procedures: Sequence[Procedure], situation: Optional[Situation] = None,
                  question: str = "") -> Answer:
    """An aspect asked right after close procedures were offered and none picked ("mất bao lâu"): the same
    procedures again, as choices for this aspect; for a time, fee, place or form each record gives briefly, with
    each one's answer beside it (``compared``)."""
    aspect = aspect if aspect in ASPECTS else "general"
    names = offered_names(procedures)
    choices = [{"title": name, "payload": p.code} for p, name in zip(procedures, names)]
    both = compared(aspect, procedures, situation or Situation(), first=False, question=question, names=names)
    if both:
        return Answer([both], aspect=aspect, choices=choices)
    return Answer([text("answers.which_offered" if len(choices) > 1 else "answers.which_offered_one",
                        asked=_asked(aspect))], aspect=aspect, choices=choices)


FORM = "form"  # a papers question asking only which form to fill ("mẫu đơn nào"): one line per procedure answers it
COMPARED = ("time", "fees", "where", "channels", FORM)  # what a line per offered procedure can answer
# "mẫu đơn nào", "mẫu tờ khai nào", "đơn theo mẫu nào", "tờ khai mẫu gì", "mẫu số mấy" (folded)
_ASKS_FORM = re.compile(r"\b(?:mau|form)\s+(?:(?:don|to khai)\s+)?(?:nao|gi|so may|so bao nhieu|la gi|ten gi)\b"
                        r"|\b(?:don|to khai)\s+(?:theo\s+)?mau\s+(?:nao|gi)\b"
                        r"|\b(?:dung|dien|lam)\s+(?:don|to khai)\s+(?:nao|gi)\b")
# … but not one asking every paper too ("không biết dùng mẫu nào, cần giấy tờ gì nữa")
_ASKS_PAPERS = re.compile(r"\b(?:giay to|ho so)\s+(?:gi|nao|gom)\b")


def _brief(proc: Procedure, aspect: str, situation: Situation) -> Optional[Brief]:
    """A procedure's time, fee, place, ways of filing or form in one line's words: for a place, the one its record
    names for this citizen, or the lines under it saying where each kind of applicant files (``_places_in_brief``;
    None when it names none, or too many to be brief); for a form, its one application form (``application_form``);
    for the ways of filing, those the record names ("trực tiếp, bưu chính, trực tuyến"); for a time or fee, each
    channel's as the record gives it (None when it gives none for any channel)."""
    if aspect == "where":
        return _one_place(proc, situation) or _places_in_brief(proc, situation)
    if aspect == FORM:
        return application_form(proc)
    if aspect == "channels":
        return _methods(proc) or None
    if not _gives(proc, aspect):
        return None
    line = "; ".join(line[2:] for line in _channels_lines(proc, aspect))
    if aspect == "fees" and _below_a_thousand(proc):  # "850 đồng" beside other procedures' fees is checked too
        line = f"{line.rstrip(' .')} {text('phrases.fee_below_a_thousand')}"
    return line


def _gives(proc: Procedure, aspect: str) -> bool:
    """Whether the record gives a time (``aspect`` "time") or a fee ("fees") for at least one channel."""
    if aspect == "time":
        return any(c.time.value is not None for c in proc.channels)
    return any(f.kind != FeeKind.unknown or f.amount_vnd is not None for c in proc.channels for f in c.fees)


def _says_at_length(proc: Procedure, aspect: str, situation: Situation) -> bool:
    """Whether the record says a place or an application form that ``_brief`` could not put in a line: places for
    this citizen at length, the agencies or address its "where" answer gives, several forms or a paper "theo Mẫu …"
    (a time or fee it gives is always brief)."""
    if aspect == "where":
        return bool(_fitting_places(proc, situation) or proc.competent_agencies or proc.agencies or proc.address)
    if aspect == FORM:  # an application, or any paper after a form ("a) Đơn đề nghị … theo Mẫu số 01.CC")
        return any(is_application(d) or "mẫu" in d.paper.lower() for case in proc.document_cases
                   for d in case.documents)
    return False


def _compared_aspect(aspect: str, question: str) -> str:
    """What a line per procedure answers for ``question``: its aspect, or ``FORM`` for a papers question asking
    only which form to fill."""
    said = fold(question.lower())
    return FORM if aspect == "documents" and _ASKS_FORM.search(said) and not _ASKS_PAPERS.search(said) else aspect


def compared(aspect: str, procedures: Sequence[Procedure], situation: Situation, first: bool,
             question: str = "", names: Optional[Sequence[str]] = None) -> Optional[str]:
    """The time, fee, place, ways of filing or (a papers ``question`` asking only which form) form of each of the
    procedures offered (``first``: offered now, else again), one line each with its record, when some record gives it
    briefly and all fit a short message; of a procedure whose record does not, the line offers a tap to see the places
    or forms it gives at more length (``_says_at_length``), or says that what was published does not name it. Places
    said for each kind of applicant that make the message too long are left to a tap too. None when no record gives
    it briefly or the lines do not fit (the citizen is asked to pick one). ``names``: the procedures'
    ``offered_names``, when the caller has them."""
    aspect = _compared_aspect(aspect, question)
    if aspect not in COMPARED or not procedures:
        return None
    briefs = [_brief(p, aspect, situation) for p in procedures]
    names = names or offered_names(procedures)
    message = _compared_message(aspect, procedures, names, briefs, first, situation)
    if len(message) > SHORT_MESSAGE:  # "Ủy ban nhân dân cấp xã" beside two long places by kind: those on a tap
        briefs = [None if isinstance(value, tuple) else value for value in briefs]
        message = _compared_message(aspect, procedures, names, briefs, first, situation)
    return message if any(briefs) and len(message) <= SHORT_MESSAGE else None


def _compared_message(aspect: str, procedures: Sequence[Procedure], names: Sequence[str],
                      briefs: Sequence[Optional[Brief]], first: bool, situation: Situation) -> str:
    """``compared``'s message for these ``briefs`` (``_brief`` of each procedure, None where a line says none)."""
    wanted = _asked(aspect)
    many = len(procedures) > 1
    lines = [text(("answers.choose_compared" if many else "answers.choose_compared_one") if first
                  else ("answers.offered_compared" if many else "answers.offered_compared_one"),
                  asked=wanted[:1].upper() + wanted[1:])]
    for p, name, value in zip(procedures, names, briefs):
        record = ", ".join(_record_named(p))
        if not value:  # its own answer says it at more length, on a tap, when the record says it at all
            lines.append(text("answers.offered_compared_unsaid" if _says_at_length(p, aspect, situation)
                              else "answers.offered_compared_none", name=name, record=record, asked=wanted))
        elif isinstance(value, tuple):  # several places, each on a line of its own (_places_in_brief)
            lines += [text("answers.offered_compared_lines", name=name, record=record), *value]
        else:
            lines.append(text("answers.offered_compared_line", name=name, record=record, value=value.rstrip(" .")))
    lines.append(text("answers.offered_compared_closing" if many else "answers.offered_compared_closing_one"))
    return "\n".join(lines)


def _line_parts(line: str, limit: int) -> List[str]:
    """A line longer than a bubble in whole pieces: at sentence ends or "+ " items, else at commas, else at
    spaces (a record's 1,700-character condition); nothing is dropped."""
    if len(line) <= limit:
        return [line]
    for boundary in (r"(?<=[.;])\s+|\s+(?=\+ )", r"(?<=,)\s+", r"\s+"):
        pieces = re.split(boundary, line)
        if all(len(piece) <= limit for piece in pieces):
            break
    parts, cur = [], ""
    for piece in pieces:
        if cur and len(cur) + len(piece) + 1 > limit:
            parts.append(cur)
            cur = piece
        else:
            cur = f"{cur} {piece}" if cur else piece
    return parts + [cur] if cur else parts


def _split(message: str, limit: int = MAX_MESSAGE) -> List[str]:
    """Split a long message at line breaks (a line longer than a bubble at its sentences) so each part fits."""
    if len(message) <= limit:
        return [message]
    parts, cur = [], ""
    for line in (part for whole in message.split("\n") for part in _line_parts(whole, limit)):
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
                   case: Optional[int] = None, situation: Optional[Situation] = None, page: int = 1,
                   quote: Optional[str] = None, question: str = "", also: Sequence[str] = ()) -> Answer:
    """Compose the answer; without a procedure, offer ``candidates`` or admit not knowing.

    ``situation`` is what the citizen said about themselves; ``case`` (1-based) picks the document
    case to show when a record has several; ``page`` is the page of a long checklist; ``quote`` is the
    record's sentence that answers the question itself (``record_quotes``): it answers a condition or step
    question, and follows a general, time or result answer; ``question`` (this message only, never an earlier
    one) may name a document case by its heading's own words; ``also`` are short aspects the same message asks too
    (``also_asked``), each answered in a message of its own after the first page.
    """
    aspect = aspect if aspect in ASPECTS else "general"
    situation = situation or Situation()
    if proc is not None and aspect == "conditions" and not proc.conditions.strip() and question:
        # a question the classifier took for one of conditions, of a record that lists none: the words' own aspect
        # ("… làm thế nào": the steps), or for a bare "thế nào" ("tàu cá bị chìm không trục vớt được thì xóa đăng ký
        # thế nào") the summary with its forms; the quote follows
        words = detect_aspect(question)
        if words not in ("conditions", "general") or _HOW.search(fold(question)):
            aspect = words
    if proc is None:
        if candidates:
            names = offered_names(candidates)
            choices = [{"title": elide(name, 80), "payload": c.code} for c, name in zip(candidates, names)]
            listing = "\n".join(f"{i}. {name} ({c.code})" for i, (c, name) in enumerate(zip(candidates, names), 1))
            question = "\n".join([text("answers.choose"), listing, text("answers.choose_closing")])
            return Answer([question], aspect=aspect, choices=choices)
        return Answer([text("answers.not_found", hotline=settings.office.hotline)], aspect=aspect)
    head = text("answers.head", name=proc.chat_name, code=proc.code)
    if aspect == "documents":
        docs = _documents(proc, situation, case, page, question)
        if docs.ask_case:
            return Answer([f"{head}\n{docs.messages[0]}"], code=proc.code, aspect=aspect, ask_case=docs.ask_case)
        if docs.which:
            return Answer([f"{head}\n{docs.messages[0]}\n{source_line(proc)}"], code=proc.code, aspect=aspect,
                          cases=docs.cases, which_case=True)
        messages = _pack([f"{head}\n{docs.messages[0]}"] + docs.messages[1:])
        cases, more, foreign, shown, land = docs.cases, docs.more, docs.foreign, docs.shown, docs.other_land
    else:
        body = _body(proc, aspect, situation)
        if quote:
            said = text("answers.record_says", quote=quote)
            body = [said] if aspect in QUOTE_ANSWERS else body + [said]
        messages = _pack([f"{head}\n{m}" if i == 0 else m for i, m in enumerate(body)],
                         SHORT_MESSAGE if aspect in ("fees", "time", "where", "channels") else MAX_MESSAGE)
        cases, more, foreign, shown, land = [], None, False, None, ()
    also = [a for a in also if a in SHORT_ASPECTS and a != aspect] if page == 1 else []
    for extra in also:
        messages.extend(_pack(_body(proc, extra, situation), SHORT_MESSAGE))
    if proc.staff_notes.strip() and page == 1:
        messages.extend(_split(text("answers.staff_notes", notes=proc.staff_notes.strip())))
    # after two things answered at once, the closing question offers two others
    offered = _NEXT_ASPECTS[aspect]
    closing = _next_step(aspect)
    if set(also) & set(offered):
        offered = tuple(a for a in ("documents", "fees", "time", "where", "channels") if a not in {aspect, *also})[:2]
        closing = text("answers.next_two", first=_asked(offered[0]), second=_asked(offered[1]))
    messages.append(f"{source_line(proc)}\n{closing}")
    return Answer(messages, code=proc.code, aspect=aspect, cases=cases, next_aspects=offered,
                  more=more, foreign_papers=foreign, case_shown=shown, other_land=land)
