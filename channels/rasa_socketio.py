"""Rasa input channel for socket.io, the protocol of Rasa's own web client (rasa-webchat), made safe and whole.

Rasa 3.6's socket.io channel has two faults this one does not:
- With session persistence on, it joins the session's room without awaiting python-socketio 5's coroutine
  ``enter_room``, so the room is never joined and replies reach no one.
- It takes the conversation from whatever ``session_id`` each message names, so any client could write into
  (and, joining its room, read) another conversation, including another channel's ("tg-…").

Here a session is what the server confirmed to this socket: ``session_request`` accepts a returning client's
id only in the shape this server issues (32 hex digits, as a UUID), issues a fresh one otherwise, and keeps it
in the socket's server-side session; messages are filed under that session whatever they name. The
conversation id is ``sio-`` and the session id, so no session id names another channel's conversation. A
socket that never asked for a session talks as itself (its socket id), as without persistence.

On several nodes the rooms live in Redis (python-socketio's ``AsyncRedisManager`` on the lock store's Redis,
``MOTCUA_LOCK_STORE_URL``), so a reply reaches the client whichever node handled the message.
"""
from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request

log = logging.getLogger(__name__)

SESSION_RE = re.compile(r"^[0-9a-f]{32}$")
PREFIX = "sio-"


def session_id_of(claimed: Any) -> Optional[str]:
    """A returning client's session id in the shape this server issues (dashes and case forgiven), or None."""
    if not isinstance(claimed, str):
        return None
    value = claimed.replace("-", "").strip().lower()
    return value if SESSION_RE.match(value) else None


def sender_of(session_id: str) -> str:
    """The conversation id of a socket.io session."""
    return PREFIX + session_id


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

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The socket.io server and its health route, mounted at ``socketio_path``."""
        from socketio import AsyncServer

        from core.settings import get_settings

        manager = client_manager(get_settings().servers.lock_store_url)
        # cross-origin pages may connect, as with Rasa's channel (the widget is embedded on other sites);
        # limits and the client's digest are applied per message by motcua.rasa_main
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[], client_manager=manager)
        hook = SocketBlueprint(sio, self.socketio_path, "motcua_socketio", __name__)
        self.sio = sio
        namespace = self.namespace

        @hook.route("/", methods=["GET"])
        async def health(_: Request):
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=namespace)
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict] = None) -> bool:
            if not self.jwt_key:
                return True
            from rasa.core.channels.channel import decode_bearer_token

            token = auth.get("token") if isinstance(auth, dict) else None
            try:
                return bool(token and decode_bearer_token(token, self.jwt_key, self.jwt_algorithm))
            except Exception:  # a malformed token is a refused connection, not an error
                return False

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: Text, data: Any = None) -> None:
            claimed = data.get("session_id") if isinstance(data, dict) else None
            session = (session_id_of(claimed) if self.session_persistence else None) or uuid.uuid4().hex
            if self.session_persistence:
                await sio.save_session(sid, {"sender": sender_of(session)}, namespace=namespace)
                await sio.enter_room(sid, sender_of(session), namespace=namespace)
            await sio.emit("session_confirm", session, room=sid, namespace=namespace)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: Text, data: Any = None) -> None:
            if not isinstance(data, dict) or not isinstance(data.get("message", ""), str):
                return  # nothing a citizen typed: rasa-webchat always sends {"message": "..."}
            sender = sid
            if self.session_persistence:
                kept = await sio.get_session(sid, namespace=namespace)
                sender = kept.get("sender") or sid
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            if not isinstance(metadata, dict):
                metadata = {}
            output = SocketIOOutput(sio, self.bot_message_evt)
            await on_new_message(UserMessage(data.get("message", ""), output, sender, input_channel=self.name(),
                                             metadata=metadata))

        return hook
