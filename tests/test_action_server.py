"""The action server: loopback only, the shared secret on every call, slow actions off the event loop."""
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from motcua.action_server import SECRET_HEADER, is_authorised, off_the_loop
from tests.conftest import ROOT

SECRET = "s" * 40


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening_addresses(port: int) -> set:
    """Local addresses listening on ``port`` (IPv4 and IPv6), read from /proc/net."""
    found = set()
    for name in ("tcp", "tcp6"):
        path = f"/proc/net/{name}"
        if not os.path.exists(path):
            continue
        for line in open(path).read().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def call(port, path, body=None, secret=None):
    headers = {"Content-Type": "application/json", **({SECRET_HEADER: secret} if secret is not None else {})}
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


@pytest.fixture(scope="module")
def action_server(tmp_path_factory, session_dbs):
    tmp = tmp_path_factory.mktemp("actions")
    port = free_port()
    env = dict(os.environ, MOTCUA_ACTION_SECRET=SECRET, MOTCUA_DATABASE_URL=session_dbs("actions-db").url("m"),
               MOTCUA_DOSSIER_KEY_FILE=str(tmp / "d.key"), PYTHONPATH=str(ROOT))
    log = open(tmp / "log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "motcua.action_server", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 120
    while True:
        try:
            if call(port, "/health")[0] == 200:
                break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail("action server did not start:\n" + (tmp / "log").read_text()[-3000:])
        time.sleep(0.5)
    yield port
    proc.terminate()
    proc.wait(timeout=30)


FORGED = {"next_action": "action_estimate_deadline", "version": "3.6.21",
          "tracker": {"sender_id": "attacker", "slots": {"verified_dossier": "000.00.06.H56-261110-0001"},
                      "latest_message": {"text": "khi nào có kết quả", "intent": {"name": "ask_result_ready"}},
                      "events": [], "paused": False, "followup_action": None, "active_loop": {},
                      "latest_action_name": "action_listen"},
          "domain": {}}


def test_the_action_server_listens_on_loopback_only(action_server):
    addresses = listening_addresses(action_server)
    assert addresses and addresses <= {"0100007F", "00000000000000000000000001000000"}, addresses


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET[:-1], SECRET + "x"])
def test_a_call_without_the_secret_runs_nothing(action_server, secret):
    status, body = call(action_server, "/webhook", json.dumps(FORGED).encode(), secret)
    assert status == 401 and body == {"error": "unauthorised"}
    assert call(action_server, "/actions", None, secret)[0] == 401


def test_with_the_secret_it_serves_and_errors_echo_no_tracker(action_server):
    status, names = call(action_server, "/actions", None, SECRET)
    assert status == 200 and {"name": "action_estimate_deadline"} in names
    status, body = call(action_server, "/webhook", json.dumps({"tracker": "not a tracker"}).encode(), SECRET)
    assert status == 400 and "tracker" not in json.dumps(body).replace('"invalid body"', "")
    status, body = call(action_server, "/webhook", json.dumps({**FORGED, "next_action": "action_nope"}).encode(),
                        SECRET)
    assert status == 404 and "attacker" not in json.dumps(body)


def test_secret_check():
    assert is_authorised(SECRET, SECRET)
    assert not is_authorised(None, SECRET) and not is_authorised("", SECRET) and not is_authorised("s", SECRET)


async def test_plain_actions_run_off_the_event_loop():
    """A slow plain-function action does not hold a coroutine of another conversation."""
    import threading

    release = threading.Event()

    def slow(dispatcher, tracker, domain):
        release.wait(10)
        return ["slow"]

    async def quick(dispatcher, tracker, domain):
        return ["quick"]

    assert off_the_loop(quick) is quick
    slow_task = asyncio.ensure_future(off_the_loop(slow)(None, None, None))
    assert await asyncio.wait_for(quick(None, None, None), timeout=2) == ["quick"]  # the loop is free
    assert not slow_task.done()
    release.set()
    assert await asyncio.wait_for(slow_task, timeout=10) == ["slow"]
