"""Staff alerts for handoff requests: queued once per request, sent once to every target, failures
retried for the failing target only, nothing sent for requests already taken, closed or old."""
import asyncio
import datetime as dt

import pytest

from channels import telegram
from channels.fakes import FakeTelegram, FakeWebhook
from channels.staff_alerts import StaffAlerter, alert_text, alerts_report, telegram_target, webhook_target
from channels.state import ChannelState
from core.settings import Settings
from core.stores.handoff import HandoffStore
from tests.dossiers.conftest import Clock

TOKEN = "1234:TEST"


# The stores record naive Vietnam time (core.clock); here the server's own clock runs on UTC, which must not
# shift the time an alert shows.
pytestmark = pytest.mark.usefixtures("server_clock_on_utc")


@pytest.fixture
def clock():
    return Clock(dt.datetime(2026, 11, 23, 16, 30))  # Vietnam time


@pytest.fixture
def store(new_db, clock):
    return HandoffStore(new_db("db"), clock=clock)


class Target:
    def __init__(self, fail_times=0):
        self.sent, self.fail_times = [], fail_times

    async def __call__(self, text, fields):
        if self.fail_times:
            self.fail_times -= 1
            raise ConnectionError("group chat not reachable")
        await asyncio.sleep(0.01)
        self.sent.append((text, fields))


def alerter(store, clock, **targets):
    return StaffAlerter(store, targets, "https://mot-cua.example.vn/console/", clock=clock)


def test_a_request_queues_one_alert_until_it_is_handled(store, clock):
    store.request("tg-5", "telegram")
    clock.advance(minutes=3)
    store.request("tg-5", "telegram")  # asking again while waiting: same place in the queue, same alert
    assert len(store.alerts()) == 1 and store.get("tg-5")["requested_at"] == store.alerts()[0]["requested_at"]
    group = Target()
    assert asyncio.run(alerter(store, clock, telegram=group).run_once())["sent"] == 1
    store.take("tg-5", "telegram", "minh.le")
    store.request("tg-5", "telegram")  # a person already has it
    assert len(store.alerts()) == 1
    store.release("tg-5")
    store.request("tg-5", "telegram")
    assert [a["state"] for a in store.alerts()] == ["sent", "pending"]


def test_every_target_gets_the_alert_once_without_personal_data(store, clock):
    store.request("zl-4421", "zalo")
    store.request("tg-5", "telegram")
    group, hook = Target(), Target()
    counts = asyncio.run(alerter(store, clock, telegram=group, webhook=hook).run_once())
    assert counts == {"sent": 2, "retry": 0, "failed": 0, "skipped": 0}
    assert asyncio.run(alerter(store, clock, telegram=group, webhook=hook).run_once())["sent"] == 0
    assert len(group.sent) == len(hook.sent) == 2
    text, fields = group.sent[1]
    assert text == ("🔔 Người dân cần gặp cán bộ qua Telegram (lúc 16:30 23/11/2026). Đang có 2 người chờ. "
                    "Mở trang sau để nhận cuộc trò chuyện: https://mot-cua.example.vn/console/handoffs/tg-5")
    assert fields == {"conversation_id": "tg-5", "channel": "telegram", "requested_at": "2026-11-23T16:30:00+07:00",
                      "waiting": 2, "url": "https://mot-cua.example.vn/console/handoffs/tg-5"}
    assert [a["state"] for a in store.alerts()] == ["sent", "sent"]
    assert store.alerts()[0]["delivered_to"] == "telegram,webhook"


def test_a_failing_target_is_retried_alone_with_backoff(store, clock):
    store.request("tg-5", "telegram")
    group, hook = Target(), Target(fail_times=1)
    run = alerter(store, clock, telegram=group, webhook=hook)
    assert asyncio.run(run.run_once())["retry"] == 1
    row = store.alerts()[0]
    assert (row["state"], row["delivered_to"], row["attempts"]) == ("pending", "telegram", 1)
    assert "webhook: ConnectionError" in row["last_error"]
    assert asyncio.run(run.run_once())["sent"] == 0  # not due yet
    clock.advance(seconds=31)
    assert asyncio.run(run.run_once())["sent"] == 1
    assert len(group.sent) == 1 and len(hook.sent) == 1  # the group was not alerted twice
    assert store.alerts()[0]["state"] == "sent"


def test_a_target_that_keeps_failing_is_given_up(store, clock):
    store.request("tg-5", "telegram")
    run = alerter(store, clock, webhook=Target(fail_times=100))
    states = []
    for _ in range(6):
        states.append(asyncio.run(run.run_once()))
        clock.advance(hours=1)
    assert states[-1]["failed"] == 1 and store.alerts()[0]["state"] == "failed"
    assert asyncio.run(run.run_once()) == {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}


def test_taken_closed_and_old_requests_are_not_alerted(store, clock):
    store.request("tg-1", "telegram")
    store.take("tg-1", "telegram", "minh.le")
    store.request("tg-2", "telegram")
    store.release("tg-2")
    clock.advance(hours=13)
    store.request("tg-3", "telegram")
    clock.advance(hours=13)  # tg-3 waited too long: turning alerts on now must not flood the group
    store.request("tg-4", "telegram")
    group = Target()
    assert asyncio.run(alerter(store, clock, telegram=group).run_once()) == {"sent": 1, "retry": 0, "failed": 0,
                                                                             "skipped": 3}
    assert "handoffs/tg-4" in group.sent[0][0]
    assert [a["last_error"] for a in store.alerts()][:3] == ["already taken or closed"] * 2 + ["older than 12:00:00"]


