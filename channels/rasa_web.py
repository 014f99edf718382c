"""Rasa input channel for the web widget: /webhooks/web/webhook (messages) and /webhooks/web/inbox (notices).

Like Rasa's REST channel, with the conversation's channel recorded as "web", session ids the
widget creates checked for shape, and an inbox the open widget polls for messages sent outside a
reply (dossier status notices).
"""
from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from channels.rasa_input import SettingsInput
from channels.runtime import channel_state, held_by_staff
from channels.text import channel_text
from motcua.settings import get_settings

log = logging.getLogger(__name__)

CHANNEL = "web"
SENDER_RE = re.compile(r"^web-[A-Za-z0-9_-]{8,80}$")
MAX_TEXT = 2000


class WebInput(SettingsInput):
    """The embeddable widget's channel."""

    channel = CHANNEL

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = self.health_blueprint("web_webhook")

        def refuse(text: str, status: int = 400):
            return response.json({"error": text}, status=status)

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request):
            try:
                body = request.json or {}
            except Exception:
                body = None
            if not isinstance(body, dict):
                return refuse("Yêu cầu không đúng định dạng.")
            sender, text = body.get("sender"), body.get("message")
            if not isinstance(sender, str) or not SENDER_RE.match(sender):
                return refuse("Mã phiên trò chuyện không hợp lệ. Bạn tải lại trang giúp mình nhé.")
            if not isinstance(text, str) or not text.strip():
                return refuse("Bạn chưa nhập nội dung. Bạn gõ câu hỏi rồi bấm Gửi nhé.")
            if len(text) > MAX_TEXT:
                return refuse(f"Tin nhắn dài quá {MAX_TEXT} ký tự. Bạn rút gọn câu hỏi giúp mình nhé.")
            await asyncio.to_thread(channel_state().inbound, CHANNEL, sender)
            if await held_by_staff(sender, text.strip()):
                return response.json([])  # a staff member answers; their replies reach the widget's inbox
            collector = CollectingOutputChannel()
            try:
                await on_new_message(UserMessage(text.strip(), collector, sender, input_channel=CHANNEL))
            except Exception:
                log.exception("web: handling a message of %s failed", sender)
                return response.json([{"recipient_id": sender,
                                       "text": channel_text("busy", hotline=get_settings().hotline)}])
            return response.json(collector.messages)

        @hook.route("/inbox", methods=["GET"])
        async def inbox(request: Request):
            sender = request.args.get("sender", "")
            if not SENDER_RE.match(sender):
                return refuse("Mã phiên trò chuyện không hợp lệ.")
            state = channel_state()
            await asyncio.to_thread(state.polled, CHANNEL, sender)
            return response.json(await asyncio.to_thread(state.web_fetch, sender))

        return hook
