"""Rasa input channel for socket.io, the protocol of Rasa's own web client (rasa-webchat), made safe and whole.

Rasa 3.6's socket.io channel has two faults this one does not:
- With session persistence on, it joins the session's room without awaiting python-socketio 5's coroutine
  ``enter_room``, so the room is never joined and replies reach no one.
- It takes the conversation from whatever ``session_id`` each message names, so any client could write into
  (and, joining its room, read) another conversation, including another channel's ("tg-…").

Here a session is what the server confirmed to this socket. The server issues session ids: 32 random hex
digits and an HMAC of them under a key derived from the servers' shared secret. ``session_request`` accepts
a returning client's id only when its HMAC verifies, issues a fresh one otherwise, and keeps it in the
socket's server-side session; messages are filed under that session whatever they name. So a client can
carry on only a session the server gave it (the id works like a session cookie: whoever holds it holds the
conversation), never one it makes up or another channel's. The conversation id is ``sio-`` and the random
part; a socket that never asked for a session talks as ``sio-`` and its socket id, as without persistence.
Message metadata is kept only as a small flat mapping of short values (the page the widget is on).

A socket.io reply names no message, so a client that sends its next message before the last answer is complete
cannot tell whose reply a late one is. A client may give each message its own ``message_id`` (up to 64 letters,
digits and ``_.:-``); every reply to that message then carries it back as ``reply_to``. rasa-webchat sends none
and gets the replies it always got.

On several nodes the rooms live in Redis (python-socketio's ``AsyncRedisManager`` on the lock store's Redis,
``MOTCUA_LOCK_STORE_URL``), so a reply reaches the client whichever node handled the message.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request

log = logging.getLogger(__name__)

SESSION_RE = re.compile(r"^([0-9a-f]{32})([0-9a-f]{16})$")
PREFIX = "sio-"
MESSAGE_ID_RE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
MAX_BUFFER = 64 * 1024  # bytes of one socket.io packet, as the REST bodies (messages are capped at 2,000 chars)
MAX_METADATA = 8  # keys kept from a message's metadata, each a short string, number or boolean
MAX_VALUE = 200


def session_key(secret: str) -> bytes:
    """The key that signs session ids, derived from the servers' shared secret (not the secret itself)."""
    return hmac.new(secret.encode("utf-8"), b"motcua socket.io session", hashlib.sha256).digest()


def _mac(key: bytes, nonce: str) -> str:
    return hmac.new(key, nonce.encode("ascii"), hashlib.sha256).hexdigest()[:16]


def new_session(key: bytes) -> str:
    """A session id this server issues: 32 random hex digits and their HMAC."""
    nonce = secrets.token_hex(16)
    return nonce + _mac(key, nonce)


def session_id_of(claimed: Any, key: bytes) -> Optional[str]:
    """A returning client's session id when this server issued it (its HMAC verifies), else None."""
    match = SESSION_RE.match(claimed.strip().lower()) if isinstance(claimed, str) else None
    if match is None or not hmac.compare_digest(match.group(2), _mac(key, match.group(1))):
        return None
    return match.group(0)


def sender_of(session_id: str) -> str:
    """The conversation id of a socket.io session (its random part) or of a socket without one."""
    match = SESSION_RE.match(session_id)
    return PREFIX + (match.group(1) if match else session_id)


def kept_metadata(value: Any) -> Dict[str, Any]:
    """What is kept of a message's metadata: a flat mapping of a few short values (a JSON text is read first)."""
    if isinstance(value, str) and len(value) <= MAX_BUFFER:
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            return {}
    if not isinstance(value, dict):
        return {}
    kept: Dict[str, Any] = {}
    for name, item in value.items():
        if len(kept) == MAX_METADATA:
            break
        if isinstance(name, str) and len(name) <= 64 and (
                isinstance(item, (bool, int, float)) or (isinstance(item, str) and len(item) <= MAX_VALUE)):
            kept[name] = item
    return kept


