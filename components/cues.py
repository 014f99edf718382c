"""Lexical cues for intent classification, added to a message's tokens by the tokenizer.

Word n-grams learn only the words the training examples happen to use. Three kinds of general
knowledge help with phrasings no example has:

- negation scope: the words right after "không", "chưa", "chẳng" are marked ("không rõ ràng"
  gives "negro", "negrang"), so a negated praise does not read as praise;
- polarity: evaluative words from a lexicon (lexicons/sentiment.yml) give a positive or
  negative cue, flipped by a negation just before ("không tốt" -> negative); a one-word
  entry counts only when typed with its accents ("dở", not "do", which is also "đỏ");
- other agencies' services (knowledge_base/data/other_domains.yml: passport, marriage,
  vehicles…) give an out-of-scope cue;
- number shape: a number of four digits or more is a code or the last digits of a phone or ID
  ("0361"); a message that is only a one- or two-digit number ("3", "2 ạ") is a position in an
  offered list. Word n-grams only know the numbers the examples happen to use. (A cue for every
  short number was tried: "thứ 7", "5 sao" then read as choices.)

Plain module, no Rasa imports: it works on word lists (folded, and as typed).
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Collection, Iterable, List, Optional

import yaml

from core.text import fold
from knowledge_base.scope import OtherAgencies
from knowledge_base.text import PhraseTable

LEXICONS = Path(__file__).resolve().parent / "lexicons"

# Negations as typed with accents, and the unaccented spellings that are safe to read as one
# ("cha" is more often "cha" (father) than "chả"; "dung" is "dùng" / "dụng", not "đừng").
NEGATIONS_ACCENTED = frozenset({"không", "chẳng", "chả", "chưa", "đừng", "chớ"})
NEGATIONS_FOLDED = frozenset({"khong", "chang", "chua"})
# Sentence-final particles and forms of address: not part of what is negated.
PARTICLES = frozenset(fold(w) for w in ("a", "ạ", "nhé", "nha", "nhỉ", "vậy", "thế", "hả", "ơi",
                                        "bạn", "em", "anh", "chị", "ad", "admin", "bot", "lắm", "quá"))
NEGATION_SCOPE = 3       # words marked after a negation
POLARITY_WINDOW = 2      # a negation this many words before an evaluative word flips it

NEGATED_PREFIX = "neg"
CUE_POSITIVE = "cuetichcuc"
CUE_NEGATIVE = "cuetieucuc"
CUE_OTHER_AGENCY = "cuengoailinhvuc"
CUE_LONG_NUMBER = "cuesodai"
CUE_CHOICE_NUMBER = "cuesochon"


def is_negation(folded: str, typed: str) -> bool:
    """Whether a word is a negation: by its accents where typed with them, else by safe spellings."""
    if typed != folded:
        return typed in NEGATIONS_ACCENTED
    return folded in NEGATIONS_FOLDED


class CueFinder:
    """Finds the cue tokens of a message's words."""

    def __init__(self, polarity: PhraseTable, agencies: OtherAgencies):
        """Build from a polarity table (phrase -> 'positive' / 'negative') and the agencies table."""
        self.polarity = polarity
        self.agencies = agencies

    @classmethod
    def load(cls, sentiment_path: Path, agencies: OtherAgencies) -> CueFinder:
        """Read the polarity lexicon: ``positive: [...]``, ``negative: [...]``."""
        with open(sentiment_path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
        entries = [(str(term), polarity) for polarity in ("positive", "negative") for term in data.get(polarity) or []]
        return cls(PhraseTable(entries, strict_words=True), agencies)

    @classmethod
    def default(cls) -> CueFinder:
        """The finder built from the shipped lexicons."""
        return _default()

    def cues(self, folded: List[str], typed: Optional[List[str]] = None, breaks: Collection[int] = ()) -> List[str]:
        """Cue tokens for the words ``folded`` (``typed``: the same words with accents).

        ``breaks``: word indices where a clause starts (after punctuation); negation stops there.
        """
        if typed is None or len(typed) != len(folded):
            typed = folded  # accents unknown: every word reads as typed without them
        negated = [is_negation(f, t) for f, t in zip(folded, typed)]
        out = list(self._negation_scope(folded, negated, set(breaks)))
        for start, _, polarity in self.polarity.find(folded, typed):
            if any(negated[j] for j in range(max(0, start - POLARITY_WINDOW), start)):
                polarity = "negative" if polarity == "positive" else "positive"
            out.append(CUE_POSITIVE if polarity == "positive" else CUE_NEGATIVE)
        if self.agencies.agency_in(folded, typed) is not None:
            out.append(CUE_OTHER_AGENCY)
        out.extend(number_cues(folded))
        return out

    @staticmethod
    def _negation_scope(folded: List[str], negated: List[bool], breaks: Collection[int]) -> Iterable[str]:
        """'neg' + each of the few content words after a negation, within its clause."""
        left = 0
        for i, word in enumerate(folded):
            if i in breaks:
                left = 0
            if negated[i]:
                left = NEGATION_SCOPE
            elif left and word not in PARTICLES:
                yield NEGATED_PREFIX + word
                left -= 1


def number_cues(words: List[str]) -> List[str]:
    """A cue per long number (four digits or more: a code, the last digits of a phone or ID), and
    one when the message is nothing but a short number (a position in an offered list)."""
    out = [CUE_LONG_NUMBER for word in words if word.isdigit() and len(word) >= 4]
    rest = [word for word in words if word not in PARTICLES]
    if len(rest) == 1 and rest[0].isdigit() and len(rest[0]) <= 2 and not rest[0].startswith("0"):
        out.append(CUE_CHOICE_NUMBER)
    return out


@functools.lru_cache(maxsize=1)
def _default() -> CueFinder:
    return CueFinder.load(LEXICONS / "sentiment.yml", OtherAgencies.default())
