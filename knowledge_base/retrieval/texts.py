"""The texts the search indexes and embeds for a procedure, and the text it embeds for a question.

The search model is fine-tuned on exactly these (``embedding.model_tools``), so they live apart from the ranking:
an edit here changes what the model learns (the Makefile re-tunes it), an edit of the ranking does not.
"""
from __future__ import annotations

import re
from typing import List, Sequence, Tuple

from core.text import fold
from knowledge_base.case_wording import CaseWording
from knowledge_base.diacritics import DiacriticRestorer
from knowledge_base.schema import Procedure
from knowledge_base.text import TextNormalizer, clean_space

_NAME_NOISE = re.compile(r"\(\s*\d\.\d{6}\s*\)|\s*\.$")


def display_name(name: str) -> str:
    """Procedure name without the code the portal sometimes appends: 'X (1.010727)' -> 'X'."""
    return clean_space(_NAME_NOISE.sub("", name))


def passages(proc: Procedure) -> List[str]:
    """Texts embedded for a procedure: its name (with field) and each colloquial alias."""
    name = display_name(proc.name)
    out = [name, f"{proc.field}: {name}"]
    out.extend(proc.aliases)
    out.extend(r.name for r in proc.results[:1])
    return [p for p in dict.fromkeys(out) if p]


def indexed_passages(procs: Sequence[Procedure]) -> List[Tuple[int, str]]:
    """(index of its procedure in ``procs``, passage) for every passage the dense index embeds, in index order."""
    return [(i, text) for i, proc in enumerate(procs) for text in passages(proc)]


def lexical_texts(proc: Procedure) -> List[str]:
    """Texts the lexical index matches: the name twice (it matters most), aliases, field, result."""
    name = display_name(proc.name)
    return [name, name, *proc.aliases, proc.field, *(r.name for r in proc.results[:1])]


def dense_text(normalizer: TextNormalizer, restorer: DiacriticRestorer, question: str) -> str:
    """Shorthand expanded, accents restored when none were typed, and a case told in everyday words put in the
    record's (``CaseWording.searched``).

    Synonym expansion is left to the lexical side: the fine-tuned model learns colloquial terms
    itself, and a shorter query keeps the embedding fast (cost grows with tokens).
    """
    normalized = normalizer.normalize(question)
    if fold(question) == question.lower():
        normalized = restorer.restore(normalized)
    return CaseWording.default().searched(normalized)
