"""The documents a citizen needs in their situation: what to bring, what only "nếu …", in pages.

A record lists every paper for every situation in one list ("… đối với trường hợp chuyển nhượng,
tặng cho … đang được thế chấp", "… đối với trường hợp có nhiều người nhận …"). The importer has
split each paper from its condition and tagged the condition (``importer.structure``); here the
citizen's situation (``situation.Situation``) picks the papers that are theirs, the application
form goes first, papers for circumstances not yet known are grouped under "Nếu …", and papers for
other cases are left out. Nothing is cut: a list longer than a chat message continues on the next
page.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Optional, Sequence, Tuple

from core.text import fold, nfc
from core.texts import text
from knowledge_base.conditions import (
    alternatives,
    amounts,
    is_application,
    named_among,
    phrases,
    sibling_groups,
    tokens,
)
from knowledge_base.retrieval.actions import ActionTable
from knowledge_base.schema import Document, DocumentCase, Procedure
from knowledge_base.situation import APPLICANT, FIRST_REQUEST, FOREIGNER, Situation, SituationTable
from knowledge_base.text import CASE_ENUMERATOR, ITEM_LETTER, TextNormalizer, ordinal_in, words

APPLICANT_ONLY = 1  # syllables a condition may say beyond who files and still be settled by who the citizen is
PAGE = 1400  # characters of documents per message (the whole message stays under 1,500)
MAX_CASE_CHOICES = 4
@dataclass
class Checklist:
    """The papers of one document case, sorted for a citizen."""

    needed: List[Document] = field(default_factory=list)
    conditional: List[Tuple[str, List[Document]]] = field(default_factory=list)  # (condition, papers)
    one_of: List[List[Document]] = field(default_factory=list)  # forms listed side by side: one is the citizen's
    optional: List[Document] = field(default_factory=list)
    left_out: int = 0  # papers of other cases or applicants
    other_land: List[str] = field(default_factory=list)  # kinds of land of papers left out for being another's only
    other_land_papers: int = 0  # how many papers those are
    for_foreigners: int = 0  # papers for foreigners only, not listed to a citizen who has not said they are one


def cases_in(case: DocumentCase) -> List[str]:
    """The transfer cases (inheritance, gift, sale…) the papers of ``case`` differ by, in table order."""
    named = {c for d in case.documents for c in d.cases}
    return [tag for tag in SituationTable.default().labels["case"] if tag in named]


def needs_case(case: DocumentCase, situation: Situation) -> List[str]:
    """The cases to ask about when the papers differ by case and the citizen has not said theirs."""
    if situation.case is not None:
        return []
    named = cases_in(case)
    return named[:MAX_CASE_CHOICES] if len(named) >= 2 else []


def fitting_case(proc: Procedure, situation: Situation) -> Optional[int]:
    """The document case (1-based) whose name fits the citizen's case or kind of applicant best (the first of
    equals); None when no case's name says anything of the situation, or every one names the applicant alone."""
    table = SituationTable.default()
    scores = []
    for case in proc.document_cases:
        cases, applicants, _ = table.about(case.name)
        scores.append((2 if situation.case and situation.case in cases else 0)
                      + (1 if situation.applicant and situation.applicant in applicants else 0))
    best = max(scores, default=0)
    # the applicant alone, named by every heading ("tổ chức, cá nhân"), says nothing of the case
    if best == 0 or (best == 1 and len(scores) > 1 and min(scores) == best):
        return None
    return scores.index(best) + 1


# A case heading for a first issue, folded, its enumerator gone: "Đối với cấp mới", "Hồ sơ đề nghị cấp giấy phép …",
# "Về cấp chứng chỉ …" (not "được cấp", "cung cấp", "cấp tỉnh")
_FIRST_ISSUE = re.compile(r"^(?:(?:doi voi|ve|trong)\s+)?(?:(?:cac\s+)?truong hop\s+)?(?:thanh phan\s+)?"
                          r"(?:ho so\s+)?(?:de nghi\s+)?cap\s+(?!lai\b|doi\b|tinh\b|xa\b|huyen\b)|\bcap moi\b")
