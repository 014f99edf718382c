"""Parsers for the portal pages' flattened tables (header cells glued onto the values).

Each ``parse_*`` function takes the raw string of one record field and returns the parsed
value; it raises :class:`ParseError` with a reason when the text cannot be read, so the import
report can say which record failed on which field and why.
"""
from __future__ import annotations

import re
from typing import List, Optional, Tuple

from knowledge_base.schema import (
    Channel,
    Document,
    DocumentCase,
    Fee,
    FeeKind,
    LegalDocument,
    Level,
    Method,
    ProcessingTime,
    Result,
    Step,
    TimeUnit,
)
from knowledge_base.text import CASE_ENUMERATOR, NOTE_AMOUNT, clean_space, split_outside_parens, unique

EMPTY_VALUES = {"", "không có thông tin", "không có", "không", "--", "-"}


class ParseError(ValueError):
    """A field's text could not be parsed; the message says why."""


def is_empty(text: Optional[str]) -> bool:
    """True for the portal's ways of saying 'nothing here'."""
    return clean_space(text or "").lower().strip(" .") in EMPTY_VALUES


def text_or_empty(text: Optional[str]) -> str:
    """The cleaned text, or '' for the portal's empty markers."""
    return "" if is_empty(text) else (text or "").strip()


def name_without_code(name: str, code: str) -> str:
    """The procedure's name without a copy of its own code: 10 records end their name with it
    ("Cấp giấy phép môi trường (cấp Tỉnh) ( 1.010727 )"), which answers then showed twice."""
    return clean_space(re.sub(r"\(\s*" + re.escape(code) + r"\s*\)", " ", name)).rstrip(" -–")


_FILING_LABEL = re.compile(r"^\s*Bước\s*1\s*[:.]?\s*Nộp hồ sơ\s*[:.]?\s*", re.IGNORECASE)


def receiving_address(text: Optional[str]) -> str:
    """The receiving-place text without the 'Bước 1. Nộp hồ sơ:' label that 6 records copied
    into it from their steps (what follows does say where and how to file)."""
    return _FILING_LABEL.sub("", text_or_empty(text)).strip()


# ----------------------------------------------------------------------------- levels
_LEVELS = {"cấp tỉnh": Level.province, "cấp xã": Level.commune, "cấp bộ": Level.ministry,
           "cơ quan khác": Level.other, "cấp huyện": Level.commune}


def parse_levels(text: str) -> List[Level]:
    """'Cấp tỉnh, Cấp xã' -> [province, commune]. District level maps to commune (abolished 1/7/2025)."""
    out = []
    for part in split_outside_parens(text):
        level = _LEVELS.get(part.lower())
        if level is None:
            raise ParseError(f"unknown level {part!r}")
        out.append(level)
    if not out:
        raise ParseError("no level given")
    return unique(out)


def parse_list(text: str) -> List[str]:
    """Comma-separated list (commas inside parentheses kept)."""
    return [] if is_empty(text) else unique(split_outside_parens(text))


# --------------------------------------------------------------------------- channels
CHANNEL_HEADER = "Hình thức nộpThời gianPhí, lệ phíMô tả"
_METHODS = {"Trực tuyến": Method.online, "Dịch vụ bưu chính": Method.postal, "Trực tiếp": Method.direct}
_METHOD_SPLIT = re.compile(
    r"(Trực tuyến|Dịch vụ bưu chính|Trực tiếp)(?=\s*(?:\d|Miễn phí|Không có thông tin|Phí|Lệ phí))"
)
_TIME_RE = re.compile(
    r"^\s*(\d+(?:[.,]\d+)?)\s*(Ngày làm việc|Giờ làm việc|Ngày|Giờ|Tuần|Tháng|Năm)?", re.IGNORECASE
)
_UNITS = {"ngày làm việc": TimeUnit.working_day, "giờ làm việc": TimeUnit.working_hour,
          "ngày": TimeUnit.day, "giờ": TimeUnit.hour, "tuần": TimeUnit.week,
          "tháng": TimeUnit.month, "năm": TimeUnit.year}
