"""Grouping questions that mean the same: the same question asked 40 ways is one row.

Texts are compared on their folded content words (no accents, case or abbreviations, no filler
words such as "cho em hỏi", "ạ", "với"); two phrasings belong together when their word sets
overlap enough (Jaccard). Staff answers (FAQ) are matched the same way.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Set

from core.text import fold
from knowledge_base.text import _default_normalizer, words

FILLER = set("""a ad ah ak a~ ba bac ban ban~ bot cho chi chu co con cung da dang day de di duoc em gi giup ha hay hoi
huong i khong ko k la lam lai luon ma minh minh nao nay nhe nhi nho oi o roi sao thi toi tu va ve voi vay xin
u uh ung vang dc dk the anh chau""".split())


def key_of(text: str) -> str:
    """The comparison key of a text: its folded words, filler removed, in order."""
    tokens = words(fold(_default_normalizer().normalize(text or "")))
    content = [t for t in tokens if t not in FILLER]
    return " ".join(content or tokens)


def similarity(a: Set[str], b: Set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


@dataclass
class Group:
    """Phrasings that mean the same, with every occurrence (rows of the review log)."""

    key: str
    tokens: Set[str]
    rows: List[dict] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def latest(self):
        return max(r["asked_at"] for r in self.rows)

    @property
    def phrasings(self) -> List[str]:
        seen: Dict[str, int] = {}
        for r in self.rows:
            seen[r["text"]] = seen.get(r["text"], 0) + 1
        return sorted(seen, key=lambda t: (-seen[t], t))

    @property
    def keys(self) -> List[str]:
        return sorted({key_of(r["text"]) for r in self.rows})


def group_questions(rows: Iterable[dict], threshold: float = 0.5) -> List[Group]:
    """Groups of review-log rows (``text``, ``asked_at``...), most asked first, then newest."""
    by_key: Dict[str, List[dict]] = {}
    for row in rows:
        by_key.setdefault(key_of(row["text"]), []).append(row)
    groups: List[Group] = []
    for key in sorted(by_key, key=lambda k: (-len(by_key[k]), k)):
        tokens = set(key.split())
        best: Optional[Group] = None
        best_score = threshold
        for group in groups:
            score = similarity(tokens, group.tokens)
            if score >= best_score:
                best, best_score = group, score
        if best is None:
            best = Group(key, tokens)
            groups.append(best)
        best.rows.extend(by_key[key])
    return sorted(groups, key=lambda g: (-g.count, -g.latest.timestamp()))


def best_faq(text: str, faqs: Sequence[dict], threshold: float = 0.6) -> Optional[dict]:
    """The staff answer whose question is closest to ``text`` (None below ``threshold``)."""
    tokens = set(key_of(text).split())
    best, best_score = None, threshold
    for faq in faqs:
        score = similarity(tokens, set(key_of(faq["question"]).split()))
        if score >= best_score:
            best, best_score = faq, score
    return best
