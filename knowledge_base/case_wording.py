"""A case told in everyday words, put in the record's words for the search.

The search model reads "bố tôi mất để lại mảnh đất" nearer a lost certificate ("mất") than the inheritance it tells.
The situation table (``data/situations.yml``) gives, for a case, what the search reads in place of its phrases
(``searched_as``): "thừa kế mảnh đất". Phrases that hold those words already ("nhận thừa kế") stay as typed. The
search's fine-tune reads its questions so too (``retrieval.texts.dense_text``).
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import List

import yaml

from core.text import fold
from knowledge_base.text import DATA_DIR, PhraseTable, TextNormalizer, words

_LEFT = ["de", "lai"]  # "để lại", folded: what a death left is the inheritance too ("bố tôi mất để lại …")


class CaseWording:
    """The case phrases of a situation table whose case has a ``searched_as`` wording."""

    def __init__(self, data: dict):
        """Build from the YAML structure of ``data/situations.yml`` (its ``case`` section)."""
        entries = []
        for spec in (data.get("case") or {}).values():
            wording = str(spec.get("searched_as") or "")
            if wording:
                entries += [(str(p), wording) for p in spec.get("phrases") or () if fold(wording) not in fold(str(p))]
        self.table = PhraseTable(entries, strict_words=True)
        self.normalizer = TextNormalizer.default()

    @classmethod
    def load(cls, path: Path) -> CaseWording:
        """Read a situation table file."""
        with open(path, encoding="utf-8") as fh:
            return cls(yaml.safe_load(fh) or {})

    @classmethod
    def default(cls) -> CaseWording:
        """The one of the table shipped in knowledge_base/data."""
        return _default()

    def searched(self, text: str) -> str:
        """``text`` as the search reads it: a case told in everyday words put in the record's ("bố tôi mất để lại
        mảnh đất" -> "thừa kế mảnh đất"); ``text`` itself when it tells none so."""
        norm = self.normalizer.normalize(text or "")
        folded, typed = words(fold(norm)), words(norm)
        spans = self.table.find(folded, typed)
        if not spans or len(typed) != len(folded):
            return text
        out: List[str] = []
        at = 0
        for start, end, wording in spans:
            out += typed[at:start] + [str(wording)]
            at = end + 2 if folded[end:end + 2] == _LEFT and folded[start:end][-2:] != _LEFT else end
        return " ".join(out + typed[at:])


@functools.lru_cache(maxsize=1)
def _default() -> CaseWording:
    return CaseWording.load(DATA_DIR / "situations.yml")
