"""Messages outside a reply: delivers the dossier outbox's notices on each conversation's channel.

A notice is claimed before it is sent (only one deliverer can claim it), then marked sent, or
failed and retried later with backoff (DossierService.mark_failed); it is never sent twice. Each
channel's rules apply: Zalo only within its reply window after the citizen's last message, the
web widget only while it is open. A notice a channel cannot take yet waits without using up its
tries and expires by age (DossierService.defer); a send that timed out after the channel may have
taken it is not repeated, but left for staff as 'unknown' (DossierService.mark_unknown).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Awaitable, Callable, Dict, Optional

from channels.state import ChannelState
from core.clock import utc_now

log = logging.getLogger(__name__)

Sender = Callable[[str, str], Awaitable[None]]
# Channels that can carry a message outside a reply (REST and socket.io clients cannot be reached).
NOTICE_CHANNELS = ("telegram", "zalo", "web")


class NotDeliverable(RuntimeError):
    """The channel's rules forbid sending now: the notice waits ``retry_in`` seconds, its tries untouched."""

    def __init__(self, reason: str, retry_in: float = 60.0):
        super().__init__(reason)
        self.retry_in = retry_in


# Exceptions raised after a request may have reached the channel: its outcome is unknown.
UNKNOWN_OUTCOME = ("ReadTimeout", "WriteTimeout", "TimedOut", "TimeoutError", "ServerDisconnectedError",
                   "RemoteProtocolError")


def outcome_unknown(exc: BaseException) -> bool:
    """Whether a failed send may nevertheless have been delivered (a timeout once the request was sent)."""
    return any(c.__name__ in UNKNOWN_OUTCOME for c in type(exc).__mro__)


def zalo_sender(client, state: ChannelState, window_hours: int, clock=utc_now) -> Sender:
    """Zalo customer-service messages are allowed only within the window after the citizen last wrote."""
    from channels import zalo
    from channels.text import split_text

    async def send(conversation: str, text: str) -> None:
        last, _ = await asyncio.to_thread(state.contact, zalo.CHANNEL, conversation)
        if last is None or clock() - last > dt.timedelta(hours=window_hours):
            raise NotDeliverable(f"outside Zalo's {window_hours} h reply window (citizen last wrote {last})",
                                 retry_in=600.0)
        for piece in split_text(text, zalo.TEXT_LIMIT):
            await client.send_text(zalo.user_of(conversation), piece)

    return send


def web_sender(state: ChannelState, connected_s: int = 90, clock=utc_now, open_only: bool = True) -> Sender:
    """Queue for the widget when it polled recently (it is open); otherwise not now (unless not ``open_only``)."""
    async def send(conversation: str, text: str) -> None:
        _, polled = await asyncio.to_thread(state.contact, "web", conversation)
        if open_only and (polled is None or clock() - polled > dt.timedelta(seconds=connected_s)):
            raise NotDeliverable("the web widget is not open", retry_in=60.0)
        await asyncio.to_thread(state.web_push, conversation, {"text": text, "kind": "notice"})

    return send


class Deliverer:
    """Sends due notices through ``senders`` (channel name -> async send(conversation id, text))."""

    def __init__(self, service, senders: Dict[str, Sender], max_age: dt.timedelta = dt.timedelta(hours=168)):
        self.service = service
        self.senders = senders
        self.max_age = max_age  # a notice no channel could take for this long expires

    async def run_once(self, limit: int = 200) -> Dict[str, int]:
        counts = {"sent": 0, "retry": 0, "failed": 0, "waiting": 0, "expired": 0, "unknown": 0, "alerted": 0}
        for _ in range(limit):
            # one notice at a time, never one another deliverer holds (SKIP LOCKED on PostgreSQL)
            notice = await asyncio.to_thread(self.service.claim_next, list(self.senders))
            if notice is None:
                break
            try:
                await self.senders[notice["channel"]](notice["conversation_id"], notice["text"])
            except NotDeliverable as exc:  # not now: waits, its tries untouched, until it expires
                state = await asyncio.to_thread(self.service.defer, notice["id"], str(exc),
                                                dt.timedelta(seconds=exc.retry_in), self.max_age)
                counts["expired" if state == "expired" else "waiting"] += 1
                continue
            except Exception as exc:  # any refusal: recorded, retried with backoff
                if outcome_unknown(exc):  # it may have gone out: never sent again blindly
                    await asyncio.to_thread(self.service.mark_unknown, notice["id"], f"{type(exc).__name__}: {exc}")
                    counts["unknown"] += 1
                    log.warning("notice %s to %s: outcome unknown (%s), left for staff", notice["id"],
                                notice["channel"], exc)
                    continue
                state = await asyncio.to_thread(self.service.mark_failed, notice["id"], f"{type(exc).__name__}: {exc}")
                counts["failed" if state == "failed" else "retry"] += 1
                log.warning("notice %s to %s not delivered (%s): %s", notice["id"], notice["channel"], state, exc)
                continue
            await asyncio.to_thread(self.service.mark_sent, notice["id"])
            counts["sent"] += 1
        # notices left 'sending' by a deliverer that died, or sent with an unknown outcome: staff are told once
        counts["alerted"] = int(await asyncio.to_thread(self.service.watch_stuck) is not None)
        return counts

    async def run_forever(self, interval_s: float, stop: Optional[asyncio.Event] = None) -> None:
        await repeat_rounds(self.run_once, interval_s, stop, "outbox")


async def repeat_rounds(run_once: Callable[[], Awaitable[Dict[str, int]]], interval_s: float,
                        stop: Optional[asyncio.Event], label: str) -> None:
    """Run delivery rounds every ``interval_s`` until ``stop``; a failed round is logged, not fatal."""
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            counts = await run_once()
            if any(counts.values()):
                log.info("%s: %s", label, counts)
        except Exception:
            log.exception("%s delivery round failed; trying again", label)
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
        except asyncio.TimeoutError:
            pass


def build_senders(settings, state: ChannelState, web_open_only: bool = True) -> Dict[str, Sender]:
    """Senders of the channels that are on. ``web_open_only=False``: the widget's inbox takes the message
    even when it is closed (a staff member's reply is read when the citizen comes back)."""
    from channels.clients import telegram_on, zalo_on

    senders: Dict[str, Sender] = {"web": web_sender(state, open_only=web_open_only)}
    if telegram_on(settings):
        from channels.clients import telegram_client

        senders["telegram"] = telegram_client().send_text
    if zalo_on(settings):
        from channels.clients import zalo_client

        senders["zalo"] = zalo_sender(zalo_client(), state, settings.channels.zalo_reply_window_hours)
    return senders
