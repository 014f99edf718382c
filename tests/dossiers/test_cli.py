"""`motcua deadline`, `motcua dossiers import|sample|show|outbox` and `motcua db` from the shell."""
import os
import re

import pytest

from tests.test_cli import run


@pytest.fixture
def env(tmp_path, new_db):
    return dict(os.environ, MOTCUA_DATABASE_URL=new_db("m"),
                MOTCUA_DOSSIER_KEY_FILE=str(tmp_path / "key"))


@pytest.mark.parametrize("args, due", [
    (["--start", "2026-04-24T09:00", "--working-days", "3"], "2026-05-04T09:00"),
    (["--start", "13/02/2026 10:00", "--working-days", "1"], "2026-02-23T10:00"),
    (["--start", "2026-11-23T17:30", "--procedure", "1.012786", "--channel", "online"], "2026-12-08T17:00"),
    (["--start", "2027-04-16T10:00", "--days", "15"], "2027-05-04T17:00"),
])
def test_deadline_prints_iso_first(env, args, due):
    out = run(["deadline", *args], env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] == due


@pytest.mark.parametrize("args, message", [
    (["--start", "tomorrow", "--working-days", "3"], "not a date"),
    (["--start", "2026-04-24T09:00"], "give one of"),
    (["--start", "2026-04-24T09:00", "--working-days", "-2"], "invalid time limit"),
    (["--procedure", "9.999999"], "no usable time limit"),
])
def test_deadline_errors_are_one_line(env, args, message):
    out = run(["deadline", *args], env)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr


def test_sample_import_show_and_db(env, tmp_path):
    out = run(["dossiers", "sample", "30"], env)
    assert out.returncode == 0 and "30 created" in out.stdout, out.stderr
    code, digits = re.search(r"^\s+(\S+)\s+(\d{4})\s+status", out.stdout, re.M).groups()
    assert "30 already there" in run(["dossiers", "sample", "30"], env).stdout  # the same seed: idempotent
    shown = run(["dossiers", "show", code], env)
    assert shown.returncode == 0 and code in shown.stdout and "Ngày tiếp nhận" in shown.stdout
    export = tmp_path / "export.csv"
    export.write_text("Mã hồ sơ,Mã thủ tục,Kênh nộp,Số điện thoại,Ngày tiếp nhận,Trạng thái\n"
                      # sequence 9001: the 30 samples (numbered from 0001 per agency and day) never take it
                      "000.00.06.H56-261110-9001,1.012786,Trực tuyến,0912345678,10/11/2026 09:00,4\n"
                      "bad,1.012786,Trực tuyến,0912345678,10/11/2026 09:00,4\n", encoding="utf-8")
    imported = run(["dossiers", "import", str(export)], env)
    assert imported.returncode == 1  # a row was rejected: reported, the good one kept
    assert "1 created" in imported.stdout and f"{export}:3: bad dossier code" in imported.stdout
    assert run(["db", "current"], env).stdout.strip() == "dossier schema at revision 0003"
    assert "0 notices" in run(["dossiers", "outbox"], env).stdout
    missing = run(["dossiers", "import", str(tmp_path / "nope.csv")], env)
    assert missing.returncode == 2 and "no such file" in missing.stderr