# where a heading's opening clause ends: "…, hồ sơ gồm", ";", ":" or "(", not the comma of "tổ chức, cá nhân"
_OPENING_CLAUSE = re.compile(r"[;:(]|,\s*(?:hồ sơ|thành phần|gồm|bao gồm)\b", re.IGNORECASE)
# "* ", "(1) ", "(iv)", "8.3.1.1. "
_OUTLINE = re.compile(r"^[\s*\-+•]*(?:\((?:\d+|[ivxl]+|[a-zđ])\)|\d+(?:\.\d+)*\.?)?\s*", re.IGNORECASE)


def requested_case(proc: Procedure, request: Optional[str], table: Optional[ActionTable] = None) -> Optional[int]:
    """The document case (1-based) for what the citizen asks to do with the paper (``Situation.request``): the one
    case whose heading's opening clause does that action ("cấp lại" for a lost licence), or for a first request the
    one case whose heading issues the paper while every other one does an action ("a) cấp mới" beside "b) cấp
    lại"); never a first issue in a procedure whose name leads with an action ("Điều chỉnh giấy phép …"). None when
    the request is unknown or unclear, or no single case answers it."""
    cases, doing = _requested(proc, request, table)
    if len(cases) != 1:
        return None
    if request == FIRST_REQUEST and len(cases) + len(doing) != len(proc.document_cases):
        return None  # a heading that neither issues the paper nor does an action ("đối với tổ chức") may be it too
    return cases[0]


def requested_cases(proc: Procedure, request: Optional[str], table: Optional[ActionTable] = None) -> List[int]:
    """The document cases (1-based) whose heading's opening clause does what the citizen asks (``requested_case``):
    for a first request, those issuing the paper without an action. Empty when the request is unknown or unclear,
    or the record has one case."""
    return _requested(proc, request, table)[0]


def _requested(proc: Procedure, request: Optional[str],
               table: Optional[ActionTable]) -> Tuple[List[int], Dict[int, FrozenSet[str]]]:
    """``requested_cases`` and the cases whose opening clause does an action, with those actions."""
    if not request or len(proc.document_cases) < 2:
        return [], {}
    try:
        table = table or ActionTable.default()
    except (OSError, ValueError):  # a broken table picks no case: the answer asks which
        return [], {}
    openings = [fold(_OPENING_CLAUSE.split(_OUTLINE.sub("", CASE_ENUMERATOR.sub("", c.name)), maxsplit=1)[0])
                .lower().strip() for c in proc.document_cases]
    done = ((i, table.named_in(opening)) for i, opening in enumerate(openings, 1))
    doing = {i: frozenset(actions) for i, actions in done if actions}
    if request != FIRST_REQUEST:
        return [i for i, actions in doing.items() if request in actions], doing
    if table.leading(proc.name):
        return [], doing
    return [i for i, opening in enumerate(openings, 1) if i not in doing and _FIRST_ISSUE.search(opening)], doing


# A case heading for a dossier filed again after a first round: "Hồ sơ nộp lại sau khi họp hội đồng …" (folded)
_LATER_ROUND = re.compile(r"\bnop lai\b")


def first_round_case(proc: Procedure) -> Optional[int]:
    """The document case (1-based) of the first filing when every other case is a dossier filed again after it
    ("Hồ sơ đề nghị thẩm định" beside "Hồ sơ nộp lại sau khi họp hội đồng"): who asks what to file, without saying
    they file again, files for the first time. None when the record has no such pair."""
    later = [bool(_LATER_ROUND.search(fold(c.name.lower()))) for c in proc.document_cases]
    first = [i for i, again in enumerate(later, 1) if not again]
    return first[0] if len(first) == 1 and len(later) > 1 else None