_AMOUNT_RE = re.compile(r"^\s*(\d{1,3}(?:[.,]\d{3})+|\d+)\s*(Việt Nam Đồng|VNĐ|VND|Đồng|đồng)")
PROVINCE_FEE_RE = re.compile(
    r"hội đồng nhân dân|ủy ban nhân dân cấp tỉnh|uỷ ban nhân dân cấp tỉnh|luật phí và lệ phí|"
    r"do tỉnh|địa phương quy định|hđnd", re.IGNORECASE)


NO_INFORMATION = "Không có thông tin"
_CASE_NUMBER = re.compile(r"\(\d{1,2}\)\s")


def _take_parenthesised(text: str) -> Tuple[str, str]:
    """If ``text`` starts with '(', return (inside, rest) with nested parentheses balanced; a case's number that opens
    the description ("(1) Trường hợp …") is no note."""
    if not text.startswith("(") or _CASE_NUMBER.match(text):
        return "", text
    depth = 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0:
            return text[1:i].strip(), text[i + 1:]
    return text[1:].strip(), ""


_NOTE_DONG = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{3})*)\s*đồng", re.IGNORECASE)


def _in_thousands(amount: int, note: str) -> int:
    """The amount column's figure, or a thousand times it when the note beside it says that and not the figure
    itself: the column of 1.004022 says "900 VNĐ" and its note "…: 900.000 đồng/lần"."""
    said = {int(found.replace(".", "")) for found in _NOTE_DONG.findall(note)}
    return amount * 1000 if amount * 1000 in said and amount not in said else amount


def _parse_fees(text: str) -> Tuple[List[Fee], str]:
    """Read fee cells at the start of ``text``; return them and the rest (the description)."""
    fees: List[Fee] = []
    rest = text
    while True:
        rest = rest.lstrip()
        if rest.startswith("Miễn phí"):
            rest = rest[len("Miễn phí"):]
            note, rest = _take_parenthesised(rest)
            note = re.sub(r"(\d)(đồng)", r"\1 \2", clean_space(note))  # "40.000đồng/lần"
            # "Miễn phí (Lệ phí cấp mới 40.000 đồng/lần; …)": the column says free, the note gives the amounts
            amounts = bool(NOTE_AMOUNT.search(note))
            fees.append(Fee(kind=FeeKind.fee if amounts else FeeKind.none, amount_vnd=None if amounts else 0,
                            text=note))
        elif rest.startswith(NO_INFORMATION):
            rest = rest[len(NO_INFORMATION):]
            note, rest = _take_parenthesised(rest)
            fees.append(Fee(kind=FeeKind.unknown, text=clean_space(note)))
        else:
            m = _AMOUNT_RE.match(rest)
            if not m:
                break
            amount = int(re.sub(r"[.,]", "", m.group(1)))
            note, rest = _take_parenthesised(rest[m.end():])
            fees.append(Fee(kind=FeeKind.fee, amount_vnd=_in_thousands(amount, note), text=clean_space(note)))
    for fee in fees:
        fee.set_by_province = bool(PROVINCE_FEE_RE.search(fee.text))
    return fees, rest


