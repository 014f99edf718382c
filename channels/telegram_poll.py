"""Polling mode for development: fetch updates with getUpdates, post each to the Rasa webhook.

Updates of one chat are posted in order, one at a time; different chats run concurrently. An
update the webhook cannot take (Rasa restarting) is retried with backoff before it is given up
and logged, so a short restart loses nothing.
"""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Dict, Optional

import httpx
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from channels.telegram import SECRET_HEADER

log = logging.getLogger(__name__)


class PollingRelay:
    """Relays updates from getUpdates to ``webhook_url``."""

    def __init__(self, bot: Bot, webhook_url: str, secret: str, attempts: int = 6):
        self.bot = bot
        self.webhook_url = webhook_url
        self.secret = secret
        self.attempts = attempts
        self._chains: Dict[int, asyncio.Task] = {}
        self.relayed = 0

    async def _post(self, http: httpx.AsyncClient, update: dict) -> None:
        delay = 0.5
        for attempt in range(1, self.attempts + 1):
            try:
                resp = await http.post(self.webhook_url, content=json.dumps(update),
                                       headers={SECRET_HEADER: self.secret, "Content-Type": "application/json"})
                if resp.status_code < 500:
                    if resp.status_code >= 400:
                        log.error("telegram relay: webhook refused update %s: HTTP %s", update.get("update_id"),
                                  resp.status_code)
                    self.relayed += 1
                    return
            except httpx.HTTPError as exc:
                log.warning("telegram relay: webhook not reachable (%s), attempt %d", exc, attempt)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10)
        log.error("telegram relay: update %s given up after %d attempts", update.get("update_id"), self.attempts)

    def _dispatch(self, http: httpx.AsyncClient, chat: int, update: dict) -> None:
        previous: Optional[asyncio.Task] = self._chains.get(chat)

        async def run():
            if previous is not None:
                await asyncio.gather(previous, return_exceptions=True)
            await self._post(http, update)

        task = asyncio.ensure_future(run())
        self._chains[chat] = task
        task.add_done_callback(lambda t, c=chat: self._chains.pop(c, None) if self._chains.get(c) is t else None)

    async def run(self, stop: asyncio.Event, poll_timeout: int = 25) -> None:
        await self.bot.initialize()
        await self.bot.delete_webhook()  # getUpdates does not work while a webhook is set
        offset = None
        async with httpx.AsyncClient(timeout=httpx.Timeout(120.0, connect=5.0),
                                     limits=httpx.Limits(max_connections=64)) as http:
            while not stop.is_set():
                try:
                    updates = await self.bot.get_updates(
                        offset=offset,
                        timeout=poll_timeout,
                        allowed_updates=["message", "edited_message", "callback_query"],
                    )
                except (TimedOut, NetworkError) as exc:
                    log.warning("telegram relay: getUpdates failed (%s); retrying", exc)
                    await asyncio.sleep(2)
                    continue
                for update in updates:
                    offset = update.update_id + 1
                    chat = update.effective_chat.id if update.effective_chat else 0
                    self._dispatch(http, chat, update.to_dict())
            if self._chains:
                await asyncio.gather(*self._chains.values(), return_exceptions=True)
        await self.bot.shutdown()
