"""Dossier codes and the national status codes (Cổng Dịch vụ công quốc gia)."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Optional

# 000.00.06.H56-231027-0361: receiving agency code, filing date (yymmdd), sequence number.
AGENCY = r"\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}"
CODE_RE = re.compile(rf"^({AGENCY})-(\d{{6}})-(\d{{4}})$")
CODE_SEARCH_RE = re.compile(rf"(?<![\d.]){AGENCY}-\d{{6}}-\d{{4}}(?!\d)")
EXAMPLE_CODE = "000.00.06.H56-231027-0361"

STATUS_NAMES = {
    1: "Mới đăng ký",
    2: "Được tiếp nhận",
    3: "Không được tiếp nhận",
    4: "Đang xử lý",
    5: "Yêu cầu bổ sung giấy tờ",
    6: "Yêu cầu thực hiện nghĩa vụ tài chính",
    7: "Công dân yêu cầu rút hồ sơ",
    8: "Dừng xử lý",
    9: "Đã xử lý xong",
    10: "Đã trả kết quả",
}
# Statuses after which the time limit no longer runs (late/on time is judged at that point).
FINAL_STATUSES = {3, 7, 8, 9, 10}
# Statuses in which the clock waits on the citizen.
WAITING_ON_CITIZEN = {5, 6}
# Statuses in which the agency refused or stopped the dossier (the desk can say why).
STOPPED_BY_AGENCY = {3, 8}
# Final statuses without a result: refused, withdrawn by the citizen, stopped.
NO_RESULT = FINAL_STATUSES - {9, 10}


def status_name(code: int) -> str:
    """Vietnamese name of a national status code 1-10."""
    try:
        return STATUS_NAMES[int(code)]
    except (KeyError, ValueError, TypeError):
        raise ValueError(f"unknown status code {code!r} (expected 1-10)") from None


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
        return CodeCheck(None, "Bạn chưa nhập mã hồ sơ.")
    match = CODE_RE.match(code)
    if match:
        try:
            dt.datetime.strptime(match.group(2), "%y%m%d")
        except ValueError:
            return CodeCheck(None, f"Phần ngày nộp \"{match.group(2)}\" trong mã không phải ngày hợp lệ (dạng năm-tháng-ngày, ví dụ 231027).")
        return CodeCheck(code)
    parts = code.split("-")
    if len(parts) != 3:
        return CodeCheck(None, f"Mã hồ sơ gồm 3 phần nối bằng dấu gạch ngang, ví dụ {EXAMPLE_CODE}.")
    agency, date, seq = parts
    if not re.fullmatch(AGENCY, agency):
        return CodeCheck(None, f"Phần đầu \"{agency}\" chưa đúng: đó là mã cơ quan dạng 000.00.06.H56.")
    if not re.fullmatch(r"\d{6}", date):
        return CodeCheck(None, f"Phần giữa \"{date}\" phải là 6 chữ số ngày nộp (ví dụ 231027).")
    return CodeCheck(None, f"Phần cuối \"{seq}\" phải là 4 chữ số thứ tự (ví dụ 0361).")


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