def parse_channels(text: str) -> List[Channel]:
    """Parse 'Hình thức nộpThời gianPhí, lệ phíMô tảTrực tuyến10 Ngày làm việcMiễn phí(...)...'."""
    if is_empty(text):
        return []
    body = text.strip()
    if body.startswith(CHANNEL_HEADER):
        body = body[len(CHANNEL_HEADER):]
    pieces = _METHOD_SPLIT.split(body)
    if len(pieces) < 3:
        raise ParseError("no filing method (Trực tiếp / Trực tuyến / Dịch vụ bưu chính) found")
    if clean_space(pieces[0]):
        raise ParseError(f"text before the first filing method: {pieces[0][:60]!r}")
    channels: List[Channel] = []
    for name, cell in zip(pieces[1::2], pieces[2::2]):
        time = ProcessingTime()
        m = _TIME_RE.match(cell)
        if m:
            time.value = float(m.group(1).replace(",", "."))
            time.unit = _UNITS[m.group(2).lower()] if m.group(2) else TimeUnit.unspecified
            cell = cell[m.end():]
        elif cell.lstrip().startswith(NO_INFORMATION):  # the time column's own "Không có thông tin", not a fee's
            cell = cell.lstrip()[len(NO_INFORMATION):]
        fees, description = _parse_fees(cell)
        description = description.strip()
        if time.value is not None and time.unit == TimeUnit.unspecified:
            time.note = "Hồ sơ gốc không ghi đơn vị thời gian."
        method = _METHODS[name]
        if any(c.method == method for c in channels):
            # The same method twice: a second row in the table; keep its text as a description.
            prev = next(c for c in channels if c.method == method)
            prev.description = clean_space(prev.description + " " + name + description)
            continue
        channels.append(Channel(method=method, time=time, fees=fees, description=description))
    return channels


# -------------------------------------------------------------------------- documents
DOC_HEADER = "Tên giấy tờMẫu đơn, tờ khaiSố lượng"
_COUNT_RE = re.compile(r"(\d+)\s*bản chính(?:\s*,\s*(\d+)\s*bản sao)?|(\d+)\s*bản sao")
_FORM_EXT = r"\.(?:docx?|pdf|xlsx?|rar|zip|odt)"
_FORM_TAIL = re.compile(_FORM_EXT + r"\s*$", re.IGNORECASE)
_ITEM_PREFIX = re.compile(r"^\s*(?:\(\d+\)|\d+[.)]|[-+*•])\s*")
# what a number glued to the count belongs to: a form ("theo Mẫu số 181 bản chính") or a document's number
# or date ("Thông tư 66/20251 bản chính": 66/2025 and one original; "ngày 15 tháng 5 năm 20161 bản chính")
_FORM_CUT = re.compile(r"(?:\b[Mm]ẫu(?:\s+số)?\s*|\d/|\bnăm\s*)$")
_CASE_TRAILER = re.compile(r"^\(?\d+\)?\s*bộ hồ sơ", re.IGNORECASE)


# The form's file name is glued to the end of the document's name. The name ends, in this order:
# - right after the legal document it cites, when nothing parts them ("… Nghị định số 23/2026/NĐ-CPMau13.docx",
#   "… Thông tư số 21/2015/TT-BNNPTNT).phu luc VII.docx"): the code's last part is an issuer, never a file's;
_LEGAL_END = re.compile(r"\d{1,4}/\d{4}/(?:[A-ZĐ]+ ?-)*(?:CP|BNNMT|BNNPTNT|BTNMT|BYT|BCT|BTC|BXD|BKHCN|BCA|BQP|TTg)"
                        r"(?![A-ZĐ](?:\s|$))")  # not the start of a longer word ("TT-BNNMTT ngày …")
# - else before the first upper-case letter run into a lower-case letter, digit or punctuation ("Đơn đề nghịMau
#   01.docx", "… (bản chính)Mẫu số 05.docx"; file names have such runs of their own: "Mau 35 - Phu luc
#   II_36.2025.TT-BNNMT_02.7.2025.docx"), never inside a form's code ("Mẫu số 10.QLT Phụ lục IA");
# - else after the last full stop or closing parenthesis with no space ("… nền màu trắng.mau so 12 (1).doc",
#   "…)báo cáo pop sửa.docx"), or at a word run into "mau"/"Mẫu" and a number ("… hết hạnmau so 20.doc", "… từng
#   TTHCMau 1a.docx"), or before a file named by a number alone ("… Luật Chăn nuôi08.pdf"); never at a dot between
#   digits ("12.10") nor the extension's own.
_STOP_GLUE = re.compile(r"(?:(?<=[^\W\d_])\.|\))(?=[^\W_])|(?<=[^\W\d_])(?=(?i:mau|mẫu)\s*(?i:so|số)?\s*\d)"
                        r"|(?<=[^\W\d_])(?=\d{1,3}$)")
