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
import time
import unicodedata
from pathlib import Path
from typing import Any, Callable, Optional

from core.text import fold

log = logging.getLogger(__name__)

LAST_DIGITS = 4

# How numbers are written. Before looking for numbers, every character is read as one ASCII
# character (one for one, so a position in the read copy is the same position in the original text):
# full-width forms (some phone keyboards) as their ASCII twins, digits of any script (Arabic-Indic
# '٠١٢', Extended Arabic-Indic '۰۱۲', mathematical '𝟎𝟏𝟐', ...: Unicode decimal digits) as 0-9, every
# hyphen, dash and minus sign (and '*') as '-', middle dots as '.', tabs and other blanks as a space,
# and invisible characters (zero-width space / joiners, word joiner, BOM, soft hyphen) as a space:
# they separate what they stand between, as a blank would, instead of being deleted.
_READ_AS_ASCII = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_READ_AS_ASCII.update({c: 0x20 for c in (0x09, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000)})
_READ_AS_ASCII.update({c: 0x20 for c in (0x00AD, 0x180E, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF)})
_READ_AS_ASCII.update({c: 0x2D for c in (0x2A, 0xFF0A, 0x2217, *range(0x2010, 0x2016), 0x2212, 0x2E3A, 0x2E3B,
                                         0xFE58, 0xFE63, 0xFF0D)})
_READ_AS_ASCII.update({c: 0x2E for c in (0x00B7, 0x2027, 0x2219, 0x22C5, 0x30FB, 0xFF65)})
_OTHER_DIGIT_RE = re.compile(r"(?![0-9])\d")  # a decimal digit of another script (full-width ones are read already)
_WS = r" "
# Between two groups of digits: a dash ('-' or '--') or dot with spaces around, up to three blanks (a
# line break too), the parenthesis of an area code / country code ("(024) 3825", "+84 (24) 3825"), or a
# comma, slash or underscore with no space ("0912,345,678", "0912/345/678"; with spaces they list numbers).
_DOT_OR_DASH = r"(?:--?|\.)"
_SEP = (rf"(?:\){_WS}{{0,3}}(?:{_DOT_OR_DASH}{_WS}{{0,3}})?|{_WS}{{0,3}}{_DOT_OR_DASH}{_WS}{{0,3}}|\s{{1,3}}|[,/_])"
        r"\(?")
_CHAIN_RE = re.compile(rf"[0-9]+(?:{_SEP}[0-9]+)*")
_GROUP_RE = re.compile(r"[0-9]+")
# A cheap test on the original text: could it hold 9 digits (of any script) with short gaps (the longest
# separator is 9)?
_HINT_RE = re.compile(r"\d(?:\D{0,9}\d){8}")
# Never masked: dossier codes (however loosely typed), dates (day/month/year, year-month-day: with '/'
# and '_' joining groups, "01/01/2025 - 31/12/2025" would read "0101202531"), UUIDs and hex
# identifiers. A random hex id (Rasa's message ids, Zalo's msg_id, digests) often holds 9 digits in a
# row, so a run of 20+ hex characters is spared when it is one: no letter or digit of any script
# touching it, hex letters in at least two places with digits between. A number with letters on
# one side only ("sdt:0912345678abcdef...") or two numbers around one letter are not ids.
_DASH = r"\s*-\s*"
_ALNUM_BEFORE, _ALNUM_AFTER = r"(?<![^\W_])", r"(?![^\W_])"
_HEX = "[0-9a-fA-F]"
_DAY, _MONTH, _YEAR = r"[0-3]?[0-9]", r"[01]?[0-9]", r"(?:19|20)[0-9]{2}"
_PROTECTED_RE = re.compile(
    rf"[0-9]{{3}}\s*\.\s*[0-9]{{2}}\s*\.\s*[0-9]{{2}}\s*\.\s*[A-Za-z][0-9]{{2}}{_DASH}[0-9]{{6}}{_DASH}[0-9]{{4}}"
    rf"|(?<![0-9]){_DAY} ?(?P<s1>[-./_]) ?{_MONTH} ?(?P=s1) ?{_YEAR}(?![0-9])"
    rf"|(?<![0-9]){_YEAR} ?(?P<s2>[-./_]) ?{_MONTH} ?(?P=s2) ?{_DAY}(?![0-9])"
    rf"|{_ALNUM_BEFORE}{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}{_ALNUM_AFTER}"
    rf"|{_ALNUM_BEFORE}(?={_HEX}*[a-fA-F][0-9]+[a-fA-F]){_HEX}{{20,}}{_ALNUM_AFTER}")
