"""Dossier codes and the national status codes (Cổng Dịch vụ công quốc gia)."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Optional

from core import texts

# 000.00.06.H56-231027-0361: receiving agency code, filing date (yymmdd), sequence number.
AGENCY = r"\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}"
CODE_RE = re.compile(rf"^({AGENCY})-(\d{{6}})-(\d{{4}})$")
CODE_SEARCH_RE = re.compile(rf"(?<![\d.]){AGENCY}-\d{{6}}-\d{{4}}(?!\d)")
EXAMPLE_CODE = "000.00.06.H56-231027-0361"


@dataclass(frozen=True)
class CodeCheck:
    """Result of reading a dossier code: the normalised code, or what is wrong (Vietnamese)."""

    code: Optional[str]
    problem: str = ""

    @property
    def ok(self) -> bool:
        """True when the code is valid."""
        return self.code is not None


def normalize_code(text: str) -> str:
    """Upper case, no spaces, plain hyphens: ' 000.00.06.h56 - 231027 - 0361 ' -> canonical shape."""
    text = (text or "").strip().upper()
    text = re.sub(r"[–—_/]", "-", text)
    text = re.sub(r"\s*-\s*", "-", text)
    text = re.sub(r"\s*\.\s*", ".", text)
    return re.sub(r"\s+", "", text)


def check_code(text: str) -> CodeCheck:
    """Read a dossier code typed by a citizen; explain in Vietnamese what is wrong with a bad one."""
    code = normalize_code(text)
    if not code:
        return CodeCheck(None, texts.text("codes.empty"))
    match = CODE_RE.match(code)
    if match:
        try:
            dt.datetime.strptime(match.group(2), "%y%m%d")
        except ValueError:
            return CodeCheck(None, texts.text("codes.bad_date", date=match.group(2)))
        return CodeCheck(code)
    parts = code.split("-")
    if len(parts) != 3:
        return CodeCheck(None, texts.text("codes.parts", example=EXAMPLE_CODE))
    agency, date, seq = parts
    if not re.fullmatch(AGENCY, agency):
        return CodeCheck(None, texts.text("codes.agency", agency=agency))
    if not re.fullmatch(r"\d{6}", date):
        return CodeCheck(None, texts.text("codes.date", date=date))
    return CodeCheck(None, texts.text("codes.sequence", sequence=seq))


def find_code(text: str) -> Optional[str]:
    """The first valid dossier code written anywhere in ``text`` (spaces and case tolerated)."""
    compact = re.sub(r"\s*([.\-–—_])\s*", r"\1", (text or "").upper())
    compact = re.sub(r"[–—_]", "-", compact)
    for match in CODE_SEARCH_RE.finditer(compact):
        if check_code(match.group(0)).ok:
            return match.group(0)
    return None


def looks_like_code(text: str) -> bool:
    """True when ``text`` looks like an attempt at a dossier code (to explain what is wrong)."""
    stripped = normalize_code(text)
    return bool(re.search(r"\d{3,}", stripped)) and bool(re.search(r"[.\-]", stripped)) and len(stripped) >= 8