_TAIL_PUNCTUATION = re.compile(r"^[).;,]+")
# a form's number with its code's dot, before the code's letters ("Mẫu số 10.QLT", "Mẫu số 12.ĐKT"): no cut there
_FORM_CODE_END = re.compile(r"\b(?:[Mm]ẫu|[Mm]au)(?:\s+(?:số|so))?\s*\d{1,3}\.$")
_FORM_WORD = re.compile(r"(?i:mẫu|mau)\b")  # the file's own name after the dot ("Mẫu số 03.Mau 03.doc"): a cut
_FORM_FILE = re.compile(_FORM_EXT, re.IGNORECASE)


def _split_form(entry: str) -> Tuple[str, str]:
    """Split 'Đơn đề nghịMau 01.docx' into ('Đơn đề nghị', 'Mau 01.docx') (see the rules above)."""
    if not _FORM_TAIL.search(entry):
        return entry, ""
    first_file = _FORM_FILE.search(entry)
    stem = entry[:first_file.start()] if first_file else entry  # before the first file ("Mus04.docxMus05.docx")
    rest = (stem[m.end():] for m in _LEGAL_END.finditer(stem))
    glued = (len(stem) - len(after.lstrip(").")) for after in rest)  # after ")." closing the name: "CP).phu luc"
    cuts = [end for end in glued if end < len(stem) and not stem[end].isspace() and stem[end] not in ",;"][-1:]
    cuts = cuts or [i for i in range(3, len(stem)) if stem[i].isupper()
                    and (stem[i - 1].islower() or stem[i - 1].isdigit() or stem[i - 1] in ";:).]")
                    and not (_FORM_CODE_END.search(stem, 0, i) and not _FORM_WORD.match(stem, i))][:1]
    cuts = cuts or [m.end() if m.group(0) else m.start() for m in _STOP_GLUE.finditer(stem)][-1:]
    if not cuts or cuts[0] < 3:
        return entry, ""
    name, form = entry[:cuts[0]], entry[cuts[0]:]
    closing = _TAIL_PUNCTUATION.match(form)  # ")" or "." closing the name, not the file's
    if closing:
        name, form = name + closing.group(0), form[closing.end():]
    name = re.sub(r"\.{2,}$", ".", name)
    return (name, form) if form and not _FORM_TAIL.fullmatch(form) else (entry, "")


def _document(entry: str, originals: Optional[int], copies: Optional[int]) -> Optional[Document]:
    name, form = _split_form(entry.strip())
    name = clean_space(_ITEM_PREFIX.sub("", name)).rstrip(";,")
    if not name:
        return None
    return Document(name=name, form=clean_space(form), originals=originals, copies=copies,
                    has_electronic_form=bool(form))


def _glued(entry: str, count: int, other: int = 0) -> Tuple[str, int]:
    """(entry, count) with a number glued to the count given back to the entry ("Mẫu số 181 bản chính": Mẫu số 18,
    one), the count being its last digit; unchanged when the number does not read so: no form, number or date
    before it, a count of 0 with no ``other`` count beside it, or no year after "/" or "năm" ("năm 12 bản sao")."""
    digits, head = str(count), entry.rstrip()
    if count < 10 or not _FORM_CUT.search(entry):
        return entry, count
    slashed = head.endswith("/")
    dated = slashed or head.lower().endswith("năm")
    if (digits[-1] == "0" and not other) or (dated and not re.fullmatch(r"(?:19|20)\d\d", digits[:-1])):
        return entry, count
    return f"{head}{'' if slashed else ' '}{digits[:-1]}", int(digits[-1])


def _parse_case_body(body: str) -> Tuple[List[Document], str, str]:
    """Documents of one case, the dossier-count note ("(01) bộ hồ sơ ..."), and trailing text."""
    docs: List[Document] = []
    notes: List[str] = []
    pos = 0
    for m in _COUNT_RE.finditer(body):
        entry = body[pos:m.start()]
        if _CASE_TRAILER.match(entry.strip()):
            notes.append(clean_space(entry))
            pos = m.end()
            continue
        if m.group(3) is not None:
            originals, copies = 0, int(m.group(3))
            entry, copies = _glued(entry, copies)
        else:
            originals, copies = int(m.group(1)), int(m.group(2) or 0)
            entry, originals = _glued(entry, originals, copies)
        doc = _document(entry, originals, copies)
        if doc is not None:
            docs.append(doc)
        pos = m.end()
    return docs, " ".join(notes), body[pos:].strip()


