"""Import dossiers from a one-stop system's export (CSV or XLSX); columns in docs/dossiers.md.

Headers are matched without regard to case, accents, spaces or underscores, in Vietnamese or in
English ("Mã hồ sơ", "ma_ho_so", "code"). Bad rows are reported with their line and reason; good
rows are kept; importing the same file again changes nothing.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

from core.vocabulary import STATUS_NAMES
from dossiers.codes import normalize_code
from dossiers.service import DossierRecord, DossierService
from knowledge_base.text import fold as fold_accents

COLUMNS: Dict[str, Tuple[str, ...]] = {
    "code": ("ma ho so", "so ho so", "code"),
    "procedure_code": ("ma thu tuc", "ma tthc", "procedure code"),
    "procedure_name": ("ten thu tuc", "ten tthc", "procedure name"),
    "channel": ("kenh nop", "hinh thuc nop", "channel"),
    "applicant_name": ("chu ho so", "nguoi nop", "ho ten", "applicant name"),
    "phone": ("so dien thoai", "dien thoai", "sdt", "phone"),
    "citizen_id": ("so cccd", "cccd", "so dinh danh", "so giay to", "citizen id"),
    "received_at": ("ngay tiep nhan", "thoi gian tiep nhan", "received at"),
    "due_at": ("ngay hen tra", "han xu ly", "due at"),
    "status_code": ("trang thai", "ma trang thai", "status", "status code"),
    "status_at": ("thoi diem trang thai", "ngay cap nhat", "status at"),
    "current_step": ("buoc hien tai", "buoc xu ly", "current step"),
    "handling_unit": ("don vi xu ly", "co quan xu ly", "handling unit"),
    "result_pickup": ("hinh thuc nhan ket qua", "nhan ket qua", "result pickup"),
    "supplement_items": ("yeu cau bo sung", "noi dung bo sung", "supplement items"),
    "supplement_deadline": ("han bo sung", "supplement deadline"),
    "financial_amount_vnd": ("nghia vu tai chinh", "so tien nghia vu", "financial amount vnd"),
    "financial_description": ("noi dung nghia vu tai chinh", "financial description"),
    "financial_paid_at": ("ngay nop nghia vu", "financial paid at"),
}
# The column headers of the documented export (docs/dossiers.md), in order.
HEADER_EXAMPLE = ("Mã hồ sơ", "Mã thủ tục", "Tên thủ tục", "Kênh nộp", "Chủ hồ sơ", "Số điện thoại", "Số CCCD",
                  "Ngày tiếp nhận", "Ngày hẹn trả", "Trạng thái", "Thời điểm trạng thái", "Bước hiện tại",
                  "Đơn vị xử lý", "Hình thức nhận kết quả", "Yêu cầu bổ sung", "Nghĩa vụ tài chính")
REQUIRED = ("code", "procedure_code", "channel", "received_at", "status_code")
CHANNEL_VALUES = {
    "direct": "direct", "truc tiep": "direct", "nop truc tiep": "direct",
    "online": "online", "truc tuyen": "online", "nop truc tuyen": "online", "dvc": "online",
    "postal": "postal", "buu chinh": "postal", "qua buu chinh": "postal", "buu chinh cong ich": "postal",
}
DATE_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d",
                "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%H:%M %d/%m/%Y")


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (unreadable, wrong type, missing columns)."""


def fold(text: str) -> str:
    """Lower case, no accents, punctuation and underscores as single spaces: 'Mã_hồ sơ' -> 'ma ho so'."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", fold_accents(str(text or ""))).split())


_STATUS_BY_NAME = {fold(name): code for code, name in STATUS_NAMES.items()}


@dataclass
class ImportReport:
    """Counts of one import and the rejected rows as (line, reason)."""

    file: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    notices: int = 0
    errors: List[Tuple[int, str]] = field(default_factory=list)

    def lines(self) -> List[str]:
        """The report as printable lines: a summary, then FILE:LINE: reason for each rejected row."""
        out = [f"{self.file}: {self.rows} rows, {self.created} created, {self.updated} updated, "
               f"{self.unchanged} unchanged, {len(self.errors)} rejected, {self.notices} notices queued"]
        out += [f"{self.file}:{line}: {reason}" for line, reason in self.errors]
        return out


def parse_datetime(value: Any) -> Optional[dt.datetime]:
    """A date-time from an export cell (ISO, dd/mm/yyyy [HH:MM], or a spreadsheet date)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None, microsecond=0)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    text = str(value).strip()
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(f"not a date: {text!r} (use 2026-11-10 09:00 or 10/11/2026 09:00)")


def parse_status(value: Any) -> int:
    """A status 1-10 from its number or Vietnamese name (accents optional)."""
    text = str(value if value is not None else "").strip()
    if re.fullmatch(r"\d+(\.0)?", text):
        code = int(float(text))
        if code in STATUS_NAMES:
            return code
    elif fold(text) in _STATUS_BY_NAME:
        return _STATUS_BY_NAME[fold(text)]
    raise ValueError(f"status must be 1-10 or its Vietnamese name, not {text!r}")


