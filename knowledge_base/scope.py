"""Which other agency handles a question that is not the department's business.

Citizens ask the department's assistant about passports, marriage, vehicle registration or
pensions too. The table in ``data/other_domains.yml`` names, for each such service, the agency
to turn to, and lists the words that make a question ours even so ("sổ đỏ", "căn cước" as a
paper our procedures ask for). The NLU uses a match as a feature (an out-of-scope cue), and the
knowledge base uses it to say "that is the police's / the commune's business" instead of
forcing the question onto the nearest land procedure.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Iterable, List, Optional, Tuple

import yaml

from core.text import fold
from knowledge_base.text import DATA_DIR, PhraseTable, TextNormalizer, words

OURS = None  # the value of an `ours` phrase in the table (agencies' phrases carry the agency)
NEUTRAL = ""  # a phrase matched only so that its words are read as nothing else ("số mấy" is not "sổ")


class OtherAgencies:
    """Terms of other agencies' services, each with the agency a citizen should turn to.

    Phrases that make a question ours (``ours``) share the table, so that leftmost-longest
    matching settles overlaps: "sổ hộ khẩu" is the police's, "sổ" alone is ours.
    """

    def __init__(self, entries: List[Tuple[str, str]], ours: Iterable[str] = (),
                 normalizer: Optional[TextNormalizer] = None, neutral: Iterable[str] = ()):
        """Build from (term, agency) pairs, the phrases that make a question ours, and neutral
        phrases that are neither (the synonym table's protected ones: "hồ sơ", "số điện thoại")."""
        self.table = PhraseTable([(term, OURS) for term in ours] + list(entries)
                                 + [(term, NEUTRAL) for term in neutral])
        self.normalizer = normalizer or TextNormalizer.default()

    @classmethod
    def load(cls, path: Path, synonyms_path: Optional[Path] = None) -> OtherAgencies:
        """Read a table (``ours: [...]``, ``agencies: [{agency: ..., terms: [...]}, ...]``).

        The colloquial phrases of the synonym table (``synonyms_path``) count as ours too, and its
        protected phrases (an empty wording) are neutral: typed without accents, "so dien thoai"
        is not "sổ".
        """
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
        entries = [(str(term), str(group["agency"]))
                   for group in data.get("agencies") or [] for term in group.get("terms") or []]
        ours = [str(term) for term in data.get("ours") or []]
        neutral: List[str] = []
        if synonyms_path is not None:
            with open(synonyms_path, encoding="utf-8") as fh:
                synonyms = yaml.safe_load(fh) or {}
            ours += [str(k) for k, v in synonyms.items() if v]
            neutral = [str(k) for k, v in synonyms.items() if not v]
        return cls(entries, ours, neutral=neutral)

    @classmethod
    def default(cls) -> OtherAgencies:
        """The table shipped in knowledge_base/data."""
        return _default()

    def agency_in(self, folded_tokens: List[str], tokens: Optional[List[str]] = None) -> Optional[str]:
        """The agency of the first other-agency term, unless a term of ours is there too."""
        hits = [hit for hit in self.table.find(folded_tokens, tokens) if hit[2] != NEUTRAL]
        if not hits or any(value is OURS for _, _, value in hits):
            return None
        return str(hits[0][2])

    def agency_for(self, text: str) -> Optional[str]:
        """``agency_in`` for a text as typed."""
        norm = self.normalizer.normalize(text)
        return self.agency_in(words(fold(norm)), words(norm))


@functools.lru_cache(maxsize=1)
def _default() -> OtherAgencies:
    return OtherAgencies.load(DATA_DIR / "other_domains.yml", DATA_DIR / "synonyms.yml")
