"""Changes staff make that reach the assistant: phrasings as a procedure's aliases, NLU examples.

Aliases go into the procedure's catalogue file (kept by `motcua import`), so the lexical index
finds the procedure by them after the index is rebuilt; the same phrasings are exported as Rasa
training examples (data/nlu/staff.yml) for the next `make train`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, List

import yaml

from knowledge_base.catalogue import load_procedure, procedure_to_yaml
from knowledge_base.text import phrasing_key


def new_phrasings(phrasings: Iterable[str], known: Iterable[str] = (), max_len: int = 200, min_len: int = 1,
                   cut: bool = True) -> List[str]:
    """``phrasings`` with spaces tidied, less those the same as a ``known`` one or an earlier one whatever their
    accents, case and punctuation ("mất bìa đỏ." and "Mat bia do" are one), and those shorter than ``min_len`` or of
    punctuation alone; one longer than ``max_len`` is cut to it, or with ``cut`` False left out."""
    seen = {phrasing_key(k) for k in known}
    fresh = []
    for text in phrasings:
        text = " ".join(str(text).split())
        if len(text) > max_len and not cut:
            continue
        text = text[:max_len]
        key = phrasing_key(text)
        if key and len(text) >= min_len and key not in seen:
            seen.add(key)
            fresh.append(text)
    return fresh


def add_aliases(catalogue_dir: Path, code: str, phrasings: Iterable[str]) -> List[str]:
    """Append new phrasings to a procedure's aliases; returns those added (not one already known, whatever its
    accents, case and punctuation)."""
    path = Path(catalogue_dir) / f"{code}.yml"
    if not path.exists():
        raise KeyError(code)
    proc = load_procedure(path)
    added = new_phrasings(phrasings, known=[*proc.aliases, proc.name], min_len=3, cut=False)
    if added:
        proc.aliases.extend(added)
        tmp = path.with_suffix(".yml.tmp")
        tmp.write_text(procedure_to_yaml(proc), encoding="utf-8")
        tmp.replace(path)  # atomic: the assistant never reads a half-written file
    return added


def write_nlu_examples(path: Path, phrasings: Iterable[str], intent: str = "ask_procedure") -> int:
    """Write the staff-mapped phrasings as Rasa NLU examples of ``intent``; returns how many."""
    # Rasa reads [text](entity) and {"entity": ...} in examples as annotations: keep plain words only.
    examples = sorted({" ".join(p.translate(str.maketrans("", "", "[](){}")).split()) for p in phrasings if p.strip()})
    examples = [e for e in examples if e]
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "# Written by `motcua console export` from phrasings staff mapped to procedures. Do not edit by hand.\n"
    body = {"version": "3.1", "nlu": [{"intent": intent,
                                       "examples": "".join(f"- {e}\n" for e in examples) or "- \n"}]}
    if not examples:
        body = {"version": "3.1", "nlu": []}
    path.write_text(header + yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=200), encoding="utf-8")
    return len(examples)
