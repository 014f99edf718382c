"""Import the portal's structured JSON API shape (executionMethods, executionCases, ...).

The newer API of the National Public Service Portal describes procedures with structured
fields; see ../shared/data/dvc-bnnmt-2026/README.md. One file holds one procedure object, or a
list of them, or ``{"data": [...]}``.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

from pydantic import ValidationError

from core.clock import today_local
from knowledge_base.catalogue import Catalogue
from knowledge_base.importer.report import ImportReport
from knowledge_base.importer.structure import structure_procedure
from knowledge_base.importer.tables import PROVINCE_FEE_RE, parse_steps
from knowledge_base.schema import (
    Channel,
    Document,
    DocumentCase,
    Fee,
    FeeKind,
    LegalDocument,
    Level,
    Method,
    Procedure,
    ProcessingTime,
    Result,
    Step,
    TimeUnit,
)
from knowledge_base.text import clean_space, unique

_METHODS = {"DIRECT": Method.direct, "ONLINE": Method.online, "POSTAL": Method.postal}
_FEE_KINDS = {"FEE": FeeKind.fee, "CHARGE": FeeKind.charge, "SERVICE_FEE": FeeKind.service_fee}
_UNITS = {"WORKING_DAY": TimeUnit.working_day, "DAY": TimeUnit.day, "HOUR": TimeUnit.hour,
          "WORKING_HOUR": TimeUnit.working_hour, "WEEK": TimeUnit.week, "MONTH": TimeUnit.month,
          "YEAR": TimeUnit.year, "NGÀY LÀM VIỆC": TimeUnit.working_day, "NGÀY": TimeUnit.day,
          "GIỜ": TimeUnit.hour, "THÁNG": TimeUnit.month}


class PortalShapeError(ValueError):
    """A portal JSON object lacks what the catalogue needs; the message names the field."""


def _names(items: Optional[Iterable[dict]], key: str = "name") -> List[str]:
    return unique(clean_space(str(i.get(key, ""))) for i in (items or []) if clean_space(str(i.get(key, ""))))


def _channel(method: dict) -> Channel:
    sub = str(method.get("submissionMethod", "")).upper()
    if sub not in _METHODS:
        raise PortalShapeError(f"executionMethods.submissionMethod: unknown value {sub!r}")
    value = method.get("processingTime")
    unit = _UNITS.get(str(method.get("processingTimeUnit", "")).upper(), TimeUnit.unspecified)
    time = ProcessingTime(value=float(value) if value not in (None, "") else None, unit=unit,
                          note=clean_space(method.get("description") or ""))
    fees = []
    for fee in method.get("fees") or []:
        raw = fee.get("value")
        amount = int(float(raw)) if raw not in (None, "") else None
        text = clean_space(fee.get("description") or "")
        kind = _FEE_KINDS.get(str(fee.get("type", "")).upper(), FeeKind.unknown)
        if amount == 0:
            kind = FeeKind.none
        fees.append(Fee(kind=kind, amount_vnd=amount, text=text, set_by_province=bool(PROVINCE_FEE_RE.search(text))))
    return Channel(method=_METHODS[sub], time=time, fees=fees, description=clean_space(method.get("description") or ""))


def portal_to_procedure(obj: dict) -> Procedure:
    """Restate one portal API object in the catalogue schema; raise on a missing essential."""
    code = clean_space(str(obj.get("code") or obj.get("procedureCode") or ""))
    name = clean_space(str(obj.get("name") or obj.get("procedureName") or ""))
    if not code:
        raise PortalShapeError("code: missing")
    if not name:
        raise PortalShapeError("name: missing")
    levels = [lvl for flag, lvl in (("isMinistry", Level.ministry), ("isProvince", Level.province),
                                    ("isWard", Level.commune)) if obj.get(flag)]
    if not levels:
        raise PortalShapeError("isMinistry / isProvince / isWard: none is true")
    cases = []
    for case in obj.get("executionCases") or []:
        docs = [Document(name=clean_space(c["name"]), originals=c.get("originalQty"), copies=c.get("copyQty"),
                         required=bool(c.get("required", True)), has_electronic_form=bool(c.get("hasElectronicForm")))
                for c in case.get("profileComponents") or [] if clean_space(c.get("name") or "")]
        cases.append(DocumentCase(name=clean_space(case.get("name") or ""), documents=docs))
    steps = [Step(name=clean_space(st.get("name") or f"Bước {i}"), description=(st.get("description") or "").strip())
             for i, st in enumerate(obj.get("executionSteps") or [], 1)]
    if not steps and isinstance(obj.get("executionStepsText"), str):
        steps = parse_steps(obj["executionStepsText"])
    proposal = obj.get("procedureProposal") or {}
    decision_date = None
    if proposal.get("decisionDate"):
        try:
            decision_date = dt.date.fromisoformat(str(proposal["decisionDate"])[:10])
        except ValueError as exc:
            raise PortalShapeError(f"procedureProposal.decisionDate: {exc}") from exc
    fields = _names(obj.get("categoriesDetails"))
    return Procedure(
        code=code, name=name, field=fields[0] if fields else "", levels=levels,
        agencies=_names(obj.get("implementationAgenciesDetails")),
        applicants=_names(obj.get("subjectTypesDetails")),
        channels=[_channel(m) for m in obj.get("executionMethods") or []],
        document_cases=cases, steps=steps,
        conditions=clean_space(obj.get("requirementsAndConditions") or ""),
        results=[Result(name=clean_space(r["name"]), code=clean_space(r.get("code") or ""))
                 for r in obj.get("resultsDetails") or [] if clean_space(r.get("name") or "")],
        legal_basis=[LegalDocument(title=clean_space(l["name"]), code=clean_space(l.get("code") or ""))
                     for l in obj.get("legalBasisesDetails") or [] if clean_space(l.get("name") or "")],
        fully_online=obj.get("isFullProcess"),
        decision=clean_space(str(proposal.get("proposalNumber") or "")), decision_date=decision_date,
        source_url=clean_space(obj.get("url") or ""), portal_id=clean_space(str(obj.get("id") or "")),
    )


def _objects(data) -> List[dict]:
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        return data["data"]
    if isinstance(data, list):
        return data
    return [data]


def import_portal_files(files: Iterable[Path], aliases: Dict[str, List[str]],
                        today: Optional[dt.date] = None) -> Tuple[Catalogue, ImportReport]:
    """Parse portal JSON files into a catalogue; bad objects are reported with the reason."""
    report = ImportReport()
    procs: Dict[str, Procedure] = {}
    for path in files:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            report.total += 1
            report.reject(str(path), f"cannot read JSON: {exc}")
            continue
        for i, obj in enumerate(_objects(data)):
            report.total += 1
            source = f"{Path(path).name}[{i}]"
            if not isinstance(obj, dict):
                report.reject(source, "not a JSON object")
                continue
            try:
                proc = portal_to_procedure(obj)
            except (PortalShapeError, ValidationError, KeyError, TypeError, ValueError) as exc:
                report.reject(source, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
                continue
            for f in ("channels", "document_cases", "steps", "legal_basis", "results"):
                report.ok(f, empty=not getattr(proc, f))
            structure_procedure(proc, report, source)
            proc.aliases = aliases.get(proc.code, [])
            proc.last_updated = today or today_local()
            procs[proc.code] = proc
    return Catalogue(procs), report
