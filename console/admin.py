"""The start page (the unanswered questions) and, for admins, Nhật ký: the audit log."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from console.auth import requires
from console.web import console_of, page_number, render

PER_PAGE = 100


@requires()
async def home(request: Request) -> Response:
    """The start page is the unanswered questions."""
    return RedirectResponse("/unanswered", status_code=303)


@requires("admin")
def audit(request: Request) -> Response:
    """The audit entries, newest first, 100 to a page."""
    number = page_number(request)
    entries = console_of(request).store.audit_log(PER_PAGE + 1, (number - 1) * PER_PAGE)
    return render(request, "audit.html", entries=entries[:PER_PAGE], page=number, more=len(entries) > PER_PAGE)


routes = [
    Route("/", home),
    Route("/audit", audit),
]