# Amounts: "150.000.000" or "150,000,000" (one mark every three digits, not led by 0) or a number
# followed by a currency word.
_MONEY_RE = re.compile(r"[1-9][0-9]{0,2}(?:(?:\.[0-9]{3})+|(?:,[0-9]{3})+)")
# ... unless a word just before says it is a phone or ID number ("CCCD 123.456.789", "số điện thoại của
# tôi là 912.345.678", "số của tôi là 912.345.678"): up to four short words may come between; matched
# folded (no accents).
_NUMBER_WORD_RE = re.compile(r"(?<![a-z])(?:cmnd|cccd|can cuoc(?: cong dan)?|chung minh|dinh danh|so the|sdt|dt|"
                             r"dien thoai|phone|tel|lien he|goi|zalo|hotline|so(?: cua)? (?:toi|em|minh))(?![a-z])"
                             r"(?:[^0-9a-z]{1,3}[a-z]{1,4}){0,4}[^0-9a-z]{0,3}$")
_CURRENCY = ("đồng", "đ", "₫", "vnđ", "vnd", "nghìn", "ngàn", "triệu", "tỷ", "tỉ")
_MAX_GROUPS = 5
_SHORTEST, _LONGEST = 9, 14  # digits of a number _canonical may accept (0084 + a landline is the longest)


def _other_digit(match: re.Match[str]) -> str:
    return str(unicodedata.decimal(match.group()))


def _ascii(text: str) -> str:
    """``text`` read as ASCII where it matters for numbers (see _READ_AS_ASCII): same length, same positions."""
    read = text.translate(_READ_AS_ASCII)
    if not read.isascii() and _OTHER_DIGIT_RE.search(read):
        read = _OTHER_DIGIT_RE.sub(_other_digit, read)
    return read


def digits(value: Optional[str]) -> str:
    """Only the digits of a value (of any script, as ASCII); a +84, (+84) or 0084 prefix becomes 0."""
    value = _ascii(value or "").strip().lstrip("(").strip()
    if value.startswith("+84"):
        value = "0" + value[3:]
    elif value.startswith("0084"):
        value = "0" + value[4:]
    return re.sub(r"[^0-9]", "", value)


def mask_number(value: str) -> str:
    """'0912345678' -> '******5678'."""
    d = digits(value)
    return "*" * max(len(d) - LAST_DIGITS, 0) + d[-LAST_DIGITS:]


def _canonical(d: str) -> Optional[str]:
    """The digits of a phone number (national form, leading 0) or an ID number; None for anything else.

    Phones: 0 + 9 digits (mobile) or 0 + 10 (landline, area code 02x), also after 84 / 0084. IDs:
    9 digits (old identity card) or 12 (citizen identity card).
    """
    national = None
    if d.startswith("0084"):
        national = d[4:]
    elif d.startswith("84"):
        national = d[2:]
    if national is not None:
        if national[:1] == "0" and national[1:2] != "0" and len(national) in (10, 11):
            return national
        if national[:1] not in ("", "0") and len(national) in (9, 10):
            return "0" + national
    if d[:1] == "0" and d[1:2] != "0" and len(d) in (10, 11):
        return d
    return d if len(d) in (9, 12) else None


def _is_amount(read: str, start: int, end: int) -> bool:
    """Whether the digits read[start:end] are an amount of money, not a personal number."""
    tail = unicodedata.normalize("NFC", read[end:end + 8]).lstrip(" \u00a0").lower()
    if any(tail.startswith(word) and not tail[len(word):len(word) + 1].isalnum() for word in _CURRENCY):
        return True
    if not _MONEY_RE.fullmatch(read, start, end):
        return False
    return not _NUMBER_WORD_RE.search(fold(read[max(start - 40, 0):start]))


def _spans(read: str):
    """(start, end, digits) of each personal number in ``read`` (the ASCII-read text)."""
    protected = [m.span() for m in _PROTECTED_RE.finditer(read)]
    for chain in _CHAIN_RE.finditer(read):
        if _MONEY_RE.fullmatch(read, chain.start(), chain.end()) and _is_amount(read, chain.start(), chain.end()):
            continue  # no part of an amount is a number either ('445.074.432.964' holds '074432964')
        groups = [m.span() for m in _GROUP_RE.finditer(read, chain.start(), chain.end())]
        if sum(b - a for a, b in groups) < _SHORTEST:
            continue
        i = 0
        while i < len(groups):
            found = _longest_from(read, groups, i, protected)
            if found is None:
                i += 1
                continue
            j, number = found
            yield _with_prefix(read, groups[i][0], groups[j][1]), groups[j][1], number
            i = j + 1


