"""Local stand-ins for the Telegram Bot API and the Zalo OA API, for end-to-end tests and benchmarks.

Each serves the protocol's wire format on 127.0.0.1 (python-telegram-bot and our Zalo client talk
to them unchanged, through TELEGRAM_API_BASE / ZALO_API_BASE / ZALO_OAUTH_BASE) and records what
it was sent. They also let a developer try the channels without real accounts.
"""
from __future__ import annotations

import http.server
import itertools
import json
import secrets
import sys
import threading
import time
import urllib.parse
from typing import Callable, Dict, List, Optional


class _Server:
    """A threaded HTTP server whose requests go to ``self.handle(method, path, headers, body)``."""

    def __init__(self):
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, payload = owner.handle(self.command, self.path, self.headers, body)
                data = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
                    super().handle_error(request, client_address)  # a client closing its connection is normal

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.lock = threading.Condition()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
        """Wait until ``predicate()`` (checked under the lock) holds; False on timeout."""
        with self.lock:
            return self.lock.wait_for(predicate, timeout=timeout)

    def handle(self, method, path, headers, body):  # pragma: no cover - overridden
        raise NotImplementedError


def _form(headers, body: bytes) -> dict:
    """Parameters as python-telegram-bot posts them: form fields with JSON-encoded objects, or JSON."""
    if (headers.get("Content-Type") or "").startswith("application/json"):
        return json.loads(body or b"{}")
    fields = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode(), keep_blank_values=True).items()}
    for key in ("reply_markup", "allowed_updates"):
        if key in fields and fields[key]:
            fields[key] = json.loads(fields[key])
    return fields


