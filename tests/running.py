"""A running assistant (`motcua run`, once per session) with Telegram (polling) and Zalo pointed at local
fake APIs, its staff console, and headless Chromium (Debian's, through chromedriver) to drive pages."""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from channels.fakes import FakeTelegram, FakeZalo
from tests.backends import running_env
from tests.conftest import ROOT

TG_TOKEN = "4242:FAKE-token"
TG_SECRET = "test-webhook-secret_1"
STAFF_CHAT = -1009876543210  # the staff group that gets handoff alerts
ZALO = {"app_id": "3001", "oa_key": "oa-secret-key", "app_secret": "app-secret", "access": "tok-1", "refresh": "ref-1"}
RASA_PORT, ACTIONS_PORT, WEB_PORT, CONSOLE_PORT = 5505, 5555, 8505, 8595
ARTIFACTS = ROOT / "test-artifacts"


@dataclass
class Running:
    telegram: FakeTelegram
    zalo: FakeZalo
    env: dict
    log: Path
    rasa_url: str = f"http://127.0.0.1:{RASA_PORT}"
    web_url: str = f"http://127.0.0.1:{WEB_PORT}"
    console_url: str = f"http://127.0.0.1:{CONSOLE_PORT}"

    def post(self, path: str, body: bytes, headers: dict):
        req = urllib.request.Request(self.rasa_url + path, data=body,
                                     headers={"Content-Type": "application/json", **headers})
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def get(self, path: str):
        with urllib.request.urlopen(self.rasa_url + path, timeout=30) as resp:
            return resp.status, json.loads(resp.read())


def wait_ports_free(ports, timeout: float = 60) -> None:
    """Wait until nothing listens on ``ports`` (a server of an earlier run may still be stopping)."""
    import socket

    deadline = time.time() + timeout
    while True:
        busy = []
        for port in ports:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    busy.append(port)
        if not busy:
            return
        if time.time() > deadline:
            pytest.fail(f"ports {busy} are in use: another motcua is running here")
        time.sleep(1)


@pytest.fixture(scope="session")
def channels_run(tmp_path_factory, session_dbs, backend, rasa_model, built_index, base_model_dir):
    import shutil

    tmp = tmp_path_factory.mktemp("channels-run")
    # Staff edits the catalogue and rebuilds the index in these tests: copies, so other tests keep theirs.
    shutil.copytree(ROOT / "knowledge_base/catalogue", tmp / "catalogue")
    shutil.copytree(built_index[0], tmp / "index")
    telegram = FakeTelegram(TG_TOKEN).start()
    zalo = FakeZalo(ZALO["app_id"], ZALO["app_secret"], ZALO["access"], ZALO["refresh"]).start()
    env = dict(os.environ, MOTCUA_RASA_MODEL=str(rasa_model), MOTCUA_EMBEDDING_MODEL=str(base_model_dir),
               MOTCUA_INDEX_DIR=str(tmp / "index"), MOTCUA_CATALOGUE_DIR=str(tmp / "catalogue"),
               MOTCUA_CONSOLE_PORT=str(CONSOLE_PORT), MOTCUA_STAFF_NLU_FILE=str(tmp / "staff.yml"),
               MOTCUA_SCOPE_FIELDS="Đất đai",
               MOTCUA_SCOPE_LEVELS="province,commune", MOTCUA_RASA_PORT=str(RASA_PORT),
               MOTCUA_ACTIONS_PORT=str(ACTIONS_PORT), MOTCUA_WEB_PORT=str(WEB_PORT),
               **running_env(session_dbs("channels-db").url, backend), MOTCUA_DOSSIER_KEY_FILE=str(tmp / "dossier.key"),
               MOTCUA_DEMO_DOSSIERS="0", MOTCUA_DELIVER_INTERVAL_S="1", MOTCUA_CHANNELS_FILE=str(tmp / "none.env"),
               PYTHONUNBUFFERED="1", TELEGRAM_BOT_TOKEN=TG_TOKEN, TELEGRAM_WEBHOOK_SECRET=TG_SECRET,
               TELEGRAM_API_BASE=telegram.url, MOTCUA_TELEGRAM_MODE="polling", ZALO_APP_ID=ZALO["app_id"],
               ZALO_OA_SECRET_KEY=ZALO["oa_key"], ZALO_ACCESS_TOKEN=ZALO["access"],
               ZALO_REFRESH_TOKEN=ZALO["refresh"], ZALO_APP_SECRET=ZALO["app_secret"], ZALO_API_BASE=zalo.url,
               ZALO_OAUTH_BASE=zalo.url, MOTCUA_STAFF_ALERT_TELEGRAM_CHAT=str(STAFF_CHAT),
               # as deployed behind a reverse proxy on this machine: clients' addresses come forwarded
               MOTCUA_TRUSTED_PROXIES="127.0.0.1", MOTCUA_ACTION_SECRET_FILE=str(tmp / "action.key"))
    wait_ports_free((RASA_PORT, ACTIONS_PORT, WEB_PORT, CONSOLE_PORT))
    log = tmp / "run.log"
    out = open(log, "w")
    proc = subprocess.Popen([sys.executable, "-m", "motcua", "run"], cwd=ROOT, env=env, stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 400
    while "motcua is ready" not in log.read_text():
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail("motcua run did not start:\n" + log.read_text()[-3000:])
        time.sleep(1)
    yield Running(telegram, zalo, env, log)
    proc.send_signal(signal.SIGINT)
    try:
        assert proc.wait(timeout=60) == 0, log.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        telegram.stop()
        zalo.stop()


@pytest.fixture(scope="session")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    from motcua.localservers import chromium

    try:
        binary, driver_path = chromium()
    except RuntimeError as exc:
        pytest.fail(f"headless Chromium is needed for the browser tests: {exc}")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--lang=vi",
                "--window-size=1280,900"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(60)
    ARTIFACTS.mkdir(exist_ok=True)
    yield driver
    driver.quit()


def wait(driver, predicate, timeout=60):
    """Wait until ``predicate(driver)`` is truthy; returns its value."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.3).until(lambda d: predicate(d))
