"""Alerts to staff when a citizen asks for a person: a message to the department's Telegram group
and/or a POST to a webhook (a chat tool's incoming webhook, an e-mail or SMS gateway).

The action server only queues the alert (core.stores.handoff: one per request); `motcua channels deliver`
sends it, so a slow or failing staff channel never delays the citizen's reply, and a failed send is
retried with backoff, to the targets that did not get it only; a claim lasts 5 minutes, so an alert
held by a deliverer that died is sent by the next one. An alert leaves for a third party's
servers, so it carries no message text and no personal data: the channel, the time, how many wait,
and the console page where staff take the conversation. A request already taken or closed, or older
than ``max_age``, is not alerted (turning alerts on later does not flood the group with old requests).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Awaitable, Callable, Dict, List, Optional, Set, Tuple
from urllib.parse import quote

from channels.outbound import repeat_rounds
from core.clock import as_vietnam
from core.formatting import stamp
from core.vocabulary import CHAT_CHANNEL_NAMES

log = logging.getLogger(__name__)

# send(text, fields): fields are the alert's facts, for targets that take structured data.
Target = Callable[[str, dict], Awaitable[None]]


def telegram_target(client, chat: str) -> Target:
    """Send to a Telegram chat (a staff group's id such as -1001234567890, or @channel) with the bot."""
    chat_id = int(chat) if chat.lstrip("-").isdigit() else chat

    async def send(text: str, fields: dict) -> None:
        await client.send_reply(chat_id, text)

    return send


def webhook_target(url: str, timeout_s: float = 10.0) -> Target:
    """POST ``{"text": ..., <fields>}`` as JSON; any status but 2xx is a failure (retried)."""
    import httpx

    async def send(text: str, fields: dict) -> None:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            response = await client.post(url, json={"text": text, **fields})
            response.raise_for_status()

    return send


def vietnam_time(recorded: dt.datetime) -> dt.datetime:
    """A time as the stores record it (naive Vietnam time, core.clock) made aware, in Vietnam's time zone:
    staff read alerts on their phones, whatever time zone the server's own clock runs on."""
    return as_vietnam(recorded)


def alert_text(alert: dict, waiting: int, link: str) -> str:
    """The staff-facing message (Vietnamese, no personal data)."""
    channel = CHAT_CHANNEL_NAMES.get(alert["channel"], alert["channel"])
    others = f" Đang có {waiting} người chờ." if waiting > 1 else ""
    return (f"🔔 Người dân cần gặp cán bộ qua {channel} (lúc {stamp(vietnam_time(alert['requested_at']))})."
            f"{others} "
            f"Mở trang sau để nhận cuộc trò chuyện: {link}")


class _Alerter:
    """One delivery round over a queue of alerts (core.db.DeliveryQueue): each due alert is claimed,
    skipped when ``stale`` says why, else sent to every target that has not had it (``compose`` says what);
    a failing target is retried later, for it only. Subclasses name the queue, ``stale`` and ``compose``."""

    kind = "alerts"
    targets: Dict[str, Target]

    def queue(self):  # pragma: no cover - overridden
        raise NotImplementedError

    def stale(self, alert: dict) -> Optional[str]:
        """Why the alert is no longer worth sending, or None."""
        return None

    def compose(self, alert: dict) -> Tuple[str, dict]:  # pragma: no cover - overridden
        """The alert's text and its facts for structured targets."""
        raise NotImplementedError

    def begin_round(self) -> None:
        """Forget what one round computes once (subclasses that cache per round)."""

    async def run_once(self) -> Dict[str, int]:
        counts = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
        queue = self.queue()
        self.begin_round()
        for alert in await asyncio.to_thread(queue.due):
            if not await asyncio.to_thread(queue.claim, alert["id"]):
                continue  # another deliverer has it
            stale = await asyncio.to_thread(self.stale, alert)
            if stale:
                await asyncio.to_thread(queue.finish, alert["id"], "skipped", (), stale)
                counts["skipped"] += 1
                continue
            text, fields = await asyncio.to_thread(self.compose, alert)
            done, errors = await send_to_targets(self.targets, alert["delivered_to"], text, fields)
            if errors:
                state = await asyncio.to_thread(queue.retry, alert["id"], sorted(done), "; ".join(errors))
                counts["failed" if state == "failed" else "retry"] += 1
                log.warning("%s %s not delivered to all targets (%s): %s", self.kind, alert["id"], state, errors)
            else:
                await asyncio.to_thread(queue.finish, alert["id"], "sent", sorted(done))
                counts["sent"] += 1
        return counts

    async def run_forever(self, interval_s: float, stop: Optional[asyncio.Event] = None) -> None:
        await repeat_rounds(self.run_once, interval_s, stop, self.kind)


class StaffAlerter(_Alerter):
    """Sends the queued alerts of ``store`` (a HandoffStore) to ``targets`` (name -> send)."""

    kind = "staff alerts"

    def __init__(self, store, targets: Dict[str, Target], console_url: str,
                 max_age: dt.timedelta = dt.timedelta(hours=12), clock: Optional[Callable[[], dt.datetime]] = None):
        self.store = store
        self.targets = targets
        self.console_url = console_url.rstrip("/")
        self.max_age = max_age
        self.clock = clock or store.clock

    def stale(self, alert: dict) -> Optional[str]:
        """Why the alert is no longer worth sending, or None."""
        handoff = self.store.get(alert["conversation_id"])
        if handoff is None or handoff["state"] != "requested":
            return "already taken or closed"
        if handoff["requested_at"] != alert["requested_at"]:
            return "superseded by a later request"
        if self.clock() - alert["requested_at"] > self.max_age:
            return f"older than {self.max_age}"
        return None

    def queue(self):
        return self.store.alert_queue

    def begin_round(self) -> None:
        self._waiting: Optional[int] = None  # counted once a round, when something is to be sent

    def compose(self, alert: dict) -> Tuple[str, dict]:
        if self._waiting is None:
            self._waiting = self.store.waiting()
        link = f"{self.console_url}/handoffs/{quote(alert['conversation_id'], safe='')}"
        fields = {"conversation_id": alert["conversation_id"], "channel": alert["channel"],
                  "requested_at": vietnam_time(alert["requested_at"]).isoformat(timespec="seconds"),
                  "waiting": self._waiting, "url": link}
        return alert_text(alert, self._waiting, link), fields


async def send_to_targets(targets: Dict[str, Target], delivered_to: str, text: str,
                          fields: dict) -> Tuple[Set[str], List[str]]:
    """Send to each target that has not had the alert yet (``delivered_to``: their names, comma-separated);
    returns the names that now have it and the errors of the others (retried later, for them only)."""
    done = {name for name in delivered_to.split(",") if name}
    errors = []
    for name, send in targets.items():
        if name in done:
            continue
        try:
            await send(text, fields)
            done.add(name)
        except Exception as exc:  # any refusal: retried later for this target only
            errors.append(f"{name}: {type(exc).__name__}: {exc}")
    return done, errors


def staff_targets(settings) -> Dict[str, Target]:
    """The configured alert targets (empty: alerts are off and staff watch the console's list)."""
    targets: Dict[str, Target] = {}
    if settings.channels.staff_alert_telegram_chat and settings.channels.telegram_bot_token:
        from channels.clients import telegram_client

        targets["telegram"] = telegram_target(telegram_client(), settings.channels.staff_alert_telegram_chat)
    if settings.channels.staff_alert_webhook_url:
        targets["webhook"] = webhook_target(settings.channels.staff_alert_webhook_url)
    return targets


def alerts_report(settings) -> str:
    """One line for `motcua channels status`."""
    on = []
    if settings.channels.staff_alert_telegram_chat:
        on.append(f"Telegram chat {settings.channels.staff_alert_telegram_chat}" if settings.channels.telegram_bot_token
                  else "Telegram chat set, but TELEGRAM_BOT_TOKEN is missing")
    if settings.channels.staff_alert_webhook_url:
        on.append("webhook")
    if not on:
        return ("staff alerts: off (set MOTCUA_STAFF_ALERT_TELEGRAM_CHAT or MOTCUA_STAFF_ALERT_WEBHOOK_URL; "
                "until then staff watch the console's \"Gặp cán bộ\" page)")
    return f"staff alerts: {', '.join(on)}; console links to {settings.console_link_base}"


def lookup_alert_text(alert: dict, link: str) -> str:
    """The staff-facing message about many dossier codes failing from one client address (Vietnamese, no
    personal data: neither the address, nor its digest, nor a code). The dossier service keeps Vietnam time."""
    return (f"⚠️ Có dấu hiệu dò mã hồ sơ: {alert['codes']} mã hồ sơ khác nhau bị tra cứu sai từ cùng một địa chỉ "
            f"trong vòng 1 giờ (lúc {stamp(alert['raised_at'])}). Xem các khóa tra cứu đang áp dụng và mở "
            f"khóa nếu cần: {link}")


class _ServiceAlerter(_Alerter):
    """Alerts the dossier service raises itself (``raised_at``): skipped once older than ``max_age``."""

    def __init__(self, service, targets: Dict[str, Target], max_age: dt.timedelta):
        self.service = service
        self.targets = targets
        self.max_age = max_age

    def stale(self, alert: dict) -> Optional[str]:
        return f"older than {self.max_age}" if self.service.clock() - alert["raised_at"] > self.max_age else None


class LookupAlerter(_ServiceAlerter):
    """Sends the dossier service's enumeration alerts (dossiers.guard) to the staff targets, by the handoff
    alerts' rules: every target once, a failing target retried with backoff, an alert older than ``max_age``
    skipped; a claim lasts 5 minutes."""

    kind = "lookup alerts"

    def __init__(self, service, targets: Dict[str, Target], console_url: str,
                 max_age: dt.timedelta = dt.timedelta(hours=12)):
        super().__init__(service, targets, max_age)
        self.link = console_url.rstrip("/") + "/dossier-locks"

    def queue(self):
        return self.service.alert_queue

    def compose(self, alert: dict) -> Tuple[str, dict]:
        fields = {"kind": "dossier_lookup_enumeration", "alert_id": alert["id"], "codes": alert["codes"],
                  "raised_at": vietnam_time(alert["raised_at"]).isoformat(timespec="seconds"),
                  "url": self.link}
        return lookup_alert_text(alert, self.link), fields


def notice_alert_text(alert: dict) -> str:
    """The staff-facing message about notices that may not have reached their citizens (Vietnamese, no personal
    data: neither a dossier code nor a conversation)."""
    parts = []
    if alert["stuck"]:
        parts.append(f"{alert['stuck']} thông báo bị dừng giữa lúc gửi")
    if alert["unknown"]:
        parts.append(f"{alert['unknown']} thông báo gửi quá thời gian chờ, không rõ đã đến chưa")
    return (f"⚠️ Thông báo trạng thái hồ sơ có thể chưa đến người dân: {'; '.join(parts)} "
            f"(lúc {stamp(alert['raised_at'])}). Hệ thống không tự gửi lại để tránh gửi trùng. "
            f"Xem danh sách bằng lệnh `motcua dossiers outbox` và báo lại cho người dân nếu cần.")


class NoticeAlerter(_ServiceAlerter):
    """Sends the dossier service's alerts about stuck notices (dossiers.outbox.watch_stuck) to the staff
    targets, by the handoff alerts' rules."""

    kind = "notice alerts"

    def __init__(self, service, targets: Dict[str, Target], max_age: dt.timedelta = dt.timedelta(hours=24)):
        super().__init__(service, targets, max_age)

    def queue(self):
        return self.service.notice_alert_queue

    def compose(self, alert: dict) -> Tuple[str, dict]:
        fields = {"kind": "notice_outbox_stuck", "alert_id": alert["id"], "stuck": alert["stuck"],
                  "unknown": alert["unknown"],
                  "raised_at": vietnam_time(alert["raised_at"]).isoformat(timespec="seconds")}
        return notice_alert_text(alert), fields
