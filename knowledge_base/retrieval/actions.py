"""What a question asks to do with a paper (extend it, reissue it, amend, return, transfer, deregister) against
what each procedure's name does: two features of the search's confidence.

Citizens name the paper and the situation ("giấy phép khai thác nước ngầm hết hạn"), and the procedures that
extend, reissue or amend one paper share nearly all their words with the one that issues it, so the encoder and
the lexical index rank them close together. The table (``knowledge_base/data/actions.yml``) says which everyday
words ask for which action and how the official names say it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import FrozenSet, List, Pattern, Sequence, Tuple

import yaml

from core.text import fold
from knowledge_base.text import DATA_DIR

ACTIONS = DATA_DIR / "actions.yml"


def _patterns(items: Sequence[str], where: str) -> Pattern[str]:
    if not items:
        raise ValueError(f"{where}: no pattern")
    try:
        return re.compile("|".join(f"(?:{p})" for p in items))
    except re.error as exc:
        raise ValueError(f"{where}: {exc}") from exc


@dataclass(frozen=True)
class ActionTable:
    """Per action, what asks for it in a question and what says it in an official name (folded, lower case)."""

    asked: Tuple[Tuple[str, Pattern[str]], ...]
    named: Tuple[Tuple[str, Pattern[str]], ...]

    @classmethod
    def load(cls, path: Path = ACTIONS) -> ActionTable:
        """Read the table; a malformed entry raises ValueError naming it."""
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ValueError(f"{path.name}: not YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise ValueError(f"{path.name}: expected a mapping of actions")
        asked: List[Tuple[str, Pattern[str]]] = []
        named: List[Tuple[str, Pattern[str]]] = []
        for action, entry in data.items():
            if not isinstance(entry, dict):
                raise ValueError(f"{path.name}: {action}: expected 'asked' and 'named'")
            asked.append((str(action), _patterns([str(p) for p in entry.get("asked") or []], f"{action}.asked")))
            named.append((str(action), _patterns([str(p) for p in entry.get("named") or []], f"{action}.named")))
        return cls(tuple(asked), tuple(named))

    @staticmethod
    def _found(table: Tuple[Tuple[str, Pattern[str]], ...], text: str) -> FrozenSet[str]:
        folded = fold(text).lower()
        return frozenset(action for action, pattern in table if pattern.search(folded))

    def asked_in(self, question: str) -> FrozenSet[str]:
        """The actions ``question`` (shorthand already expanded) asks for; empty: none of them, a first issue."""
        return self._found(self.asked, question)

    def named_in(self, name: str) -> FrozenSet[str]:
        """The actions an official name says it does."""
        return self._found(self.named, name)

    def leading(self, name: str) -> bool:
        """Whether the name starts with one of the actions ("Gia hạn …", "Cấp lại …"): a procedure for a paper
        already held, not for a first one."""
        folded = fold(name).lower().strip()
        heads = (folded, re.sub(r"^cap\s+", "", folded))  # "Cấp gia hạn, điều chỉnh …" leads with them too
        return any(pattern.match(head) for _, pattern in self.named for head in heads)


def features(asked: FrozenSet[str], named: FrozenSet[str], leading: bool) -> List[float]:
    """[action mismatch, unasked action] for one candidate: 'mismatch' is 1 when the question asks for actions the
    name does none of; 'unasked' is 1 when the question asks for none and the name starts with one (it would answer
    a first request with an extension). Neither rewards a match: "gia hạn visa" matching "Gia hạn giấy phép …" in
    its action says nothing about the paper, and must not make a question outside the catalogue surer."""
    return [float(bool(asked) and not asked & named), float(not asked and leading)]


@dataclass(frozen=True)
class ProcedureActions:
    """The table applied to one catalogue's names, once."""

    table: ActionTable
    named: Tuple[FrozenSet[str], ...]
    leading: Tuple[bool, ...]

    @classmethod
    def of(cls, names: Sequence[str], table: ActionTable) -> ProcedureActions:
        return cls(table, tuple(table.named_in(n) for n in names), tuple(table.leading(n) for n in names))

    def features(self, asked: FrozenSet[str], index: int) -> List[float]:
        """The two features of procedure ``index`` for a question asking ``asked``."""
        return features(asked, self.named[index], self.leading[index])
