"""Zalo Official Account: webhook signatures, events and the customer-service message API (no Rasa here).

- Webhook: header ``X-ZEvent-Signature: mac=<sha256 hex of app_id + raw body + timestamp + OA secret key>``,
  where ``timestamp`` is the event's own ``timestamp`` field (milliseconds).
- Sending: ``POST {api}/v3.0/oa/message/cs`` with the ``access_token`` header. Zalo answers HTTP 200
  with ``{"error": 0}`` on success and a negative code otherwise.
- Tokens: an access token lives about 25 hours; ``POST {oauth}/v4/oa/access_token`` with the app's
  ``secret_key`` header trades the refresh token for a new pair. A refresh token works once, so the
  new one is stored (ChannelState) before anything else happens.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from typing import Optional

import httpx

from channels.state import ChannelState, Tokens

log = logging.getLogger(__name__)

CHANNEL = "zalo"
PREFIX = "zalo-"
TEXT_LIMIT = 2000
SIGNATURE_HEADER = "X-ZEvent-Signature"
TOKEN_NAME = "zalo"
# Zalo's codes for an access token that is invalid (-216, -124 on the v4 endpoints) or expired or revoked
# (-220). Not -201 ("<field> is invalid"): a bad parameter must not spend the single-use refresh token.
TOKEN_ERRORS = {-216, -220, -124}
MEDIA_EVENTS = {"user_send_image", "user_send_sticker", "user_send_gif", "user_send_file", "user_send_audio",
                "user_send_video", "user_send_location", "user_send_link", "user_send_business_card"}


def conversation_id(user_id: str) -> str:
    return f"{PREFIX}{user_id}"


def user_of(conversation: str) -> str:
    if not conversation.startswith(PREFIX):
        raise ValueError(f"not a Zalo conversation: {conversation}")
    return conversation[len(PREFIX):]


def signature(app_id: str, body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """The X-ZEvent-Signature value Zalo sends for ``body``."""
    digest = hashlib.sha256(app_id.encode() + body + str(timestamp).encode() + oa_secret_key.encode()).hexdigest()
    return f"mac={digest}"


def verify(header: Optional[str], body: bytes, app_id: str, oa_secret_key: str, max_age_s: int,
           now_ms: Optional[int] = None) -> Optional[str]:
    """None when the request is genuine and fresh, else why it is refused."""
    if not header:
        return "missing signature"
    try:
        event = json.loads(body)
        timestamp = str(event["timestamp"])
        sent_ms = int(timestamp)
    except (ValueError, KeyError, TypeError):
        return "no timestamp"
    if not hmac.compare_digest(header.strip().encode(), signature(app_id, body, timestamp, oa_secret_key).encode()):
        return "bad signature"
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if abs(now_ms - sent_ms) > max_age_s * 1000:
        return "stale timestamp"
    return None


@dataclass(frozen=True)
class ZaloEvent:
    name: str
    user_id: Optional[str]
    text: str
    message_id: str
    timestamp: str

    @property
    def kind(self) -> str:
        """text | media | follow | ignore."""
        if self.name == "user_send_text":
            return "text"
        if self.name in MEDIA_EVENTS:
            return "media"
        if self.name == "follow":
            return "follow"
        return "ignore"


def parse_event(event: dict) -> ZaloEvent:
    """Read a webhook event; the message id falls back to a key of its name, user and time."""
    name = str(event.get("event_name", ""))
    user = (event.get("sender") or {}).get("id") if name.startswith("user_send") else None
    if name in ("follow", "unfollow"):
        user = (event.get("follower") or {}).get("id")
    message = event.get("message") or {}
    timestamp = str(event.get("timestamp", ""))
    message_id = str(message.get("msg_id") or f"{name}:{user}:{timestamp}")
    return ZaloEvent(name, str(user) if user else None, str(message.get("text") or "").strip(), message_id, timestamp)


class ZaloSendError(RuntimeError):
    """Zalo refused a message (code and Zalo's message)."""

    def __init__(self, code: int, message: str):
        super().__init__(f"Zalo error {code}: {message}")
        self.code = code


class ZaloClient:
    """Sends customer-service messages, renewing the access token once when Zalo says it expired."""

    def __init__(self, app_id: str, app_secret: Optional[str], state: ChannelState,
                 api_base: str = "https://openapi.zalo.me", oauth_base: str = "https://oauth.zaloapp.com",
                 timeout_s: float = 15.0):
        self.app_id = app_id
        self.app_secret = app_secret
        self.state = state
        self.api_base = api_base.rstrip("/")
        self.oauth_base = oauth_base.rstrip("/")
        self.http = httpx.AsyncClient(timeout=timeout_s, limits=httpx.Limits(max_connections=64))
        self._refreshing = asyncio.Lock()
        self._cached: Optional[Tokens] = None  # re-read from the database whenever Zalo refuses it

    async def _tokens(self, fresh: bool = False) -> Tokens:
        if self._cached is None or fresh:
            tokens = await asyncio.to_thread(self.state.tokens, TOKEN_NAME)
            if tokens is None:
                raise ZaloSendError(-1, "no Zalo access token configured")
            self._cached = tokens
        return self._cached

    async def _post_cs(self, access_token: str, user_id: str, text: str) -> dict:
        try:
            resp = await self.http.post(f"{self.api_base}/v3.0/oa/message/cs", headers={"access_token": access_token},
                                        json={"recipient": {"user_id": user_id}, "message": {"text": text}})
        except httpx.HTTPError as exc:
            raise ZaloSendError(-2, f"Zalo API not reachable: {exc}") from None
        try:
            body = resp.json()
        except ValueError:
            raise ZaloSendError(-3, f"Zalo API answered HTTP {resp.status_code} without JSON") from None
        if resp.status_code >= 500:
            raise ZaloSendError(int(body.get("error", -3) or -3), f"HTTP {resp.status_code}")
        return body

    async def refresh(self, stale: Tokens) -> Tokens:
        """New tokens for ``stale`` ones; when another worker refreshed already, its tokens."""
        async with self._refreshing:
            current = await self._tokens(fresh=True)
            if current.version != stale.version:
                return current  # someone else refreshed meanwhile: never spend a refresh token twice
            if not (current.refresh_token and self.app_secret):
                raise ZaloSendError(-216, "access token expired and no refresh token / app secret to renew it")
            try:
                resp = await self.http.post(f"{self.oauth_base}/v4/oa/access_token",
                                            headers={"secret_key": self.app_secret},
                                            data={"refresh_token": current.refresh_token, "app_id": self.app_id,
                                                  "grant_type": "refresh_token"})
                body = resp.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise ZaloSendError(-2, f"token refresh failed: {exc}") from None
            if not body.get("access_token"):
                for _ in range(3):  # another worker may have spent this refresh token a moment ago
                    newer = await self._tokens(fresh=True)
                    if newer.version != current.version:
                        return newer
                    await asyncio.sleep(0.5)
                raise ZaloSendError(int(body.get("error", -14014) or -14014),
                                    f"token refresh refused: {body.get('error_name') or body.get('message') or body}")
            new_refresh = body.get("refresh_token") or current.refresh_token
            stored = await asyncio.to_thread(self.state.replace_tokens, TOKEN_NAME, current.version,
                                             body["access_token"], new_refresh)
            log.info("zalo: access token renewed")
            if not stored:  # another worker stored a newer pair first
                return await self._tokens(fresh=True)
            self._cached = Tokens(body["access_token"], new_refresh, current.version + 1)
            return self._cached

    async def send_text(self, user_id: str, text: str) -> str:
        """Send one text (at most TEXT_LIMIT characters); returns Zalo's message id."""
        tokens = await self._tokens()
        body = await self._post_cs(tokens.access_token, user_id, text)
        if int(body.get("error", 0)) in TOKEN_ERRORS:
            tokens = await self.refresh(tokens)
            body = await self._post_cs(tokens.access_token, user_id, text)  # retried once
        code = int(body.get("error", 0))
        if code != 0:
            raise ZaloSendError(code, str(body.get("message", "")))
        return str((body.get("data") or {}).get("message_id", ""))

    async def close(self) -> None:
        await self.http.aclose()