def named_among_requested(proc: Procedure, request: Optional[str], question: str) -> Optional[int]:
    """The document case (1-based) the question names among those doing what it asks: "xin cấp mã số vùng trồng"
    is the first issue for a growing area, of "1. cấp lại mã số vùng trồng/mã số cơ sở đóng gói", "2. cấp mã số
    cơ sở đóng gói", "3. cấp mã số vùng trồng". The short name's phrases count here ("Cấp, cấp lại mã số vùng
    trồng, mã số cơ sở đóng gói" lists the cases themselves); None when the request leaves all cases, or one."""
    cases = requested_cases(proc, request)
    if not 2 <= len(cases) < len(proc.document_cases):
        return None
    return _named_among_cases(proc, cases, question)


# A case heading for an investor's project, folded: "… thuộc diện chấp thuận chủ trương đầu tư, chấp thuận nhà đầu
# tư", "… thông qua đấu thầu lựa chọn nhà đầu tư" (not "thuộc diện không chấp thuận …", nor "không đấu thầu …")
_INVESTOR_CASE = re.compile(r"\bthuoc dien chap thuan chu truong dau tu|\bthong qua dau thau lua chon nha dau tu")
# a citizen's words, folded, that may make their purpose change an investor's: a project or an investor ("dự án",
# "nhà đầu tư", "chủ trương đầu tư"), a business use ("thương mại dịch vụ", "sản xuất kinh doanh", "khu du lịch"),
# land whose change the province approves (rice land, "ruộng"; protection or special-use forest); an area in hectares
# counts too (``conditions.amounts``)
_INVESTOR_WORDS = re.compile(r"\b(?:du an|dau tu|chu truong|thuong mai|kinh doanh|du lich|(?:dat|trong|ruong) lua|"
                             r"ruong|rung phong ho|rung dac dung)\b")
# a project or an investor denied, in text already normalised ("ko" is "không" there): "không có dự án", "không phải
# nhà đầu tư"; not "chưa có dự án được duyệt", which may be one
_DENIED = re.compile(r"\bkhong\s+(?:(?:co|phai|lam|la|theo)\s+)?(?:nha\s+)?(?:du an|dau tu)\b")
_PRIVATE_APPLICANTS = frozenset({"individual", "household"})


def named_without_investors(proc: Procedure, question: str) -> Optional[int]:
    """The document case (1-based) the question names once an investor's cases are set aside, when the question says
    the citizen is an individual or a household and speaks of no project, business use, land the province must
    approve or area in hectares: "hộ gia đình tôi muốn chuyển đất vườn lên thổ cư" is the purpose change "thuộc diện
    không chấp thuận chủ trương đầu tư" (đ), which the purpose change "thuộc diện chấp thuận …" (d) shares every word
    with. The kind of applicant is read from this question only: a project spoken of in an earlier message is not seen
    here. The question's colloquial phrases count in their official wording ("lên thổ cư" is "chuyển mục đích sử dụng
    đất"). None for a record with no investor's case, another kind of applicant, or a question naming none of the
    cases left, or several."""
    kept = [i for i, c in enumerate(proc.document_cases, 1) if not _INVESTOR_CASE.search(fold(c.name.lower()))]
    if len(kept) == len(proc.document_cases) \
            or SituationTable.default().read(question).applicant not in _PRIVATE_APPLICANTS \
            or any(unit == "ha" for _, unit, _ in amounts(question)):
        return None
    asked = nfc(TextNormalizer.default().for_search(question)).lower()
    folded = "".join((fold(c) or " ")[:1] for c in asked)  # one letter for one, so a denial is cut where typed
    for denial in _DENIED.finditer(folded):  # "dự án" denied names no case either
        start, end = denial.span()
        asked, folded = (t[:start] + " " * (end - start) + t[end:] for t in (asked, folded))
    if _INVESTOR_WORDS.search(folded):
        return None
    return _named_among_cases(proc, kept, asked)