def message_id_of(data: Dict[str, Any]) -> Optional[str]:
    """The client's own id of a message, when it gave a well-formed one (else None: nothing is echoed)."""
    value = data.get("message_id")
    return value if isinstance(value, str) and MESSAGE_ID_RE.fullmatch(value) else None


class ReplyOutput(SocketIOOutput):
    """Rasa's socket.io output, each reply marked with the client's id of the message it answers (if any)."""

    def __init__(self, sio: Any, bot_message_evt: Text, reply_to: Optional[str] = None) -> None:
        super().__init__(sio, bot_message_evt)
        self.reply_to = reply_to

    async def _send_message(self, socket_id: Text, response: Any) -> None:
        if self.reply_to and isinstance(response, dict):
            response = {**response, "reply_to": self.reply_to}
        await super()._send_message(socket_id, response)


def client_manager(redis_url: Optional[str]):
    """python-socketio's Redis manager when the nodes share a Redis, else None (rooms in this process)."""
    if not redis_url or not redis_url.startswith(("redis://", "rediss://", "unix://")):
        return None
    import socketio

    return socketio.AsyncRedisManager(redis_url, channel="motcua-socketio")


class SocketInput(SocketIOInput):
    """socket.io for rasa-webchat: persistent sessions confirmed by the server, rooms shared through Redis."""

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    def _token_ok(self, auth: Any) -> bool:
        """Whether the connection's ``auth`` carries a token signed with the configured JWT key."""
        from rasa.core.channels.channel import decode_bearer_token

        token = auth.get("token") if isinstance(auth, dict) else None
        try:
            return bool(token and decode_bearer_token(token, self.jwt_key, self.jwt_algorithm))
        except Exception:  # a malformed token is a refused connection, not an error
            return False

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The socket.io server and its health route, mounted at ``socketio_path``."""
        from socketio import AsyncServer

        from core.privacy import action_secret
        from core.settings import get_settings

        settings = get_settings()
        key = session_key(action_secret(settings))
        manager = client_manager(settings.servers.lock_store_url)
        # cross-origin pages may connect, as with Rasa's channel (the widget is embedded on other sites);
        # limits and the client's digest are applied per message by motcua.rasa_main
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[], client_manager=manager,
                          max_http_buffer_size=MAX_BUFFER)
        hook = SocketBlueprint(sio, self.socketio_path, "motcua_socketio", __name__)
        self.sio = sio
        namespace = self.namespace

        @hook.route("/", methods=["GET"])
        async def health(_: Request):
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=namespace)
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict] = None) -> bool:
            if self.jwt_key and not self._token_ok(auth):
                return False
            # replies go to the conversation's room: a socket without a session is its own conversation
            await sio.enter_room(sid, sender_of(sid), namespace=namespace)
            return True

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: Text, data: Any = None) -> None:
            claimed = data.get("session_id") if isinstance(data, dict) else None
            session = (session_id_of(claimed, key) if self.session_persistence else None) or new_session(key)
            if self.session_persistence:
                await sio.save_session(sid, {"sender": sender_of(session)}, namespace=namespace)
                await sio.enter_room(sid, sender_of(session), namespace=namespace)
            await sio.emit("session_confirm", session, room=sid, namespace=namespace)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: Text, data: Any = None) -> None:
            if not isinstance(data, dict) or not isinstance(data.get("message", ""), str):
                return  # nothing a citizen typed: rasa-webchat always sends {"message": "..."}
            sender = sender_of(sid)
            if self.session_persistence:
                kept = await sio.get_session(sid, namespace=namespace)
                sender = kept.get("sender") or sender
            metadata = kept_metadata(data.get(self.metadata_key))
            output = ReplyOutput(sio, self.bot_message_evt, message_id_of(data))
            await on_new_message(UserMessage(data.get("message", ""), output, sender, input_channel=self.name(),
                                             metadata=metadata))

        return hook
