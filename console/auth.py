"""Who is asking, and may they: the session middleware, the role decorator and the security headers.

``Authentication`` resolves the session cookie to the staff member once per request (the database in a
worker thread) and puts it on ``request.state``. ``requires(role, write)`` on an endpoint sends a visitor
without a session to the login page, refuses a role below ``role`` (403), and for writes parses the form and
checks its CSRF token. A plain ``def`` endpoint runs in the thread pool, like the refusals (they render).
"""
from __future__ import annotations

import functools
import hmac
import inspect
from typing import Awaitable, Callable, Union, cast
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, MutableHeaders
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console.web import Console, current, error

COOKIE, LOGIN_CSRF = "motcua_console", "motcua_login_csrf"
NOT_ALLOWED = "Tài khoản của bạn không có quyền làm việc này."
STALE_FORM = "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. Bạn tải lại trang rồi thử lại."
HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                "frame-ancestors 'none'; form-action 'self'"),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
Endpoint = Callable[[Request], Awaitable[Response]]
Handler = Union[Callable[..., Response], Callable[..., Awaitable[Response]]]  # (request) or (request, form)


class Authentication:
    """ASGI middleware: ``request.state.staff`` and ``request.state.csrf`` from the session cookie (or None)."""

    def __init__(self, app: ASGIApp, console: Console):
        self.app = app
        self.console = console

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith("/static/"):
            request = Request(scope)
            token = request.cookies.get(COOKIE)
            found = await run_in_threadpool(self.console.store.session, token) if token else None
            request.state.staff, request.state.csrf = found if found else (None, None)
        await self.app(scope, receive, send)


class SecurityHeaders:
    """ASGI middleware: the content security policy and friends on every response; HTML is never cached."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                if headers.get("content-type", "").startswith("text/html"):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)



def requires(role: str = "viewer", write: bool = False) -> Callable[[Handler], Endpoint]:
    """Endpoint decorator: a session, ``role`` or above, and for writes a form whose CSRF token matches.

    The handler takes ``(request)``, or ``(request, form)`` when ``write``; a plain ``def`` handler runs in
    the thread pool.
    """
    def wrap(handler: Handler) -> Endpoint:
        blocking = not inspect.iscoroutinefunction(handler)

        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            staff, csrf = current(request)
            if staff is None:
                return RedirectResponse("/login?next=" + quote(request.url.path), status_code=303)
            if not staff.can(role):
                return await run_in_threadpool(error, request, 403, NOT_ALLOWED)
            args: tuple = (request,)
            if write:
                form: FormData = await request.form()
                if not hmac.compare_digest(str(form.get("csrf", "")), csrf or ""):
                    return await run_in_threadpool(error, request, 403, STALE_FORM)
                args = (request, form)
            if blocking:
                return await run_in_threadpool(cast(Callable[..., Response], handler), *args)
            return await cast(Callable[..., Awaitable[Response]], handler)(*args)
        return endpoint
    return wrap