def _named_among_cases(proc: Procedure, cases: Sequence[int], question: str) -> Optional[int]:
    """Which of the document ``cases`` (1-based) the question names (``named_among``), or None."""
    named = named_among([proc.document_cases[i - 1].name for i in cases], question)
    return cases[named - 1] if named else None


# A typed choice, folded: politeness around it ("dạ b ạ", "vâng, b", "chắc là b", "em thuộc b nhé") always goes;
# a marker ("trường hợp b", "mục b", "chọn số 2", "cái thứ hai", "phương án b") lets the question around it go
# too ("còn trường hợp c thì sao", "trường hợp b cần giấy tờ gì"). Without a marker a content word keeps the message
# a sentence: "a cần giấy tờ gì" is "anh cần…", "tôi là con thứ hai" no case. A lone "a" is case a) ("ạ" is
# politeness typed with its accent).
_POLITE = frozenset("da vang nhe nha nhen ak ah oi luon chac la em toi minh thuoc di do day vay anh chi".split())
_MARKERS = frozenset("truong hop th muc y cau phuong an chon so cai".split())
_AROUND_MARKER = frozenset("thu con thi sao xem can giay to gi ho nhung nao the cung tien".split())
_ORDINAL_WORDS = frozenset("nhat mot dau tien hai ba cuoi cung".split())
_PARTICLES = frozenset({"ạ", "à", "ả", "á"})
_QUESTION_WORDS = frozenset("khong ko k gi sao nao dau".split())
_QUESTION_PAIRS = frozenset({("bao", "nhieu"), ("bao", "lau"), ("bao", "gio")})  # "khai báo" is no question
SHORT_REPLY = 8  # words: a reply in words to "which case?" ("tàu nhập khẩu"), not a new question


def is_short_reply(text: str) -> bool:
    """Whether ``text`` reads as a short answer to the bot's question (at most ``SHORT_REPLY`` words, no question
    mark or question word), not a new question: "tôi là việt kiều", not "việt kiều có được mua nhà không"."""
    folded = words(fold(nfc(text or "").lower()))
    asks = bool(_QUESTION_WORDS & set(folded)) or any(pair in _QUESTION_PAIRS for pair in zip(folded, folded[1:]))
    return 0 < len(folded) <= SHORT_REPLY and "?" not in text and not asks


def case_symbol(name: str, number: int) -> str:
    """What a citizen types to choose a document case: its enumerator ("b" of "b) Đối với…"), or its number."""
    match = CASE_ENUMERATOR.match(name or "")
    return match.group(1).lower() if match else str(number)


def case_in_reply(proc: Procedure, reply: str, by_words: bool = True) -> Optional[int]:
    """The document case (1-based) a citizen's reply to "which case?" chooses: its symbol ("a", "b", "trường hợp
    2", "2 ạ"), its position ("cái thứ hai", "cái cuối"), and with ``by_words`` (the reply is about this procedure)
    its heading's own words ("tàu nhập khẩu") or the situation it says ("mua lại", "việt kiều"). None when the
    reply chooses none."""
    count = len(proc.document_cases)
    if count < 2 or not reply:
        return None
    symbols = [case_symbol(c.name, i) for i, c in enumerate(proc.document_cases, 1)]
    said = words(nfc(reply).lower())
    if "oi" in {fold(w) for w in said}:  # "a ơi" calls the bot "anh": no case a)
        said = [w for w in said if w != "a"]
    marked = any(fold(w) in _MARKERS for w in said)

    def dropped(word: str) -> bool:
        if word in _PARTICLES:
            return True
        if len(word) == 1 and word.isascii():  # a letter is a symbol, whatever it folds to
            return False
        return fold(word) in _POLITE or (marked and fold(word) in _MARKERS | _AROUND_MARKER)

    typed = [w for w in said if not dropped(w)]
    if len(typed) == 2 and typed[1] == "a" and typed[0] != "a":  # "b a": "b ạ" typed without its accent
        typed = typed[:1]
    if len(typed) == 1:
        word = typed[0]
        if word in symbols:  # "đ" and "d" are two cases: the typed accent decides first
            return symbols.index(word) + 1
        # a symbol typed without its accent ("d" for a lone "đ)", "đ" for a lone "d)"); "á", "ã" are no "a"
        folded = [i for i, symbol in enumerate(symbols, 1)
                  if (word.isascii() or word == "đ") and fold(symbol) == fold(word)]
        if len(folded) == 1:
            return folded[0]
        if word.isdigit() and 1 <= int(word) <= count:  # "2" for "b)": the second case
            return int(word)
    if typed and all(fold(w) in _ORDINAL_WORDS for w in typed) and ordinal_in(reply, count):  # "cái thứ hai"
        return ordinal_in(reply, count)
    if not by_words:
        return None
    return case_named_or_requested(proc, reply) or fitting_case(proc, SituationTable.default().read(reply))


