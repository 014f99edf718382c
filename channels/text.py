"""Channel-neutral text handling: splitting long replies, numbered options, channel texts."""
from __future__ import annotations

import re
from typing import List, Optional, Sequence

from core import texts

# Where a long reply may be cut, best first: between paragraphs, lines, sentences, words.
_BREAKS = ("\n\n", "\n", ". ", "; ", ", ", " ")


def split_text(text: str, limit: int) -> List[str]:
    """Cut ``text`` into pieces of at most ``limit`` characters at the most natural break.

    Pieces keep their order and, joined with the break they were cut at, give back the text
    (apart from whitespace at the cuts). A word longer than the limit is cut hard.
    """
    if limit < 20:
        raise ValueError("limit too small")
    text = (text or "").strip()
    pieces: List[str] = []
    while len(text) > limit:
        window = text[:limit + 1]
        cut = -1
        for mark in _BREAKS:
            at = window.rfind(mark, limit // 3)
            if at > 0:
                cut = at + (1 if mark.startswith(".") or mark.startswith(";") or mark.startswith(",") else 0)
                break
        if cut <= 0:
            cut = limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces


def channel_text(key: str, **values: object) -> str:
    """A Vietnamese text the channels send themselves (group "channels" of bot/texts.yml), filled with ``values``."""
    return texts.text(f"channels.{key}", **values)


def numbered_options(text: str, titles: Sequence[str]) -> str:
    """The reply with its buttons written as numbered lines and how to choose (for Zalo)."""
    lines = [text.rstrip()] if text else []
    lines += [f"{i}. {title}" for i, title in enumerate(titles, 1)]
    lines.append(channel_text("choose_by_number", last=len(titles)))
    return "\n".join(lines)


_NUMBER = re.compile(r"^\s*(?:(?:so|số|chon|chọn|phuong an|phương án|y|ý|cau|câu)\s*)?(\d{1,2})\s*[.)!]?\s*$",
                     re.IGNORECASE)


def option_number(text: str, count: int) -> Optional[int]:
    """The 0-based option a reply such as "2", "số 2", "chon 2." picks among ``count``; None otherwise."""
    match = _NUMBER.match(text or "")
    if not match:
        return None
    number = int(match.group(1))
    return number - 1 if 1 <= number <= count else None
