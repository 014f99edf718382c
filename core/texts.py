"""The texts the code composes for citizens, read from one file staff can edit (bot/texts.yml).

``text("dossier.denied")`` or ``text("channels.busy", hotline=...)``: the key is the group and the
entry's name; the values fill the entry's {placeholders}. A missing key or a placeholder the code gives
no value for is an error, raised at once, never a half-filled message. A value the entry does not use is
dropped: staff may take a detail out of a text (the hotline, say) without breaking the reply.
tests/test_texts.py checks that the code passes each entry of the repository's file exactly its values.
"""
from __future__ import annotations

import functools
import string
from pathlib import Path
from typing import Dict, FrozenSet

import yaml

TEXTS_FILE = Path(__file__).resolve().parent.parent / "bot/texts.yml"


class TextError(LookupError):
    """A key not in the texts file, or values that do not match the entry's placeholders."""


@functools.lru_cache(maxsize=1024)  # the same few hundred templates, on every reply
def placeholders(template: str) -> FrozenSet[str]:
    """The names of the {placeholders} of ``template``."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


def load(path: Path = TEXTS_FILE) -> Dict[str, str]:
    """Every entry of a texts file as {"group.name": template}."""
    groups = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries: Dict[str, str] = {}
    for group, items in groups.items():
        if not isinstance(items, dict):
            raise TextError(f"{path}: group {group!r} is not a mapping of names to texts")
        for name, template in items.items():
            if not isinstance(template, str):
                raise TextError(f"{path}: {group}.{name} is not a text")
            entries[f"{group}.{name}"] = template.strip()
    return entries


@functools.lru_cache(maxsize=1)
def _entries() -> Dict[str, str]:
    return load()


def text(key: str, **values: object) -> str:
    """The entry ``key`` of the texts file with its placeholders filled from ``values``."""
    try:
        template = _entries()[key]
    except KeyError:
        raise TextError(f"no text {key!r} in {TEXTS_FILE.name}") from None
    missing = sorted(placeholders(template) - set(values))
    if missing:
        raise TextError(f"text {key!r}: missing values {missing}")
    return template.format(**values)
