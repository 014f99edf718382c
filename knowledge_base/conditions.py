"""Which of a record's alternatives the citizen's own words name (no Rasa imports).

A record often lists one paper several times, once per situation: "Tờ khai … theo Mẫu 13 (đối với trường hợp khai
thác … không vượt quá 10m3/ngày đêm …)", the same "Tờ khai … theo Mẫu 14 (đối với trường hợp … moong khai thác
khoáng sản …)". A citizen needs one of them. When their words name one (a phrase only that condition has: "cơ sở
đang hoạt động"; or an amount only its bounds admit: "khoảng 8 m3 mỗi ngày"), that one is simply needed and its
siblings are left out; otherwise all of them stay under "Nếu …".

The same naming by a distinctive two-word phrase picks a record's document case ("sạt lở", "mua bán"):
``named_among``.
"""
from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections import Counter
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from core.text import fold, nfc
from knowledge_base.schema import Document, DocumentCase, Procedure
from knowledge_base.situation import EXCEPTION, latest
from knowledge_base.text import CASE_ENUMERATOR, ITEM_LETTER, TextNormalizer, words

# Words that say nothing of a case on their own ("đối với", "tàu được", "bị mất"): a two-word phrase with one
# of them never names a case or a condition.
FUNCTION_WORDS = frozenset("duoc cua va hoac trong tai theo ve voi la co khong da dang se bi nay gom hop truong "
                           "cac nhung mot cho".split())
ANY_QUESTION = frozenset({("ho", "so"), ("giay", "to"), ("thu", "tuc"), ("can", "gi")})  # "hồ sơ" is no case

Phrase = Tuple[str, str]


def typed(value: str) -> List[str]:
    """Words of a heading, a condition or a question as written (lower case, shorthand expanded, a case's
    enumerator dropped)."""
    return words(nfc(TextNormalizer.default().normalize(CASE_ENUMERATOR.sub("", value or ""))).lower())


def tokens(value: str) -> List[str]:
    """The same words folded."""
    return [fold(w) for w in typed(value)]


def phrases(folded: Sequence[str]) -> Set[Phrase]:
    """The two-word phrases that may name something: no function word, no "hồ sơ"."""
    return {(a, b) for a, b in zip(folded, folded[1:])
            if a not in FUNCTION_WORDS and b not in FUNCTION_WORDS and (a, b) not in ANY_QUESTION}


def _forms(words_as_typed: Sequence[str]) -> Dict[Phrase, Set[Phrase]]:
    """Each two-word phrase (folded) with the ways it was written."""
    out: Dict[Phrase, Set[Phrase]] = {}
    for a, b in zip(words_as_typed, words_as_typed[1:]):
        out.setdefault((fold(a), fold(b)), set()).add((a, b))
    return out


_TONES = {"\u0300", "\u0301", "\u0309", "\u0303", "\u0323"}  # huyền, sắc, hỏi, ngã, nặng


def _tone(word: str) -> Optional[str]:
    """The word's tone mark, ngã read as hỏi (many write one for the other: "sạt lỡ" for "sạt lở"); None for none."""
    marks = [c for c in unicodedata.normalize("NFD", word) if c in _TONES]
    return marks[0].replace("\u0303", "\u0309") if marks else None


def _same(said: Phrase, written: Set[Phrase]) -> bool:
    """Whether words typed (folded alike) can be the written ones: only two tone marks that differ tell them apart
    ("khoảng 15 m3" is no "khoáng sản"); a word typed without a tone, or without accents, may be any ("sạt lơ",
    "thừa kê")."""
    def fits(s: str, w: str) -> bool:
        typed, own = _tone(s), _tone(w)
        return typed is None or own is None or typed == own

    return any(all(fits(s, w) for s, w in zip(said, form)) for form in written)


def named_among(headings: Sequence[str], question: str, common: Iterable[Phrase] = ()) -> Optional[int]:
    """Which of ``headings`` the question names (1-based): by a two-word phrase no other heading has, one of whose
    words no other heading uses ("đổi số" is no "thay đổi số hiệu" when both words are other headings' too).
    ``common`` phrases (folded) name none (the procedure's own name says what every case is). None when none, or
    several, are named."""
    own = set(common)
    as_typed = [typed(h) for h in headings]
    written = [_forms(t) for t in as_typed]
    folded = [[fold(w) for w in t] for t in as_typed]
    sets = [phrases(h) - own for h in folded]
    shared = Counter(p for s in sets for p in s)
    used = Counter(w for h in folded for w in set(h))
    asked = _forms(typed(question))

    def names(i: int) -> bool:
        return any(shared[p] == 1 and (used[p[0]] == 1 or used[p[1]] == 1)
                   and any(_same(form, written[i][p]) for form in asked[p])
                   for p in sets[i] & set(asked))

    named = [i + 1 for i in range(len(headings)) if names(i)]
    return named[0] if len(named) == 1 else None


