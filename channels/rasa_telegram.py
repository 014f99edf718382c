"""Rasa input channel for Telegram: the webhook at /webhooks/telegram/webhook.

Webhook mode: Telegram posts here with the secret token set by `motcua telegram webhook`.
Polling mode: `motcua telegram poll` fetches updates and posts them here the same way, so both
modes share this code. A request without the right secret token gets 403 and is not processed.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Sequence, Text

from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from channels import telegram
from channels.clients import channel_state, telegram_client, telegram_secret
from channels.rasa_input import SettingsInput, first_time
from channels.rasa_output import ReplyOutput
from channels.runtime import busy_text, client_digest, held_by_staff, screen
from channels.text import channel_text

log = logging.getLogger(__name__)


class TelegramOutput(ReplyOutput):
    """Sends the assistant's replies to a Telegram chat."""

    channel = telegram.CHANNEL

    async def reply(self, recipient_id: Text, text: Text, buttons: Sequence[Dict[Text, Any]] = ()) -> None:
        await self.client.send_reply(telegram.chat_of(recipient_id), text, buttons)


class TelegramInput(SettingsInput):
    """Telegram updates in, replies out through the Bot API."""

    channel = telegram.CHANNEL

    def get_output_channel(self) -> OutputChannel:
        return TelegramOutput(telegram_client())

    async def handle(
        self, incoming: telegram.Incoming, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        client = telegram_client()
        conversation = telegram.conversation_id(incoming.chat_id)
        who = f"telegram:{incoming.chat_id}"  # a chat is the closest thing to a client address Telegram gives
        refusal = screen(incoming.text if incoming.kind in ("text", "command") else "", who, conversation)
        if refusal is not None:
            log.info("telegram: update %s not passed on (%s)", incoming.update_id, refusal.reason)
            if refusal.notify:
                await self._send(client, incoming.chat_id, refusal.text)
            return
        typing = None
        try:
            text = await self._text_for(client, incoming)
            if text is None:
                return
            await asyncio.to_thread(channel_state().inbound, telegram.CHANNEL, conversation)
            if await held_by_staff(conversation, text):
                return
            typing = asyncio.ensure_future(client.keep_typing(incoming.chat_id))
            await on_new_message(UserMessage(text, TelegramOutput(client), conversation, input_channel=self.name(),
                                             metadata={"telegram_message_id": incoming.message_id,
                                                       "motcua_client": client_digest(who)}))
        except Exception:  # the citizen gets a polite answer; the log gets the details
            log.exception("telegram: handling update %s failed", incoming.update_id)
            await self._send(client, incoming.chat_id, busy_text())
        finally:
            if typing is not None:
                typing.cancel()

    @staticmethod
    async def _text_for(client, incoming: telegram.Incoming) -> Optional[str]:
        """What to hand the assistant; None when this channel answered the update itself (help, photos,
        an expired button)."""
        if incoming.kind == "other":
            await client.send_reply(incoming.chat_id, channel_text("unsupported_message"))
            return None
        if incoming.kind == "command":
            if incoming.text not in telegram.COMMANDS:  # /help, and commands the assistant does not know
                await client.send_reply(incoming.chat_id, channel_text("help"))
                return None
            return telegram.COMMANDS[incoming.text]
        if incoming.kind == "button":
            text = await client.button_payload(incoming)
            if text is None:
                await client.send_reply(incoming.chat_id, channel_text("option_expired"))
            return text
        return incoming.text

    @staticmethod
    async def _send(client, chat_id: int, text: str) -> None:
        """Send a text of this channel's own; a failure is logged (Telegram itself may be what is down)."""
        try:
            await client.send_reply(chat_id, text)
        except Exception:
            log.exception("telegram: could not send to chat %s", chat_id)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = self.health_blueprint("telegram_webhook")
        secret = telegram_secret()

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request):
            if not telegram.secret_ok(request.headers.get(telegram.SECRET_HEADER), secret):
                log.warning("telegram: update refused (missing or wrong secret token) from %s", request.ip)
                return response.json({"ok": False, "error": "forbidden"}, status=403)
            try:
                incoming = telegram.parse_update(request.json or {})
            except Exception:
                return response.json({"ok": False, "error": "not a Telegram update"}, status=400)
            if incoming is None:
                return response.json({"ok": True})
            if not await first_time(telegram.CHANNEL, str(incoming.update_id)):
                return response.json({"ok": True, "duplicate": True})  # Telegram retried: answered already
            await self.handle(incoming, on_new_message)
            return response.json({"ok": True})

        return hook
