"""The `motcua` command-line contract: search JSON, --stdin, answer, validate, import, errors."""
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def cli_env(built_index, base_model_dir):
    env = dict(os.environ)
    env.update({
        "MOTCUA_EMBEDDING_MODEL": str(base_model_dir),
        "MOTCUA_INDEX_DIR": str(built_index[0]),
        "MOTCUA_SCOPE_FIELDS": "Đất đai",
        "MOTCUA_SCOPE_LEVELS": "province,commune",
    })
    return env


def run(args, env=None, stdin=None):
    return subprocess.run([sys.executable, "-m", "motcua", *args], cwd=ROOT, env=env or dict(os.environ),
                          input=stdin, capture_output=True, text=True, timeout=300)


def test_search_json_contract(cli_env):
    out = run(["search", "lam lai so do bi mat", "--top", "3", "--json"], cli_env)
    assert out.returncode == 0, out.stderr
    hits = json.loads(out.stdout)
    assert len(hits) == 3 and set(hits[0]) == {"code", "name", "score"}
    assert hits[0]["code"] == "1.012786"
    assert hits[0]["score"] >= hits[1]["score"] >= hits[2]["score"]
    assert "stale" not in out.stderr  # the fixture's index is current: not rebuilt


def test_build_if_stale_leaves_a_current_index_alone(cli_env, built_index):
    manifest = built_index[0] / "manifest.json"
    before = manifest.stat().st_mtime_ns
    out = run(["build", "--if-stale"], cli_env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("index current") and manifest.stat().st_mtime_ns == before


def test_search_stdin_one_json_list_per_line(cli_env):
    out = run(["search", "--stdin", "--top", "2", "--json"], cli_env,
              stdin="tach thua dat\n\nSang tên sổ đỏ\n")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().split("\n")
    assert len(lines) == 3
    first, empty, third = (json.loads(line) for line in lines)
    assert first[0]["code"] == "1.012784" and len(first) == 2
    assert empty == []
    assert third[0]["code"] == "1.013831"


def test_answer_prints_a_sourced_vietnamese_answer(cli_env):
    out = run(["answer", "lam lai so do bi mat mat bao lau"], cli_env)
    assert out.returncode == 0, out.stderr
    assert "Thời hạn giải quyết" in out.stdout and "Nguồn: thủ tục 1.012786" in out.stdout
    out = run(["answer", "lam lai so do bi mat can giay to gi", "--case", "2"], cli_env)  # without --code
    assert out.returncode == 0 and "dưới đây là: b) mất Trang bổ sung" in out.stdout, out.stderr


def test_search_without_question_is_a_clear_error(cli_env):
    out = run(["search", ""], cli_env)
    assert out.returncode == 2 and "give a question" in out.stderr and "Traceback" not in out.stderr


def test_validate_reports_file_field_reason(tmp_path):
    (tmp_path / "1.000001.yml").write_text("code: '1.000001'\nname: X\n")
    out = run(["validate", "--dir", str(tmp_path)])
    assert out.returncode == 1
    assert "1.000001.yml: field 'field': field required" in out.stderr
    assert run(["validate"]).returncode == 0


def test_import_dry_run_reports_counts():
    out = run(["import", "--dry-run"])
    assert out.returncode == 0, out.stderr
    assert "Records read: 537; imported: 537" in out.stdout and "(dry run)" in out.stdout


def test_import_missing_source_is_a_clear_error(tmp_path):
    out = run(["import", "--source", str(tmp_path / "none"), "--dry-run"])
    assert out.returncode == 2 and "records folder not found" in out.stderr


def test_import_never_overwrites_a_catalogue_it_cannot_read(tmp_path):
    broken = tmp_path / "1.013831.yml"
    broken.write_text("code: '1.013831'\nshort_name: Đăng ký biến động: chuyển nhượng\n")  # an unquoted colon
    out = run(["import", "--out", str(tmp_path)])
    assert out.returncode == 2 and "does not load" in out.stderr and "Traceback" not in out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1.013831.yml"]  # staff's file left as it was


def test_missing_model_is_a_clear_error(tmp_path):
    env = dict(os.environ, MOTCUA_EMBEDDING_MODEL=str(tmp_path / "no-model"), MOTCUA_INDEX_DIR=str(tmp_path / "i"))
    out = run(["search", "so do"], env)
    assert out.returncode == 2 and "make model" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("content, words", [
    ('1.012790:\n  - sửa sai thông tin trên sổ đỏ\n', 'quote the procedure codes'),
    ('"9.999999":\n  - thủ tục không có\n', 'codes not in the catalogue: 9.999999'),
])
def test_validate_fails_on_an_alias_it_cannot_place(tmp_path, content, words):
    aliases = tmp_path / "aliases.yml"
    aliases.write_text(content, encoding="utf-8")
    out = run(["validate"], dict(os.environ, MOTCUA_ALIASES_FILE=str(aliases)))
    assert out.returncode == 1 and words in out.stderr


def test_every_curated_alias_reaches_its_procedure():
    from knowledge_base.catalogue import Catalogue
    from knowledge_base.importer.records import load_aliases

    catalogue = Catalogue.load(ROOT / "knowledge_base/catalogue")
    for code, aliases in load_aliases(ROOT / "knowledge_base/data/aliases.yml").items():
        assert set(aliases) <= set(catalogue.get(code).aliases), code  # 1.012790's were lost to a float key