# ------------------------------------------------------------------ amounts ("8 m3 mỗi ngày", "dưới 10m3/ngày đêm")
# Read on lower-case text with its accents: "Hà Nội" is no hectare. Citizens type units either way; the records'
# bounds are worded with accents.
_THOUSANDS = r"\d{1,3}(?:\.\d{3})+(?:,\d+)?"  # "3.000", "3.000,5"
_NUMBER = r"(?<![\w.,])(" + _THOUSANDS + r"|\d+(?:[.,]\d+)?)"  # "KT12m3" is a code, no amount
_UNIT = (r"(m3|m³|mét khối|met khoi|khối|khoi|m2|m²|mét vuông|met vuong|hecta|héc[ -]?ta|hec[ -]?ta|ha)"
         r"(?!\w)(?!\s*(?:noi|nội|nam|tinh|tĩnh|giang|long|dong|đông|tien|tiên|trung|coi|cối)\b)")  # Hà Nội, Hà Tĩnh…
_RATE = (r"(?:\s*(?:/|mỗi|moi|một|mot|1|trên|tren)\s*"
         r"(ngày(?:\s*đêm)?|ngay(?:\s*dem)?|giây|giay|giờ|gio|phút|phut|tháng|thang|năm|nam|s|h)(?!\w))?")
_AMOUNT = re.compile(_NUMBER + r"\s*" + _UNIT + _RATE)
_CANONICAL = {"m3": "m3", "m2": "m2", "ha": "ha", "hecta": "ha", "hec ta": "ha",
              "met khoi": "m3", "khoi": "m3", "met vuong": "m2", "ngay": "day", "ngay dem": "day", "giay": "s",
              "s": "s", "gio": "h", "h": "h", "phut": "min", "thang": "month", "nam": "year"}
# the words before an amount that bound it: (side, strict); negated forms are their own entries
_BOUND_WORDS = {
    "không được vượt quá": ("max", False), "không vượt quá": ("max", False), "chưa vượt quá": ("max", False),
    "không quá": ("max", False), "tối đa": ("max", False), "nhỏ hơn hoặc bằng": ("max", False),
    "bằng hoặc nhỏ hơn": ("max", False), "không lớn hơn": ("max", False), "không nhiều hơn": ("max", False),
    "không cao hơn": ("max", False), "dưới": ("max", True), "nhỏ hơn": ("max", True), "ít hơn": ("max", True),
    "thấp hơn": ("max", True),
    "lớn hơn hoặc bằng": ("min", False), "bằng hoặc lớn hơn": ("min", False), "tối thiểu": ("min", False),
    "không dưới": ("min", False), "không nhỏ hơn": ("min", False), "không ít hơn": ("min", False),
    "trên": ("min", True), "vượt quá": ("min", True), "lớn hơn": ("min", True), "nhiều hơn": ("min", True),
    "cao hơn": ("min", True),
}
_BOUND = re.compile(r"(?<!\w)(" + "|".join(sorted(map(re.escape, _BOUND_WORDS), key=len, reverse=True)) + r")\s*"
                    + _NUMBER + r"\s*" + _UNIT + _RATE)
_NEGATED = re.compile(r"(?:không|chưa)(?:\s+(?:được|thể|phải))?\s*$")  # "không thể vượt quá" is at most
_FROM = re.compile(r"(?<!\w)từ\s*" + _NUMBER + r"\s*(?:" + _UNIT + _RATE + r"\s*)?(?:đến|tới)\s*(dưới\s*)?"
                   + _NUMBER + r"\s*" + _UNIT + _RATE)
_FROM_ON = re.compile(r"(?<!\w)từ\s*" + _NUMBER + r"\s*" + _UNIT + _RATE + r"[^,;]{0,16}?\btrở lên")

Amount = Tuple[float, str, Optional[str]]  # value, unit, per (day, s, h; None when not said)
Bound = Tuple[str, float, str, Optional[str], bool]  # side, value, unit, per, strict


def _number(value: str) -> float:
    """'3.000' is three thousand, '3.000,5' and '12.5' and '0,5' are decimals (Vietnamese or not)."""
    if re.fullmatch(_THOUSANDS, value):
        return float(value.replace(".", "").replace(",", "."))
    return float(value.replace(",", "."))


def _unit(unit: str) -> str:
    return _CANONICAL.get(fold(unit).replace("-", " ").replace("³", "3").replace("²", "2"), fold(unit))


