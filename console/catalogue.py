"""Catalogue upkeep by staff: search, staff fields (aliases, notes, province fees), re-import with a diff.

A re-import from new official records is staged in a separate folder and shown field by field
before staff accept it; accepting replaces the catalogue files (staff fields are kept by the
importer). Nothing here talks to Rasa; the index is rebuilt by `motcua console export`.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Dict, List, Optional

from console.upkeep import new_phrasings
from core.clock import today_local
from core.text import fold
from knowledge_base.catalogue import Catalogue, catalogue_hash, load_procedure, procedure_to_yaml
from knowledge_base.schema import Procedure

STAFF_EDITABLE = ("aliases", "staff_notes", "province_fees")
FIELD_NAMES = {
    "name": "Tên thủ tục", "field": "Lĩnh vực", "levels": "Cấp thực hiện", "procedure_type": "Loại thủ tục",
    "agencies": "Cơ quan thực hiện", "competent_agencies": "Cơ quan có thẩm quyền", "address": "Địa chỉ tiếp nhận",
    "coordinating_agencies": "Cơ quan phối hợp", "applicants": "Đối tượng", "steps": "Trình tự thực hiện",
    "channels": "Cách thức nộp, thời hạn, phí", "document_cases": "Thành phần hồ sơ", "conditions": "Điều kiện",
    "results": "Kết quả", "legal_basis": "Căn cứ pháp lý", "related": "Thủ tục liên quan",
    "fully_online": "Trực tuyến toàn trình", "decision": "Quyết định công bố", "decision_date": "Ngày quyết định",
    "source_url": "Đường dẫn nguồn", "portal_id": "Mã trên Cổng", "aliases": "Tên gọi khác",
    "staff_notes": "Ghi chú của Sở", "province_fees": "Mức thu tại tỉnh",
}


def search(catalogue: Catalogue, query: str, limit: int = 50) -> List[Procedure]:
    """Procedures whose code, name or alias contains the query (accents and case ignored)."""
    needle = fold(query or "").strip()
    found = []
    for proc in catalogue:
        haystack = " ".join([proc.code, fold(proc.name)] + [fold(a) for a in proc.aliases])
        if not needle or needle in haystack:
            found.append(proc)
    return sorted(found, key=lambda p: p.code)[:limit]


def save_staff_fields(catalogue_dir: Path, code: str, aliases: List[str], staff_notes: str, province_fees: str,
                      today: Optional[dt.date] = None) -> Dict[str, tuple]:
    """Write the staff fields of one procedure; returns {field: (before, after)} of what changed."""
    path = Path(catalogue_dir) / f"{code}.yml"
    if not path.exists():
        raise KeyError(code)
    proc = load_procedure(path)
    new = {"aliases": new_phrasings(aliases), "staff_notes": staff_notes.strip()[:2000],
           "province_fees": province_fees.strip()[:2000]}
    changed = {f: (getattr(proc, f), v) for f, v in new.items() if getattr(proc, f) != v}
    if changed:
        for field_name, (_, value) in changed.items():
            setattr(proc, field_name, value)
        proc.last_updated = today or today_local()  # answers say when their record last changed
        tmp = path.with_suffix(".yml.tmp")
        tmp.write_text(procedure_to_yaml(proc), encoding="utf-8")
        tmp.replace(path)
    return changed


def _show(value) -> str:
    if hasattr(value, "dict"):
        value = value.dict()
    if isinstance(value, list):
        value = [v.dict() if hasattr(v, "dict") else v for v in value]
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 400 else text[:400] + "…"


def diff(old: Catalogue, new: Catalogue) -> List[dict]:
    """What a re-import changes: new, removed and changed procedures, changed fields with before / after."""
    rows = []
    for code in sorted(set(old.procedures) | set(new.procedures)):
        before, after = old.get(code), new.get(code)
        if before is None:
            rows.append({"code": code, "name": after.name, "status": "new", "fields": []})
        elif after is None:
            rows.append({"code": code, "name": before.name, "status": "removed", "fields": []})
        else:
            fields = [(FIELD_NAMES.get(f, f), _show(getattr(before, f)), _show(getattr(after, f)))
                      for f in Procedure.__fields__ if f not in ("code", "last_updated")
                      and getattr(before, f) != getattr(after, f)]
            if fields:
                rows.append({"code": code, "name": after.name, "status": "changed", "fields": fields})
    return rows


SUMMARY = "staged.json"  # the diff and report of a staged import, beside it: a restart or another node reads it


def stage_reimport(records_dir: Path, aliases_file: Path, catalogue_dir: Path, staging_dir: Path) -> dict:
    """Import the official records into ``staging_dir`` (keeping staff fields), with the diff and report saved
    beside them (``staged_summary``); returns them."""
    from knowledge_base.importer.records import import_records, iter_record_files, load_aliases

    current = Catalogue.load(catalogue_dir)
    staged, report = import_records(iter_record_files(records_dir), load_aliases(aliases_file), current)
    if staging_dir.exists():
        shutil.rmtree(staging_dir)
    staged.save(staging_dir)
    summary = {"diff": diff(current, staged), "report": report.to_text().split("\n\n")[0], "count": len(staged),
               "catalogue_hash": catalogue_hash(current)}
    tmp = staging_dir / (SUMMARY + ".tmp")
    tmp.write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    tmp.replace(staging_dir / SUMMARY)
    return summary


def staged_summary(staging_dir: Path) -> Optional[dict]:
    """The diff and report of the import staged in ``staging_dir``; None when nothing (whole) is staged."""
    try:
        summary = json.loads((Path(staging_dir) / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return summary if isinstance(summary, dict) and isinstance(summary.get("diff"), list) else None


def changed_since_staging(summary: dict, catalogue_dir: Path) -> bool:
    """Whether the catalogue was edited after the import in ``summary`` was staged (the staged copy holds the
    staff fields of then: accepting it would undo the edit)."""
    return summary.get("catalogue_hash") != catalogue_hash(Catalogue.load(catalogue_dir))


def accept_reimport(staging_dir: Path, catalogue_dir: Path) -> int:
    """Replace the catalogue by the staged import; returns how many procedures it now holds."""
    staged = sorted(Path(staging_dir).glob("*.yml"))
    if not staged:
        raise FileNotFoundError("no staged import to accept")
    Catalogue.load(staging_dir)  # refuses an invalid staging folder before anything is touched
    keep = {p.name for p in staged}
    for path in staged:
        tmp = Path(catalogue_dir) / (path.name + ".tmp")
        shutil.copyfile(path, tmp)
        tmp.replace(Path(catalogue_dir) / path.name)
    for old in Path(catalogue_dir).glob("*.yml"):
        if old.name not in keep:
            old.unlink()  # no longer in the official records
    shutil.rmtree(staging_dir)
    return len(staged)
