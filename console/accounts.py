"""Tài khoản: signing in and out, changing one's own password and display name (what citizens see: "Cán bộ
Nguyễn Thị Lan"), and (admins) the staff accounts: create, change role or lock, rename, reset another's password.
Every change is audited by the store.

Module-level endpoints behind ``console.auth.requires`` (except the login form itself), all plain ``def``
or handing their work to a worker thread: argon2 and the database never run on the event loop.
"""
from __future__ import annotations

import datetime as dt
import hmac
import secrets
from typing import Optional

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from console.auth import COOKIE, LOGIN_CSRF, requires
from console.passwords import MIN_LENGTH
from console.store import NAME_MAX, LoginThrottled, WrongPassword
from console.web import console_of, current, error, page, render, staff_of

WHO = {"account": "tài khoản này từ máy của bạn", "client": "máy của bạn"}
CEILING = ("Tài khoản này bị đoán sai mật khẩu quá nhiều lần từ nhiều nơi, nên tạm thời chỉ đăng nhập được từ "
           "những máy đã từng đăng nhập vào tài khoản này. Bạn hãy nhờ quản trị viên đặt lại mật khẩu, hoặc "
           "đăng nhập từ máy quen (mở lại sau {wait}, lúc {until:%H:%M %d/%m}).")


