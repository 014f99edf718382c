"""Human handoff on Telegram end to end: the citizen asks for a person, staff take the conversation in the
console, the assistant stays quiet, staff replies reach the citizen, and handing back resumes the assistant."""
import json
import re
import subprocess
import sys
import time

import httpx

from tests.conftest import ROOT
from tests.running import STAFF_CHAT, TG_SECRET

SECRET = {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
CHAT = 1020


def say(run, text):
    update = run.telegram.text_update(CHAT, text)
    assert run.post("/webhooks/telegram/webhook", json.dumps(update).encode(), SECRET)[0] == 200


def texts(run):
    return [m["text"] for m in run.telegram.sent(CHAT)]


def alerts_for(run):
    """The staff group's alerts about this test's conversation."""
    return [m["text"] for m in run.telegram.sent(STAFF_CHAT) if m["text"].endswith(f"/handoffs/tg-{CHAT}")]


def staff_client(run) -> httpx.Client:
    password = "mat-khau-can-bo-minh-1"
    created = subprocess.run([sys.executable, "-m", "motcua", "admin", "create", "--username", "minh.le", "--role",
                              "editor", "--full-name", "Lê Minh", "--password-stdin"], cwd=ROOT, env=run.env,
                             input=password + "\n", capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    client = httpx.Client(base_url=run.console_url, follow_redirects=False, timeout=30)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
    assert client.post("/login", data={"username": "minh.le", "password": password, "csrf": token}).status_code == 303
    return client


def csrf(client, path):
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).text).group(1)


def test_handoff_on_telegram(channels_run):
    run = channels_run
    say(run, "cho tôi gặp nhân viên")
    assert run.telegram.wait_for(lambda: texts(run), 60)
    assert "cán bộ" in texts(run)[-1]
    # The staff group hears of it from the deliverer (no message text in it), with the console page to open.
    # (Other tests of this session's server may have queued alerts for their own conversations.)
    assert run.telegram.wait_for(lambda: alerts_for(run), 30)
    assert alerts_for(run)[0].startswith("🔔 Người dân cần gặp cán bộ qua Telegram")
    client = staff_client(run)
    listing = client.get("/handoffs").text
    assert f"tg-{CHAT}" in listing and re.search(
        r'<span class="badge" title="người dân đang chờ">[1-9]\d*</span>', listing
    )

    page = f"/handoffs/tg-{CHAT}"
    assert client.post(page + "/take", data={"csrf": csrf(client, page)}).status_code == 303
    assert run.telegram.wait_for(lambda: "Cán bộ Lê Minh của Sở đã tham gia" in texts(run)[-1], 10)

    count = len(texts(run))
    say(run, "tach thua mat bao lau")
    time.sleep(2)
    assert len(texts(run)) == count  # the assistant stays quiet
    assert "tach thua mat bao lau" in client.get(page).text

    client.post(page + "/reply", data={"text": "Tách thửa mất 12 ngày làm việc khi nộp trực tuyến.",
                                       "csrf": csrf(client, page)})
    assert texts(run)[-1] == "Cán bộ Lê Minh: Tách thửa mất 12 ngày làm việc khi nộp trực tuyến."

    assert len(alerts_for(run)) == 1  # taken: no further alert
    client.post(page + "/release", data={"csrf": csrf(client, page)})
    assert "rời cuộc trò chuyện" in texts(run)[-1]
    count = len(texts(run))
    say(run, "tach thua mat bao lau")
    assert run.telegram.wait_for(lambda: len(texts(run)) > count, 60)
    time.sleep(1)
    assert "1.012784" in "\n".join(texts(run)[count:])  # the assistant answers again
