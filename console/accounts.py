"""Tài khoản: signing in and out, changing one's own password, and (admins) the staff accounts: create,
change role or lock, reset another's password. Every change is audited by the store.

Module-level endpoints; the ones behind console.app's role decorator have its handler shape
``(request, staff, csrf, form)`` and are plain ``def``: argon2 and the database run in Starlette's
thread pool, never on the event loop. console.app puts its ``render`` and ``Console`` on ``app.state``.
"""
from __future__ import annotations

import datetime as dt
import hmac
import secrets
from typing import Optional

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse

from console.passwords import MIN_LENGTH
from console.store import LoginThrottled, WrongPassword

COOKIE, LOGIN_CSRF = "motcua_console", "motcua_login_csrf"
WHO = {"account": "tài khoản này từ máy của bạn", "client": "máy của bạn"}
CEILING = ("Tài khoản này bị đoán sai mật khẩu quá nhiều lần từ nhiều nơi, nên tạm thời chỉ đăng nhập được từ "
           "những máy đã từng đăng nhập vào tài khoản này. Bạn hãy nhờ quản trị viên đặt lại mật khẩu, hoặc "
           "đăng nhập từ máy quen (mở lại sau {wait}, lúc {until:%H:%M %d/%m}).")


def wait_words(wait: dt.timedelta) -> str:
    """'15 phút', '2 giờ': how long a locked-out person waits, rounded up."""
    minutes = max(1, -(-int(wait.total_seconds()) // 60))
    return f"{minutes} phút" if minutes <= 90 else f"{-(-minutes // 60)} giờ"


def _render(request: Request, name: str, staff, csrf, status: int = 200, **ctx):
    return request.app.state.render(request, name, staff, csrf, status=status, **ctx)


def _store(request: Request):
    return request.app.state.console.store


def client_of(request: Request) -> str:
    """The keyed digest of the request's client key (X-Forwarded-For believed only from trusted proxies)."""
    return request.app.state.console.client(request.client.host if request.client else None,
                                            ", ".join(request.headers.getlist("x-forwarded-for")))


def current(request: Request):
    """(Staff, csrf token) of the request's session, or (None, None). Blocking: the database."""
    found = _store(request).session(request.cookies.get(COOKIE))
    return found if found else (None, None)


def throttled(request: Request, name: str, staff, csrf, locked: LoginThrottled, **ctx):
    """429 with a Vietnamese explanation and Retry-After."""
    if locked.scope == "ceiling":
        error = CEILING.format(wait=wait_words(locked.retry_after), until=locked.until)
    else:
        error = (f"Đăng nhập sai quá nhiều lần nên {WHO[locked.scope]} tạm bị khóa. Bạn thử lại sau "
                 f"{wait_words(locked.retry_after)} (lúc {locked.until:%H:%M}); quên mật khẩu thì nhờ quản trị "
                 "viên đặt lại.")
    response = _render(request, name, staff, csrf, status=429, error=error, **ctx)
    response.headers["Retry-After"] = str(max(1, int(locked.retry_after.total_seconds())))
    return response


# Signing in and out ------------------------------------------------------------------------------------
def login_page(request: Request):
    """The login form, with a CSRF token bound to a cookie (a logged-in visitor goes to the start page)."""
    staff, _ = current(request)
    if staff is not None:
        return RedirectResponse("/", status_code=303)
    token = secrets.token_urlsafe(24)
    response = _render(request, "login.html", None, token, next=request.query_params.get("next", "/"))
    response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="strict",
                        secure=request.app.state.console.settings.console.secure_cookies)
    return response


async def login(request: Request):
    """Check the credentials (argon2 and the throttle in a worker thread); a session cookie, 401 or 429."""
    form = await request.form()
    return await run_in_threadpool(_login, request, form)


def _login(request: Request, form):
    next_url = str(form.get("next") or "/")
    if not next_url.startswith("/") or next_url.startswith("//"):
        next_url = "/"
    cookie = request.cookies.get(LOGIN_CSRF, "")
    if not cookie or not hmac.compare_digest(str(form.get("csrf", "")), cookie):
        return _render(request, "login.html", None, cookie, status=403, next=next_url,
                       error="Biểu mẫu đăng nhập đã cũ. Bạn tải lại trang rồi đăng nhập lại.")
    store = _store(request)
    try:
        token = store.login(str(form.get("username", "")), str(form.get("password", "")), client_of(request))
    except LoginThrottled as locked:
        return throttled(request, "login.html", None, cookie, locked, next=next_url)
    if token is None:
        return _render(request, "login.html", None, cookie, status=401, next=next_url,
                       error="Tên đăng nhập hoặc mật khẩu không đúng.")
    response = RedirectResponse(next_url, status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", max_age=store.session_hours * 3600,
                        secure=request.app.state.console.settings.console.secure_cookies)
    response.delete_cookie(LOGIN_CSRF)
    return response


def logout(request: Request, staff, csrf, form):
    """End this session."""
    store = _store(request)
    store.logout(request.cookies.get(COOKIE, ""))
    store.audit(staff.username, "logout")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


# One's own password --------------------------------------------------------------------------------------
def password_page(request: Request, staff, csrf, form):
    """Đổi mật khẩu: the form."""
    return _render(request, "password.html", staff, csrf, min_length=MIN_LENGTH)


def password_change(request: Request, staff, csrf, form):
    """Change one's own password (the current one needed, counted like a login); other sessions end."""
    new = str(form.get("new_password", ""))
    if new != str(form.get("repeat", "")):
        return _render(request, "password.html", staff, csrf, status=400, min_length=MIN_LENGTH,
                       error="Hai lần nhập mật khẩu mới không khớp.")
    try:
        _store(request).change_password(staff.id, str(form.get("current", "")), new, client_of(request),
                                        keep_token=request.cookies.get(COOKIE, ""))
    except LoginThrottled as locked:
        return throttled(request, "password.html", staff, csrf, locked, min_length=MIN_LENGTH)
    except WrongPassword:
        return _render(request, "password.html", staff, csrf, status=400, min_length=MIN_LENGTH,
                       error="Mật khẩu hiện tại không đúng.")
    except ValueError as exc:
        return _render(request, "password.html", staff, csrf, status=400, min_length=MIN_LENGTH, error=str(exc))
    return RedirectResponse("/password?msg=password", status_code=303)


# Staff accounts (admins) ------------------------------------------------------------------------------------
def _users(request: Request, staff, csrf, status: int = 200, error: Optional[str] = None):
    return _render(request, "users.html", staff, csrf, status=status, users=_store(request).users(), error=error,
                   min_length=MIN_LENGTH)


def users(request: Request, staff, csrf, form):
    """Tài khoản cán bộ: the accounts, with forms to change, reset and create."""
    return _users(request, staff, csrf)


def user_create(request: Request, staff, csrf, form):
    """Create an account (name, role and password checked by the store)."""
    store = _store(request)
    try:
        new = store.create_user(str(form.get("username", "")), str(form.get("password", "")),
                                str(form.get("role", "")), str(form.get("full_name", "")))
    except ValueError as exc:
        return _users(request, staff, csrf, status=400, error=str(exc))
    store.audit(staff.username, "create_user", str(form.get("username")), role=form.get("role"), id=new)
    return RedirectResponse("/users?msg=user", status_code=303)


def user_update(request: Request, staff, csrf, form):
    """Change another account's role or lock it (its sessions end)."""
    user_id = int(request.path_params["user_id"])
    if user_id == staff.id:
        return _render(request, "error.html", staff, csrf, status=400,
                       error="Bạn không tự đổi quyền hay khóa tài khoản của chính mình được.")
    role, active = str(form.get("role", "")), form.get("active") == "1"
    store = _store(request)
    try:
        store.set_role(user_id, role, active)
    except ValueError as exc:
        return _render(request, "error.html", staff, csrf, status=400, error=str(exc))
    store.audit(staff.username, "update_user", str(user_id), role=role, active=active)
    return RedirectResponse("/users?msg=user", status_code=303)


def user_password(request: Request, staff, csrf, form):
    """Reset another account's password: its sessions end, its locks and ceiling lift."""
    user_id = int(request.path_params["user_id"])
    if user_id == staff.id:
        return _render(request, "error.html", staff, csrf, status=400,
                       error="Bạn đổi mật khẩu của chính mình ở trang Đổi mật khẩu (cần mật khẩu hiện tại).")
    try:
        _store(request).reset_password(user_id, str(form.get("password", "")), by=staff.username)
    except ValueError as exc:
        return _users(request, staff, csrf, status=400, error=str(exc))
    return RedirectResponse("/users?msg=reset", status_code=303)
