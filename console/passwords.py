"""What the console accepts as a staff password: long enough, not a common one, not the account's name.

Rules follow NIST SP 800-63B: a minimum length and a list of known-bad passwords rather than
composition rules. Messages are in Vietnamese: staff see them on the account pages and the CLI.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import FrozenSet, Optional

from core.text import fold

MIN_LENGTH = 12
MAX_LENGTH = 256  # argon2 takes any length; this only bounds the work one request can ask for
MIN_DISTINCT = 5  # 'abababababab', '111122223333'
COMMON_FILE = Path(__file__).resolve().parent / "data" / "common_passwords.txt"

_SEPARATORS = re.compile(r"[\s\-._]+")
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")  # digits and symbols around the letters: 'iloveyou2024!'
# Words of this service and its department (NIST's "context-specific words"): a password made of them and
# digits alone ('sonongnghiep2026', 'motcua.so.nnmt') is the first thing someone who knows the office tries.
CONTEXT_WORDS = ("nongnghiepmoitruong", "nongnghiep", "moitruong", "tainguyen", "motcua", "dichvucong", "canbo",
                 "quantri", "admin", "console", "tnmt", "nnmt", "nnptnt", "sotnmt", "sonnmt", "so", "bo", "dvc",
                 "ubnd", "tinh", "xa", "phuong", "matkhau", "password")
_LEET = (str.maketrans("@4031!$57", "aaoeiisst"), str.maketrans("@4031!$57", "aaoelisst"))


def _plain(text: str) -> str:
    """Lower case, no accents, no spaces or '-', '.', '_': 'Mật-khẩu 123' -> 'matkhau123'."""
    return _SEPARATORS.sub("", fold(text))


@functools.lru_cache(maxsize=2)
def common_passwords(path: Path = COMMON_FILE) -> FrozenSet[str]:
    """The list of common passwords, compared in their plain form (read once)."""
    with open(path, encoding="utf-8") as fh:
        return frozenset(p for p in (_plain(line) for line in fh if not line.startswith("#")) if p)


def _is_common(plain: str) -> bool:
    common = common_passwords()
    core = _EDGES.sub("", plain)
    candidates = {plain, core} | {core.translate(t) for t in _LEET} | {plain.translate(t) for t in _LEET}
    return any(c in common for c in candidates if c)


def _only_context(plain: str) -> bool:
    """True when ``plain`` is nothing but this service's words, digits and symbols."""
    letters = rest = re.sub(r"[\W\d_]+", "", plain)
    for word in sorted(CONTEXT_WORDS, key=len, reverse=True):
        rest = rest.replace(word, "")
    return rest != letters and len(rest) < 4


def password_problem(password: str, username: str = "") -> Optional[str]:
    """Why ``password`` is refused for the account ``username`` (a Vietnamese sentence), or None."""
    if len(password) < MIN_LENGTH:
        return f"Mật khẩu cần ít nhất {MIN_LENGTH} ký tự."
    if len(password) > MAX_LENGTH:
        return f"Mật khẩu dài quá {MAX_LENGTH} ký tự."
    plain, name = _plain(password), _plain(username)
    if len(name) >= 3 and name in plain:  # shorter names ('an') are inside too many ordinary words
        return "Mật khẩu không được chứa tên đăng nhập."
    if len(set(plain)) < MIN_DISTINCT:
        return "Mật khẩu lặp lại quá ít ký tự khác nhau; bạn chọn một cụm từ dài, dễ nhớ với mình."
    if _is_common(plain):
        return ("Mật khẩu này quá phổ biến, kẻ gian đoán ra ngay. Bạn chọn một cụm từ dài hơn, ít người dùng, "
                "ví dụ vài từ không liên quan ghép lại.")
    if _only_context(plain):
        return ("Mật khẩu chỉ gồm tên cơ quan, dịch vụ hoặc con số nên dễ bị đoán. Bạn thêm vài từ không liên quan "
                "đến công việc, ví dụ một câu ngắn dễ nhớ với mình.")
    return None