def parse_channel(value: Any) -> str:
    """direct / online / postal from the export's wording."""
    key = fold(value)
    if key not in CHANNEL_VALUES:
        raise ValueError(f"channel must be trực tiếp / trực tuyến / bưu chính, not {value!r}")
    return CHANNEL_VALUES[key]


def parse_amount(value: Any) -> Optional[int]:
    """An amount in đồng from '1.250.000 đ', '1250000' or a number; None when empty."""
    if value is None or str(value).strip() == "":
        return None
    if isinstance(value, (int, float)):
        return int(value)
    text = re.sub(r"(đồng|vnd|đ)$", "", str(value).strip().lower()).strip()
    digits = re.sub(r"[.,\s]", "", text)
    if not digits.isdigit():
        raise ValueError(f"amount must be a number of đồng, not {value!r}")
    return int(digits)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def map_headers(headers: List[Any]) -> Dict[str, int]:
    """Field name -> column index; raises ImportFileError when a required column is missing."""
    lookup = {fold(alias): name for name, aliases in COLUMNS.items() for alias in aliases + (name,)}
    mapping: Dict[str, int] = {}
    for index, header in enumerate(headers):
        name = lookup.get(fold(_text(header)))
        if name and name not in mapping:
            mapping[name] = index
    missing = [name for name in REQUIRED if name not in mapping]
    if missing:
        raise ImportFileError("missing column(s): " + ", ".join(f"{m} ({COLUMNS[m][0]})" for m in missing))
    if "phone" not in mapping and "citizen_id" not in mapping:
        raise ImportFileError("need a phone (so dien thoai) or citizen ID (so cccd) column for verification")
    return mapping


def record_from_row(mapping: Dict[str, int], row: List[Any]) -> DossierRecord:
    """One export row as a record; raises ValueError with the reason."""
    def cell(name):
        index = mapping.get(name)
        return row[index] if index is not None and index < len(row) else None

    received = parse_datetime(cell("received_at"))
    if received is None:
        raise ValueError("received date is empty")
    record = DossierRecord(
        code=_text(cell("code")),
        procedure_code=_text(cell("procedure_code")),
        channel=parse_channel(cell("channel")),
        received_at=received,
        status_code=parse_status(cell("status_code")),
        status_at=parse_datetime(cell("status_at")),
        procedure_name=_text(cell("procedure_name")),
        applicant_name=_text(cell("applicant_name")),
        phone=_text(cell("phone")),
        citizen_id=_text(cell("citizen_id")),
        due_at=parse_datetime(cell("due_at")),
        current_step=_text(cell("current_step")),
        handling_unit=_text(cell("handling_unit")),
        result_pickup=_text(cell("result_pickup")),
        supplement_items=_text(cell("supplement_items")),
        supplement_deadline=parse_datetime(cell("supplement_deadline")),
        financial_amount_vnd=parse_amount(cell("financial_amount_vnd")),
        financial_description=_text(cell("financial_description")),
        financial_paid_at=parse_datetime(cell("financial_paid_at")),
    )
    problems = record.problems()
    if problems:
        raise ValueError("; ".join(problems))
    return record


def read_rows(path: Path) -> Iterator[Tuple[int, List[Any]]]:
    """(line number, cells) of a CSV or XLSX file, header first."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise ImportFileError("the CSV file is not UTF-8 (save it as 'CSV UTF-8')") from None
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(io.StringIO(text), dialect)
        line = 1
        for row in reader:
            yield line, row
            line = reader.line_num + 1
    elif suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
            raise ImportFileError(f"not a readable XLSX file ({exc.__class__.__name__})") from None
        try:
            for number, row in enumerate(workbook.worksheets[0].iter_rows(values_only=True), start=1):
                yield number, list(row)
        finally:
            workbook.close()
    else:
        raise ImportFileError(f"unsupported file type {suffix or '(none)'}: use .csv or .xlsx")


def import_file(service: DossierService, path: Path, source: str = "import", batch: int = 500) -> ImportReport:
    """Import a CSV/XLSX export into the service; returns the report (bad rows listed, good rows kept)."""
    path = Path(path)
    if not path.exists():
        raise ImportFileError(f"{path}: no such file")
    report = ImportReport(str(path))
    rows = read_rows(path)
    try:
        _, headers = next(rows)
    except StopIteration:
        raise ImportFileError(f"{path}: the file is empty") from None
    mapping = map_headers(headers)
    pending: List[DossierRecord] = []
    seen: Dict[str, int] = {}

    def flush():
        for result in service.upsert_many(pending, source=source, batch=batch):
            setattr(report, result.action, getattr(report, result.action) + 1)
            report.notices += result.notices
        pending.clear()

    for line, row in rows:
        if not any(_text(c) for c in row):
            continue
        report.rows += 1
        try:
            record = record_from_row(mapping, row)
        except ValueError as exc:
            report.errors.append((line, str(exc)))
            continue
        key = normalize_code(record.code)
        if key in seen:  # several snapshots of one dossier: apply them in file order
            flush()
        seen[key] = line
        pending.append(record)
        if len(pending) >= batch:
            flush()
    flush()
    return report
