"""Telegram Bot API over python-telegram-bot: reading updates and sending replies (no Rasa here).

Rasa buttons become inline keyboards. Telegram's callback data holds at most 64 bytes, which a
payload such as ``/choose_option{"procedure_code":"1.012786"}`` (actions/templates.py) can exceed, so a button carries
``<batch>:<index>`` and the payload stays in :class:`channels.state.ChannelState`.
"""
from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction, MessageLimit
from telegram.error import RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from channels.state import ChannelState
from channels.text import split_text

log = logging.getLogger(__name__)

CHANNEL = "telegram"
PREFIX = "tg-"
TEXT_LIMIT = MessageLimit.MAX_TEXT_LENGTH  # 4096
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
COMMANDS = {"/start": "/greet"}  # Telegram commands the assistant understands as intents; /help is ours


def conversation_id(chat_id: int) -> str:
    return f"{PREFIX}{chat_id}"


def chat_of(conversation: str) -> int:
    """The chat id inside a conversation id ``tg-<chat id>``."""
    if not conversation.startswith(PREFIX):
        raise ValueError(f"not a Telegram conversation: {conversation}")
    return int(conversation[len(PREFIX):])


def webhook_secret(configured: Optional[str], key_file: Path) -> str:
    """The webhook's secret token: the configured one, else one generated once and kept in ``key_file``.

    Telegram allows 1-256 characters of A-Z, a-z, 0-9, _ and -.
    """
    if configured:
        return configured
    if key_file.exists():
        return key_file.read_text().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    key_file.write_text(value)
    key_file.chmod(0o600)
    return value


def secret_ok(received: Optional[str], expected: str) -> bool:
    """Constant-time check of the secret-token header."""
    return bool(received) and hmac.compare_digest(received.encode(), expected.encode())


@dataclass(frozen=True)
class Incoming:
    """What a Telegram update asks of the assistant."""

    update_id: int
    chat_id: int
    kind: str  # text | command | button | other
    text: str = ""
    callback_id: Optional[str] = None
    message_id: Optional[int] = None


def parse_update(data: dict) -> Optional[Incoming]:
    """Read an update (as Telegram posts it); None for updates that are not for the assistant."""
    update = Update.de_json(data, None)
    if update is None:
        return None
    if update.callback_query is not None:
        query = update.callback_query
        chat = query.message.chat.id if query.message is not None else query.from_user.id
        return Incoming(update.update_id, chat, "button", query.data or "", query.id,
                        query.message.message_id if query.message is not None else None)
    message = update.message or update.edited_message
    if message is None or message.chat.type != "private":
        return None  # channel posts, group chats, member updates: the assistant answers private chats only
    if message.text:
        text = message.text.strip()
        if text.startswith("/"):
            command = text.split()[0].split("@")[0].lower()
            return Incoming(update.update_id, message.chat.id, "command", command, message_id=message.message_id)
        return Incoming(update.update_id, message.chat.id, "text", text, message_id=message.message_id)
    return Incoming(update.update_id, message.chat.id, "other", message_id=message.message_id)


def make_bot(token: str, api_base: Optional[str] = None, pool: int = 32) -> Bot:
    """A Bot with a connection pool for concurrent conversations; ``api_base`` points at a local server."""
    request = HTTPXRequest(connection_pool_size=pool, read_timeout=30, write_timeout=30, connect_timeout=10)
    updates = HTTPXRequest(connection_pool_size=2, read_timeout=60)
    if api_base:
        return Bot(token, base_url=f"{api_base}/bot", base_file_url=f"{api_base}/file/bot", request=request,
                   get_updates_request=updates)
    return Bot(token, request=request, get_updates_request=updates)


class TelegramClient:
    """Sends to Telegram: replies with inline keyboards, typing, notices."""

    def __init__(self, bot: Bot, state: ChannelState):
        self.bot = bot
        self.state = state
        self._ready = asyncio.Lock()
        self._initialized = False

    async def _call(self, method, *args, **kwargs):
        if not self._initialized:
            async with self._ready:
                if not self._initialized:
                    await self.bot.initialize()
                    self._initialized = True
        try:
            return await method(*args, **kwargs)
        except RetryAfter as exc:  # flood control: wait as told, once
            delay = exc.retry_after.total_seconds() if hasattr(exc.retry_after, "total_seconds") else exc.retry_after
            await asyncio.sleep(min(float(delay), 30.0))
            return await method(*args, **kwargs)

    async def send_reply(self, chat_id: int, text: str, buttons: Sequence[dict] = ()) -> List[int]:
        """Send a reply split under Telegram's limit; buttons go under the last piece. Returns message ids."""
        pieces = split_text(text, TEXT_LIMIT) or [""]
        markup = None
        if buttons:
            batch = await asyncio.to_thread(self.state.offer, CHANNEL, conversation_id(chat_id), buttons)
            markup = InlineKeyboardMarkup([[InlineKeyboardButton(str(b.get("title", ""))[:64] or str(i + 1),
                                                                 callback_data=f"{batch}:{i}")]
                                           for i, b in enumerate(buttons)])
        sent = []
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            if not piece and not (last and markup):
                continue
            message = await self._call(self.bot.send_message, chat_id, piece or "…",
                                       reply_markup=markup if last else None)
            sent.append(message.message_id)
        return sent

    async def send_text(self, conversation: str, text: str) -> None:
        """A message outside a reply (notices): raises TelegramError when Telegram refuses it."""
        await self.send_reply(chat_of(conversation), text)

    async def typing(self, chat_id: int) -> None:
        try:
            await self._call(self.bot.send_chat_action, chat_id, ChatAction.TYPING)
        except TelegramError as exc:  # a missing indicator must not stop the answer
            log.debug("typing indicator failed: %s", exc)

    async def keep_typing(self, chat_id: int, every_s: float = 4.5) -> None:
        """Typing lasts 5 s on Telegram: repeat it until cancelled."""
        while True:
            await self.typing(chat_id)
            await asyncio.sleep(every_s)

    async def button_payload(self, incoming: Incoming) -> Optional[str]:
        """The payload behind a tapped button (None when unknown or too old); stops the button's spinner."""
        try:
            await self._call(self.bot.answer_callback_query, incoming.callback_id)
        except TelegramError as exc:
            log.debug("answerCallbackQuery failed: %s", exc)
        batch, _, index = incoming.text.partition(":")
        if not index.isdigit():
            return None
        found = await asyncio.to_thread(
            self.state.option, CHANNEL, conversation_id(incoming.chat_id), batch, int(index)
        )
        return found[1] if found else None

    async def close(self) -> None:
        if self._initialized:
            await self.bot.shutdown()
