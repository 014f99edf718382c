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

import hashlib
import re
import unicodedata
from collections import Counter
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from core.text import fold, nfc
from knowledge_base.schema import Document, DocumentCase, Procedure
from knowledge_base.text import CASE_ENUMERATOR, TextNormalizer, words

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


def _tone(word: str) -> str:
    """The word with its ngã tone read as hỏi: many write one for the other ("sạt lỡ" for "sạt lở")."""
    return unicodedata.normalize("NFD", word).replace("\u0303", "\u0309")


def _same(said: Phrase, written: Set[Phrase]) -> bool:
    """A word typed without accents is any accented one; a word typed with them is only itself, or itself with hỏi
    and ngã swapped: "khoảng 15 m3" is no "khoáng sản"."""
    return any(all(s == fold(s) or _tone(s) == _tone(w) for s, w in zip(said, form)) for form in written)


def named_among(headings: Sequence[str], question: str, common: Iterable[Phrase] = ()) -> Optional[int]:
    """Which of ``headings`` the question names (1-based): by a two-word phrase no other heading has, one of whose
    words no other heading uses ("đổi số" is no "thay đổi số hiệu" when both words are other headings' too).
    ``common`` phrases (folded) name none (the procedure's own name says what every case is). None when none, or
    several, are named."""
    own = set(common)
    written = [_forms(typed(h)) for h in headings]
    folded = [[fold(w) for w in typed(h)] for h in headings]
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
_UNITS = {"m3": "m3", "khoi": "m3", "met khoi": "m3", "ha": "ha", "hecta": "ha", "hec ta": "ha", "m2": "m2",
          "met vuong": "m2"}
_NUMBER = r"(\d{1,3}(?:\.\d{3})+|\d+(?:,\d+)?)"
_UNIT = r"(m3|khoi|met khoi|ha|hecta|hec ta|m2|met vuong)\b"
_AMOUNT = re.compile(_NUMBER + r"\s*" + _UNIT)
# a bound: "không vượt quá 10m3", "dưới 3.000 m3", "trên 10 m3", "từ 10 m3 trở lên"; folded text
_AT_MOST = re.compile(r"\b(?:khong vuot qua|khong qua|toi da|nho hon hoac bang|duoi|nho hon|it hon)\s*"
                      + _NUMBER + r"\s*" + _UNIT)
_AT_LEAST = re.compile(r"(?<!khong )\b(?:tren|vuot qua|lon hon|nhieu hon)\s*" + _NUMBER + r"\s*" + _UNIT)
_FROM = re.compile(r"\btu\s*" + _NUMBER + r"\s*" + _UNIT + r"[^,;]{0,16}?\btro len")
_STRICT = ("duoi", "nho hon", "it hon", "tren", "vuot qua", "lon hon", "nhieu hon")


def _number(value: str) -> float:
    """'3.000' is three thousand, '0,5' a half (Vietnamese separators)."""
    return float(value.replace(".", "").replace(",", "."))


def amounts(text: str) -> List[Tuple[float, str]]:
    """The amounts a citizen gives, with their unit: "khoảng 8 m3 mỗi ngày" -> [(8.0, "m3")]."""
    folded = fold((text or "").lower())
    return [(_number(n), _UNITS[u]) for n, u in _AMOUNT.findall(folded)]


def _bounds(condition: str) -> List[Tuple[str, float, str, bool]]:
    """(side, value, unit, strict) of every bound the condition sets on an amount."""
    folded = fold((condition or "").lower())
    out = []
    for m in _AT_MOST.finditer(folded):
        out.append(("max", _number(m.group(1)), _UNITS[m.group(2)], m.group(0).startswith(_STRICT)))
    for m in _AT_LEAST.finditer(folded):
        out.append(("min", _number(m.group(1)), _UNITS[m.group(2)], True))
    for m in _FROM.finditer(folded):
        out.append(("min", _number(m.group(1)), _UNITS[m.group(2)], False))
    return out


def admits(condition: str, said: Sequence[Tuple[float, str]]) -> Optional[bool]:
    """Whether the amounts said fall within the condition's bounds; None when it sets none on their units."""
    verdict: Optional[bool] = None
    for side, bound, unit, strict in _bounds(condition):
        for value, said_unit in said:
            if said_unit != unit:
                continue
            fits = (value < bound if strict else value <= bound) if side == "max" \
                else (value > bound if strict else value >= bound)
            verdict = fits if verdict is None else verdict and fits
    return verdict


# ------------------------------------------------------------------ alternatives of one paper
_FORM = re.compile(r"\bmau\s*(?:so\s*)?[0-9][0-9a-z.\-]*", re.IGNORECASE)


def condition_key(condition: str) -> str:
    """A short stable key of a condition's wording (what a conversation keeps, never the citizen's words)."""
    return hashlib.sha1(" ".join(tokens(condition)).encode("utf-8")).hexdigest()[:8]


def sibling_groups(case: DocumentCase) -> List[List[int]]:
    """Papers of ``case`` (their positions) that are one paper under different conditions: the same wording once
    the form number is set aside ("Tờ khai … theo Mẫu 13" / "… Mẫu 14"), each with its own condition. Groups of two
    or more."""
    groups: Dict[str, List[int]] = {}
    for i, doc in enumerate(case.documents):
        if doc.condition:
            head = _FORM.sub("", " ".join(tokens(doc.paper)))
            groups.setdefault(" ".join(head.split()), []).append(i)
    return [group for group in groups.values()
            if len(group) >= 2 and len({condition_key(case.documents[i].condition) for i in group}) == len(group)]


def _named_condition(docs: Sequence[Document], text: str, said: Sequence[Tuple[float, str]]) -> Optional[Document]:
    verdicts = [admits(d.condition, said) for d in docs]
    if any(v is not None for v in verdicts):
        # an amount in a unit the conditions bound decides alone ("khoang 15 m3" may read as "khoáng" too)
        fitting = [d for d, v in zip(docs, verdicts) if v]
        return fitting[0] if len(fitting) == 1 else None
    named = named_among([d.condition for d in docs], text)
    return docs[named - 1] if named else None


def conditions_said(proc: Procedure, text: str) -> Tuple[str, ...]:
    """Keys of the conditions ``text`` names among each group of alternatives of ``proc``'s papers."""
    if not text:
        return ()
    said = amounts(text)
    keys = []
    for case in proc.document_cases:
        for group in sibling_groups(case):
            doc = _named_condition([case.documents[i] for i in group], text, said)
            if doc is not None:
                keys.append(condition_key(doc.condition))
    return tuple(dict.fromkeys(keys))


def left_out(case: DocumentCase, said: Sequence[str]) -> Set[int]:
    """Positions of the papers of ``case`` whose sibling's condition the citizen named, theirs not."""
    if not said:
        return set()
    keys = set(said)
    out: Set[int] = set()
    for group in sibling_groups(case):
        named = {i for i in group if condition_key(case.documents[i].condition) in keys}
        if named:
            out |= set(group) - named
    return out
