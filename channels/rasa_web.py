"""Rasa input channel for the web widget: /webhooks/web/webhook (messages) and /webhooks/web/inbox (notices, POST).

Like Rasa's REST channel, with the conversation's channel recorded as "web", session ids the
widget creates checked for shape, and an inbox the open widget polls for messages sent outside a
reply (dossier status notices).

Every answer to a message is a list of bot messages the widget shows, also when the message is
not passed to the assistant: too long (200), too many from this client or session (429, with
Retry-After), or the assistant failing (200, an apology with the hotline).
"""
from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from channels.addresses import client_key
from channels.clients import channel_state
from channels.rasa_input import SettingsInput, json_body, request_address, retry_after
from channels.runtime import busy_text, client_digest, held_by_staff, poll_gate, screen
from channels.text import channel_text

log = logging.getLogger(__name__)

CHANNEL = "web"
SENDER_RE = re.compile(r"^web-[A-Za-z0-9_-]{8,80}$")


def bot_reply(sender: str, text: str, status: int = 200, wait: float = 0.0):
    """A response the widget shows as the assistant's message."""
    return response.json([{"recipient_id": sender, "text": text}], status=status,
                         headers=retry_after(wait) if status == 429 else None)



class WebInput(SettingsInput):
    """The embeddable widget's channel."""

    channel = CHANNEL

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = self.health_blueprint("web_webhook")

        def refuse(text: str, status: int = 400):
            return response.json({"error": text}, status=status)

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request):
            body = json_body(request)
            if not isinstance(body, dict):
                return refuse(channel_text("bad_request"))
            sender, text = body.get("sender"), body.get("message")
            if not isinstance(sender, str) or not SENDER_RE.match(sender):
                return refuse(channel_text("bad_session"))
            if not isinstance(text, str) or not text.strip():
                return refuse(channel_text("empty_message"))
            text = text.strip()
            address = request_address(request)
            refusal = screen(text, f"ip:{client_key(address)}", sender)
            if refusal is not None:
                log.info("web: message of %s not passed on (%s)", sender, refusal.reason)
                return bot_reply(sender, refusal.text, 429 if refusal.reason == "too_many" else 200,
                                 refusal.retry_after)
            collector = CollectingOutputChannel()
            try:
                await asyncio.to_thread(channel_state().inbound, CHANNEL, sender)
                if await held_by_staff(sender, text):
                    return response.json([])  # a staff member answers; their replies reach the widget's inbox
                digest = client_digest(f"ip:{client_key(address)}")
                await on_new_message(UserMessage(text, collector, sender, input_channel=CHANNEL,
                                                 metadata={"motcua_client": digest}))
            except Exception:
                log.exception("web: handling a message of %s failed", sender)
                return bot_reply(sender, busy_text())
            return response.json(collector.messages)

        @hook.route("/inbox", methods=["POST"])
        async def inbox(request: Request):
            # The session id proves whose notices these are: it comes in the body, never in the URL that
            # proxies and access logs keep.
            body = json_body(request)
            sender = body.get("sender") if isinstance(body, dict) else None
            if not isinstance(sender, str) or not SENDER_RE.match(sender):
                return refuse(channel_text("bad_session_poll"))
            verdict = poll_gate().admit(f"ip:{client_key(request_address(request))}", sender)
            if not verdict.ok:  # the widget tries again at its next tick
                return response.json([], status=429, headers=retry_after(verdict.retry_after))
            state = channel_state()
            await asyncio.to_thread(state.polled, CHANNEL, sender)
            return response.json(await asyncio.to_thread(state.web_fetch, sender))

        return hook