def _case_name(text: str) -> str:
    return clean_space(text).strip("-: ").rstrip(":")


def parse_documents(text: str) -> List[DocumentCase]:
    """Parse 'a) Đối với ...:Tên giấy tờMẫu đơn, tờ khaiSố lượng(1) Đơn...1 bản chính...'."""
    if is_empty(text):
        return []
    parts = text.split(DOC_HEADER)
    if len(parts) == 1:
        raise ParseError("no document table header (Tên giấy tờ / Số lượng) found")
    cases: List[DocumentCase] = []
    next_name = _case_name(parts[0])
    for i, body in enumerate(parts[1:], start=1):
        docs, note, trailing = _parse_case_body(body)
        case = DocumentCase(name=next_name, documents=docs, note=note)
        last = i == len(parts) - 1
        next_name = ""
        if trailing:
            if not last:
                next_name = _case_name(trailing)
            elif _CASE_TRAILER.match(trailing) or not docs:
                case.note = clean_space(f"{case.note} {trailing}")
            else:
                doc = _document(trailing, None, None)
                if doc is not None:
                    case.documents.append(doc)
        if not case.documents and not case.note:
            raise ParseError(f"case {i} has no document with a count")
        cases.append(case)
    return in_letter_order(cases)


_VIETNAMESE_LETTERS = "abcdđeghiklmnopqrstuvxy"


def in_letter_order(cases: List[DocumentCase]) -> List[DocumentCase]:
    """Cases lettered a), b), … in the Vietnamese alphabet's order (đ after d). A record may list them out of it
    (1.013949 lists "đ)" last, after "h)"); cases not all lettered, or a letter twice, keep the record's order."""
    found = [CASE_ENUMERATOR.match(case.name) for case in cases]
    keys = [m.group(1).lower() for m in found if m]
    if len(cases) < 2 or len(keys) < len(cases) or len(set(keys)) < len(keys) \
            or any(len(k) != 1 or k not in _VIETNAMESE_LETTERS for k in keys):
        return cases
    order = sorted(range(len(cases)), key=lambda i: _VIETNAMESE_LETTERS.index(keys[i]))
    return [cases[i] for i in order]


# -------------------------------------------------------------------------- legal basis
LEGAL_HEADER = "Tên văn bản pháp lýMã văn bản"
_LEGAL_CODE = re.compile(
    r"\d{1,4}/\d{4}/[A-ZĐ]+(?:\d+(?![\d/]))?(?:-[A-ZĐ]+(?:\d+(?![\d/]))?)*(?=$|[^\W\d_a-zà-ỹđ]|\d|;)"
)
_CUT_CODE = re.compile(r"[A-ZĐ]{1,2}(?=[\s,.;:)]|$)")
_PARTIAL_YEAR = re.compile(r"\b\d{1,2}/\d{1,2}/(\d{1,3})$")
_TYPE_ONLY = re.compile(r"^(nghị định|thông tư|luật|quyết định|nghị quyết|thông tư liên tịch)\s*(số)?$",
                        re.IGNORECASE)


