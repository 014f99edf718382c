"""The one table of the words the system shares: dossier statuses, filing channels, chat channels, weekdays.

Codes are the national ones (Cổng Dịch vụ công quốc gia); every layer names a status, a filing channel
or a weekday from here, so a name changes in one place.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, FrozenSet, Tuple

# National dossier status codes 1-10 and their Vietnamese names.
STATUS_NAMES: Dict[int, str] = {
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
NEW, RECEIVED, REFUSED, IN_PROGRESS, NEEDS_DOCUMENTS, NEEDS_PAYMENT, WITHDRAWN, STOPPED, RESULT_READY, RETURNED = \
    range(1, 11)
# Statuses after which the time limit no longer runs (late/on time is judged at that point).
FINAL_STATUSES: FrozenSet[int] = frozenset({REFUSED, WITHDRAWN, STOPPED, RESULT_READY, RETURNED})
# Statuses in which the clock waits on the citizen.
WAITING_ON_CITIZEN: FrozenSet[int] = frozenset({NEEDS_DOCUMENTS, NEEDS_PAYMENT})
# Statuses in which the agency refused or stopped the dossier (the desk can say why).
STOPPED_BY_AGENCY: FrozenSet[int] = frozenset({REFUSED, STOPPED})
# Final statuses without a result: refused, withdrawn by the citizen, stopped.
NO_RESULT: FrozenSet[int] = FINAL_STATUSES - {RESULT_READY, RETURNED}


def status_name(code: int) -> str:
    """Vietnamese name of a national status code 1-10."""
    try:
        return STATUS_NAMES[int(code)]
    except (KeyError, ValueError, TypeError):
        raise ValueError(f"unknown status code {code!r} (expected 1-10)") from None


@dataclass(frozen=True)
class FilingChannel:
    """A way to file a dossier: its code, its name ("Trực tuyến"), how a sentence says filing that way
    ("nộp trực tuyến"), and the folded words that name it in a citizen's message."""

    code: str
    name: str
    filing: str
    words: Tuple[str, ...]

    @property
    def title(self) -> str:
        """The filing phrase as a button title: "Nộp trực tuyến"."""
        return self.filing[:1].upper() + self.filing[1:]


FILING_CHANNELS: Dict[str, FilingChannel] = {c.code: c for c in (
    FilingChannel("direct", "Trực tiếp", "nộp trực tiếp",
                  ("truc tiep", "den nop", "len nop", "tai bo phan mot cua", "tai so")),
    FilingChannel("online", "Trực tuyến", "nộp trực tuyến",
                  ("online", "truc tuyen", "qua mang", "dich vu cong", "dvc", "tren mang")),
    FilingChannel("postal", "Bưu chính", "nộp qua bưu chính",
                  ("buu chinh", "buu dien", "gui qua buu", "chuyen phat")),
)}
CHANNELS: Tuple[str, ...] = tuple(FILING_CHANNELS)
# The order a message is read in: "gửi qua bưu điện" before "qua mạng", "nộp online" before "đến nộp".
CHANNEL_READING_ORDER: Tuple[str, ...] = ("postal", "online", "direct")

# The chat channels a citizen writes on, as staff read them.
CHAT_CHANNEL_NAMES: Dict[str, str] = {"telegram": "Telegram", "zalo": "Zalo", "web": "khung chat trên web"}

# Monday first, as datetime.weekday() counts; lower case as written inside a sentence.
WEEKDAYS: Tuple[str, ...] = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")


def filing_channel(code: str) -> FilingChannel:
    """The filing channel of ``code`` ('direct', 'online', 'postal'); ValueError for another."""
    try:
        return FILING_CHANNELS[code]
    except KeyError:
        raise ValueError(f"unknown filing channel {code!r} (expected one of {', '.join(CHANNELS)})") from None
