"""Vietnamese text handling: Unicode and tone-mark normalisation, folding, abbreviations, synonyms.

Citizens type with or without diacritics, with either tone-mark placement ("hoà" / "hòa"),
in any case and with shorthand ("ko", "dc", "gcn qsdd"). Everything that compares text
(lexical index, dense retriever, NLU tokenizer) goes through :class:`TextNormalizer`, so
those differences never matter.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Set, Tuple, TypeVar

import yaml

from core.text import fold, nfc

T = TypeVar("T")
DATA_DIR = Path(__file__).resolve().parent / "data"
# questions no procedure answers: the negatives of the retriever's confidence fit (embedding.calibration)
CALIBRATION_OUTSIDE = DATA_DIR / "calibration_outside.yml"
# citizen-worded questions with their procedures: the positives of that fit (written apart from aliases and dev sets)
CALIBRATION_QUESTIONS = DATA_DIR / "calibration_questions.yml"
# citizen-worded questions the encoder is fine-tuned on (written apart from the calibration and development sets)
TRAINING_QUESTIONS = DATA_DIR / "training_questions.yml"

_WORD_RE = re.compile(r"[0-9a-zà-ỹđ]+(?:[./&-][0-9a-zà-ỹđ]+)*", re.IGNORECASE)
# Words and the punctuation marks (or emoji) between them, in order.
PIECE_RE = re.compile(_WORD_RE.pattern + r"|[^\s\w]", re.IGNORECASE)
_SPACE_RE = re.compile(r"\s+")


def words(text: str) -> List[str]:
    """Split lower-cased text into word tokens (keeps codes like 151/2025/nđ-cp whole)."""
    return _WORD_RE.findall((text or "").lower())


def word_spans(text: str) -> List[Tuple[int, int]]:
    """Where each of ``words(text)`` stands in ``text``: (start, end) character offsets."""
    return [m.span() for m in _WORD_RE.finditer((text or "").lower())]


def phrasing_key(text: str) -> str:
    """A phrasing's words, folded: two phrasings with the same key are the same whatever their accents, case and
    punctuation between words (how a question is matched to an alias staff mapped, and a new alias told from the
    known ones)."""
    return " ".join(words(fold(text)))


@functools.lru_cache(maxsize=8)
def phrases(text: str, n: int) -> Set[Tuple[str, ...]]:
    """Every run of ``n`` words of ``text``, diacritics folded and lower-cased: how question sets are kept apart
    (a development question may not echo an alias, nor a training question a held one)."""
    tokens = phrasing_key(text).split()
    return {tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}


def _load_yaml_map(path: str) -> Dict[str, str]:
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    return {str(k): str(v) for k, v in data.items()}


class PhraseTable:
    """Phrases mapped to values, found in a word list by leftmost-longest matching.

    Phrases are compared on folded words; where the text's word carries accents it must be the
    phrase's own word ("số" never reads as "sổ"), and a word typed without accents matches any.
    Several accented phrases may share a folded form ("hồ sơ" and "sổ" both fold to "so").
    """

    def __init__(self, entries: Iterable[Tuple[str, object]], strict_words: bool = False):
        """Build from (phrase, value) pairs; phrases are plain text, any case or accents.

        ``strict_words``: a one-word phrase with accents matches only a word typed with them
        (unaccented "do" could be "dở", "đỏ" or "do"; two words together are far less ambiguous).
        """
        self.strict_words = strict_words
        self._map: Dict[Tuple[str, ...], List[Tuple[Tuple[str, ...], object]]] = {}
        for phrase, value in entries:
            accented = tuple(words(nfc(phrase.lower())))
            if accented:
                self._map.setdefault(tuple(words(fold(phrase))), []).append((accented, value))
        self._longest = max((len(p) for p in self._map), default=0)

    def __len__(self) -> int:
        """Number of distinct folded phrases."""
        return len(self._map)

    def phrases(self) -> List[str]:
        """The distinct phrases, folded, words joined by spaces."""
        return [" ".join(p) for p in self._map]

    def find(self, folded_tokens: List[str], tokens: Optional[List[str]] = None) -> List[Tuple[int, int, object]]:
        """(start, end, value) of each match, left to right, longest first, never overlapping.

        ``tokens`` are the same words as typed (with their accents where known).
        """
        n = len(folded_tokens)
        # Each word as typed where it carries accents, None where it does not (it matches any).
        typed: List[Optional[str]] = [t if t != f else None for t, f in zip(tokens, folded_tokens)] \
            if tokens is not None and len(tokens) == n else [None] * n
        found: List[Tuple[int, int, object]] = []
        i = 0
        while i < n:
            for k in range(min(self._longest, n - i), 0, -1):
                hit = self._match(tuple(folded_tokens[i:i + k]), typed[i:i + k])
                if hit is not None:
                    found.append((i, i + k, hit[0]))
                    i += k
                    break
            else:
                i += 1
        return found

    def _match(self, folded: Tuple[str, ...], typed: List[Optional[str]]) -> Optional[Tuple[object]]:
        """(value,) of the phrase ``folded`` as typed, None if no phrase matches."""
        for accented, value in self._map.get(folded, ()):
            if self.strict_words and len(accented) == 1 and accented != folded and typed[0] is None:
                continue
            if all(t is None or t == a for t, a in zip(typed, accented)):
                return (value,)
        return None


def ends_sentence(pieces: List[str]) -> List[bool]:
    """For each piece (a word or a punctuation mark), whether nothing but punctuation or the text's end
    follows it: a word there ends a sentence."""
    return [i + 1 == len(pieces) or not pieces[i + 1][0].isalnum() for i in range(len(pieces))]


# "cái thứ hai", "số 2", "cái cuối": the position a reply picks (-1: the last)
# A reply to "Có phải bạn hỏi về …?" that opens with a no ("không phải", "sai rồi"), or with a yes ("đúng rồi",
# "vâng", "thủ tục đó") before what it asks; read on folded words, at the start of the message only.
_REFUSAL = re.compile(r"^(?:(?:khong|ko|k|hong|chang)\s+(?:phai|dung)|sai|nham)\b(?:\s+(?:roi|a|nhe|nha))*\b")
_ASSENT = re.compile(r"^(?:(?:dung\s+roi|dung\s+vay|dung|vang|da|a|u|uh|ok|oke|okay|co|phai|chinh\s+xac)\b[\s,.!]*)+"
                     r"|^(?:thu\s+tuc|cai)\s+(?:do|nay|ay|tren)\b[\s,.!]*")


def reply_to_offer(text: str) -> Tuple[bool, str]:
    """(whether a reply to "Có phải bạn hỏi về …?" opens with a no, what it asks once the leading yes or no is
    taken off, folded): "đúng rồi, mất bao lâu" -> (False, "mat bao lau"); "không phải, tách thửa" -> (True,
    "tach thua")."""
    folded = phrasing_key(text)
    refused = _REFUSAL.match(folded)
    if refused:
        return True, _ASSENT.sub("", folded[refused.end():].strip(), count=1).strip()
    return False, _ASSENT.sub("", folded, count=1).strip()


_ORDINALS = {"nhat": 1, "mot": 1, "dau": 1, "1": 1, "hai": 2, "2": 2, "ba": 3, "3": 3, "cuoi": -1}


def ordinal_in(text: str, count: int) -> Optional[int]:
    """The 1-based position among ``count`` options that ``text`` names by its last ordinal word, if any."""
    for word in reversed(re.findall(r"\w+", fold(text))):
        index = _ORDINALS.get(word)
        if index == -1 and count:
            return count
        if index is not None and 1 <= index <= count:
            return index
    return None


# A normaliser keeps the normal form of this many recent texts, each at most NORMALIZED_LONGEST characters: messages and
# catalogue phrases, not whole record sections (those reach 8,906 characters and would push the messages out). The
# situation table keeps its readings of texts as long (situation.SituationTable._reading).
NORMALIZED_KEPT = 4096
NORMALIZED_LONGEST = 500

# Unaccented shorthand that, ending a sentence, is far more often a particle (ạ, à) than a word.
FINAL_PARTICLES = ("a",)


class TextNormalizer:
    """Normalises citizen text: NFC, tone placement, case, abbreviations, synonyms, folding."""

    def __init__(self, abbreviations: Dict[str, str], synonyms: Dict[str, str]):
        """Build from an abbreviation map (token -> words) and a synonym map (phrase -> official)."""
        self.abbreviations = {fold(k): nfc(v.lower()) for k, v in abbreviations.items()}
        # Shorthand that is also a sentence-final particle once its accents are gone: "a" is
        # "anh" in "a oi cho e hoi" but "ạ" / "à" in "chua a", "vang a", "bot a".
        self.final_particles = {w for w in FINAL_PARTICLES if w in self.abbreviations}
        # An empty official wording marks a protected phrase ("hồ sơ"), matched only so that
        # its words do not trigger a shorter slang phrase ("sổ") once the accents are gone.
        self._synonyms = PhraseTable((k, nfc(v.lower())) for k, v in synonyms.items())
        self._keep_normalized()

    def _keep_normalized(self) -> None:
        # One message is normalised about fifteen times on its way (the search, the request, the case, the limits,
        # another agency's service…): the recent short texts are kept (the tables never change after __init__)
        self._normalized = functools.lru_cache(maxsize=NORMALIZED_KEPT)(self.expand_abbreviations)

    def __getstate__(self) -> dict:
        """The tables, without the kept texts (a cache bound to this instance neither pickles nor copies)."""
        return {k: v for k, v in self.__dict__.items() if k != "_normalized"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._keep_normalized()

    @classmethod
    def default(cls) -> TextNormalizer:
        """The normaliser built from the tables shipped in knowledge_base/data."""
        return _default_normalizer()

    def expand_abbreviations(self, text: str) -> str:
        """Lower-case ``text`` and replace shorthand tokens by their expansion."""
        pieces = PIECE_RE.findall(nfc((text or "").lower()))
        return " ".join(self.expand_word(piece, final=final)
                        for piece, final in zip(pieces, ends_sentence(pieces)) if piece[0].isalnum())

    def expand_word(self, word: str, final: bool = False) -> str:
        """The expansion of one typed word if it is shorthand, else the word in lower case.

        Shorthand is typed without tone or vowel marks ("dc", "sdt", "nguoi"), "đ" aside
        ("đc", "sđt"). A word with such marks is a word of its own: "nguội", "dược" and "ạ" are
        not "người", "được" and "anh". A ``final`` word (it ends a sentence) that is also a
        particle ("chua a": "chưa ạ") stays as typed.
        """
        low = nfc(word.lower())
        folded = fold(low)
        if low.replace("đ", "d") != folded or (final and folded in self.final_particles):
            return low
        return self.abbreviations.get(folded, low)

    def normalize(self, text: str) -> str:
        """Accent-preserving canonical form: NFC, lower case, shorthand expanded."""
        return self._normalized(text) if len(text or "") <= NORMALIZED_LONGEST else self.expand_abbreviations(text)

    def synonym_expansions(self, folded_tokens: List[str], tokens: Optional[List[str]] = None) -> List[str]:
        """Official wordings of the colloquial phrases in the folded token list.

        Leftmost-longest matching without overlaps: "tách sổ đỏ" expands as "tách sổ" only,
        not also as "sổ đỏ" and "sổ", so generic words do not flood the query. ``tokens`` are
        the same words with their accents (when known): an accented word must then be the
        phrase's own word, so "số điện thoại" or "sở" never read as "sổ"; a word typed without
        accents matches any of them.
        """
        return unique(str(official) for _, _, official in self._synonyms.find(folded_tokens, tokens) if official)

    def for_search(self, text: str) -> str:
        """Query text for retrieval: normalised words plus the official wording of slang."""
        norm = self.normalize(text)
        extra = self.synonym_expansions(words(fold(norm)), words(norm))
        return " ".join([norm] + extra)

    def folded_tokens(self, text: str) -> List[str]:
        """Folded word tokens of ``for_search(text)``: what the lexical index compares."""
        return words(fold(self.for_search(text)))


@functools.lru_cache(maxsize=1)
def _default_normalizer() -> TextNormalizer:
    return TextNormalizer(
        _load_yaml_map(str(DATA_DIR / "abbreviations.yml")),
        _load_yaml_map(str(DATA_DIR / "synonyms.yml")),
    )


# a case heading's enumerator: "b) ", "1. ", "1.2) "
CASE_ENUMERATOR = re.compile(r"^\s*((?:\d+|[a-zđ])(?:\.\d+)?)[.)]\s+", re.IGNORECASE)
# a record's letter before one paper of a list ("a) Đơn đề nghị …", "a1) Bản chính …"): the chat lists papers as
# bullets, in its own order, so the letter says nothing there (and "b)" alone would read as a missing "a)")
ITEM_LETTER = re.compile(r"^\s*[a-zđ]\d?\)\s+", re.IGNORECASE)
# an amount a fee's note states ("40.000 đồng/lần", "6.000.000 đồng/01 cơ sở/lần")
NOTE_AMOUNT = re.compile(r"\d\s*(?:đồng|vnđ|vnd)\b", re.IGNORECASE)
# a step's label and enumerator before its name ("a) Bước 1:", "1.1. ")
STEP_LABEL = re.compile(r"^\s*(?:[a-zđ]\)\s*)?Bước\s*\d+\s*[:.\-–]?\s*", re.IGNORECASE)
STEP_ENUMERATOR = re.compile(r"^\s*(?:[a-zđ]|\d+(?:\.\d+)*)[.)]\s+(?=\w)", re.IGNORECASE)


def bare_step_name(name: str) -> str:
    """A step's name without the record's labels and enumerator ("a) Bước 1: a. Tiêu hủy động vật" -> "Tiêu hủy
    động vật"): the answers number or name the steps themselves."""
    while STEP_LABEL.match(name):
        name = STEP_LABEL.sub("", name, count=1)
    return STEP_ENUMERATOR.sub("", name)
# a time it takes ("07 ngày làm việc", "03 tháng"), never a date ("ngày 15 tháng 5")
DURATION = re.compile(r"(?<!ngày )(?<!tháng )\b\d+\s*(?:ngày|tháng|giờ)\b(?!\s*\d)", re.IGNORECASE)
# a section's number before a case's heading ("4.3.1.1. Hồ sơ đề nghị cấp …")
SECTION_NUMBER = re.compile(r"^\s*\d{1,2}(?:\.\d{1,2}){2,}\.?\s+")


def clean_space(text: str) -> str:
    """Collapse runs of white space and strip."""
    return _SPACE_RE.sub(" ", text or "").strip()


def split_outside_parens(text: str, sep: str = ",") -> List[str]:
    """Split on ``sep`` except inside parentheses: 'A, B (x, y)' -> ['A', 'B (x, y)']."""
    parts: List[str] = []
    cur: List[str] = []
    depth = 0
    for ch in text or "":
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [clean_space(p) for p in parts if clean_space(p)]


def unique(items: Iterable[T]) -> List[T]:
    """Drop duplicates, keeping the first occurrence's order."""
    seen: Set[T] = set()
    out: List[T] = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out
