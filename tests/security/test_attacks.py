"""The attacks of issue #22, run against the running assistant (`motcua run` with Telegram and Zalo at
local fakes, as a department deploys it behind a reverse proxy on this machine). Each test fails if the
attack succeeds.

The simulated clients present their own addresses through X-Forwarded-For, which the assistant believes
only because the proxy (127.0.0.1) is configured as trusted (MOTCUA_TRUSTED_PROXIES); no traffic
leaves the loopback interface.
"""
import concurrent.futures
import json
import re
import subprocess
import sys
import time
import unicodedata
import urllib.error
import urllib.request

import pytest
from sqlalchemy import create_engine, inspect, text

from channels.fakes import zalo_event
from channels.zalo import signature
from tests.backends import count_rows
from tests.conftest import ROOT
from tests.running import ACTIONS_PORT, TG_SECRET, ZALO
from tests.test_action_server import FORGED, listening_addresses

TELEGRAM_SECRET = {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
MEGABYTE = "a" * (1024 * 1024)


def raw_post(url: str, body: bytes, headers: dict, timeout: float = 60):
    """(status, parsed JSON or raw text, seconds); status 0 when the server closed the connection while a
    large body was still being sent (it refused it without reading it: a refusal, not a failure)."""
    req = urllib.request.Request(url, data=body, headers=headers)
    started = time.time()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, data = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, data = exc.code, exc.read()
    except (urllib.error.URLError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        if len(body) < 100_000 or not isinstance(reason, (BrokenPipeError, ConnectionResetError)):
            raise
        status, data = 0, b"connection closed by the server"
    try:
        parsed = json.loads(data or b"null")
    except ValueError:
        parsed = data.decode("utf-8", "replace")
    return status, parsed, time.time() - started


def web(run, sender: str, text: str, address: str = "203.0.113.10", content_type: str = "application/json"):
    """The widget's call from ``address``: (status, the assistant's texts joined, seconds)."""
    status, body, took = raw_post(run.rasa_url + "/webhooks/web/webhook",
                                  json.dumps({"sender": sender, "message": text}).encode(),
                                  {"Content-Type": content_type, "X-Forwarded-For": address})
    texts = "\n".join(m.get("text", "") for m in body) if isinstance(body, list) else str(body)
    return status, texts, took


def user_texts(run, sender: str) -> list:
    """What the tracker store holds as this conversation's user messages."""
    engine = create_engine(run.env["MOTCUA_TRACKER_STORE_URL"])
    with engine.connect() as db:
        rows = db.execute(text("SELECT data FROM events WHERE sender_id = :sender AND type_name = 'user' ORDER BY id"),
                          {"sender": sender}).fetchall()
    engine.dispose()
    return [json.loads(r[0]).get("text") for r in rows]


# -- 1. Trust boundaries ------------------------------------------------------------------------
def test_a_forged_tracker_to_the_action_server_is_refused(channels_run):
    """Before: 200 and the dossier's due date. After: the port is on loopback only, and 401 without the secret."""
    assert listening_addresses(ACTIONS_PORT) <= {"0100007F", "00000000000000000000000001000000"}
    status, body, _ = raw_post(f"http://127.0.0.1:{ACTIONS_PORT}/webhook", json.dumps(FORGED).encode(),
                               {"Content-Type": "application/json"})
    assert status == 401 and body == {"error": "unauthorised"}
    status, _, _ = raw_post(f"http://127.0.0.1:{ACTIONS_PORT}/webhook",
                            json.dumps({**FORGED, "next_action": "action_subscribe_notices"}).encode(),
                            {"Content-Type": "application/json", "X-Motcua-Action-Secret": "guess"})
    assert status == 401


@pytest.mark.parametrize("method, path", [("GET", "/conversations/web-victim-000001/tracker"),
                                          ("POST", "/conversations/web-victim-000001/tracker/events"),
                                          ("POST", "/model/parse"), ("GET", "/status")])
def test_rasa_http_api_answers_nothing_without_a_token(channels_run, method, path):
    """Before: GET /conversations/<id>/tracker answered 200 and events could be written. After: no API."""
    body = json.dumps({"event": "slot", "name": "verified_dossier", "value": "x", "text": "hi"}).encode()
    req = urllib.request.Request(channels_run.rasa_url + path, data=body if method == "POST" else None,
                                 headers={"Content-Type": "application/json"}, method=method)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(req, timeout=30)
    assert refused.value.code in (401, 403, 404, 405)


def test_the_rest_channel_is_off_and_text_plain_is_refused(channels_run):
    """Before: REST took any sender; a cross-site text/plain body was parsed as JSON. After: neither."""
    status, _, _ = raw_post(channels_run.rasa_url + "/webhooks/rest/webhook",
                            json.dumps({"sender": "tg-42", "message": "xin chào"}).encode(),
                            {"Content-Type": "application/json"})
    assert status == 404
    sender = "web-security-textplain-01"
    status, _, _ = web(channels_run, sender, "xin chào", content_type="text/plain")
    assert status in (400, 415)
    assert user_texts(channels_run, sender) == []  # nothing reached the assistant


# -- 2. Size caps, stalls, rate limits ---------------------------------------------------------------
def stall_bound(run) -> float:
    """How long a small message may take while an attack runs: 5 s, or five times what one takes alone right
    now when the machine is busy with other work (before the fix it waited 21 s)."""
    alone = min(timed_small_message(run, f"web-security-alone-{i}-{time.time_ns()}") for i in range(3))
    return max(5.0, 5 * alone)


def timed_small_message(run, sender: str) -> float:
    status, text, took = web(run, sender, "xin chào", address="203.0.113.20")
    assert status == 200 and text, text
    return took


def test_a_megabyte_message_on_every_channel_stalls_no_one(channels_run):
    """Before: 1 MB on REST took 46 s and held a small web message for 21 s. After: refused at once, and
    another conversation's message is answered as usual."""
    run = channels_run
    bound = stall_bound(run)  # also warms the models up
    zalo_big = json.dumps(zalo_event(ZALO["app_id"], "z-security-big", MEGABYTE)).encode()
    zalo_mac = signature(ZALO["app_id"], zalo_big, json.loads(zalo_big)["timestamp"], ZALO["oa_key"])
    attacks = {
        "web": lambda: raw_post(run.rasa_url + "/webhooks/web/webhook",
                                json.dumps({"sender": "web-security-big-0001", "message": MEGABYTE}).encode(),
                                {"Content-Type": "application/json", "X-Forwarded-For": "198.51.100.7"}),
        "telegram": lambda: raw_post(run.rasa_url + "/webhooks/telegram/webhook",
                                     json.dumps(run.telegram.text_update(7001, MEGABYTE)).encode(),
                                     {"Content-Type": "application/json", **TELEGRAM_SECRET}),
        "zalo": lambda: raw_post(run.rasa_url + "/webhooks/zalo/webhook", zalo_big,
                                 {"Content-Type": "application/json", "X-ZEvent-Signature": zalo_mac}),
        "socketio": lambda: raw_post(run.rasa_url + "/socket.io/?EIO=4&transport=polling", MEGABYTE.encode(),
                                     {"Content-Type": "text/plain"}),
    }
    with concurrent.futures.ThreadPoolExecutor(len(attacks) + 1) as pool:
        futures = {name: pool.submit(attack) for name, attack in attacks.items()}
        small = pool.submit(timed_small_message, run, "web-security-small-001").result()
        results = {name: future.result() for name, future in futures.items()}
    assert small < bound, f"a small message waited {small:.1f} s"
    for name, (status, body, took) in results.items():
        assert took < bound, (name, took)
        assert status != 500, (name, body)
    # nothing of a megabyte reached the assistant
    assert all(len(t or "") <= 2000 for t in user_texts(run, "web-security-big-0001"))


@pytest.mark.parametrize("channel", ["web", "telegram", "zalo"])
def test_an_over_long_message_gets_a_polite_reply_not_nlu(channels_run, channel):
    run, text = channels_run, "tôi muốn hỏi về sổ đỏ " * 120  # about 2,640 characters
    if channel == "web":
        status, reply, _ = web(run, "web-security-long-0001", text)
        assert status == 200 and "ký tự" in reply, reply
        assert user_texts(run, "web-security-long-0001") == []
    elif channel == "telegram":
        raw_post(run.rasa_url + "/webhooks/telegram/webhook", json.dumps(run.telegram.text_update(7002, text)).encode(),
                 {"Content-Type": "application/json", **TELEGRAM_SECRET})
        assert run.telegram.wait_for(lambda: run.telegram.sent(7002), 30)
        assert "ký tự" in run.telegram.sent(7002)[0]["text"]
    else:
        body = json.dumps(zalo_event(ZALO["app_id"], "z-security-long", text)).encode()
        mac = signature(ZALO["app_id"], body, json.loads(body)["timestamp"], ZALO["oa_key"])
        raw_post(run.rasa_url + "/webhooks/zalo/webhook", body, {"Content-Type": "application/json",
                                                                 "X-ZEvent-Signature": mac})
        assert run.zalo.wait_for(lambda: run.zalo.texts("z-security-long"), 30)
        assert "ký tự" in run.zalo.texts("z-security-long")[0]


def test_messages_at_the_cap_do_not_stall_another_conversation(channels_run):
    """Tokenising and embedding run off the event loop: three 2,000-character questions in flight, and
    a greeting in another conversation is still answered promptly."""
    run = channels_run
    long_question = ("cho tôi hỏi thủ tục tách thửa đất ở xã mình cần giấy tờ gì và mất bao lâu " * 30)[:2000]
    bound = stall_bound(run)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        heavy = [pool.submit(web, run, f"web-security-cap-{i:04d}", long_question, f"198.51.100.{20 + i}")
                 for i in range(3)]
        small = pool.submit(timed_small_message, run, "web-security-small-002").result()
        assert all(f.result()[0] == 200 for f in heavy)
    assert small < bound, f"a small message waited {small:.1f} s"


def test_a_flooding_client_is_slowed_politely(channels_run):
    """One address sending as fast as it can is refused with 429 and a Vietnamese reply once its bucket
    is empty; another address is unaffected."""
    run = channels_run
    statuses, replies = [], []
    for i in range(80):
        status, text, _ = web(run, f"web-security-flood-{i:04d}", "/greet", address="198.51.100.99")
        statuses.append(status)
        if status == 429:
            replies.append(text)
            break
    assert 429 in statuses and replies[0].startswith("Bạn gửi tin nhắn nhanh quá"), (statuses[-3:], replies)
    assert web(run, "web-security-flood-other", "/greet", address="198.51.100.98")[0] == 200


# -- 3. Dossier lookup --------------------------------------------------------------------------------
def sample_dossier(run) -> tuple:
    out = subprocess.run([sys.executable, "-m", "motcua", "dossiers", "sample", "3"], cwd=ROOT, env=run.env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    code, last4 = re.search(r"^\s+(\S+-\d{6}-\d{4})\s+(\d{4})\s+status", out.stdout, re.M).groups()
    return code, last4


def look_up(run, sender: str, address: str, code: str, digits: str) -> str:
    web(run, sender, f"tra cứu hồ sơ {code}", address)
    return web(run, sender, digits, address)[1]


DOSSIER_LOCKED = "Hồ sơ này đang tạm khóa tra cứu đến"


def test_a_stranger_cannot_lock_the_owner_out(channels_run):
    """Before: five wrong guesses from anyone locked the dossier for everyone for 15 minutes. After: a
    stranger spread over many sessions and addresses is locked, the owner's own conversation is not."""
    run = channels_run
    code, last4 = sample_dossier(run)
    owner = "web-security-owner-0001"
    assert "Ngày tiếp nhận" in look_up(run, owner, "203.0.113.50", code, last4)
    wrong = [f"{(int(last4) + k) % 10000:04d}" for k in range(1, 21)]
    answers = [look_up(run, f"web-security-stranger-{k:04d}", f"198.51.100.{100 + k}", code, guess)
               for k, guess in enumerate(wrong)]
    assert not any("Ngày tiếp nhận" in a for a in answers)
    assert all(DOSSIER_LOCKED in a for a in answers[-5:]), answers[-5:]
    # a stranger with the right digits from a fresh session is locked out too: the dossier itself is locked
    late = look_up(run, "web-security-stranger-late", "198.51.100.200", code, last4)
    assert DOSSIER_LOCKED in late and "Ngày tiếp nhận" not in late
    # the owner's own conversation still gets the status
    assert "Ngày tiếp nhận" in look_up(run, owner, "203.0.113.50", code, last4)
    # the owner's conversation id, had it leaked, opens nothing from another address
    assert code not in web(run, owner, "/ask_result_ready", "198.51.100.201")[1]
    assert code in web(run, owner, "/ask_result_ready", "203.0.113.50")[1]


# -- 4. Handoff flood -----------------------------------------------------------------------------------
def test_a_handoff_flood_from_fresh_sessions_queues_only_a_few(channels_run):
    """Before: every fresh session's 'gặp nhân viên' queued a request and alerted staff. After: a few per
    address and hour; the rest get a polite reply with the hotline."""
    run = channels_run
    allowance = run_settings_handoff_per_address(run)
    replies = [web(run, f"web-security-handoff-{i:04d}", "cho tôi gặp nhân viên", "198.51.100.150")[1]
               for i in range(allowance + 4)]
    from core.stores.handoff import handoffs_table

    queued = count_rows(run.env["MOTCUA_DATABASE_URL"], f"SELECT COUNT(*) FROM {handoffs_table.name} "
                        "WHERE conversation_id LIKE 'web-security-handoff-%'")
    assert queued == allowance, queued
    for refused in replies[allowance:]:
        assert "18001096" in refused and "Bộ phận Một cửa" in refused and "hệ thống đang bận" not in refused, refused


def run_settings_handoff_per_address(run) -> int:
    from core.settings import Settings

    return int(run.env.get("MOTCUA_HANDOFF_PER_HOUR_ADDRESS") or Settings().channels.handoff_per_hour_address)


# -- 5. Privacy -------------------------------------------------------------------------------------------
def generated_numbers(seed: int = 22) -> list:
    """Phone and ID numbers as citizens write them: separators, +84 / 84, parentheses, full-width digits."""
    import random

    rng = random.Random(seed)
    out = []
    for _ in range(6):
        national = rng.choice("35789") + "".join(rng.choice("0123456789") for _ in range(8))
        prefix = rng.choice(["0", "+84 ", "(+84) ", "84", "(84) "])
        sep = rng.choice(["", " ", ".", "-"])
        body = sep.join([national[:2], national[2:5], national[5:]])
        text = prefix + body
        if rng.random() < 0.3:
            text = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in text)  # full-width
        out.append((national, text))
    for _ in range(3):
        number = "0" + "".join(rng.choice("0123456789") for _ in range(11))
        out.append((number, " ".join([number[:3], number[3:6], number[6:]])))
    return out


def leaks(blob: str, numbers: list) -> list:
    """The numbers whose digits (all but the last 4 of them at least) appear in ``blob``, whatever the separators.
    Random hex ids (Rasa's message ids, 32 hex digits) are no numbers: "792861704fc9…" once matched 79.286.0909."""
    blob = re.sub(r"(?<![0-9A-Za-z])[0-9a-f]{32}(?![0-9A-Za-z])", "", unicodedata.normalize("NFKC", blob))
    found = []
    for digits, written in numbers:
        head = digits[-9:-4]  # the part masking must hide, in a run with the rest of the number
        pattern = r"[\s.\-()]*".join(digits[-9:])
        if re.search(pattern, blob) or re.search(r"(?<!\d)" + head + r"[\s.\-]*\d{4}(?!\d)", blob):
            found.append(written)
    return found


def console_client(run):
    """A logged-in console admin."""
    import httpx

    password = "kiem-tra-bao-mat-2026"
    created = subprocess.run([sys.executable, "-m", "motcua", "admin", "create", "--username", "an.ninh", "--role",
                              "admin", "--full-name", "Kiểm tra An ninh", "--password-stdin"], cwd=ROOT, env=run.env,
                             input=password + "\n", capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    client = httpx.Client(base_url=run.console_url, follow_redirects=False, timeout=30)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
    assert client.post("/login", data={"username": "an.ninh", "password": password, "csrf": token}).status_code == 303
    return client


def test_numbers_are_masked_in_every_store(channels_run):
    """Before: '0912-345-678', '(+84) 912 345 678', '84912345678', '001 099 012 345' were stored as typed,
    and handoff messages were never masked. After: no store and no console page holds them."""
    run = channels_run
    numbers = generated_numbers()
    sender = "web-security-privacy-01"
    for _, written in numbers[:5]:
        web(run, sender, f"số điện thoại của tôi là {written}, gọi lại giúp", "203.0.113.60")
    web(run, sender, "cho tôi gặp nhân viên", "203.0.113.60")
    for _, written in numbers[5:]:
        web(run, sender, f"căn cước của tôi {written}", "203.0.113.60")  # during the hold: handoff messages
    stores = []
    for url_var in ("MOTCUA_TRACKER_STORE_URL", "MOTCUA_DATABASE_URL"):
        engine = create_engine(run.env[url_var])
        with engine.connect() as db:
            for table in inspect(db).get_table_names():
                stores.append("\n".join(str(tuple(row)) for row in db.execute(text(f'SELECT * FROM "{table}"'))))
        engine.dispose()
    stores.append(run.log.read_text(errors="replace"))  # the servers' logs
    staff = console_client(run)  # what staff see: the conversation, the handoff desk, the analytics export
    for page in (f"/conversations/{sender}", f"/handoffs/{sender}", "/unanswered", "/audit"):
        response = staff.get(page)
        assert response.status_code == 200, page
        stores.append(response.text)
    blob = "\n".join(stores)
    assert sender in blob  # the conversation is there ...
    assert leaks(blob, numbers) == []  # ... its numbers are not


def test_the_leak_check_finds_numbers_as_typed():
    """The privacy check above can fail: every generated number, stored as typed, is found."""
    numbers = generated_numbers()
    assert leaks("\n".join(f"khách ghi: {written}." for _, written in numbers), numbers) == [w for _, w in numbers]
    from core.privacy import mask_text

    assert leaks("\n".join(mask_text(f"khách ghi: {written}.") for _, written in numbers), numbers) == []