def parse_legal_basis(text: str) -> List[LegalDocument]:
    """Parse 'Tên văn bản pháp lýMã văn bảnNghị định 118/2014/NĐ-CP118/2014/NĐ-CP...'."""
    if is_empty(text):
        return []
    body = text.strip()
    if body.startswith(LEGAL_HEADER):
        body = body[len(LEGAL_HEADER):]
    out: List[LegalDocument] = []
    pos = 0
    for m in _LEGAL_CODE.finditer(body):
        nxt = body[m.end():m.end() + 1]
        if nxt.isdigit():
            continue  # a code inside the title, followed by the code cell
        if _CUT_CODE.match(body, m.end()):
            continue  # "NĐ-C" + "P ngày…": a code inside the title, cut short by backtracking
        start, code = m.start(), m.group(0)
        # "… ngày 29/6/2024" + "43/2024/QH15" reads as "29/6/20" + "2443/2024/QH15": give the year back
        partial = _PARTIAL_YEAR.search(body[pos:start])
        need = 4 - len(partial.group(1)) if partial else 0
        if need and len(code.split("/", 1)[0]) > need:
            start, code = start + need, code[need:]
        # "Luật 08/2017/QH14" + "08/2017/QH14" reads as "…QH" + "1408/2017/QH14": the title ends with its code
        for k in range(1, len(code.split("/", 1)[0])):
            if (body[pos:start] + code[:k]).endswith(code[k:]):
                start, code = start + k, code[k:]
                break
        title = clean_space(body[pos:start]).rstrip(";,")
        if not title or _TYPE_ONLY.match(title):
            title = clean_space(f"{title} {code}")
        document = LegalDocument(code=code, title=title)
        if document not in out:  # some records list the same document twice
            out.append(document)
        pos = m.end()
    tail = clean_space(body[pos:])
    if tail:
        out.append(LegalDocument(code="", title=tail))
    if not out:
        raise ParseError("no legal document found")
    return out


# ------------------------------------------------------------------------------ steps
_STEP_RE = re.compile(r"(?:^|\n|(?<=[.:;]))\s*[-+]?\s*(Bước\s*\d+)\s*[:.\-–]?\s*", re.IGNORECASE)


_RUN_ON_ITEM = re.compile(r"(?<=[.;])[ \t]+(?=[b-zđ]\.[ \t]+[^\n.;:]{1,60}\n)")


def parse_steps(text: str) -> List[Step]:
    """Split the steps text on 'Bước N:'; without markers, one step per paragraph."""
    if is_empty(text):
        return []
    body = text.replace("\r", "")
    pieces = _STEP_RE.split(body)
    steps: List[Step] = []
    if len(pieces) >= 3:
        preamble = clean_space(pieces[0])
        for label, content in zip(pieces[1::2], pieces[2::2]):
            content = content.strip()
            first, _, rest = content.partition("\n")
            steps.append(Step(name=f"{clean_space(label).capitalize()}: {clean_space(first)}".rstrip(": "),
                              description=rest.strip()))
        if preamble and steps:
            steps[0].description = (preamble + "\n" + steps[0].description).strip()
        return steps
    # a lettered item's heading run on after the last sentence of the one before ("… NĐ-CP). b. Gửi hồ sơ\nTrong
    # thời hạn 30 ngày …"): the flattened list's next step
    body = _RUN_ON_ITEM.sub("\n\n", body)
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n|\n(?=[-+]\s)", body) if p.strip()]
    for i, para in enumerate(paragraphs, start=1):
        first, _, rest = para.partition("\n")
        steps.append(Step(name=f"Bước {i}: {clean_space(_ITEM_PREFIX.sub('', first))}", description=rest.strip()))
    return steps


# ----------------------------------------------------------------------------- results
_RESULT_FURNITURE = re.compile(r"Từ khóa|Chọn cơ quan thực hiện|Nộp hồ sơ$")
_RESULT_CODE = re.compile(r"Mã:\s*([A-Z]+[A-Z0-9.\-_]*\d)")


def parse_results(text: str) -> List[Result]:
    """Result names and codes, without the page furniture that follows them."""
    if is_empty(text):
        return []
    m = _RESULT_FURNITURE.search(text)
    body = text[:m.start()] if m else text
    out: List[Result] = []
    pos = 0
    for cm in _RESULT_CODE.finditer(body):
        name = clean_space(body[pos:cm.start()])
        if name:
            out.append(Result(name=name, code=cm.group(1)))
        pos = cm.end()
    tail = clean_space(body[pos:])
    if tail:
        out.append(Result(name=tail))
    if not out:
        raise ParseError("no result name before the page furniture")
    return out