def _longest_from(read: str, groups, i: int, protected):
    """(last group, digits) of the longest number starting at group ``i``, or None.

    A number does not start on a short group glued to a letter ('H56' in a dossier code), and its
    groups are grouped like a number (_grouped_as_number).
    """
    start = groups[i][0]
    glued = start > 0 and read[start - 1].isascii() and read[start - 1].isalpha()
    last = i if glued and groups[i][1] - start <= 3 else min(len(groups), i + _LONGEST) - 1
    for j in range(last, i - 1, -1):
        sizes = [b - a for a, b in groups[i:j + 1]]
        if not _SHORTEST <= sum(sizes) <= _LONGEST or not _grouped_as_number(sizes):
            continue
        end = groups[j][1]
        number = _canonical("".join(read[a:b] for a, b in groups[i:j + 1]))
        if number and not _is_amount(read, start, end) and not any(a < end and start < b for a, b in protected):
            return j, number
    return None


def _grouped_as_number(sizes) -> bool:
    """Whether groups of these sizes (in digits) may be one number.

    Either up to _MAX_GROUPS groups of two digits or more, with maybe single digits inside, each
    after a group of three or more ('0912 345 6 78'; so '1.013831', a procedure code, never joins the
    next number, nor does a count after a number: '0912345678 5 người', nor a date '15 3 2026'), or
    a number typed digit by digit: a first group of up to four digits (0, 09, 84, 0084) then single
    digits only ('0 9 1 2 3 4 5 6 7 8', '+84 9 1 2 3 4 5 6 7 8'); at least 9 digits, so at least 5
    single ones.
    """
    if len(sizes) == 1:
        return True
    if sizes[0] >= 2 and sizes[-1] >= 2:
        return (sum(size >= 2 for size in sizes) <= _MAX_GROUPS
                and all(size >= 2 or before >= 3 for before, size in zip(sizes, sizes[1:])))
    return sizes[0] <= 4 and all(size == 1 for size in sizes[1:])


def _with_prefix(read: str, start: int, end: int) -> int:
    """Where the masked text starts: a '+' or '(+' just before a number goes with it (so does a '(' whose
    ')' is inside the number, as in '(024) 3825 1234')."""
    before = read[max(start - 3, 0):start]
    for prefix in ("(+", "( +", "+ ", "+"):
        if before.endswith(prefix):
            return start - len(prefix)
    if before.endswith("(") and ")" in read[start:end]:
        return start - 1
    return start


def might_hold_number(text: str) -> bool:
    """False when ``text`` surely holds no phone or ID number (a quick test before mask_text)."""
    return bool(_HINT_RE.search(text))


def mask_text(text: Optional[str]) -> Optional[str]:
    """Text with every phone and ID number masked down to its last digits ('******5678').

    Phones in any common written form (0912 345 678, 0912-345-678, 0912,345,678, 0912/345/678,
    0912_345_678, 0912*345*678, 0912·345·678, 0912--345--678, 0912 345 6 78, 0 9 1 2 3 4 5 6 7 8,
    (+84) 912.345.678, 84912345678, (024) 3825 1234, any hyphen or dash, tabs, zero-width characters
    or soft hyphens between groups, full-width digits and digits of other scripts) and 9 / 12 digit
    ID numbers, also grouped (001 099 012 345). Left alone: dossier codes,
    dates, amounts of money (150.000.000, 1,500,000 đồng), procedure codes (1.013831), hex ids and
    numbers shorter than 9 digits.
    """
    if not text or not might_hold_number(text):
        return text
    read = _ascii(text)
    out, at = [], 0
    for start, end, number in _spans(read):
        out.append(text[at:start])
        out.append("*" * (len(number) - LAST_DIGITS) + number[-LAST_DIGITS:])  # not mask_number: '0084...' is
        # an ID number here (province 008), not a country code
        at = end
    if not out:
        return text
    out.append(text[at:])
    return "".join(out)


def mask_int(value: int) -> Any:
    """An integer that reads as a phone or ID number ('912345678') as a masked string ('*****5678'),
    any other integer as it is: the one rule for integers in stored data and in log records."""
    shown = str(value)
    masked = mask_text(shown)
    return value if masked == shown else masked


