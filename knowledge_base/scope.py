"""Which other agency handles a question that is not the department's business.

Citizens ask the department's assistant about passports, marriage, vehicle registration or
pensions too. The table in ``data/other_domains.yml`` names, for each such service, the agency
to turn to. The NLU uses a match as a feature (an out-of-scope cue), and the knowledge base
uses it to say "that is the police's / the commune's business" instead of forcing the question
onto the nearest land procedure.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import List, Optional, Tuple

import yaml

from knowledge_base.text import DATA_DIR, PhraseTable, TextNormalizer, fold, words


class OtherAgencies:
    """Terms of other agencies' services, each with the agency a citizen should turn to."""

    def __init__(self, entries: List[Tuple[str, str]], normalizer: Optional[TextNormalizer] = None):
        """Build from (term, agency) pairs."""
        self.table = PhraseTable(entries)
        self.normalizer = normalizer or TextNormalizer.default()

    @classmethod
    def load(cls, path: Path) -> "OtherAgencies":
        """Read a table: ``agencies: [{agency: ..., terms: [...]}, ...]``."""
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
        entries = [(str(term), str(group["agency"]))
                   for group in data.get("agencies") or [] for term in group.get("terms") or []]
        return cls(entries)

    @classmethod
    def default(cls) -> "OtherAgencies":
        """The table shipped in knowledge_base/data."""
        return _default()

    def find(self, folded_tokens: List[str], tokens: Optional[List[str]] = None) -> List[Tuple[int, int, str]]:
        """(start, end, agency) of each other-agency term in a word list (folded, and as typed)."""
        return self.table.find(folded_tokens, tokens)

    def agency_for(self, text: str) -> Optional[str]:
        """The agency of the first other-agency term in ``text``, or None."""
        norm = self.normalizer.normalize(text)
        hits = self.find(words(fold(norm)), words(norm))
        return hits[0][2] if hits else None

    def without_terms(self, text: str) -> str:
        """``text`` (normalised) with the other-agency terms taken out."""
        norm = self.normalizer.normalize(text)
        typed = words(norm)
        drop = {i for start, end, _ in self.find(words(fold(norm)), typed) for i in range(start, end)}
        return " ".join(w for i, w in enumerate(typed) if i not in drop)


@functools.lru_cache(maxsize=1)
def _default() -> OtherAgencies:
    return OtherAgencies.load(DATA_DIR / "other_domains.yml")
