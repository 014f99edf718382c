"""Catalogue files: schema validation errors name file, field and reason; import is complete."""
import pytest
import yaml

from knowledge_base.catalogue import Catalogue, CatalogueError, load_procedure, procedure_to_yaml
from knowledge_base.importer.records import import_records, iter_record_files, load_aliases
from tests.conftest import RECORDS, ROOT


def test_committed_catalogue_is_complete_and_valid(catalogue):
    assert len(catalogue) == 537
    proc = catalogue.get("1.012786")
    assert proc.source_url.startswith("https://dichvucong.gov.vn/") and proc.decision == "3380/QĐ-BNNMT"
    assert "mất sổ đỏ" in proc.aliases


def test_default_scope_is_the_whole_department_at_province_and_commune(catalogue):
    from core.settings import NATURAL_RESOURCE_FIELDS, Settings

    s = Settings()
    scope = catalogue.in_scope(s.knowledge.scope_fields, s.knowledge.scope_levels)
    assert len(scope) == 342  # every field of Agriculture and Environment, ministry-level procedures aside
    assert all(set(p.levels) & {"province", "commune"} for p in scope)
    assert {"Thú y", "Chăn nuôi", "Thủy sản", "Lâm nghiệp", "Thủy lợi", "Đất đai"} <= {p.field for p in scope}
    assert len(catalogue.in_scope(NATURAL_RESOURCE_FIELDS, s.knowledge.scope_levels)) == 133  # the former scope
    assert len(catalogue.in_scope((), ())) == 537


def test_reimport_reproduces_the_committed_catalogue_and_keeps_staff_edits(catalogue):
    fresh, report = import_records(iter_record_files(RECORDS), load_aliases(ROOT / "knowledge_base/data/aliases.yml"),
                                   previous=catalogue)
    assert report.imported == 537 and not report.rejected
    for code in ("1.012786", "1.014272", "1.000025"):
        assert fresh.get(code) == catalogue.get(code)


def test_import_report_lists_every_failure():
    _, report = import_records(iter_record_files(RECORDS), {})
    text = report.to_text()
    assert "Records read: 537; imported: 537" in text
    for source, fieldname, reason in report.failures:
        assert f"{source} [{fieldname}]: {reason}" in text


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def test_validation_error_names_file_field_and_reason(tmp_path, catalogue):
    data = yaml.safe_load(procedure_to_yaml(catalogue.get("1.012786")))
    data["channels"][0]["time"]["value"] = -3
    path = _write(tmp_path, "1.012786.yml", data)
    with pytest.raises(CatalogueError) as err:
        load_procedure(path)
    assert str(path) in str(err.value) and "channels.0.time.value" in str(err.value)
    assert "greater than or equal to 0" in str(err.value)


@pytest.mark.parametrize("mutate, field", [
    (lambda d: d.update(code="12345"), "code"),
    (lambda d: d.update(levels=[]), "levels"),
    (lambda d: d.update(levels=["district"]), "levels"),
    (lambda d: d["channels"].append(dict(d["channels"][0])), "channels"),
    (lambda d: d.update(unknown_field=1), "unknown_field"),
])
def test_schema_rejects_bad_values(tmp_path, catalogue, mutate, field):
    data = yaml.safe_load(procedure_to_yaml(catalogue.get("1.012786")))
    mutate(data)
    with pytest.raises(CatalogueError, match=field):
        load_procedure(_write(tmp_path, "1.012786.yml", data))


def test_file_name_must_match_code(tmp_path, catalogue):
    data = yaml.safe_load(procedure_to_yaml(catalogue.get("1.012786")))
    with pytest.raises(CatalogueError, match="does not match the file name"):
        load_procedure(_write(tmp_path, "1.000001.yml", data))


def test_broken_yaml_and_missing_folder(tmp_path):
    (tmp_path / "1.000001.yml").write_text("code: [unclosed")
    with pytest.raises(CatalogueError, match="cannot read YAML"):
        Catalogue.load(tmp_path)
    with pytest.raises(CatalogueError, match="not found"):
        Catalogue.load(tmp_path / "nope")


def test_save_and_load_round_trip(tmp_path, catalogue):
    small = Catalogue({c: catalogue.get(c) for c in ("1.012786", "1.012784")})
    small.save(tmp_path)
    assert Catalogue.load(tmp_path).procedures == small.procedures