def wait_words(wait: dt.timedelta) -> str:
    """'15 phút', '2 giờ': how long a locked-out person waits, rounded up."""
    minutes = max(1, -(-int(wait.total_seconds()) // 60))
    return f"{minutes} phút" if minutes <= 90 else f"{-(-minutes // 60)} giờ"


def _store(request: Request):
    return console_of(request).store


def client_of(request: Request) -> str:
    """The keyed digest of the request's client key (X-Forwarded-For believed only from trusted proxies)."""
    return console_of(request).client(request.client.host if request.client else None,
                                      ", ".join(request.headers.getlist("x-forwarded-for")))


def throttled(request: Request, name: str, staff, csrf, locked: LoginThrottled, **ctx) -> Response:
    """429 with a Vietnamese explanation and Retry-After."""
    if locked.scope == "ceiling":
        text = CEILING.format(wait=wait_words(locked.retry_after), until=locked.until)
    else:
        text = (f"Đăng nhập sai quá nhiều lần nên {WHO[locked.scope]} tạm bị khóa. Bạn thử lại sau "
                f"{wait_words(locked.retry_after)} (lúc {locked.until:%H:%M}); quên mật khẩu thì nhờ quản trị "
                "viên đặt lại.")
    response = page(request, name, staff, csrf, status=429, error=text, **ctx)
    response.headers["Retry-After"] = str(max(1, int(locked.retry_after.total_seconds())))
    return response


# Signing in and out ------------------------------------------------------------------------------------
def login_page(request: Request) -> Response:
    """The login form, with a CSRF token bound to a cookie (a logged-in visitor goes to the start page)."""
    staff, _ = current(request)
    if staff is not None:
        return RedirectResponse("/", status_code=303)
    token = secrets.token_urlsafe(24)
    response = page(request, "login.html", None, token, next=request.query_params.get("next", "/"))
    response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="strict",
                        secure=console_of(request).settings.console.secure_cookies)
    return response


async def login(request: Request) -> Response:
    """Check the credentials (argon2 and the throttle in a worker thread); a session cookie, 401 or 429."""
    form = await request.form()
    return await run_in_threadpool(_login, request, form)


def _login(request: Request, form: FormData) -> Response:
    next_url = str(form.get("next") or "/")
    if not next_url.startswith("/") or next_url.startswith("//"):
        next_url = "/"
    cookie = request.cookies.get(LOGIN_CSRF, "")
    if not cookie or not hmac.compare_digest(str(form.get("csrf", "")), cookie):
        return page(request, "login.html", None, cookie, status=403, next=next_url,
                    error="Biểu mẫu đăng nhập đã cũ. Bạn tải lại trang rồi đăng nhập lại.")
    store = _store(request)
    try:
        token = store.login(str(form.get("username", "")), str(form.get("password", "")), client_of(request))
    except LoginThrottled as locked:
        return throttled(request, "login.html", None, cookie, locked, next=next_url)
    if token is None:
        return page(request, "login.html", None, cookie, status=401, next=next_url,
                    error="Tên đăng nhập hoặc mật khẩu không đúng.")
    response = RedirectResponse(next_url, status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", max_age=store.session_hours * 3600,
                        secure=console_of(request).settings.console.secure_cookies)
    response.delete_cookie(LOGIN_CSRF)
    return response


@requires(write=True)
def logout(request: Request, form: FormData) -> Response:
    """End this session."""
    store = _store(request)
    store.logout(request.cookies.get(COOKIE, ""))
    store.audit(staff_of(request).username, "logout")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


# One's own password --------------------------------------------------------------------------------------
@requires()
def password_page(request: Request) -> Response:
    """Đổi mật khẩu: the form."""
    return render(request, "password.html", min_length=MIN_LENGTH)


@requires(write=True)
def password_change(request: Request, form: FormData) -> Response:
    """Change one's own password (the current one needed, counted like a login); other sessions end."""
    staff, csrf = staff_of(request), current(request)[1]
    new = str(form.get("new_password", ""))
    if new != str(form.get("repeat", "")):
        return render(request, "password.html", status=400, min_length=MIN_LENGTH,
                      error="Hai lần nhập mật khẩu mới không khớp.")
    try:
        _store(request).change_password(staff.id, str(form.get("current", "")), new, client_of(request),
                                        keep_token=request.cookies.get(COOKIE, ""))
    except LoginThrottled as locked:
        return throttled(request, "password.html", staff, csrf, locked, min_length=MIN_LENGTH)
    except WrongPassword:
        return render(request, "password.html", status=400, min_length=MIN_LENGTH,
                      error="Mật khẩu hiện tại không đúng.")
    except ValueError as exc:
        return render(request, "password.html", status=400, min_length=MIN_LENGTH, error=str(exc))
    return RedirectResponse("/password?msg=password", status_code=303)


# One's own display name ------------------------------------------------------------------------------------
@requires()
def profile_page(request: Request) -> Response:
    """Tên hiển thị: the name citizens see, with a form to change it."""
    return render(request, "profile.html", name_max=NAME_MAX)


@requires(write=True)
def profile_save(request: Request, form: FormData) -> Response:
    """Change one's own display name (checked and audited by the store)."""
    staff = staff_of(request)
    typed = str(form.get("display_name", ""))
    try:
        _store(request).set_display_name(staff.id, typed, by=staff.username)
    except ValueError as exc:
        return render(request, "profile.html", status=400, name_max=NAME_MAX, typed=typed, error=str(exc))
    return RedirectResponse("/profile?msg=name", status_code=303)


# Staff accounts (admins) ------------------------------------------------------------------------------------
def _users(request: Request, status: int = 200, problem: Optional[str] = None) -> Response:
    return render(request, "users.html", status=status, users=_store(request).users(), error=problem,
                  min_length=MIN_LENGTH, name_max=NAME_MAX)


@requires("admin")
def users(request: Request) -> Response:
    """Tài khoản cán bộ: the accounts, with forms to change, reset and create."""
    return _users(request)


@requires("admin", write=True)
def user_create(request: Request, form: FormData) -> Response:
    """Create an account (name, role and password checked by the store)."""
    store, staff = _store(request), staff_of(request)
    try:
        new = store.create_user(str(form.get("username", "")), str(form.get("password", "")),
                                str(form.get("role", "")), str(form.get("full_name", "")))
    except ValueError as exc:
        return _users(request, status=400, problem=str(exc))
    store.audit(staff.username, "create_user", str(form.get("username")), role=form.get("role"), id=new)
    return RedirectResponse("/users?msg=user", status_code=303)


@requires("admin", write=True)
def user_update(request: Request, form: FormData) -> Response:
    """Change another account's role or lock it (its sessions end)."""
    staff = staff_of(request)
    user_id = int(request.path_params["user_id"])
    if user_id == staff.id:
        return error(request, 400, "Bạn không tự đổi quyền hay khóa tài khoản của chính mình được.")
    role, active = str(form.get("role", "")), form.get("active") == "1"
    store = _store(request)
    try:
        store.set_role(user_id, role, active)
    except ValueError as exc:
        return error(request, 400, str(exc))
    store.audit(staff.username, "update_user", str(user_id), role=role, active=active)
    return RedirectResponse("/users?msg=user", status_code=303)


@requires("admin", write=True)
def user_name(request: Request, form: FormData) -> Response:
    """Set an account's display name (its own owner may too, on the Tên hiển thị page)."""
    try:
        _store(request).set_display_name(int(request.path_params["user_id"]), str(form.get("display_name", "")),
                                         by=staff_of(request).username)
    except ValueError as exc:
        return _users(request, status=400, problem=str(exc))
    return RedirectResponse("/users?msg=name", status_code=303)


@requires("admin", write=True)
def user_password(request: Request, form: FormData) -> Response:
    """Reset another account's password: its sessions end, its locks and ceiling lift."""
    staff = staff_of(request)
    user_id = int(request.path_params["user_id"])
    if user_id == staff.id:
        return error(request, 400, "Bạn đổi mật khẩu của chính mình ở trang Đổi mật khẩu (cần mật khẩu hiện tại).")
    try:
        _store(request).reset_password(user_id, str(form.get("password", "")), by=staff.username)
    except ValueError as exc:
        return _users(request, status=400, problem=str(exc))
    return RedirectResponse("/users?msg=reset", status_code=303)


routes = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/users", users),
    Route("/users", user_create, methods=["POST"]),
    Route("/users/{user_id:int}", user_update, methods=["POST"]),
    Route("/users/{user_id:int}/name", user_name, methods=["POST"]),
    Route("/users/{user_id:int}/password", user_password, methods=["POST"]),
    Route("/profile", profile_page),
    Route("/profile", profile_save, methods=["POST"]),
    Route("/password", password_page),
    Route("/password", password_change, methods=["POST"]),
]
