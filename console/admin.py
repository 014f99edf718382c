"""The start page (the unanswered questions) and, for admins, Nhật ký: the audit log."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from console.auth import requires
from console.web import console_of, render


@requires()
async def home(request: Request) -> Response:
    """The start page is the unanswered questions."""
    return RedirectResponse("/unanswered", status_code=303)


@requires("admin")
def audit(request: Request) -> Response:
    """The latest audit entries, newest first."""
    return render(request, "audit.html", entries=console_of(request).store.audit_log())


routes = [
    Route("/", home),
    Route("/audit", audit),
]