def case_named(proc: Procedure, question: str) -> Optional[int]:
    """The document case (1-based) the question names by a two-word phrase of that case's heading that no other
    case's heading, nor the procedure's short name, has ("sạt lở", "mua bán"), and one of whose words no other
    heading has: "đổi số" in a question is no "thay đổi số hiệu" (both words are other headings' too, in "thay
    đổi", "sở hữu"). None when no case, or more than one, is named so."""
    if not question or len(proc.document_cases) < 2:
        return None
    # the short name says what every case is ("cấp sổ đỏ lần đầu"): its phrases name no case; the official name
    # often lists the cases themselves, so it is not used
    own_name = phrases(tokens(proc.chat_name))
    named = _cases_named(proc, question, own_name)
    if named is None:
        # a short name cut word for word from the first part of a name listing its cases ("Đăng ký biến động đối
        # với trường hợp đổi tên hoặc thay đổi thông tin …; thay đổi hạn chế …; giảm diện tích …") is that part's
        # only: when nothing else names a case, a phrase of that part alone may
        parts = [part.strip() for part in proc.name.split(";")]
        if len(parts) > 1 and fold(parts[0].lower()).startswith(fold(proc.chat_name.lower())):
            in_parts = [phrases(tokens(part)) for part in parts]
            named = _cases_named(proc, question, {p for p in own_name if sum(p in part for part in in_parts) != 1})
    return named


def case_named_or_requested(proc: Procedure, message: str) -> Optional[int]:
    """``case_named``, unless the case named is a first issue and ``message`` itself asks for what one other case
    does: then that case. "xin cấp lại giấy xác nhận nuôi cá lồng bè" shares "xác nhận nuôi" with the heading of
    1.004692's first issue only, and asks for its reissue ("Hồ sơ đăng ký lại"). Only the message's own words count:
    a request remembered from an earlier one never overrules the case this one names."""
    named = case_named(proc, message)
    if named is None:
        return None
    try:
        asked = ActionTable.default().asked_in(TextNormalizer.default().normalize(message))
    except (OSError, ValueError):  # a broken table: the case the words name, as ``_requested`` does
        return named
    if len(asked) != 1:
        return named
    requested = requested_case(proc, next(iter(asked)))
    if requested is not None and requested != named and named in requested_cases(proc, FIRST_REQUEST):
        return requested
    return named


def _cases_named(proc: Procedure, question: str, own_name: set) -> Optional[int]:
    return named_among([c.name for c in proc.document_cases], question, own_name)


# A household files as its members do: the 2024 Land Law's records name individuals ("cá nhân").
# A foreigner files what any individual or organisation files, and what is for foreigners only (never the reverse);
# an army or police unit what any organisation files, and its own papers.
_SAME_APPLICANT = {"household": {"household", "individual"}, "individual": {"individual", "household"},
                   "foreigner": {"foreigner", "individual", "organisation"},
                   "armed_forces": {"armed_forces", "organisation"}}


def applicant_fits(types: Sequence[str], applicant: Optional[str]) -> bool:
    """Whether a paper or filing place for ``types`` (none: anyone) is for the citizen's kind of applicant."""
    if not types or not applicant:
        return True
    return bool(set(types) & _SAME_APPLICANT.get(applicant, {applicant}))