def _per(rate: Optional[str]) -> Optional[str]:
    return _CANONICAL.get(" ".join(fold(rate).split())) if rate else None


def amounts(text: str) -> List[Amount]:
    """The amounts a citizen gives, with their unit and rate: "khoảng 8 m3 mỗi ngày" -> [(8.0, "m3", "day")]."""
    return [(_number(n), _unit(u), _per(r)) for n, u, r in _AMOUNT.findall(nfc((text or "").lower()))]


def _bounds(condition: str) -> List[Bound]:
    """Every bound the condition sets on an amount."""
    text = nfc((condition or "").lower())
    out: List[Bound] = []
    for m in _FROM.finditer(text):
        low, unit_low, rate_low, below, high, unit, rate = m.groups()
        out.append(("min", _number(low), _unit(unit_low or unit), _per(rate_low or rate), False))
        out.append(("max", _number(high), _unit(unit), _per(rate), bool(below)))
    for m in _FROM_ON.finditer(text):
        out.append(("min", _number(m.group(1)), _unit(m.group(2)), _per(m.group(3)), False))
    for m in _BOUND.finditer(text):
        side, strict = _BOUND_WORDS[m.group(1)]
        if _NEGATED.search(text[:m.start()]):  # "không thể vượt quá": not more than
            side, strict = ("max" if side == "min" else "min"), not strict
        out.append((side, _number(m.group(2)), _unit(m.group(3)), _per(m.group(4)), strict))
    return list(dict.fromkeys(out))


def admits(condition: str, said: Sequence[Amount]) -> Optional[bool]:
    """Whether the amounts said fall within the condition's bounds; None when it sets none on their units (a rate
    said, per day or per second, must be the bound's)."""
    verdict: Optional[bool] = None
    for side, bound, unit, per, strict in _bounds(condition):
        for value, said_unit, said_per in said:
            if said_unit != unit or (per and said_per and per != said_per):
                continue
            fits = (value < bound if strict else value <= bound) if side == "max" \
                else (value > bound if strict else value >= bound)
            verdict = fits if verdict is None else verdict and fits
    return verdict


# ------------------------------------------------------------------ alternatives of one paper
_FORM = re.compile(r"\bmau\s*(?:so\s*)?[0-9][0-9a-z.\-]*", re.IGNORECASE)

# A registration is the application where the record asks for one ("Bản Đăng ký chuyển đổi cơ cấu cây trồng …
# theo mẫu tại Phụ lục IV", "Giấy đăng ký kiểm dịch thực vật …"); a "giấy đăng ký" of a business, a vehicle or a
# boat is a certificate another body issued, so only one asking to be checked, issued or recognised counts.
_APPLICATION = re.compile(
    r"^(?:bản sao\s+)?(?:đơn|tờ khai|phiếu (?:đề nghị|yêu cầu|đăng ký)|văn bản đề nghị|giấy đề nghị|bản đề nghị"
    r"|bản khai|báo cáo đề nghị|văn bản đăng ký|bản đăng ký|giấy đăng ký (?:kiểm|cấp|công nhận)|đề nghị)\b",
    re.IGNORECASE)


def is_application(doc: Document) -> bool:
    """Whether the paper is the application itself (listed first)."""
    return bool(_APPLICATION.match(ITEM_LETTER.sub("", doc.paper.strip(" -"))))


def what(doc: Document) -> str:
    """What tells a paper from its alternatives: its condition, or for forms listed side by side, its own name."""
    return doc.condition or doc.paper


def _head(paper: str, words_: int = 0) -> str:
    head = _FORM.sub("", " ".join(tokens(paper)))
    return " ".join(head.split()[:words_] if words_ else head.split())


def condition_key(condition: str) -> str:
    """A short stable key of a condition's wording (what a conversation keeps, never the citizen's words)."""
    return hashlib.sha1(" ".join(tokens(condition)).encode("utf-8")).hexdigest()[:8]


def sibling_groups(case: DocumentCase) -> List[List[int]]:
    """Papers of ``case`` (their positions) that are alternatives of one paper: the same wording once the form
    number is set aside, each under its own condition ("Tờ khai … theo Mẫu 13 (đối với …)" / "… Mẫu 14 (đối với
    …)"); or application forms listed side by side with no condition, each with its own form, whose names start
    alike ("Tờ khai … nước biển theo Mẫu 18", "Tờ khai đào hồ, ao … theo Mẫu 17"). Groups of two or more."""
    return [[i for i, _ in group] for group in keyed_groups(case)]


