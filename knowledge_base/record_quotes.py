"""The sentence of a procedure's record that answers a pointed question.

"co phai dang bao hay niem yet gi ko" about a lost certificate is answered by the step that says "Niêm yết
công khai về việc mất Giấy chứng nhận ... trong thời gian 15 ngày", not by the record's (empty) conditions.
The record's steps, conditions, documents and time notes are split into sentences; the question's words
that the procedure's name does not already hold are weighed by how rare they are across the catalogue's
records (a word every record holds says nothing), and the sentence holding most of that weight, with at
least one rare word (or, where the question has none, two words side by side that few records say together:
"đăng tin"), is quoted whole. Nothing is quoted when no sentence holds enough of the question: the
caller answers from the aspect's part of the record as before.
"""
from __future__ import annotations

import math
import re
import threading
from typing import AbstractSet, Callable, Dict, FrozenSet, List, Optional, Sequence, Tuple

from knowledge_base.schema import Procedure
from knowledge_base.text import clean_space

MAX_QUOTE = 420  # characters: a longer sentence is not quoted (a piece of it could read as something else)
MIN_QUOTE = 25
SHARE = 0.6  # of the question's weight a sentence must hold
RARE = 1.2  # idf of at least one word matched (in about a third of the records or fewer)
RARE_PAIR = 2.3  # or, where no word is, of two words side by side (in a tenth of the records or fewer)

_SENTENCE = re.compile(r"\n+|(?<=[.;:])\s+(?=\S)|\s+(?=[-–•+]\s)|\s+(?=[a-zđ]\)\s)")
_BULLET = re.compile(r"^(?:[\s\-–•+*]|[a-zđ]\)|\d{1,2}[.)](?!\d))+|[\s;.]+$")
_UNFINISHED = re.compile(r"[,:]\s*$")  # a lead-in to a list ("… sau:") or a broken-off clause
# Folded words of asking, which citizens type and records seldom need to: "xin cấp lại có phải đăng tin không" asks
# whether to post a notice; "xin" (in a tenth of the records) would otherwise be a rare word no sentence holds
_ASKING = frozenset({"xin"})


def record_sentences(proc: Procedure) -> List[str]:
    """The record's steps, conditions, documents and time notes as whole sentences (bullets removed)."""
    texts = [*(s.description for s in proc.steps), *(s.name for s in proc.steps), proc.conditions,
             *(d.name for d in proc.documents), *(c.time.note for c in proc.channels)]
    out: List[str] = []
    for text in texts:
        for part in _SENTENCE.split(text or ""):
            if not part or _UNFINISHED.search(part):
                continue
            part = clean_space(_BULLET.sub("", part))
            if MIN_QUOTE <= len(part) <= MAX_QUOTE:
                out.append(part)
    return list(dict.fromkeys(out))


class RecordQuotes:
    """Quotes from the records of ``procedures``; ``tokens`` folds a text into the search's word tokens."""

    def __init__(self, procedures: Sequence[Procedure], tokens: Callable[[str], List[str]]):
        self.procedures = procedures  # the caller's own sequence: it tells whether these quotes are still its
        self.tokens = tokens
        self._idf: Optional[Dict[str, float]] = None
        # code -> its sentences with their tokens, and every word of those sentences (split and folded once)
        self._said: Dict[str, Tuple[List[Tuple[str, List[str]]], FrozenSet[str]]] = {}
        self._lock = threading.Lock()

    def _record(self, proc: Procedure) -> Tuple[List[Tuple[str, List[str]]], FrozenSet[str]]:
        entry = self._said.get(proc.code)
        if entry is None:
            said = [(s, self.tokens(s)) for s in record_sentences(proc)]
            entry = self._said[proc.code] = (said, frozenset().union(*(set(tokens) for _, tokens in said)))
        return entry

    def said(self, proc: Procedure) -> List[Tuple[str, List[str]]]:
        """``proc``'s record sentences with their tokens, split and folded once."""
        return self._record(proc)[0]

    def words(self, proc: Procedure) -> FrozenSet[str]:
        """Every word of ``proc``'s record sentences (gathered once)."""
        return self._record(proc)[1]

    @property
    def idf(self) -> Dict[str, float]:
        """log(records / records holding the word), over every record's sentences and name (built once); the same of
        two words side by side in a record's sentences, keyed by the two joined by a space ("dang tin")."""
        if self._idf is None:
            with self._lock:
                if self._idf is None:
                    df: Dict[str, int] = {}
                    for proc in self.procedures:
                        held = set(self.tokens(proc.name)).union(*(t for _, t in self.said(proc)))
                        held |= {f"{a} {b}" for _, t in self.said(proc) for a, b in zip(t, t[1:])}
                        for word in held:
                            df[word] = df.get(word, 0) + 1
                    n = max(len(self.procedures), 1)
                    self._idf = {w: math.log(n / c) for w, c in df.items()}
        return self._idf

    def quote(self, proc: Procedure, asked: Sequence[str], who: AbstractSet[str] = frozenset()) -> Optional[str]:
        """The sentence of ``proc``'s record that holds every rare word of what ``asked`` (the question's content
        tokens) names beyond the procedure's name, two of them side by side as asked, and most of the rest; of
        those, the one that says them earliest (the sentence about them, not one that mentions them in
        passing). Where the question has no rare word, two of its words side by side that few records say together
        ("đăng tin") stand for them: the sentence must say one such pair as asked, the rarest it says weighs in, and
        the earliest pair decides. Words of asking ("xin") and ``who`` asks ("công ty") count only where the record
        says them ("tổ chức" may be what a condition turns on). None when no sentence does."""
        idf = self.idf
        named = set(self.tokens(proc.name))
        recorded = self.words(proc)
        kept = [w for w in asked if w in recorded or w not in _ASKING and w not in who]
        words = [w for w in dict.fromkeys(kept) if w not in named and idf.get(w, 0.0) > 0.05]
        rare = {w for w in words if idf[w] >= RARE}
        if rare:
            asked_pairs = {(a, b) for a, b in zip(asked, asked[1:]) if a in rare or b in rare}  # as typed, side by side
        else:  # "có phải đăng tin trên báo không": no word of it is rare, "đăng tin" side by side is
            asked_pairs = {(a, b) for a, b in zip(asked, asked[1:])
                           if a in words and b in words and idf.get(f"{a} {b}", 0.0) >= RARE_PAIR}
        if not asked_pairs:
            return None

        def pairs_weight(pairs: AbstractSet[Tuple[str, str]]) -> float:  # where pairs stand for rare words, the rarest
            return 0.0 if rare else max(idf[f"{a} {b}"] for a, b in pairs)

        total = sum(idf[w] for w in words) + pairs_weight(asked_pairs)
        best, best_key = None, None
        for sentence, said in self.said(proc):
            held = set(said) & set(words)
            pairs = asked_pairs & set(zip(said, said[1:]))
            if not rare <= held or not pairs:
                continue
            weight = sum(idf[w] for w in held) + pairs_weight(pairs)
            if weight < SHARE * total:
                continue
            first = min(said.index(w) for w in rare) if rare \
                else next(i for i, pair in enumerate(zip(said, said[1:])) if pair in pairs)
            key = (-first, weight)
            if best_key is None or key > best_key:
                best, best_key = sentence, key
        return best