def admitted(applicants: Sequence[str]) -> FrozenSet[str]:
    """The kinds of citizen a procedure whose record names these ``applicants`` ("Công dân Việt Nam", "Doanh nghiệp",
    "Hợp tác xã" …) is for; empty when the situation table reads none of them (then anyone)."""
    table = SituationTable.default()
    types = sorted({tag for a in applicants for group, tag in table.tags(a, record=True) if group == APPLICANT})
    return frozenset(kind for kind in table.labels[APPLICANT] if applicant_fits(types, kind)) if types else frozenset()


def _applies(doc: Document, situation: Situation, cases: Sequence[str]) -> bool:
    """False for a paper of another case (one this record's papers differ by) or another kind of applicant."""
    if doc.cases and situation.case in cases and situation.case not in doc.cases:
        return False
    return applicant_fits(doc.applicant_types, situation.applicant)


def other_land(doc: Document, situation: Situation) -> FrozenSet[str]:
    """The kinds of land a paper is for when the citizen's land is none of them (else nothing)."""
    kinds = SituationTable.default().land_for(doc.condition) if situation.land and doc.condition else frozenset()
    return kinds if not kinds & set(situation.land) else frozenset()


def _settled(doc: Document, situation: Situation) -> bool:
    """Whether the citizen's own words settle the paper's condition (so it is simply needed)."""
    if not doc.condition:
        return True
    open_circumstances = [c for c in doc.circumstances if c not in situation.conditions]
    case_settled = not doc.cases or (situation.case in doc.cases)
    # a foreigner may file as a person or as a company: a paper for either is theirs "Nếu …", not simply needed
    applicant_settled = not doc.applicant_types or (
        situation.applicant is not None and (situation.applicant in doc.applicant_types
                                             if situation.applicant == FOREIGNER
                                             else applicant_fits(doc.applicant_types, situation.applicant)))
    known_condition = bool(doc.cases or doc.applicant_types or doc.circumstances)
    if applicant_settled and doc.applicant_types and not (doc.cases or doc.circumstances) and (
            SituationTable.default().unread(doc.condition) > APPLICANT_ONLY
            or (situation.applicant_implied and not {"household", "individual"} <= set(doc.applicant_types))):
        # "là công ty trực thuộc tập đoàn": a company is told "Nếu …", not that it is needed; so is a citizen who
        # only spoke of their family ("nhà tôi", "ông bà để lại": an heir may file as an individual), unless the
        # paper is for either ("là hộ gia đình, cá nhân")
        return False
    return known_condition and case_settled and applicant_settled and not open_circumstances


