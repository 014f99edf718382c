"""Importer for the portal's structured JSON API shape, on fixtures written in that shape."""
from pathlib import Path

from knowledge_base.catalogue import procedure_to_yaml
from knowledge_base.importer.portal_json import import_portal_files

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures/portal/procedures.json"


def test_portal_objects_become_procedures_and_bad_ones_are_reported():
    catalogue, report = import_portal_files([FIXTURE], {"1.012786": ["mất sổ đỏ"]})
    assert list(catalogue.procedures) == ["1.012786"]
    proc = catalogue.get("1.012786")
    assert proc.levels == ["province"] and proc.field == "Đất đai"
    online, direct = proc.channels
    assert (online.method, online.time.value, online.time.unit) == ("online", 10, "working_day")
    assert online.fees[0].kind == "none" and online.fees[0].set_by_province
    assert (direct.fees[0].kind, direct.fees[0].amount_vnd) == ("charge", 100000)
    doc = proc.document_cases[0].documents[0]
    assert (doc.originals, doc.copies, doc.has_electronic_form) == (1, 0, True)
    assert proc.decision == "3380/QĐ-BNNMT" and str(proc.decision_date) == "2025-08-29"
    assert proc.legal_basis[0].code == "31/2024/QH15" and proc.results[0].code == "KQ.G10.001148"
    assert proc.aliases == ["mất sổ đỏ"]
    reasons = dict(report.rejected)
    assert "isMinistry / isProvince / isWard" in reasons["procedures.json[1]"]
    assert "FAX" in reasons["procedures.json[2]"]
    assert report.total == 3 and report.imported == 1


def test_broken_json_file_is_reported(tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text("{not json")
    catalogue, report = import_portal_files([bad], {})
    assert not catalogue.procedures and "cannot read JSON" in report.rejected[0][1]


def test_portal_procedure_serialises_to_yaml():
    catalogue, _ = import_portal_files([FIXTURE], {})
    text = procedure_to_yaml(catalogue.get("1.012786"))
    assert "code: '1.012786'" in text and "method: online" in text
