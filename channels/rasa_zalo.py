"""Rasa input channel for Zalo Official Account: the webhook at /webhooks/zalo/webhook.

Zalo expects an answer within seconds, so a verified event is acknowledged at once and handled
in the background; a citizen's messages are handled one after another, in order.
"""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any, Awaitable, Callable, Dict, Optional, Sequence, Set, Text

from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from channels import zalo
from channels.clients import channel_state, zalo_client
from channels.rasa_input import SettingsInput, first_time
from channels.rasa_output import ReplyOutput
from channels.runtime import busy_text, client_digest, held_by_staff, screen
from channels.text import channel_text, numbered_options, option_number, split_text
from core.settings import get_settings

log = logging.getLogger(__name__)


class ZaloOutput(ReplyOutput):
    """Sends the assistant's replies as OA customer-service messages; buttons become numbered options."""

    channel = zalo.CHANNEL

    async def reply(self, recipient_id: Text, text: Text, buttons: Sequence[Dict[Text, Any]] = ()) -> None:
        if buttons:
            await asyncio.to_thread(channel_state().offer, zalo.CHANNEL, recipient_id, buttons)
            text = numbered_options(text, [str(b.get("title", "")) for b in buttons])
        user = zalo.user_of(recipient_id)
        for piece in split_text(text, zalo.TEXT_LIMIT):
            try:
                await self.client.send_text(user, piece)
            except zalo.ZaloSendError as exc:
                log.error("zalo: reply to %s not delivered: %s", recipient_id, exc)
                return


class ZaloInput(SettingsInput):
    """Zalo OA webhook events in; replies through the OA API."""

    channel = zalo.CHANNEL

    def __init__(self):
        self._locks: Dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._tasks: Set[asyncio.Task] = set()

    def get_output_channel(self) -> OutputChannel:
        return ZaloOutput(zalo_client())

    async def _text_for(self, conversation: str, text: str) -> Optional[str]:
        """The message to hand the assistant: a chosen option's payload when the citizen answered with its number."""
        state = channel_state()
        offered = await asyncio.to_thread(state.latest_offer_size, zalo.CHANNEL, conversation)
        if offered:
            index = option_number(text, offered)
            if index is not None:
                found = await asyncio.to_thread(state.option, zalo.CHANNEL, conversation, None, index)
                if found:
                    return found[1]
            await asyncio.to_thread(state.withdraw_offers, zalo.CHANNEL, conversation)
        return text

    async def handle(self, event: zalo.ZaloEvent, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        client = zalo_client()
        conversation = zalo.conversation_id(event.user_id)
        lock = self._locks[conversation]
        async with lock:
            try:
                await asyncio.to_thread(channel_state().inbound, zalo.CHANNEL, conversation)
                if event.kind == "media":
                    await ZaloOutput(client).reply(conversation, channel_text("unsupported_message"))
                    return
                if event.kind == "follow":
                    await ZaloOutput(client).reply(conversation, channel_text("follow_welcome"))
                    return
                text = await self._text_for(conversation, event.text)
                if await held_by_staff(conversation, text):
                    return
                await on_new_message(UserMessage(text, ZaloOutput(client), conversation, input_channel=self.name(),
                                                 metadata={"zalo_msg_id": event.message_id,
                                                           "motcua_client": client_digest(client_key(event))}))
            except Exception:
                log.exception("zalo: handling event %s failed", event.message_id)
                await self._say(conversation, busy_text())
        if not lock.locked() and not getattr(lock, "_waiters", None):
            self._locks.pop(conversation, None)  # no message of this citizen in flight

    async def _say(self, conversation: str, text: str) -> None:
        """Send a text of this channel's own (ZaloOutput logs a refused send; anything else is logged here)."""
        try:
            await ZaloOutput(zalo_client()).reply(conversation, text)
        except Exception:
            log.exception("zalo: could not send to %s", conversation)

    def _spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)  # keep a reference until done
        task.add_done_callback(self._tasks.discard)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = self.health_blueprint("zalo_webhook")
        settings = get_settings()

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request):
            body = request.body or b""
            problem = zalo.verify(request.headers.get(zalo.SIGNATURE_HEADER), body, settings.channels.zalo_app_id,
                                  settings.channels.zalo_oa_secret_key, settings.channels.zalo_max_event_age_s)
            if problem:
                log.warning("zalo: event refused (%s) from %s", problem, request.ip)
                return response.json({"error": problem}, status=403)
            event = zalo.parse_event(request.json)
            if event.kind == "ignore" or not event.user_id:
                return response.json({"ok": True})
            if not await first_time(zalo.CHANNEL, event.message_id):
                return response.json({"ok": True, "duplicate": True})
            conversation = zalo.conversation_id(event.user_id)
            # Checked on arrival, before a task is made: a flood is neither queued nor answered one by one.
            refusal = screen(event.text if event.kind == "text" else "", client_key(event), conversation)
            if refusal is not None:
                log.info("zalo: event %s not passed on (%s)", event.message_id, refusal.reason)
                if refusal.notify:
                    self._spawn(self._say(conversation, refusal.text))
                return response.json({"ok": True})
            self._spawn(self.handle(event, on_new_message))
            return response.json({"ok": True})

        return hook


def client_key(event: zalo.ZaloEvent) -> str:
    """The client a Zalo event counts against: its user (Zalo does not tell the citizen's address)."""
    return f"zalo:{event.user_id}"