def checklist(case: DocumentCase, situation: Situation) -> Checklist:
    """Sort the papers of ``case`` for ``situation``."""
    out = Checklist()
    groups: Dict[str, List[Document]] = {}
    named = cases_in(case)
    # one paper listed once per situation: when the citizen's words named theirs, the others are not theirs
    chosen, siblings = alternatives(case, situation.said)
    # forms listed side by side, none named: one of them is the citizen's ("Tờ khai … nước biển" / "… đào hồ"); only
    # those for this citizen (applicant, foreigner, "nếu có") count, and two at least
    def listed(i: int) -> bool:
        doc = case.documents[i]
        return (not doc.condition and doc.required and _applies(doc, situation, named)
                and not (situation.applicant is None and set(doc.applicant_types) == {FOREIGNER}))

    either: Dict[int, int] = {}
    for n, group in enumerate(sibling_groups(case)):
        members = [i for i in group if listed(i)]
        if not chosen & set(group) and len(members) >= 2:
            either.update((i, n) for i in members)
    order = sorted(range(len(case.documents)), key=lambda i: not is_application(case.documents[i]))
    for i in order:
        doc = case.documents[i]
        if i in siblings:
            continue
        if i in either:
            while len(out.one_of) <= either[i]:
                out.one_of.append([])
            out.one_of[either[i]].append(doc)
            continue
        land = other_land(doc, situation)
        if land:  # counted apart: the citizen may have more land than they spoke of (a button shows its papers)
            out.other_land += sorted(k for k in land if k not in out.other_land)
            out.other_land_papers += 1
        elif not _applies(doc, situation, named):
            out.left_out += 1
        elif situation.applicant is None and set(doc.applicant_types) == {FOREIGNER}:
            # most who ask are Vietnamese: a foreigner's papers are counted in a line saying how to see them
            out.for_foreigners += 1
        elif not doc.required and not doc.condition:
            out.optional.append(doc)
        elif i in chosen or _settled(doc, situation):  # "8 m3 mỗi ngày" settles "không vượt quá 10m3/ngày đêm"
            out.needed.append(doc)
        else:
            groups.setdefault(doc.condition, []).append(doc)
    seldom = SituationTable.default().seldom

    likely = set(situation.likely) if situation.case is None else set()

    def later(group: Tuple[str, List[Document]]) -> Tuple[bool, bool, bool]:
        # last a condition that only cites the law ("thuộc trường hợp quy định tại khoản 4 Điều 45 Luật Đất đai"),
        # which tells a citizen nothing; before it, a proxy's or a re-measurement's papers after the case's own;
        # first, those of a case the citizen's words make likely ("đất ông bà để lại": an inheritance's papers)
        condition, docs = group
        return (bool(_LEGAL_REFERENCE_ONLY.match(condition)),
                bool(seldom) and all(d.circumstances and set(d.circumstances) <= seldom for d in docs),
                not any(likely & set(d.cases) for d in docs))

    out.one_of = [group for group in out.one_of if group]
    out.conditional = sorted(groups.items(), key=later)
    out.left_out += len(siblings)
    return out


_LEGAL_REFERENCE_ONLY = re.compile(r"^\s*(?:thuộc\s+)?(?:các\s+)?(?:trường hợp\s+)?(?:được\s+)?quy định tại\b"
                                   r"[^,;]*$", re.IGNORECASE)


_SAME_FORM = re.compile(r"\s+(?:số\s+)?")  # "Mẫu 13" in a paper's name is its "Mẫu số 13"


def paper_name(doc: Document) -> str:
    """A paper whole, with its form number where its name does not say it."""
    line = ITEM_LETTER.sub("", doc.paper).rstrip(" .;,:")
    form = _SAME_FORM.sub(" ", doc.form_number.lower())
    if form and not re.search(r"(?<!\w)" + re.escape(form) + r"(?!\w)", _SAME_FORM.sub(" ", line.lower())):
        line += f" ({doc.form_number})"
    return line


# where a form's name goes on to the act that issued it: "… theo Mẫu số 10.ĐKT Phụ lục VIII ban hành kèm theo Thông tư
# số 02/2026/TT-BNNMT …"; and a sentence that follows it ("… Mẫu số 18. Trường hợp hộ gia đình …")
_FORM_SOURCE = re.compile(r"\s*,?\s*(?:được\s+)?(?:ban hành\s+)?kèm theo\b.*$", re.DOTALL)
_NEXT_SENTENCE = re.compile(r"\.\s+(\S)")
FORM_TITLE = 250  # characters: an application named at more length than this is left to the checklist


# "… theo Mẫu số 09 Phụ lục" once the act that issued the annex is cut: the annex without its number says nothing
# (after a form's number only: "… theo mẫu quy định tại Phụ lục" keeps its words)
_BARE_ANNEX = re.compile(r"(\bmẫu(?:\s+số)?\s+\S*\d\S*)\s+(?:quy định\s+)?(?:tại\s+)?phụ lục$", re.IGNORECASE)


def _form_title(paper: str) -> str:
    paper = _FORM_SOURCE.sub("", paper)
    following = next((m for m in _NEXT_SENTENCE.finditer(paper) if m.group(1).isupper()), None)
    return paper[:following.start()] if following else paper


