"""Import the portal's crawled procedure pages (one JSON file per procedure) into the catalogue."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Tuple

import yaml
from pydantic import ValidationError

from core.clock import today_local
from knowledge_base.catalogue import Catalogue
from knowledge_base.importer import tables
from knowledge_base.importer.report import ImportReport
from knowledge_base.importer.structure import distinct_short_names, structure_procedure
from knowledge_base.schema import DocumentCase, LegalDocument, Procedure, Result, Step, TimeUnit
from knowledge_base.text import clean_space, unique

REQUIRED_KEYS = ("ma_thu_tuc", "ten_thu_tuc", "linh_vuc", "cap_thuc_hien")

# (record key, schema field, parser, fallback when parsing fails)
_TABLE_FIELDS: Tuple[Tuple[str, str, Callable, Callable[[str], object]], ...] = (
    ("cach_thuc_thuc_hien", "channels", tables.parse_channels, lambda raw: []),
    ("thanh_phan_ho_so", "document_cases", tables.parse_documents,
     lambda raw: [DocumentCase(name="Thành phần hồ sơ (nguyên văn)", note=clean_space(raw))]),
    ("can_cu_phap_ly", "legal_basis", tables.parse_legal_basis,
     lambda raw: [LegalDocument(title=clean_space(raw))]),
    ("trinh_tu_thuc_hien", "steps", tables.parse_steps,
     lambda raw: [Step(name="Trình tự thực hiện", description=raw.strip())]),
    ("ket_qua_xu_ly", "results", tables.parse_results,
     lambda raw: [Result(name=clean_space(raw)[:300])]),
)


def load_aliases(path: Optional[Path]) -> Dict[str, List[str]]:
    """Curated colloquial aliases per procedure code (knowledge_base/data/aliases.yml)."""
    if not path or not Path(path).exists():
        return {}
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    unquoted = [code for code in data if not isinstance(code, str)]
    if unquoted:  # 1.012790 unquoted is the number 1.01279: its aliases would go to no procedure
        raise ValueError(f"{path}: quote the procedure codes, e.g. \"1.012790\": (not {unquoted[0]!r})")
    return {code: [str(a) for a in (aliases or [])] for code, aliases in data.items()}


def record_to_procedure(record: dict, report: ImportReport, source: str) -> Optional[Procedure]:
    """Restate one crawled record in the schema; field failures go to ``report``, not silence."""
    missing = [k for k in REQUIRED_KEYS if not clean_space(str(record.get(k) or ""))]
    if missing:
        report.reject(source, f"missing required key(s): {', '.join(missing)}")
        return None
    data: dict = {
        "code": record["ma_thu_tuc"].strip(),
        "name": tables.name_without_code(record["ten_thu_tuc"], record["ma_thu_tuc"].strip()),
        "field": clean_space(record["linh_vuc"]),
        "procedure_type": tables.text_or_empty(record.get("loai_thu_tuc")),
        "decision": tables.text_or_empty(record.get("so_quyet_dinh")),
        "source_url": tables.text_or_empty(record.get("detail_url")),
        "portal_id": tables.text_or_empty(record.get("formality_id")),
        "address": tables.receiving_address(record.get("dia_chi_tiep_nhan")),
        "conditions": tables.text_or_empty(record.get("yeu_cau_dieu_kien")),
        "related": tables.text_or_empty(record.get("thu_tuc_lien_quan")),
    }
    try:
        data["levels"] = tables.parse_levels(record["cap_thuc_hien"])
        report.ok("levels")
    except tables.ParseError as exc:
        report.reject(source, f"levels: {exc}")
        return None
    for key, attr in (("co_quan_thuc_hien", "agencies"), ("co_quan_co_tham_quyen", "competent_agencies"),
                      ("co_quan_phoi_hop", "coordinating_agencies"), ("doi_tuong_thuc_hien", "applicants")):
        data[attr] = tables.parse_list(record.get(key) or "")
        report.ok(attr, empty=not data[attr])
    for key, attr, parser, fallback in _TABLE_FIELDS:
        raw = record.get(key) or ""
        if tables.is_empty(raw):
            data[attr] = []
            report.ok(attr, empty=True)
            continue
        try:
            data[attr] = parser(raw)
            report.ok(attr)
        except (tables.ParseError, ValidationError) as exc:
            report.fail(source, attr, str(exc).splitlines()[0])
            data[attr] = fallback(raw)
    try:
        return structure_procedure(Procedure(**data), report, source)
    except ValidationError as exc:
        report.reject(source, "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
        return None


def iter_record_files(records_dir: Path) -> List[Path]:
    """The record files, sorted by name."""
    records_dir = Path(records_dir)
    if not records_dir.is_dir():
        raise FileNotFoundError(f"{records_dir}: records folder not found")
    return sorted(records_dir.glob("*.json"))


def import_records(files: Iterable[Path], aliases: Dict[str, List[str]],
                   previous: Optional[Catalogue] = None,
                   progress: Callable[[Iterable], Iterable] = lambda x: x,
                   today: Optional[dt.date] = None) -> Tuple[Catalogue, ImportReport]:
    """Parse every record file into a catalogue; keep staff-edited aliases and notes of ``previous``.

    ``last_updated`` is the date the record was first imported or last seen changed.
    """
    today = today or today_local()
    report = ImportReport()
    procs: Dict[str, Procedure] = {}
    generated: set = set()  # codes whose short name the importer wrote now (staff's are kept)
    for path in progress(list(files)):
        report.total += 1
        try:
            with open(path, encoding="utf-8") as fh:
                record = json.load(fh)
        except (OSError, json.JSONDecodeError) as exc:
            report.reject(str(path), f"cannot read JSON: {exc}")
            continue
        if not isinstance(record, dict):
            report.reject(str(path), "not a JSON object")
            continue
        proc = record_to_procedure(record, report, path.name)
        if proc is None:
            continue
        if proc.code in procs:
            report.reject(path.name, f"duplicate code {proc.code}")
            continue
        old = previous.get(proc.code) if previous else None
        proc.aliases = unique(aliases.get(proc.code, []) + (old.aliases if old else []))
        if old:
            proc.staff_notes = old.staff_notes
            proc.province_fees = old.province_fees
        if old and old.short_name:
            proc.short_name = old.short_name
        else:
            generated.add(proc.code)
        unchanged = old is not None and old.last_updated and _same_record(old, proc)
        proc.last_updated = old.last_updated if old is not None and unchanged else today
        procs[proc.code] = proc
    distinct_short_names(list(procs.values()), generated)
    return Catalogue(procs), report


# Fields staff write in the console; a re-import keeps them.
STAFF_FIELDS = {"aliases", "staff_notes", "province_fees", "short_name"}


def _same_record(old: Procedure, new: Procedure) -> bool:
    """Whether the official record says the same (what the importer derives from it does not count)."""
    return _official(old) == _official(new)


_DERIVED_DOCUMENT = {"title", "condition", "cases", "applicant_types", "circumstances", "form_number"}


def _official(proc: Procedure) -> dict:
    data = proc.dict(exclude=STAFF_FIELDS | {"last_updated", "filing_places"})
    for case in data["document_cases"]:
        case["documents"] = [{k: v for k, v in d.items() if k not in _DERIVED_DOCUMENT} for d in case["documents"]]
    for channel in data["channels"]:  # a unit read from the steps is the importer's reading, not the record's
        time = channel["time"]
        if time.pop("unit_from", None):
            time["unit"] = TimeUnit.unspecified
    return data
