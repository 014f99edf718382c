"""Khóa tra cứu hồ sơ: the dossier lookups locked out now (per conversation, client address or
dossier), the recent alerts about many codes tried from one address, and, for admins, clearing a
lock once staff know the citizen (a phone call to the hotline). Every clearing is audited.

Module-level endpoints in the console's handler shape ``(request, staff, csrf, form)``; console.app
registers them behind its role decorator and puts its ``render`` on ``app.state``.
"""
from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse

SCOPE_NAMES = {"conversation": "Cuộc trò chuyện", "client": "Địa chỉ truy cập", "dossier": "Hồ sơ"}
CLEAR_ROLE = "admin"
PATH = "/dossier-locks"


def dossier_service(request: Request):
    """The dossier service over the console's database (``app.state.dossier_service``, made on first use)."""
    state = request.app.state
    if getattr(state, "dossier_service", None) is None:
        from dossiers.service import DossierService

        state.dossier_service = DossierService.from_settings(state.console.settings)
    return state.dossier_service


def duration_words(step: dt.timedelta) -> str:
    """'15 phút', '1 giờ', '1 ngày'."""
    minutes = int(step.total_seconds() // 60)
    if minutes % 1440 == 0:
        return f"{minutes // 1440} ngày"
    return f"{minutes // 60} giờ" if minutes % 60 == 0 else f"{minutes} phút"


def _page(request: Request, staff, csrf, status: int = 200, error=None):
    """The page (database work and rendering, in a worker thread)."""
    def build():
        service = dossier_service(request)
        return request.app.state.render(
            request, "locks.html", staff, csrf, status=status, error=error, locks=service.active_locks(),
            alerts=service.lookup_alerts(limit=20), scopes=SCOPE_NAMES, clear_role=CLEAR_ROLE,
            failures=service.lockout_failures, steps=[duration_words(s) for s in service.lockout_steps],
            codes=service.enumeration_codes, cleared=SCOPE_NAMES.get(request.query_params.get("cleared", ""), ""))

    return run_in_threadpool(build)


async def locks_page(request: Request, staff, csrf, form):
    """The locks in force, the one ending last first, and the latest enumeration alerts."""
    return await _page(request, staff, csrf)


async def clear_lock(request: Request, staff, csrf, form):
    """Lift one lock and forget its failures (admin); audited with the lock's scope and level."""
    key = str(form.get("key", ""))

    def clear():
        row = dossier_service(request).clear_lock(key)
        if row is not None:
            request.app.state.console.store.audit(
                staff.username, "clear_lookup_lock", key, scope=row["scope"], level=row["level"],
                locked_until=row["locked_until"].isoformat(timespec="minutes") if row["locked_until"] else None)
        return row

    row = await run_in_threadpool(clear)
    if row is None:
        return await _page(request, staff, csrf, status=404,
                           error="Khóa này không còn (đã hết hạn hoặc đã được mở). Bạn xem lại danh sách bên dưới.")
    return RedirectResponse(f"{PATH}?cleared={quote(row['scope'])}", status_code=303)