def application_form(proc: Procedure) -> Optional[str]:
    """The application form of ``proc`` up to its form number (``paper_name`` without the act that issued it), when
    its record names one and only one, whatever the case, and briefly enough to name in a sentence. A copy ("Bản sao
    tờ khai hàng hóa nhập khẩu") is another body's paper, not the citizen's application."""
    forms = {_form_title(paper_name(d)) for case in proc.document_cases for d in case.documents
             if is_application(d) and not d.paper.lower().startswith("bản sao")}
    form = forms.pop() if len(forms) == 1 else ""
    if form.count("(") != form.count(")"):  # "… quy mô lớn (theo Mẫu số 01 ĐKCN Phụ lục I" once its act is cut
        form = form.replace("(", "").replace(")", "")
    form = " ".join(form.split()).rstrip(" ,;.")
    form = _BARE_ANNEX.sub(r"\1", form)
    return form if 0 < len(form) <= FORM_TITLE else None


def item(doc: Document) -> str:
    """One paper as a chat line: the paper whole, its form, how many copies."""
    line = paper_name(doc)
    counts = []
    if doc.originals:
        counts.append(text("phrases.answer_originals", count=doc.originals))
    if doc.copies:
        counts.append(text("phrases.answer_copies", count=doc.copies))
    return f"- {line}" + (f": {', '.join(counts)}" if counts else "")


def lines(found: Checklist) -> List[str]:
    """The checklist as chat lines: needed papers, then each condition's papers, then "nếu có"."""
    out = []
    for docs in found.one_of:
        out.append(text("answers.documents_one_of"))
        out.extend(f"  {item(d)}" for d in docs)
    out += [item(d) for d in found.needed]
    for condition, docs in found.conditional:
        out.append(text("answers.documents_if", condition=condition.rstrip(" .:")))
        out.extend(f"  {item(d)}" for d in docs)
    if found.optional:
        out.append(text("answers.documents_if_any"))
        out.extend(f"  {item(d)}" for d in found.optional)
    return out


def pages(all_lines: Sequence[str], limit: int = PAGE) -> List[List[str]]:
    """Lines in pages of at most ``limit`` characters; a condition heading never ends a page, and a group
    that goes on to the next page starts it with its heading again."""
    result: List[List[str]] = [[]]
    size = 0
    heading_now: Optional[str] = None
    for i, line in enumerate(all_lines):
        heading = not line.startswith(("-", " "))
        room = len(line) + 1 + (len(all_lines[i + 1]) + 1 if heading and i + 1 < len(all_lines) else 0)
        # a heading longer than a page (a record's 1,700-character condition) keeps its first paper with it: the
        # message is then sent in two bubbles rather than the heading alone on a page and again on the next
        alone = not heading and result[-1] == [heading_now]
        if result[-1] and size + room > limit and not alone:
            result.append([])
            size = 0
            if not heading and line.startswith(" ") and heading_now:
                result[-1].append(heading_now)
                size += len(heading_now) + 1
        if heading:
            heading_now = line
        elif not line.startswith(" "):
            heading_now = None
        result[-1].append(line)
        size += len(line) + 1
    return result


def situation_question(tags: Sequence[str]) -> Tuple[str, List[dict]]:
    """The one short question that settles the case, and its buttons ({"title", "case"})."""
    labels = SituationTable.default().labels["case"]
    names = [labels[t].lower() for t in tags]
    listing = ", ".join(names[:-1]) + f" {text('phrases.or')} {names[-1]}" if len(names) > 1 else names[0]
    return (text("answers.ask_case", cases=listing),
            [{"title": labels[t], "case": t} for t in tags])


def describe(situation: Situation) -> Optional[str]:
    """How the answer names the citizen's case ("trường hợp thừa kế"), if known."""
    label = SituationTable.default().labels["case"].get(situation.case or "")
    return label.lower().replace(" (", ", ").rstrip(")") if label else None
