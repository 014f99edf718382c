"""The administrative level a citizen's question names, and the candidates it rules out (no Rasa imports).

Many procedures exist at two levels ("Xác nhận đăng ký thu hồi khoáng sản (cấp Xã)" and "(cấp Tỉnh)"; "… thuộc
thẩm quyền giải quyết của UBND cấp xã" and "… của Sở …"), and their records differ little more than by the office
that decides, so the search ranks both close and offers both. A citizen who says the level ("phê duyệt phương án
khai thác gỗ thuộc thẩm quyền ubnd xã") has told them apart: of two such twins, the one not handled at the level
named is no candidate. Twins are procedures whose names are the same up to where they say who decides
(``twin_key``); the level phrases are ``knowledge_base/data/levels.yml``.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, FrozenSet, Optional, Pattern, Sequence, Tuple

import yaml

from core.text import fold
from knowledge_base.text import DATA_DIR

LEVELS = DATA_DIR / "levels.yml"
KNOWN = ("province", "commune")
_LEVEL_TAG = re.compile(r"\(\s*cap [^)]*\)")
# where a name starts saying who decides ("… loài thông thường thuộc thẩm quyền giải quyết của Ủy ban nhân dân cấp xã")
_DECIDER = re.compile(r"\b(?:thuoc tham quyen|do chu tich|cua chu tich|cap tinh|cap xa)\b")
_WORD = re.compile(r"[a-z0-9]+")


def twin_key(name: str) -> Tuple[str, ...]:
    """An official name's folded words up to where it says who decides, its "(cấp …)" tag left out: one procedure
    at two levels has one key (27 pairs of the 342 in scope on 6/12/2026)."""
    folded = _LEVEL_TAG.sub(" ", fold(name.lower()))
    cut = _DECIDER.search(folded)
    return tuple(_WORD.findall(folded[:cut.start()] if cut else folded))


Phrase = Tuple[Pattern[str], Tuple[str, ...]]  # a phrase's folded pattern and its own words, accented
ABSENT, DENIED, SAID = 0, 1, 2
# a negation up to four words before a phrase or two after it denies it ("không thuộc thẩm quyền ubnd xã", "ubnd xã
# không giải quyết"; the normaliser has made "ko", "k" "không")
_NEGATION = frozenset({"khong", "chang"})
_BEFORE, _AFTER = 4, 2


def _phrases(value: object, where: str) -> Dict[str, Tuple[Phrase, ...]]:
    if not isinstance(value, dict) or not set(value) <= set(KNOWN):
        raise ValueError(f"{where}: expected a mapping of levels ({', '.join(KNOWN)}) to phrases")
    table = {}
    for level, phrases in value.items():
        if not isinstance(phrases, list) or not phrases or not all(isinstance(p, str) and p.strip() for p in phrases):
            raise ValueError(f"{where}.{level}: expected a list of non-empty phrases")
        # "cơ sở nông nghiệp" and "hợp tác xã" name no level
        table[level] = tuple((re.compile(r"(?<!\w)(?<!co )(?<!hop tac )" + re.escape(fold(p.strip().lower()))
                                         + r"(?!\w)"), tuple(p.strip().lower().split())) for p in phrases)
    return table


def _typed_as(said: Sequence[str], own: Sequence[str], accents_needed: bool) -> bool:
    """Whether the words typed are the phrase's own: each typed with its accents, or without any (a one-word phrase
    only with them when ``accents_needed``)."""
    return all(word == mine or (fold(word) == word and not (accents_needed and len(own) == 1))
               for word, mine in zip(said, own))


def _status(phrase: Phrase, folded: str, typed: Optional[str], accents_needed: bool) -> int:
    """``SAID`` when ``phrase`` is in the message and not denied, ``DENIED`` when it is there only denied, else
    ``ABSENT``. ``typed`` is the message as typed, letter for letter with ``folded`` (None when they do not align:
    the folded words decide, and a one-word phrase needing accents is not found)."""
    pattern, own = phrase
    found = ABSENT
    for match in pattern.finditer(folded):
        after = folded[match.end():].split()
        if after[:1] == ["hoi"] and (typed is None or typed[match.end():].split()[:1] in (["hội"], ["hoi"])):
            continue  # "xã hội" (society); "ubnd xã hỏi …" (asks) stays
        if typed is not None and not _typed_as(typed[match.start():match.end()].split(), own, accents_needed):
            continue
        if typed is None and accents_needed and len(own) == 1:
            continue
        if _NEGATION & set(folded[:match.start()].split()[-_BEFORE:] + after[:_AFTER]):
            found = DENIED
            continue
        return SAID
    return found


@dataclass(frozen=True)
class LevelTable:
    """Per level, the phrases that name it as the one deciding, and the words that mention it (``levels.yml``)."""

    named: Dict[str, Tuple[Phrase, ...]]
    mentioned: Dict[str, Tuple[Phrase, ...]]

    @classmethod
    def load(cls, path: Path = LEVELS) -> LevelTable:
        """Read the table; a malformed one raises ValueError naming the file."""
        try:
            return cls.of(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
        except (yaml.YAMLError, ValueError) as exc:
            raise ValueError(f"{path.name}: {exc}") from exc

    @classmethod
    def of(cls, data: object) -> LevelTable:
        """The table from its YAML structure: ``named`` and ``mentioned``, each a mapping of a known level to a list
        of phrases."""
        if not isinstance(data, dict) or set(data) != {"named", "mentioned"}:
            raise ValueError("expected 'named' and 'mentioned'")
        return cls(_phrases(data["named"], "named"), _phrases(data["mentioned"], "mentioned"))

    def named_in(self, normalized: str) -> Optional[str]:
        """The one level ``normalized`` (a question after the normaliser) names, when it speaks of no other; None
        for none, for both, or for one named and the other mentioned or denied ("không phải ubnd xã mà ubnd tỉnh")."""
        # a mark no letter takes (a stray combining accent) is dropped, so the typed letters line up with the folded
        typed = "".join(c for c in unicodedata.normalize("NFC", normalized.lower()) if not unicodedata.combining(c))
        folded = fold(typed)
        aligned = typed if len(typed) == len(folded) else None

        def status(table: Dict[str, Tuple[Phrase, ...]], level: str, accents_needed: bool) -> int:
            return max((_status(p, folded, aligned, accents_needed) for p in table.get(level, ())), default=ABSENT)

        named = {level: status(self.named, level, False) for level in KNOWN}
        said = [level for level in KNOWN if named[level] == SAID]
        if len(said) != 1:
            return None
        other = next(level for level in KNOWN if level != said[0])
        return None if named[other] == DENIED or status(self.mentioned, other, True) != ABSENT else said[0]


@dataclass(frozen=True)
class ProcedureLevels:
    """Each indexed procedure's levels and twin key (by index)."""

    levels: Tuple[FrozenSet[str], ...]
    keys: Tuple[Tuple[str, ...], ...]

    @classmethod
    def of(cls, names: Sequence[str], levels: Sequence[Sequence[str]]) -> ProcedureLevels:
        """From the procedures' official names and levels, in index order."""
        return cls(tuple(frozenset(str(getattr(x, "value", x)) for x in ls) for ls in levels),
                   tuple(twin_key(n) for n in names))

    def not_for(self, candidates: Sequence[int], applicant: Optional[str],
                admits: Optional[Sequence[FrozenSet[str]]]) -> FrozenSet[int]:
        """The ``candidates`` (indices) not for the citizen's kind of ``applicant`` whose twin among the candidates is:
        "nhà tôi … đào được cát" between the commune's "Xác nhận đăng ký thu hồi khoáng sản", whose record names
        citizens, and the province's, for organisations only. ``admits``: the kinds of applicant each procedure is for
        (empty: its record names none the situation table reads, so anyone)."""
        if applicant is None or not admits:
            return frozenset()
        return self._unfit_beside_twin(candidates, lambda i: not admits[i] or applicant in admits[i])

    def ruled_out(self, candidates: Sequence[int], level: Optional[str]) -> FrozenSet[int]:
        """The ``candidates`` (indices) a question naming ``level`` rules out: those not handled there whose twin
        among the candidates is."""
        if level is None:
            return frozenset()
        return self._unfit_beside_twin(candidates, lambda i: level in self.levels[i])

    def _unfit_beside_twin(self, candidates: Sequence[int], fits: Callable[[int], bool]) -> FrozenSet[int]:
        """The ``candidates`` that do not ``fit`` while a twin of theirs among the candidates does."""
        there = {self.keys[i] for i in candidates if fits(i)}
        return frozenset(i for i in candidates if not fits(i) and self.keys[i] in there)
