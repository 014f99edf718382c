"""Text forms every layer compares: one canonical Unicode form and the diacritic-folded form."""
from __future__ import annotations

import re
import unicodedata

# Old-style tone placement ("òa", "úy") -> the form Vietnamese keyboards and the portal use
# most ("oà", "uý") is not what we want either: we pick one canonical placement and map the
# other onto it. The canonical form here is the "new style" (tone on the main vowel: hoà -> hòa
# is old style). Both are mapped to the same folded form anyway; this keeps accented
# comparisons stable too.
_TONE_VARIANTS = {
    # new-style placement (tone on second vowel) -> old style (tone on first vowel)
    "oà": "òa", "oá": "óa", "oả": "ỏa", "oã": "õa", "oạ": "ọa",
    "oè": "òe", "oé": "óe", "oẻ": "ỏe", "oẽ": "õe", "oẹ": "ọe",
    "uỳ": "ùy", "uý": "úy", "uỷ": "ủy", "uỹ": "ũy", "uỵ": "ụy",
}
_TONE_RE = re.compile("(?:" + "|".join(map(re.escape, _TONE_VARIANTS)) + r")(?![a-zà-ỹ])")

def nfc(text: str) -> str:
    """Return ``text`` in NFC with one canonical tone-mark placement."""
    text = unicodedata.normalize("NFC", text or "")
    return _TONE_RE.sub(lambda m: _TONE_VARIANTS[m.group(0)], text) if text else text


def fold(text: str) -> str:
    """Lower-case and strip diacritics (đ -> d): 'Sổ Đỏ' -> 'so do'."""
    text = unicodedata.normalize("NFD", (text or "").lower().replace("đ", "d").replace("Đ", "d"))
    return unicodedata.normalize("NFC", "".join(c for c in text if unicodedata.category(c) != "Mn"))
