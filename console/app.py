"""The staff console: a Starlette application with server-rendered Vietnamese pages.

Every page needs a login (HTTP-only session cookie); every form carries a CSRF token; roles are
checked on every route: viewers read, editors change content, admins manage accounts and read
the audit log. Every change is written to the audit log.

This module only assembles the application; the pages live in one module per area, each with its
``routes``; ``console.auth`` holds the middleware and the role decorator, ``console.web`` what pages share.
"""
from __future__ import annotations

import logging
from typing import Optional

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from console import (
    accounts,
    admin,
    analytics_pages,
    catalogue_pages,
    conversation_pages,
    faq_pages,
    handoff_pages,
    locks,
    questions,
)
from console.auth import Authentication, SecurityHeaders
from console.store import ConsoleStore
from console.web import HERE, Console
from core.settings import Settings

log = logging.getLogger(__name__)
AREAS = (admin, accounts, questions, catalogue_pages, faq_pages, conversation_pages, analytics_pages, locks,
         handoff_pages)


async def server_error(request: Request, exc: Exception) -> Response:
    """A failure staff can act on: a short Vietnamese page (the details go to the log, never to the page)."""
    log.error("console error on %s", request.url.path, exc_info=exc)
    return HTMLResponse("<!doctype html><html lang=\"vi\"><meta charset=\"utf-8\"><title>Lỗi</title>"
                        "<p>Trang này đang gặp lỗi. Bạn thử tải lại sau ít phút; nếu vẫn lỗi, báo bộ phận CNTT "
                        "(thời điểm và địa chỉ trang).</p><p><a href=\"/\">Về trang chính</a></p></html>",
                        status_code=500)


def create_app(settings: Settings, store: Optional[ConsoleStore] = None, embed=None,
               background: bool = False) -> Starlette:
    """The console over ``settings`` (and ``store``, else one on the settings' database; ``embed``: texts to unit
    vectors for grouping questions, else the configured search encoder; ``background``: a thread keeps the sums
    and question groups current between page loads)."""
    console = Console(settings, store, embed)
    routes: list[BaseRoute] = [route for area in AREAS for route in area.routes]
    routes.append(Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"))
    app = Starlette(routes=routes, exception_handlers={500: server_error}, middleware=[Middleware(SecurityHeaders),
                                               Middleware(Authentication, console=console)])
    app.state.console = console
    if background:  # the serving process only: tests and tools drive the catch-up themselves
        console.start_background()
    return app
