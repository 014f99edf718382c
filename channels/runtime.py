"""The channels' shared objects of this process, built from settings on first use."""
from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass
from typing import List, Optional

from channels.clients import telegram_on, zalo_on
from channels.limits import Gate
from channels.text import channel_text
from core.settings import Settings, get_settings

log = logging.getLogger(__name__)


def channel_report(settings: Settings) -> List[str]:
    """One line per channel saying whether it is on, and what is missing when it is off."""
    lines = ["web: on (widget and demo page)"]
    if telegram_on(settings):
        lines.append(
            f"telegram: on ({settings.channels.telegram_mode}"
            + (f", API {settings.channels.telegram_api_base}" if settings.channels.telegram_api_base else "")
            + ")"
        )
    else:
        lines.append("telegram: off (set TELEGRAM_BOT_TOKEN to turn it on)")
    if zalo_on(settings):
        refresh = settings.channels.zalo_refresh_token and settings.channels.zalo_app_secret
        lines.append("zalo: on (webhook /webhooks/zalo/webhook" + ("" if refresh else
                     "; no ZALO_REFRESH_TOKEN/ZALO_APP_SECRET: an expired token cannot be renewed") + ")")
    else:
        missing = [
            n
            for n, v in (
                ("ZALO_APP_ID", settings.channels.zalo_app_id),
                ("ZALO_OA_SECRET_KEY", settings.channels.zalo_oa_secret_key),
                ("ZALO_ACCESS_TOKEN", settings.channels.zalo_access_token),
            )
            if not v
        ]
        lines.append(f"zalo: off (missing {', '.join(missing)})")
    from channels.staff_alerts import alerts_report

    lines.append(alerts_report(settings))
    return lines


@functools.lru_cache(maxsize=1)
def handoff_store():
    from core.stores.handoff import HandoffStore

    return HandoffStore(get_settings().storage.database_url)


async def held_by_staff(conversation: str, text: str) -> bool:
    """True when a staff member has this conversation: the message is kept for them, not sent to the assistant."""
    import asyncio

    store = handoff_store()
    if not await asyncio.to_thread(store.is_active, conversation):
        return False
    await asyncio.to_thread(store.add_message, conversation, "citizen", text)
    return True


# -- Abuse limits and the client's digest ------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def message_gate() -> Gate:
    """Token buckets for messages, per client address and per conversation (settings: rate_*)."""
    s = get_settings()
    return Gate.of(
        s.channels.rate_address_per_minute,
        s.channels.rate_address_burst,
        s.channels.rate_conversation_per_minute,
        s.channels.rate_conversation_burst,
    )


@functools.lru_cache(maxsize=1)
def poll_gate() -> Gate:
    """The same allowances for the web widget's inbox checks, in buckets of their own: an open widget
    checks every 5 s, which must not use up what its citizen may write."""
    s = get_settings()
    return Gate.of(
        s.channels.rate_address_per_minute,
        s.channels.rate_address_burst,
        s.channels.rate_conversation_per_minute,
        s.channels.rate_conversation_burst,
    )


@functools.lru_cache(maxsize=1)
def _client_hasher():
    from core.privacy import Hasher

    s = get_settings()
    return Hasher.configured(s)


def client_digest(client: str) -> str:
    """The keyed digest of a client ('ip:203.0.113.5', 'telegram:123', 'zalo:456') that every channel puts
    in a message's metadata as ``motcua_client``; the actions key per-client limits and lockouts on it."""
    return _client_hasher().client_hash(client)


def web_address(peer: Optional[str], forwarded_for: Optional[str]) -> str:
    """A web client's address: the peer, or X-Forwarded-For's right-most hop our trusted proxies did not add."""
    from channels.addresses import client_address

    return client_address(peer, forwarded_for, get_settings().channels.trusted_proxies)


@dataclass(frozen=True)
class Refusal:
    """Why a message does not reach the assistant, what the citizen is told, and whether to tell them now
    (a flood gets one reply, not one per message)."""

    reason: str  # too_many | too_long
    text: str
    retry_after: float = 0.0
    notify: bool = True


def screen(text: Optional[str], client: str, conversation: str, gate: Optional[Gate] = None) -> Optional[Refusal]:
    """Check a message before any NLU work: the rate limits of its client and conversation, then its length.

    ``client`` is the client's key ('ip:…', 'telegram:…', 'zalo:…'). None when the message may go on.
    """
    verdict = (gate or message_gate()).admit(client, conversation)
    if not verdict.ok:
        return Refusal("too_many", channel_text("too_many", seconds=max(1, math.ceil(verdict.retry_after))),
                       verdict.retry_after, verdict.notify)
    return too_long(text)


def too_long(text: Optional[str]) -> Optional[Refusal]:
    """The refusal of a message longer than settings.channels.max_message_chars, or None."""
    limit = get_settings().channels.max_message_chars
    if text and len(text) > limit:
        return Refusal("too_long", channel_text("too_long", limit=f"{limit:,}".replace(",", ".")))
    return None


def busy_text() -> str:
    """The apology a citizen gets when the assistant cannot answer (action server or database down)."""
    return channel_text("busy", hotline=get_settings().office.hotline)