class FakeTelegram(_Server):
    """Bot API methods the connector uses: getMe, sendMessage, sendChatAction, answerCallbackQuery,
    getUpdates (long polling), setWebhook, deleteWebhook. ``calls`` records every call."""

    def __init__(self, token: str):
        super().__init__()
        self.token = token
        self.calls: List[dict] = []
        self.by_chat: Dict[int, List[dict]] = {}
        self.updates: List[dict] = []
        self._update_ids = itertools.count(1000)
        self._message_ids = itertools.count(1)

    def handle(self, method, path, headers, body):
        prefix = f"/bot{self.token}/"
        if not path.startswith(prefix):
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        name = path[len(prefix):].split("?")[0]
        params = _form(headers, body)
        if name == "getUpdates":
            return 200, {"ok": True, "result": self._get_updates(params)}
        with self.lock:
            call = {"method": name, "at": time.monotonic(), **params}
            self.calls.append(call)
            if "chat_id" in params:
                self.by_chat.setdefault(int(params["chat_id"]), []).append(call)
            self.lock.notify_all()
        if name == "getMe":
            return 200, {"ok": True, "result": {"id": 424242, "is_bot": True, "first_name": "Một cửa",
                                                "username": "motcua_test_bot"}}
        if name == "sendMessage":
            return 200, {"ok": True, "result": {"message_id": next(self._message_ids), "date": int(time.time()),
                                                "chat": {"id": int(params["chat_id"]), "type": "private"},
                                                "text": params.get("text", "")}}
        if name in ("sendChatAction", "answerCallbackQuery", "setWebhook", "deleteWebhook"):
            return 200, {"ok": True, "result": True}
        return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}

    def _get_updates(self, params) -> List[dict]:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 1.0)
        with self.lock:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            if not self.updates and timeout:
                self.lock.wait(timeout)
            return list(self.updates[:100])

    # Building updates ---------------------------------------------------------------------------
    def text_update(self, chat_id: int, text: str) -> dict:
        return {"update_id": next(self._update_ids), "message": {
            "message_id": next(self._message_ids), "date": int(time.time()), "text": text,
            "chat": {"id": chat_id, "type": "private", "first_name": "Công dân"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Công dân"},
            **({"entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]}
               if text.startswith("/") else {})}}

    def tap_update(self, chat_id: int, data: str) -> dict:
        return {"update_id": next(self._update_ids), "callback_query": {
            "id": secrets.token_hex(6), "chat_instance": "1", "data": data,
            "from": {"id": chat_id, "is_bot": False, "first_name": "Công dân"},
            "message": {"message_id": next(self._message_ids), "date": int(time.time()), "text": "…",
                        "chat": {"id": chat_id, "type": "private"}}}}

    def push(self, update: dict) -> None:
        """Queue an update for getUpdates (polling mode)."""
        with self.lock:
            self.updates.append(update)
            self.lock.notify_all()

    def sent(self, chat_id: Optional[int] = None, method: str = "sendMessage") -> List[dict]:
        with self.lock:
            calls = self.calls if chat_id is None else self.by_chat.get(chat_id, [])
            return [c for c in calls if c["method"] == method]


class FakeZalo(_Server):
    """OA customer-service messages (/v3.0/oa/message/cs) and token refresh (/v4/oa/access_token).

    Access tokens can be expired on demand; refresh tokens work once; ``fail_users`` get an error.
    """

    def __init__(self, app_id: str, app_secret: str, access_token: str, refresh_token: str):
        super().__init__()
        self.app_id, self.app_secret = app_id, app_secret
        self.access_token, self.refresh_token = access_token, refresh_token
        self.messages: List[dict] = []
        self.by_user: Dict[str, List[dict]] = {}
        self.refreshes = 0
        self.fail_users: Dict[str, int] = {}
        self.expired_code = -216
        self._ids = itertools.count(1)

    def expire(self, code: int = -216) -> None:
        """The OA's access token stops working; Zalo answers ``code`` (-216 invalid, -220 expired)."""
        with self.lock:
            self.access_token = "expired-" + secrets.token_hex(4)  # the one the OA holds is no longer valid
            self.expired_code = code

    def handle(self, method, path, headers, body):
        path = path.split("?")[0]
        if path == "/v3.0/oa/message/cs" and method == "POST":
            return self._cs(headers, json.loads(body or b"{}"))
        if path == "/v4/oa/access_token" and method == "POST":
            return self._refresh(headers, _form(headers, body))
        return 404, {"error": 404, "message": "not found"}

    def _cs(self, headers, payload):
        with self.lock:
            if headers.get("access_token") != self.access_token:
                return 200, {"error": self.expired_code, "message": {-220: "access_token is expired or removed"}
                             .get(self.expired_code, "Access token is invalid")}
            user = str((payload.get("recipient") or {}).get("user_id", ""))
            if user in self.fail_users:
                return 200, {"error": self.fail_users[user], "message": "User has not interacted with the OA"}
            text = (payload.get("message") or {}).get("text", "")
            if not text or len(text) > 2000:
                return 200, {"error": -201, "message": "Parameters invalid: text"}
            message = {"user_id": user, "text": text, "at": time.monotonic()}
            self.messages.append(message)
            self.by_user.setdefault(user, []).append(message)
            self.lock.notify_all()
            return 200, {
                "error": 0,
                "message": "Success",
                "data": {"message_id": f"m{next(self._ids)}", "user_id": user},
            }

    def _refresh(self, headers, form):
        with self.lock:
            if headers.get("secret_key") != self.app_secret or form.get("app_id") != self.app_id:
                return 200, {"error": -14002, "error_name": "Invalid app secret"}
            if form.get("refresh_token") != self.refresh_token or form.get("grant_type") != "refresh_token":
                return 200, {"error": -14014, "error_name": "Invalid refresh token"}
            self.refreshes += 1
            self.access_token = "access-" + secrets.token_hex(8)
            self.refresh_token = "refresh-" + secrets.token_hex(8)
            return 200, {"access_token": self.access_token, "refresh_token": self.refresh_token, "expires_in": "90000"}

    def texts(self, user_id: Optional[str] = None) -> List[str]:
        with self.lock:
            return [m["text"] for m in (self.messages if user_id is None else self.by_user.get(user_id, []))]


def zalo_event(app_id: str, user_id: str, text: Optional[str] = None, event_name: str = "user_send_text",
               timestamp_ms: Optional[int] = None, msg_id: Optional[str] = None) -> dict:
    """A webhook event as Zalo sends it."""
    ts = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
    message = {"msg_id": msg_id or secrets.token_hex(8)}
    if text is not None:
        message["text"] = text
    if event_name == "user_send_image":
        message["attachments"] = [{"type": "image", "payload": {"url": "https://example.invalid/a.jpg"}}]
    return {"app_id": app_id, "user_id_by_app": "u" + user_id, "event_name": event_name, "timestamp": ts,
            "sender": {"id": user_id}, "recipient": {"id": "oa-1"}, "message": message}


class FakeWebhook(_Server):
    """An incoming-webhook endpoint (staff alerts): records each JSON body posted; answers 503 to the first
    ``fail_times`` posts."""

    def __init__(self, fail_times: int = 0):
        super().__init__()
        self.posts: List[dict] = []
        self.fail_times = fail_times

    def handle(self, method, path, headers, body):
        with self.lock:
            if self.fail_times:
                self.fail_times -= 1
                return 503, {"ok": False}
            self.posts.append(json.loads(body or b"{}"))
            self.lock.notify_all()
        return 200, {"ok": True}
