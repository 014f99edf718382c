"""Keeping phone and citizen-ID numbers out of plain sight.

Numbers are stored as keyed, salted hashes (HMAC-SHA256 with a key from the environment and a
per-dossier salt) of the full value and of its last 4 digits: enough to verify what a citizen
types, not enough to read them back, even for someone holding the database but not the key.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
from pathlib import Path
from typing import Optional

from knowledge_base.text import fold

log = logging.getLogger(__name__)

LAST_DIGITS = 4
# Phone numbers (0 or +84, 9-10 digits, spaces or dots allowed) and 9 / 12 digit ID numbers.
PHONE_RE = re.compile(r"(?:\+84[\s.]?|(?<!\d)0)(?:\d[\s.]?){8,9}\d(?!\d)")
ID_RE = re.compile(r"(?<!\d)(?:\d{12}|\d{9})(?!\d)")


def digits(value: Optional[str]) -> str:
    """Only the digits of a value; a +84 prefix becomes 0."""
    value = (value or "").strip()
    if value.startswith("+84"):
        value = "0" + value[3:]
    return re.sub(r"\D", "", value)


def mask_number(value: str) -> str:
    """'0912345678' -> '******5678'."""
    d = digits(value)
    return "*" * max(len(d) - LAST_DIGITS, 0) + d[-LAST_DIGITS:]


def mask_text(text: Optional[str]) -> Optional[str]:
    """Text with every phone and ID number masked down to its last digits."""
    if not text:
        return text
    text = PHONE_RE.sub(lambda m: mask_number(m.group(0)), text)
    return ID_RE.sub(lambda m: mask_number(m.group(0)), text)


def mask_name(name: str) -> str:
    """'Nguyễn Văn An' -> 'Nguyễn V. A.': enough to recognise, not a full name."""
    parts = (name or "").split()
    if not parts:
        return ""
    return " ".join([parts[0]] + [p[0] + "." for p in parts[1:]])


class Hasher:
    """Keyed, salted hashes of personal numbers."""

    def __init__(self, key: bytes):
        if len(key) < 16:
            raise ValueError("the hashing key must be at least 16 bytes")
        self.key = key

    @classmethod
    def from_settings(cls, key: Optional[str], key_file: Path) -> "Hasher":
        """The key from the environment setting, else a local key file created on first use."""
        if key:
            return cls(key.encode("utf-8"))
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(str(key_file), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
            log.warning("MOTCUA_DOSSIER_HASH_KEY is not set: created a local key in %s (set the variable "
                        "in production and keep it: without it stored numbers cannot be verified)", key_file)
        return cls(key_file.read_text().strip().encode("utf-8"))

    @staticmethod
    def new_salt() -> str:
        """A fresh random salt for one dossier."""
        return secrets.token_hex(8)

    def hash(self, salt: str, value: str) -> str:
        """Hex HMAC of a salted value."""
        return hmac.new(self.key, f"{salt}:{value}".encode("utf-8"), hashlib.sha256).hexdigest()

    def number_hashes(self, salt: str, value: Optional[str]):
        """(hash of all digits, hash of the last digits), or (None, None) without a value."""
        d = digits(value)
        if not d:
            return None, None
        return self.hash(salt, d), self.hash(salt, "last:" + d[-LAST_DIGITS:])

    def name_hash(self, salt: str, name: Optional[str]) -> Optional[str]:
        """Hash of a name compared without case or accents, or None without a name."""
        folded = " ".join(fold(name or "").split())
        return self.hash(salt, "name:" + folded) if folded else None

    def client_hash(self, address: str) -> str:
        """A keyed, unsalted digest of a client address ('ip:203.0.113.5', 'telegram:123'): the same
        client gives the same digest (for limits and audit), the address cannot be read back."""
        return self.hash("client", address)[:32]

    def matches_last(self, salt: str, stored: Optional[str], typed: str) -> bool:
        """True when ``typed`` ends in the stored last digits (constant-time compare)."""
        d = digits(typed)
        if not stored or len(d) < LAST_DIGITS:
            return False
        return hmac.compare_digest(stored, self.hash(salt, "last:" + d[-LAST_DIGITS:]))
