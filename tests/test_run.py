"""The run command end to end: servers start, answer over REST, stop on Ctrl-C, keep conversations."""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.backends import ON_POSTGRES, running_env
from tests.conftest import ROOT

API_TOKEN = "test-api-token-0123456789"


def post(port, sender, text):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/webhooks/rest/webhook",
                                 data=json.dumps({"sender": sender, "message": text}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def get(url):
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status, resp.read().decode()


@pytest.fixture
def run_env(tmp_path, new_db, backend, rasa_model, built_index, base_model_dir):
    return dict(os.environ, MOTCUA_RASA_MODEL=str(rasa_model), MOTCUA_EMBEDDING_MODEL=str(base_model_dir),
                MOTCUA_INDEX_DIR=str(built_index[0]), MOTCUA_SCOPE_FIELDS="Đất đai",
                MOTCUA_SCOPE_LEVELS="province,commune", MOTCUA_RASA_PORT="5305", MOTCUA_ACTIONS_PORT="5355",
                MOTCUA_WEB_PORT="8305", **running_env(new_db, backend),
                MOTCUA_DOSSIER_KEY_FILE=str(tmp_path / "dossier.key"), MOTCUA_DEMO_DOSSIERS="50", PYTHONUNBUFFERED="1",
                MOTCUA_REST_CHANNEL="1", MOTCUA_RASA_API_TOKEN=API_TOKEN,
                MOTCUA_ACTION_SECRET_FILE=str(tmp_path / "action.key"))


def start(env, tmp_path, name):
    log = open(tmp_path / f"{name}.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "motcua", "run", "--demo"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 400
    while time.time() < deadline:
        if "motcua is ready" in (tmp_path / f"{name}.log").read_text():
            return proc
        if proc.poll() is not None:
            break
        time.sleep(2)
    proc.kill()
    pytest.fail("motcua run did not start:\n" + (tmp_path / f"{name}.log").read_text()[-3000:])


def stop(proc):
    proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
    assert proc.wait(timeout=60) == 0


def check_a_sample_dossier(log: str):
    """The run command seeded sample dossiers and printed some to try: look one up with a full phone number."""
    import re

    code, last4 = re.search(r"^\s+(\S+-\d{6}-\d{4})\s+(\d{4})\s+status", log, re.M).groups()
    asked = "\n".join(r.get("text", "") for r in post(5305, "citizen-2", f"tra cuu ho so {code.lower()}"))
    assert "4 số cuối" in asked
    answer = "\n".join(r.get("text", "") for r in post(5305, "citizen-2", f"sdt cua toi la 0912 34{last4}"))
    assert code in answer and "Ngày tiếp nhận" in answer
    status, body = get(f"http://127.0.0.1:5305/conversations/citizen-2/tracker?token={API_TOKEN}")
    assert f"0912 34{last4}" not in body and f"******{last4}" in body  # masked before it was stored


def check_a_typed_case_choice():
    """A record with several document cases asks which is the citizen's; a letter typed back (which the classifier
    takes for a "yes") shows that case's papers, through the trained model and both servers."""
    asked = "\n".join(r.get("text", "") for r in post(5305, "citizen-3", "lam so do lan dau can giay to gi"))
    assert "Hồ sơ khác nhau theo 3 trường hợp" in asked and "b) " in asked, asked
    chosen = "\n".join(r.get("text", "") for r in post(5305, "citizen-3", "b"))
    assert "dưới đây là: b) đăng ký, cấp Giấy chứng nhận lần đầu cho người gốc" in chosen, chosen
    assert "- Đơn đăng ký đất đai" in chosen


def test_run_answers_over_rest_and_keeps_conversations_across_restarts(run_env, tmp_path):
    proc = start(run_env, tmp_path, "first")
    try:
        status, page = get("http://127.0.0.1:8305/")
        assert status == 200 and "Trợ lý thủ tục hành chính" in page
        replies = post(5305, "citizen-1", "lam lai so do bi mat mat bao lau")
        text = "\n".join(r.get("text", "") for r in replies)
        assert "Cấp lại Giấy chứng nhận do bị mất" in text and "Thời hạn giải quyết" in text
        follow = "\n".join(r.get("text", "") for r in post(5305, "citizen-1", "còn lệ phí thì sao?"))
        assert "Phí, lệ phí" in follow and "1.012786" in follow
        check_a_typed_case_choice()
        if ON_POSTGRES:  # --demo seeds the embedded store only, never a shared database: staff add them there
            assert "this store is postgresql, so none were added" in (tmp_path / "first.log").read_text()
            seeded = subprocess.run([sys.executable, "-m", "motcua", "dossiers", "sample", "20"], cwd=ROOT,
                                    env=run_env, capture_output=True, text=True, timeout=300)
            assert seeded.returncode == 0, seeded.stderr[-2000:]
            check_a_sample_dossier(seeded.stdout)
        else:
            check_a_sample_dossier((tmp_path / "first.log").read_text())
    finally:
        stop(proc)
    assert "motcua stopped." in (tmp_path / "first.log").read_text()

    proc = start(run_env, tmp_path, "second")
    try:
        status, body = get(f"http://127.0.0.1:5305/conversations/citizen-1/tracker?token={API_TOKEN}")
        events = json.loads(body)["events"]
        said = [e.get("text") for e in events if e.get("event") == "user"]
        assert "lam lai so do bi mat mat bao lau" in said and "còn lệ phí thì sao?" in said
        # the procedure under discussion survived the restart too
        follow = "\n".join(r.get("text", "") for r in post(5305, "citizen-1", "nop o dau"))
        assert "1.012786" in follow
    finally:
        stop(proc)
