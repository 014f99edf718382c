"""What a question asks to do with a paper (extend it, reissue it, amend, return, transfer, deregister) against
what each procedure's name does: two features of the search's confidence.

Citizens name the paper and the situation ("giấy phép khai thác nước ngầm hết hạn"), and the procedures that
extend, reissue or amend one paper share nearly all their words with the one that issues it, so the encoder and
the lexical index rank them close together. The table (``knowledge_base/data/actions.yml``) says which everyday
words ask for which action and how the official names say it.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, FrozenSet, List, Optional, Pattern, Sequence, Tuple

import yaml

from core.text import fold
from knowledge_base.text import DATA_DIR

ACTIONS = DATA_DIR / "actions.yml"


ENTRY_KEYS = {"asked", "unless", "named", "done_by"}


def _strings(value: object, where: str) -> List[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{where}: expected a list of non-empty strings")
    return [v.strip() for v in value]


def _patterns(items: Sequence[str], where: str) -> Pattern[str]:
    """One pattern matching any of ``items`` as whole words (so "bi hu" is not the start of "bi huy")."""
    try:
        for item in items:
            if re.fullmatch(item, ""):
                raise ValueError(f"{where}: {item!r} matches nothing at all, so every text")
        return re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in items) + r")\b")
    except re.error as exc:
        raise ValueError(f"{where}: {exc}") from exc


@dataclass(frozen=True)
class Asked:
    """What asks for one request in a question: the words, the words that cancel them, and the actions whose
    procedures serve it."""

    pattern: Pattern[str]
    unless: Optional[Pattern[str]]
    done_by: FrozenSet[str]
    implied: bool = False  # a request the words tell ("hết hạn", "bị mất"), not an action they name ("gia hạn")


@dataclass(frozen=True)
class ActionTable:
    """Per request, what asks for it in a question; per action, what says it in an official name (folded, lower
    case)."""

    asked: Tuple[Asked, ...]
    named: Tuple[Tuple[str, Pattern[str]], ...]

    @classmethod
    def load(cls, path: Path = ACTIONS) -> ActionTable:
        """Read the table; a malformed entry raises ValueError naming the file and the entry."""
        try:
            return cls.of(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
        except yaml.YAMLError as exc:
            raise ValueError(f"{path.name}: not YAML: {exc}") from exc
        except ValueError as exc:
            raise ValueError(f"{path.name}: {exc}") from exc

    @classmethod
    def of(cls, data: object) -> ActionTable:
        """The table from its YAML structure; a malformed entry raises ValueError naming it."""
        if not isinstance(data, dict):
            raise ValueError("expected a mapping of actions")
        entries: Dict[str, Dict[str, List[str]]] = {}
        for action, entry in data.items():
            if not isinstance(entry, dict) or not entry or set(entry) - ENTRY_KEYS:
                raise ValueError(f"{action}: expected some of {', '.join(sorted(ENTRY_KEYS))}")
            entries[str(action)] = {key: _strings(entry.get(key), f"{action}.{key}") for key in ENTRY_KEYS}
        named = tuple((action, _patterns(e["named"], f"{action}.named")) for action, e in entries.items()
                      if e["named"])
        doers = {action for action, _ in named}
        asked: List[Asked] = []
        for action, e in entries.items():
            if e["done_by"] and e["named"]:
                raise ValueError(f"{action}: done_by and named exclude each other")
            if not e["done_by"] and not e["named"]:
                raise ValueError(f"{action}.named: no pattern")
            unknown = sorted(set(e["done_by"]) - doers)
            if unknown:
                raise ValueError(f"{action}.done_by: no action named {', '.join(unknown)}")
            if not e["asked"]:
                raise ValueError(f"{action}.asked: no pattern")
            asked.append(Asked(_patterns(e["asked"], f"{action}.asked"),
                               _patterns(e["unless"], f"{action}.unless") if e["unless"] else None,
                               frozenset(e["done_by"] or [action]), implied=bool(e["done_by"])))
        return cls(tuple(asked), named)

    @property
    def actions(self) -> FrozenSet[str]:
        """The actions a procedure's name may do (those a request may ask)."""
        return frozenset(action for action, _ in self.named)

    @classmethod
    def default(cls) -> ActionTable:
        """The shipped table, read again when staff have edited it since."""
        return _table_of(ACTIONS.stat().st_mtime_ns)

    def asked_in(self, question: str) -> FrozenSet[str]:
        """The actions that would serve what ``question`` (shorthand already expanded) asks; empty: it asks for
        none of them, a first issue."""
        return self.requests_in(question)[0]

    def said_in(self, question: str) -> FrozenSet[str]:
        """The actions ``question`` names in its own words ("cấp lại", "gia hạn", "trả lại"), not those that would
        serve what it tells ("hết hạn": an extension or a new issue; "bị mất": a new issue)."""
        return self.requests_in(question)[1]

    def requests_in(self, question: str) -> Tuple[FrozenSet[str], FrozenSet[str]]:
        """(``asked_in``, ``said_in``) of ``question``, its words matched once."""
        said = self._said(question)
        explicit = {action for entry in said if len(entry.done_by) == 1 for action in entry.done_by}
        found = set(explicit)
        for entry in said:  # "hết hạn, xin gia hạn" asks for the extension it names, not for any new issue
            found |= entry.done_by & explicit or entry.done_by
        return frozenset(found), frozenset(action for entry in said if not entry.implied for action in entry.done_by)

    def _said(self, question: str) -> list:
        folded = fold(question).lower()
        return [entry for entry in self.asked
                if entry.pattern.search(folded) and not (entry.unless and entry.unless.search(folded))]

    def named_in(self, name: str) -> FrozenSet[str]:
        """The actions an official name says it does."""
        folded = fold(name).lower()
        return frozenset(action for action, pattern in self.named if pattern.search(folded))

    def leading(self, name: str) -> bool:
        """Whether the name starts with one of the actions ("Gia hạn …", "Cấp lại …"): a procedure for a paper
        already held, not for a first one."""
        folded = fold(name).lower().strip()
        heads = (folded, re.sub(r"^cap\s+", "", folded))  # "Cấp gia hạn, điều chỉnh …" leads with them too
        return any(pattern.match(head) for _, pattern in self.named for head in heads)


@functools.lru_cache(maxsize=1)
def _table_of(mtime: int) -> ActionTable:
    return ActionTable.load()


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

    def contradicts(self, said: FrozenSet[str], index: int) -> bool:
        """Whether procedure ``index``'s name starts with an action and does none of those the question names in its
        own words (``ActionTable.said_in``): "cấp lại giấy phép hành nghề khoan" is no "Trả lại giấy phép hành nghề
        khoan …", however close the words. A request only told ("hết hạn") contradicts nothing: "Bổ sung khối
        lượng … khi giấy phép thăm dò … đã hết thời hạn" is what an expired exploration licence may need."""
        return bool(said) and self.leading[index] and not said & self.named[index]
