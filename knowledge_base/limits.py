"""What the department does not decide inside its own procedures: taxes, notarisation, residence, marriage.

"sang tên sổ đỏ có phải nộp thuế không" names one of our procedures, but what it asks is the tax
office's. The table ``data/limits.yml`` names each such topic, the agency that decides it, and the
short answer to give instead of a neighbouring aspect of the procedure (its fee).
"""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

import yaml

from core.text import fold
from knowledge_base.text import DATA_DIR, PhraseTable, TextNormalizer, words

_OURS = ""


@dataclass(frozen=True)
class Limit:
    """A topic another agency decides: its key, the agency, and what the assistant says."""

    topic: str
    agency: str
    answer: str
    procedure: Optional[str] = None  # our procedure this part belongs to ("the registration that follows")


class Limits:
    """The topics of ``data/limits.yml``, found in a citizen's words."""

    def __init__(self, topics: List[Limit], phrases: List[Tuple[str, str]], ours: List[str],
                 unless: Optional[List[Tuple[str, str]]] = None, when: Optional[List[Tuple[str, str]]] = None,
                 when_not: Optional[List[Tuple[str, str]]] = None):
        """Build from the topics, (phrase, topic) pairs, the phrases that make any question ours, (phrase, topic)
        pairs that make a question ours for that topic only, and (phrase, topic) pairs one of which a question
        must name (and none of ``when_not``'s) for the topic's procedure to be the one it leads to."""
        self.topics = {t.topic: t for t in topics}
        self.table = PhraseTable(phrases + [(p, _OURS) for p in ours], strict_words=True)
        self.unless = PhraseTable(unless or [], strict_words=True)
        self.when = PhraseTable(when or [], strict_words=True)
        self.when_not = PhraseTable(when_not or [], strict_words=True)
        self.normalizer = TextNormalizer.default()

    @classmethod
    def load(cls, path: Path) -> Limits:
        """Read a table file."""
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
        topics, phrases, unless, when, when_not = [], [], [], [], []
        for key, spec in (data.get("topics") or {}).items():
            topics.append(Limit(str(key), str(spec["agency"]), " ".join(str(spec["answer"]).split()),
                                str(spec["procedure"]) if spec.get("procedure") else None))
            phrases += [(str(p), str(key)) for p in spec.get("phrases") or ()]
            unless += [(str(p), str(key)) for p in spec.get("unless") or ()]
            when += [(str(p), str(key)) for p in spec.get("procedure_when") or ()]
            when_not += [(str(p), str(key)) for p in spec.get("procedure_unless") or ()]
        return cls(topics, phrases, [str(p) for p in data.get("ours") or ()], unless, when, when_not)

    @classmethod
    def default(cls) -> Limits:
        """The table shipped in knowledge_base/data."""
        return _default()

    def find(self, text: str) -> Optional[Limit]:
        """The first topic the text names, unless it also names one of our own procedures' words."""
        norm = self.normalizer.normalize(text or "")
        folded, typed = words(fold(norm)), words(norm)
        hits = [value for _, _, value in self.table.find(folded, typed)]
        if not hits or _OURS in hits:
            return None
        excluded = {value for _, _, value in self.unless.find(folded, typed)}
        found = next((self.topics[str(h)] for h in hits if h not in excluded), None)
        if found is None or found.procedure is None:
            return found
        # "công chứng hợp đồng mua bán đất" leads to the transfer registration; "công chứng di chúc" to none
        named = {value for _, _, value in self.when.find(folded, typed)}
        named -= {value for _, _, value in self.when_not.find(folded, typed)}
        return found if found.topic in named else dataclasses.replace(found, procedure=None)


@functools.lru_cache(maxsize=1)
def _default() -> Limits:
    return Limits.load(DATA_DIR / "limits.yml")