def keyed_groups(case: DocumentCase) -> Tuple[Tuple[Tuple[int, str], ...], ...]:
    """``sibling_groups`` with each paper's ``condition_key``: worked out once per list of papers (each message
    and each checklist asks again)."""
    return _keyed_groups(tuple((d.paper, d.condition, d.form_number) for d in case.documents))


@functools.lru_cache(maxsize=1024)
def _keyed_groups(papers: Tuple[Tuple[str, str, str], ...]) -> Tuple[Tuple[Tuple[int, str], ...], ...]:
    """The groups of papers given as (paper, condition, form number)."""
    groups: Dict[Tuple[str, str], List[int]] = {}
    for i, (paper, condition, form_number) in enumerate(papers):
        if condition:
            groups.setdefault(("condition", _head(paper)), []).append(i)
        elif form_number and _APPLICATION.match(paper.strip(" -")):
            groups.setdefault(("form", _head(paper, 2)), []).append(i)
    found = []
    for (kind, _), group in groups.items():
        keys = [condition_key(papers[i][1] or papers[i][0]) for i in group]  # what() of each
        if len(group) < 2 or len(set(keys)) < len(group):
            continue
        if kind == "form" and len({papers[i][2] for i in group}) < len(group):
            continue
        found.append(tuple(zip(group, keys)))
    return tuple(found)


def _excepted(condition: str, text: str, common: Set[Phrase]) -> bool:
    """Whether the message speaks of what the condition excepts ("… trừ hộ gia đình … sinh hoạt"): a phrase of the
    exception that neither the rest of the condition nor the procedure's name holds ("khai thác nước dưới đất")."""
    parts = EXCEPTION.split(condition or "", maxsplit=1)
    if len(parts) < 2:
        return False
    own = phrases(tokens(parts[1])) - phrases(tokens(parts[0])) - common
    return bool(own & phrases(tokens(text)))


def _spoken_of(docs: Sequence[Document], text: str, common: Set[Phrase]) -> Tuple[bool, Optional[Document]]:
    """Whether the message speaks of this group (an amount in a unit its conditions bound, or a phrase only one of
    them has, the procedure's own name's phrases aside: "nước biển" in "đăng ký khai thác nước mặt, nước biển"
    names no form), and the paper it names, if one: none when the amount and a phrase point to different ones
    ("8 m3 … moong khai thác khoáng sản")."""
    said = amounts(text)
    verdicts = [admits(what(d), said) for d in docs]
    index = named_among([what(d) for d in docs], text, common)
    by_phrase = docs[index - 1] if index else None
    if any(v is not None for v in verdicts):
        # an amount in a unit the conditions bound decides ("khoang 15 m3" may read as "khoáng" too)
        fitting = [d for d, v in zip(docs, verdicts) if v]
        named = fitting[0] if len(fitting) == 1 and by_phrase in (None, fitting[0]) else None
    elif by_phrase is None:
        return False, None
    else:
        named = by_phrase
    if named is not None and _excepted(what(named), text, common):  # a household's own use is not "up to 10 m3"
        named = None
    return True, named


def conditions_said(proc: Procedure, text: str, known: Sequence[str] = ()) -> Tuple[str, ...]:
    """The keys of the conditions named so far among ``proc``'s alternatives: ``known`` with, for each group the
    message speaks of, that group's key replaced by the one it names, or dropped when it names none ("à nhầm,
    khoảng 15 m3")."""
    keys = [k for k in known]
    common = phrases(tokens(proc.name)) | phrases(tokens(proc.chat_name))
    for case in proc.document_cases if text else ():
        for group in keyed_groups(case):
            docs = [case.documents[i] for i, _ in group]
            spoken, named = _spoken_of(docs, text, common)
            if spoken:
                own = {key for _, key in group}
                keys = [k for k in keys if k not in own] + [key for (i, key) in group if case.documents[i] is named]
    return latest(tuple(keys))


def alternatives(case: DocumentCase, said: Sequence[str]) -> Tuple[Set[int], Set[int]]:
    """Positions of the papers of ``case`` the citizen's named conditions settle, and of their siblings, left out.
    A group with more than one named (keys kept from elsewhere) settles none."""
    keys = set(said)
    chosen: Set[int] = set()
    out: Set[int] = set()
    for group in keyed_groups(case) if keys else ():
        named = {i for i, key in group if key in keys}
        if len(named) == 1:
            chosen |= named
            out |= {i for i, _ in group} - named
    return chosen, out


def paper_count(proc: Procedure) -> int:
    """How many papers the record lists, alternatives of one paper counted once."""
    return sum(len(case.documents) - sum(len(group) - 1 for group in sibling_groups(case))
               for case in proc.document_cases)