def mask_value(value: Any) -> Any:
    """``value`` with every string in it masked (dicts, lists and tuples walked; integers by mask_int)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_value(v) for v in value]
    if isinstance(value, tuple):
        return tuple(mask_value(v) for v in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return mask_int(value)
    return value


def _mask_arg(arg: Any) -> Any:
    """A log argument with numbers masked (integers by mask_int); floats, booleans and None as they are."""
    if isinstance(arg, str):
        return mask_text(arg)
    if arg is None or isinstance(arg, (bool, float)):
        return arg
    if isinstance(arg, int):
        return mask_int(arg)
    try:
        shown = str(arg)
    except Exception:  # an object that cannot show itself: logging will say so
        return arg
    masked = mask_text(shown)
    return arg if masked == shown else masked


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask numbers in a log record's message, exception text and stack (once per record).

    The message is masked as formatted, so '%d' gets its integer and a number split between the
    format and its arguments is seen whole; when something is masked, the masked message replaces
    the format and the arguments are dropped. A format that does not fit its arguments (logging
    prints both when it fails) has them masked one by one instead.
    """
    if getattr(record, "numbers_masked", False):
        return record
    setattr(record, "numbers_masked", True)  # noqa: B010 (an attribute LogRecord does not declare)
    try:
        message = record.getMessage()
    except Exception:
        record.msg = _mask_arg(record.msg)
        if isinstance(record.args, dict):
            record.args = {k: _mask_arg(v) for k, v in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_mask_arg(a) for a in record.args)
    else:
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, ()
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask_text(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_text(record.stack_info)
    return record


class MaskingFilter(logging.Filter):
    """A logging filter that masks phone and ID numbers in every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record; never drops it."""
        mask_record(record)
        return True


class _MaskingFactory:
    """Wraps the log record factory so every record is masked as it is made."""

    def __init__(self, make: Callable[..., logging.LogRecord]):
        self.make = make

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        return mask_record(self.make(*args, **kwargs))


def install_log_masking() -> None:
    """Mask numbers in every log record of this process, whichever logger writes it or handler prints it.

    A filter on a logger misses records of its child loggers, and one on a handler misses handlers
    added later (uvicorn's, Rasa's), so MaskingFilter's work is done where records are made: the
    record factory. Calling it again does nothing.
    """
    current = logging.getLogRecordFactory()
    if not isinstance(current, _MaskingFactory):
        logging.setLogRecordFactory(_MaskingFactory(current))


def mask_name(name: str) -> str:
    """'Nguyễn Văn An' -> 'Nguyễn V. A.': enough to recognise, not a full name."""
    parts = (name or "").split()
    if not parts:
        return ""
    return " ".join([parts[0]] + [p[0] + "." for p in parts[1:]])


ACTION_SECRET_ENV = "MOTCUA_ACTION_SECRET"


def action_secret(settings: Any) -> str:
    """The secret the Rasa server and the action server share: MOTCUA_ACTION_SECRET, else a local key file
    made on first use. It authorises calls to the action server and signs the query vectors the NLU hands
    over to the search (knowledge_base.retrieval.handover)."""
    return secret_value(settings.servers.action_secret, settings.servers.action_secret_file, ACTION_SECRET_ENV,
                        "the Rasa server and the action server must share it")


def secret_value(value: Optional[str], key_file: Path, variable: str, why: str) -> str:
    """A secret from the environment, else from a local key file created (0600) on first use.

    The embedded single-box default needs no set-up; a deployment sets ``variable`` and keeps it.
    Two processes starting together may race to create the file: O_EXCL lets one win, the other reads it.
    """
    if value:
        return value
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(str(key_file), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
            log.warning("%s is not set: created a local key in %s (set the variable in production and keep it: %s)",
                        variable, key_file, why)
    for _ in range(50):  # the winner of the race may not have written it yet
        text = key_file.read_text().strip()
        if text:
            return text
        time.sleep(0.02)
    raise RuntimeError(f"{key_file} is empty: delete it or set {variable}")


class Hasher:
    """Keyed, salted hashes of personal numbers."""

    def __init__(self, key: bytes):
        if len(key) < 16:
            raise ValueError("the hashing key must be at least 16 bytes")
        self.key = key

    @classmethod
    def configured(cls, settings) -> Hasher:
        """The deployment's hasher: MOTCUA_DOSSIER_HASH_KEY, else the local key file
        (settings.dossiers.dossier_key_file)."""
        return cls.from_settings(settings.dossiers.dossier_hash_key, settings.dossiers.dossier_key_file)

    @classmethod
    def from_settings(cls, key: Optional[str], key_file: Path) -> Hasher:
        """The key from the environment setting, else a local key file created on first use."""
        return cls(secret_value(key, key_file, "MOTCUA_DOSSIER_HASH_KEY", "without it stored numbers cannot be "
                                "verified").encode("utf-8"))

    @staticmethod
    def new_salt() -> str:
        """A fresh random salt for one dossier."""
        return secrets.token_hex(8)

    def hash(self, salt: str, value: str) -> str:
        """Hex HMAC of a salted value."""
        return hmac.new(self.key, f"{salt}:{value}".encode(), hashlib.sha256).hexdigest()

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
