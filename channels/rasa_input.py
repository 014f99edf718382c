"""What motcua's Rasa input channels share: a fixed name, secrets from settings, a health route, JSON bodies."""
from __future__ import annotations

import asyncio
import logging
import math
from typing import Any, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel
from sanic import Blueprint, response
from sanic.request import Request

from channels.clients import channel_state
from channels.runtime import web_address

log = logging.getLogger(__name__)


class SettingsInput(InputChannel):
    """An input channel named ``channel`` whose secrets come from motcua's settings, not credentials.yml."""

    channel = ""

    @classmethod
    def name(cls) -> Text:
        return cls.channel

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> SettingsInput:
        return cls()  # secrets come from settings (environment or the git-ignored channels file)

    def health_blueprint(self, name: str) -> Blueprint:
        """A blueprint that already answers GET / with {"status": "ok"}."""
        hook = Blueprint(name, __name__)

        @hook.route("/", methods=["GET"])
        async def health(_: Request):
            return response.json({"status": "ok"})

        return hook


def is_json(content_type: Optional[str]) -> bool:
    """True for ``application/json`` (with parameters such as charset, any case) and ``application/*+json``.

    A browser sends text/plain, form or multipart bodies to another site without asking it first (no
    CORS preflight); JSON it only sends to sites that allow the page's origin.
    """
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def json_body(request: Request) -> Any:
    """The request's JSON body, or None when it is not declared as JSON or does not parse."""
    if not is_json(request.headers.get("content-type")):
        return None
    try:
        return request.json
    except Exception:  # Sanic raises InvalidUsage for a body that is not JSON
        return None


def request_address(request: Request) -> str:
    """The client's address of an HTTP request: the peer, or the right-most X-Forwarded-For hop that our
    trusted proxies (settings.channels.trusted_proxies) did not add."""
    return web_address(request.ip, ",".join(request.headers.getall("x-forwarded-for", [])) or None)


def retry_after(seconds: float) -> Dict[str, str]:
    """The Retry-After header of a 429: whole seconds, at least one."""
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


async def first_time(channel: str, event_id: str) -> bool:
    """Whether a platform's event is new (not a retry of one already handled).

    When the channel state cannot be read (its database is down) the event counts as new: answering
    a retry twice is better than leaving the citizen without a word.
    """
    try:
        return await asyncio.to_thread(channel_state().first_time, channel, event_id)
    except Exception:
        log.exception("%s: could not check whether event %s is new; handling it", channel, event_id)
        return True