def test_two_deliverers_send_each_alert_once(store, clock):
    store.request("tg-5", "telegram")
    group = Target()

    async def both():
        return await asyncio.gather(alerter(store, clock, telegram=group).run_once(),
                                    alerter(store, clock, telegram=group).run_once())

    assert sum(c["sent"] for c in asyncio.run(both())) == 1 and len(group.sent) == 1


def test_a_claim_left_by_a_deliverer_that_died_is_taken_again_later(store, clock):
    store.request("tg-5", "telegram")
    alert = store.alerts()[0]["id"]
    assert store.claim_alert(alert)  # ...and the process stops before sending
    group = Target()
    assert asyncio.run(alerter(store, clock, telegram=group).run_once())["sent"] == 0  # its claim still holds
    clock.advance(minutes=6)
    assert asyncio.run(alerter(store, clock, telegram=group).run_once())["sent"] == 1 and len(group.sent) == 1


def test_telegram_and_webhook_targets_on_the_wire(store, clock, new_db):
    fake, hook = FakeTelegram(TOKEN).start(), FakeWebhook(fail_times=1).start()
    try:
        client = telegram.TelegramClient(telegram.make_bot(TOKEN, fake.url),
                                         ChannelState(new_db("s")))
        store.request("tg-5", "telegram")
        run = alerter(store, clock, telegram=telegram_target(client, "-1001234567890"),
                      webhook=webhook_target(hook.url + "/hooks/staff"))
        assert asyncio.run(run.run_once())["retry"] == 1  # the webhook answered 503
        clock.advance(minutes=1)
        assert asyncio.run(run.run_once())["sent"] == 1
        assert [m["text"] for m in fake.sent(-1001234567890)] == [hook.posts[0]["text"]]
        assert hook.posts[0]["url"].endswith("/handoffs/tg-5") and hook.posts[0]["waiting"] == 1
    finally:
        fake.stop()
        hook.stop()


def test_alert_text_names_the_channel_and_links_the_page():
    alert = {"channel": "web", "requested_at": dt.datetime(2026, 11, 23, 21, 5), "conversation_id": "w1"}
    assert alert_text(alert, 1, "http://x/handoffs/w1") == (
        "🔔 Người dân cần gặp cán bộ qua khung chat trên web (lúc 21:05 23/11/2026). "
        "Mở trang sau để nhận cuộc trò chuyện: http://x/handoffs/w1")


def test_on_a_server_running_on_utc_requests_are_recorded_and_alerted_in_vietnam_time(new_db):
    from core.clock import now_local

    store = HandoffStore(new_db("default-clock"))  # the default clock
    before = now_local() - dt.timedelta(seconds=1)
    store.request("tg-9", "telegram")
    (alert,) = store.alerts()
    assert before <= alert["requested_at"] <= now_local()  # not the server's UTC, seven hours behind
    assert f"(lúc {alert['requested_at']:%H:%M %d/%m/%Y})" in alert_text(alert, 1, "http://x/handoffs/tg-9")
    store.engine.dispose()


def test_settings_and_status_line(monkeypatch, tmp_path):
    for name in ("TELEGRAM_BOT_TOKEN", "MOTCUA_STAFF_ALERT_WEBHOOK_URL", "MOTCUA_CONSOLE_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MOTCUA_CHANNELS_FILE", str(tmp_path / "none.env"))
    monkeypatch.delenv("MOTCUA_STAFF_ALERT_TELEGRAM_CHAT", raising=False)
    assert alerts_report(Settings.from_env()).startswith("staff alerts: off")
    monkeypatch.setenv("MOTCUA_STAFF_ALERT_TELEGRAM_CHAT", "-1001234567890")
    assert "TELEGRAM_BOT_TOKEN is missing" in alerts_report(Settings.from_env())
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("MOTCUA_CONSOLE_PUBLIC_URL", "https://can-bo.example.vn/")
    settings = Settings.from_env()
    assert alerts_report(settings) == ("staff alerts: Telegram chat -1001234567890; "
                                       "console links to https://can-bo.example.vn")
    monkeypatch.setenv("MOTCUA_STAFF_ALERT_TELEGRAM_CHAT", "nhom can bo")
    with pytest.raises(ValueError, match="MOTCUA_STAFF_ALERT_TELEGRAM_CHAT"):
        Settings.from_env()
    monkeypatch.setenv("MOTCUA_STAFF_ALERT_TELEGRAM_CHAT", "@motcua_canbo")
    monkeypatch.setenv("MOTCUA_STAFF_ALERT_WEBHOOK_URL", "hooks.example.vn/x")
    with pytest.raises(ValueError, match="MOTCUA_STAFF_ALERT_WEBHOOK_URL"):
        Settings.from_env()


def test_status_command_shows_alerts_given_up(tmp_path, new_db):
    import subprocess
    import sys

    from tests.conftest import ROOT

    url = new_db("db")
    store = HandoffStore(url)
    store.request("tg-5", "telegram")
    alert = store.alerts()[0]["id"]
    store.claim_alert(alert)
    store.retry_alert(alert, [], "webhook: HTTPStatusError: 404 Not Found", max_attempts=1)
    env = {"PATH": "/usr/bin:/bin", "MOTCUA_DATABASE_URL": url, "MOTCUA_CHANNELS_FILE": str(tmp_path / "none.env")}
    out = subprocess.run([sys.executable, "-m", "motcua", "channels", "status"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "staff alerts: off" in out.stdout and "staff alerts given up: 1" in out.stdout
    assert "waiting to be sent" not in out.stdout
    assert "tg-5 at " in out.stdout and "404 Not Found" in out.stdout
