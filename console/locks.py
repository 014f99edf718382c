"""Khóa tra cứu hồ sơ: the dossier lookups locked out now (per conversation, client address or
dossier), the recent alerts about many codes tried from one address, and, for admins, clearing a
lock once staff know the citizen (a phone call to the hotline). Every clearing is audited.

Module-level endpoints behind ``console.auth.requires``. The dossier service lives on
``app.state.dossier_service`` (made on first use; tests put their own there).
"""
from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from console.auth import requires
from console.web import console_of, render, staff_of

SCOPE_NAMES = {"conversation": "Cuộc trò chuyện", "client": "Địa chỉ truy cập", "dossier": "Hồ sơ"}
CLEAR_ROLE = "admin"
PATH = "/dossier-locks"


def dossier_service(request: Request):
    """The dossier service over the console's database (``app.state.dossier_service``, made on first use)."""
    state = request.app.state
    if getattr(state, "dossier_service", None) is None:
        from dossiers.service import DossierService

        state.dossier_service = DossierService.from_settings(console_of(request).settings)
    return state.dossier_service


def duration_words(step: dt.timedelta) -> str:
    """'15 phút', '1 giờ', '1 ngày'."""
    minutes = int(step.total_seconds() // 60)
    if minutes % 1440 == 0:
        return f"{minutes // 1440} ngày"
    return f"{minutes // 60} giờ" if minutes % 60 == 0 else f"{minutes} phút"


def _page(request: Request, status: int = 200, error=None) -> Response:
    """The page. Blocking: the database and rendering."""
    service = dossier_service(request)
    return render(request, "locks.html", status=status, error=error, locks=service.active_locks(),
                  alerts=service.lookup_alerts(limit=20), scopes=SCOPE_NAMES, clear_role=CLEAR_ROLE,
                  failures=service.lockout_failures, steps=[duration_words(s) for s in service.lockout_steps],
                  codes=service.enumeration_codes,
                  cleared=SCOPE_NAMES.get(request.query_params.get("cleared", ""), ""))


@requires()
def locks_page(request: Request) -> Response:
    """The locks in force, the one ending last first, and the latest enumeration alerts."""
    return _page(request)


@requires(CLEAR_ROLE, write=True)
def clear_lock(request: Request, form: FormData) -> Response:
    """Lift one lock and forget its failures (admin); audited with the lock's scope and level."""
    key = str(form.get("key", ""))
    row = dossier_service(request).clear_lock(key)
    if row is None:
        return _page(request, status=404,
                     error="Khóa này không còn (đã hết hạn hoặc đã được mở). Bạn xem lại danh sách bên dưới.")
    console_of(request).store.audit(
        staff_of(request).username, "clear_lookup_lock", key, scope=row["scope"], level=row["level"],
        locked_until=row["locked_until"].isoformat(timespec="minutes") if row["locked_until"] else None)
    return RedirectResponse(f"{PATH}?cleared={quote(row['scope'])}", status_code=303)


routes = [
    Route(PATH, locks_page),
    Route(PATH + "/clear", clear_lock, methods=["POST"]),
]
