"""A case told in everyday words, put in the record's words for the search.

The search model read "bố tôi mất để lại mảnh đất" nearer a lost certificate ("mất") than the inheritance it tells.
``data/case_wording.yml`` gives the record's words the search reads in place of such phrases: "thừa kế mảnh đất".
The search, its fine-tune and the NLU's featurizer read a question so (``retrieval.texts.dense_text``).
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import List, Tuple

import yaml

from core.text import fold
from knowledge_base.text import DATA_DIR, PhraseTable, word_spans


class CaseWording:
    """Phrases of a case told in everyday words, each with the record's words the search reads in its place."""

    def __init__(self, data: dict):
        """Build from the YAML structure of ``data/case_wording.yml``: {record's words: [phrases]}."""
        self.table = PhraseTable([(str(p), str(wording)) for wording, phrases in (data or {}).items()
                                  for p in phrases or ()], strict_words=True)

    @classmethod
    def load(cls, path: Path) -> CaseWording:
        """Read a table file."""
        with open(path, encoding="utf-8") as fh:
            return cls(yaml.safe_load(fh) or {})

    @classmethod
    def default(cls) -> CaseWording:
        """The table shipped in knowledge_base/data."""
        return _default()

    def searched(self, text: str) -> str:
        """``text`` (normalised: shorthand expanded) as the search reads it: each phrase of the table put in the
        record's words, the rest as it stands ("bố tôi mất để lại mảnh đất, …" -> "thừa kế mảnh đất, …")."""
        if not self.table or len(text.lower()) != len(text):  # a rare sign lower-cases longer: offsets would slip
            return text
        spans: List[Tuple[int, int]] = word_spans(text)
        typed = [text[a:b].lower() for a, b in spans]
        out: List[str] = []
        at = 0
        for start, end, wording in self.table.find([fold(t) for t in typed], typed):
            out += [text[at:spans[start][0]], str(wording)]
            at = spans[end - 1][1]
        return "".join(out + [text[at:]]) if out else text


@functools.lru_cache(maxsize=1)
def _default() -> CaseWording:
    return CaseWording.load(DATA_DIR / "case_wording.yml")
