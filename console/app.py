"""The staff console: a Starlette application with server-rendered Vietnamese pages.

Every page needs a login (HTTP-only session cookie); every form carries a CSRF token; roles are
checked on every route: viewers read, editors change content, admins manage accounts and read
the audit log. Every change is written to the audit log.
"""
from __future__ import annotations

import datetime as dt
import hmac
import inspect
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable, Optional
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from channels.addresses import client_address, client_key
from console import accounts, locks
from console.analytics import build_report, daily_chart, share_bar, to_csv, to_xlsx
from console.catalogue import accept_reimport, save_staff_fields, stage_reimport
from console.catalogue import search as catalogue_search
from console.conversations import Conversations, channel_of
from console.store import ROLES, ConsoleStore, Staff
from console.upkeep import add_aliases
from core.privacy import mask_text
from core.settings import ROOT, Settings
from knowledge_base.grouping import group_questions, key_of

HERE = Path(__file__).resolve().parent
MESSAGES = {
    "mapped": "Đã gắn câu hỏi vào thủ tục. Bấm \"Cập nhật trợ lý\" ở trang Thay đổi để trợ lý dùng ngay.",
    "answered": "Đã lưu câu trả lời; trợ lý dùng nó trong vòng 30 giây.",
    "dismissed": "Đã bỏ qua nhóm câu hỏi.",
    "exporting": "Đang cập nhật trợ lý (xuất dữ liệu, dựng lại chỉ mục)…",
    "user": "Đã lưu tài khoản.",
    "faq": "Đã cập nhật câu trả lời của cán bộ.",
    "taken": "Bạn đã nhận cuộc trò chuyện; trợ lý tự động tạm dừng ở cuộc này.",
    "sent": "Đã gửi tin nhắn.",
    "released": "Đã trả cuộc trò chuyện cho trợ lý tự động.",
    "saved": "Đã lưu. Bấm \"Cập nhật trợ lý\" ở trang Thay đổi để trợ lý dùng ngay.",
    "imported": "Đã cập nhật danh mục từ hồ sơ gốc. Bấm \"Cập nhật trợ lý\" để dựng lại chỉ mục.",
    "discarded": "Đã bỏ bản nhập mới.",
    "password": "Đã đổi mật khẩu. Các phiên đăng nhập khác của bạn đã kết thúc.",
    "reset": "Đã đặt mật khẩu mới; các phiên đăng nhập của tài khoản đó đã kết thúc.",
}
JOINED = "Cán bộ {name} của Sở đã tham gia trò chuyện. Bạn cứ nhắn, cán bộ sẽ trả lời tại đây."
LEFT = "Cán bộ đã rời cuộc trò chuyện. Trợ lý tự động tiếp tục hỗ trợ bạn; bạn cần hỏi gì cứ nhắn nhé."


class Forbidden(Exception):
    pass


# Why a question was logged for staff (the review log's reason codes), in the console's words.
REASONS = {
    "no_match": "không tìm thấy thủ tục phù hợp",
    "not_understood": "trợ lý không hiểu câu hỏi",
    "out_of_scope": "ngoài phạm vi của Sở",
    "other_agency": "việc của cơ quan khác (đã chỉ cơ quan cho người dân)",
    "handoff_requested": "người dân muốn gặp cán bộ",
}


class Console:
    """Shared objects of the application."""

    def __init__(self, settings: Settings, store: Optional[ConsoleStore] = None):
        from core.stores.review_log import ReviewLog

        self.settings = settings
        self.store = store or ConsoleStore(settings.storage.database_url)
        self.review = ReviewLog(settings.storage.database_url)
        self.conversations = Conversations(settings.servers.tracker_store_url)
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.templates.env.filters["reason"] = lambda code: REASONS.get(code, code)
        self.templates.env.filters["mask"] = mask_text  # citizens' words copied into staff records
        self.export_state = {"running": False, "log": "", "finished_at": None, "ok": None}
        self._catalogue = None
        self._senders = None
        self.staged = None  # the latest staged re-import (diff, report)
        from core.stores.handoff import HandoffStore

        self.handoffs = HandoffStore(settings.storage.database_url)
        self._address_hasher = None

    def client(self, peer: Optional[str], forwarded_for: str) -> str:
        """A keyed digest of the client's key (``client_key``: an IPv6 address by its /64; X-Forwarded-For
        believed only from trusted proxies)."""
        from core.privacy import Hasher

        if self._address_hasher is None:  # made on first use: it may create the local key file
            self._address_hasher = Hasher.configured(self.settings)
        address = client_address(peer, forwarded_for, self.settings.channels.trusted_proxies)
        return self._address_hasher.client_hash("ip:" + client_key(address))

    async def send(self, conversation: str, text: str) -> Optional[str]:
        """Send ``text`` to a citizen on their conversation's channel; None when sent, else why not."""
        from channels.outbound import build_senders
        from channels.state import ChannelState

        if self._senders is None:
            self._senders = build_senders(self.settings, ChannelState(self.settings.storage.database_url), web_open_only=False)
        channel = channel_of(conversation)
        sender = self._senders.get(channel)
        if sender is None:
            return f"kênh {channel} không gửi được tin cho công dân"
        try:
            await sender(conversation, text)
        except Exception as exc:  # shown to the staff member, who can try again
            return f"{type(exc).__name__}: {exc}"
        return None

    @property
    def catalogue(self):
        from knowledge_base.catalogue import Catalogue

        if self._catalogue is None:
            self._catalogue = Catalogue.load(self.settings.knowledge.catalogue_dir)
        return self._catalogue

    def unanswered_rows(self, days: int = 90):
        since = dt.datetime.now() - dt.timedelta(days=days)
        # Requests for a person are not questions to fix: they are handled on the handoff page.
        return self.review.unanswered_since(since, exclude_reasons=("handoff_requested",))

    def groups(self):
        decisions = self.store.decisions()
        groups = group_questions(self.unanswered_rows())
        for g in groups:
            found = [decisions[k] for k in g.keys if k in decisions]
            g.decision = found[0] if found and len(found) == len(g.keys) else None
        return groups

    def run_export(self, username: str) -> None:
        """`motcua console export` in the background (index rebuild takes a while)."""
        if self.export_state["running"]:
            return
        self.export_state.update(running=True, log="", ok=None)

        def work():
            result = subprocess.run([sys.executable, "-m", "motcua", "console", "export"], cwd=ROOT,
                                    capture_output=True, text=True, timeout=1800)
            self.export_state.update(running=False, ok=result.returncode == 0, finished_at=dt.datetime.now(),
                                     log=(result.stdout + result.stderr)[-4000:])
            self.store.audit(username, "export", ok=result.returncode == 0)

        threading.Thread(target=work, daemon=True).start()


def create_app(settings: Settings, store: Optional[ConsoleStore] = None) -> Starlette:
    console = Console(settings, store)
    store = console.store

    def render(request: Request, name: str, staff: Optional[Staff], csrf: Optional[str], status: int = 200, **ctx):
        ctx.update(request=request, staff=staff, csrf=csrf, roles=ROLES, message=MESSAGES.get(request.query_params.get("msg", "")),
                   waiting=console.handoffs.waiting() if staff else 0)
        return console.templates.TemplateResponse(request, name, ctx, status_code=status)

    def page(role: str = "viewer", write: bool = False):
        """Route decorator: login required, ``role`` or above, CSRF checked on writes. A plain ``def``
        handler runs in the thread pool, like the session lookup and the refusals (the database)."""
        def wrap(handler: Callable):
            blocking = not inspect.iscoroutinefunction(handler)

            async def endpoint(request: Request):
                staff, csrf = await run_in_threadpool(accounts.current, request)
                if staff is None:
                    return RedirectResponse("/login?next=" + quote(request.url.path), status_code=303)
                if not staff.can(role):
                    return await run_in_threadpool(render, request, "error.html", staff, csrf, status=403,
                                                   error="Tài khoản của bạn không có quyền làm việc này.")
                form = None
                if write:
                    form = await request.form()
                    if not hmac.compare_digest(str(form.get("csrf", "")), csrf):
                        return await run_in_threadpool(
                            render, request, "error.html", staff, csrf, status=403,
                            error="Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. "
                                  "Bạn tải lại trang rồi thử lại.")
                if blocking:
                    return await run_in_threadpool(handler, request, staff, csrf, form)
                return await handler(request, staff, csrf, form)
            return endpoint
        return wrap

    @page()
    async def unanswered_list(request, staff, csrf, form):
        show = request.query_params.get("show", "open")
        sort = request.query_params.get("sort", "frequent")
        groups = [g for g in console.groups() if (g.decision is None) == (show == "open")]
        if sort == "newest":
            groups.sort(key=lambda g: g.latest, reverse=True)
        return render(request, "unanswered.html", staff, csrf, groups=groups, show=show, sort=sort)

    def find_group(key: str):
        return next((g for g in console.groups() if g.key == key), None)

    @page()
    async def group_detail(request, staff, csrf, form):
        group = find_group(request.path_params["key"])
        if group is None:
            return render(request, "error.html", staff, csrf, status=404, error="Không tìm thấy nhóm câu hỏi này.")
        contexts = []
        for row in sorted(group.rows, key=lambda r: r["asked_at"], reverse=True)[:5]:
            turns = console.conversations.turns(row["conversation_id"])
            at = next((i for i, t in enumerate(turns) if t.who == "citizen" and t.at >= row["asked_at"]
                       - dt.timedelta(seconds=5)), len(turns) - 1)
            contexts.append({"row": row, "turns": turns[max(at - 4, 0):at + 4]})
        query = request.query_params.get("q", "")
        found = []
        if query:
            from core.text import fold

            needle = fold(query)
            found = [p for p in console.catalogue if needle in fold(p.name) or needle in p.code][:20]
        return render(request, "group.html", staff, csrf, group=group, contexts=contexts, query=query, found=found)

    @page("editor", write=True)
    async def group_map(request, staff, csrf, form):
        group = find_group(request.path_params["key"])
        code = str(form.get("code", "")).strip()
        if group is None or console.catalogue.get(code) is None:
            return render(request, "error.html", staff, csrf, status=400, error="Mã thủ tục không có trong danh mục.")
        added = add_aliases(settings.knowledge.catalogue_dir, code, group.phrasings)
        console._catalogue = None
        store.decide(group.keys, "mapped", staff.username, procedure_code=code)
        store.audit(staff.username, "map_question", code, phrasings=group.phrasings, aliases_added=added)
        return RedirectResponse("/unanswered?msg=mapped", status_code=303)

    @page("editor", write=True)
    async def group_answer(request, staff, csrf, form):
        group = find_group(request.path_params["key"])
        answer = str(form.get("answer", "")).strip()
        if group is None or not (10 <= len(answer) <= 2000):
            return render(request, "error.html", staff, csrf, status=400,
                          error="Câu trả lời cần từ 10 đến 2.000 ký tự.")
        faq_id = store.add_faq(group.phrasings[0], answer, staff.username)
        for phrasing in group.phrasings[1:]:
            if key_of(phrasing) != key_of(group.phrasings[0]):
                store.add_faq(phrasing, answer, staff.username)
        store.decide(group.keys, "answered", staff.username, faq_id=faq_id)
        store.audit(staff.username, "answer_question", str(faq_id), question=group.phrasings[0], answer=answer)
        return RedirectResponse("/unanswered?msg=answered", status_code=303)

    @page("editor", write=True)
    async def group_dismiss(request, staff, csrf, form):
        group = find_group(request.path_params["key"])
        if group is not None:
            store.decide(group.keys, "dismissed", staff.username)
            store.audit(staff.username, "dismiss_question", group.key, phrasings=group.phrasings)
        return RedirectResponse("/unanswered?msg=dismissed", status_code=303)

    @page()
    async def changes(request, staff, csrf, form):
        return render(request, "changes.html", staff, csrf, pending=store.changes_since_export(),
                      export=console.export_state)

    @page()
    async def catalogue_list(request, staff, csrf, form):
        q = request.query_params.get("q", "")
        return render(request, "catalogue.html", staff, csrf, q=q, items=catalogue_search(console.catalogue, q))

    @page()
    async def catalogue_detail(request, staff, csrf, form):
        proc = console.catalogue.get(request.path_params["code"])
        if proc is None:
            return render(request, "error.html", staff, csrf, status=404, error="Không có thủ tục này trong danh mục.")
        return render(request, "procedure.html", staff, csrf, proc=proc)

    @page("editor", write=True)
    async def catalogue_save(request, staff, csrf, form):
        code = request.path_params["code"]
        try:
            changed = save_staff_fields(settings.knowledge.catalogue_dir, code, str(form.get("aliases", "")).splitlines(),
                                        str(form.get("staff_notes", "")), str(form.get("province_fees", "")))
        except KeyError:
            return render(request, "error.html", staff, csrf, status=404, error="Không có thủ tục này trong danh mục.")
        console._catalogue = None
        if changed:
            store.audit(staff.username, "catalogue_edit", code, **{k: {"before": v[0], "after": v[1]}
                                                                  for k, v in changed.items()})
        return RedirectResponse(f"/catalogue/{code}?msg=saved", status_code=303)

    staging = settings.knowledge.catalogue_dir.parent / (settings.knowledge.catalogue_dir.name + "-staging")

    @page("editor")
    async def reimport_page(request, staff, csrf, form):
        return render(request, "reimport.html", staff, csrf, staged=console.staged if staging.exists() else None)

    @page("editor", write=True)
    async def reimport_stage(request, staff, csrf, form):
        try:
            console.staged = stage_reimport(settings.knowledge.records_dir, settings.knowledge.aliases_file, settings.knowledge.catalogue_dir, staging)
        except (FileNotFoundError, OSError) as exc:
            return render(request, "reimport.html", staff, csrf, status=400, staged=None,
                          error=f"Không đọc được hồ sơ gốc: {exc}")
        store.audit(staff.username, "reimport_stage", str(settings.knowledge.records_dir), changes=len(console.staged["diff"]))
        return RedirectResponse("/catalogue-import", status_code=303)

    @page("editor", write=True)
    async def reimport_decide(request, staff, csrf, form):
        if not staging.exists():
            return RedirectResponse("/catalogue-import", status_code=303)
        if request.path_params["decision"] == "accept":
            count = accept_reimport(staging, settings.knowledge.catalogue_dir)
            console._catalogue = None
            store.audit(staff.username, "reimport_accept", str(settings.knowledge.records_dir), procedures=count,
                        changes=[{"code": r["code"], "status": r["status"], "fields": [f[0] for f in r["fields"]]}
                                 for r in console.staged["diff"]])
            return RedirectResponse("/changes?msg=imported", status_code=303)
        import shutil

        shutil.rmtree(staging)
        store.audit(staff.username, "reimport_discard", str(settings.knowledge.records_dir))
        return RedirectResponse("/catalogue?msg=discarded", status_code=303)

    @page("editor", write=True)
    async def export(request, staff, csrf, form):
        console.run_export(staff.username)
        return RedirectResponse("/changes?msg=exporting", status_code=303)

    @page()
    async def faq_list(request, staff, csrf, form):
        return render(request, "faq.html", staff, csrf, faqs=store.faqs(active_only=False))

    @page("editor", write=True)
    async def faq_toggle(request, staff, csrf, form):
        faq_id = int(request.path_params["faq_id"])
        active = form.get("active") == "1"
        store.set_faq_active(faq_id, active)
        store.audit(staff.username, "faq_active" if active else "faq_inactive", str(faq_id))
        return RedirectResponse("/faq?msg=faq", status_code=303)

    @page()
    async def conversations_list(request, staff, csrf, form):
        q, channel = request.query_params.get("q", ""), request.query_params.get("channel", "")
        return render(request, "conversations.html", staff, csrf, q=q, channel=channel,
                      items=console.conversations.list(q, channel))

    @page()
    async def conversation_detail(request, staff, csrf, form):
        sender = request.path_params["sender"]
        return render(request, "conversation.html", staff, csrf, sender=sender,
                      turns=console.conversations.turns(sender))

    def report_of(request):
        try:
            days = min(max(int(request.query_params.get("days", "30")), 1), 366)
        except ValueError:
            days = 30
        end = dt.date.today()
        return build_report(console.conversations, console.review.engine, end - dt.timedelta(days=days - 1), end), days

    @page()
    async def analytics(request, staff, csrf, form):
        report, days = report_of(request)
        labels = {"answered": "Trả lời được", "unanswered": "Chưa trả lời được", "handed_off": "Chuyển cán bộ"}
        names = {code: (console.catalogue.get(code).name if console.catalogue.get(code) else code)
                 for code, _ in report.top_procedures}
        return render(request, "analytics.html", staff, csrf, report=report, days=days, names=names,
                      chart=daily_chart(report), shares=share_bar(report.outcomes, labels))

    @page()
    async def analytics_export(request, staff, csrf, form):
        kind = request.path_params["kind"]
        if kind not in ("csv", "xlsx"):
            return render(request, "error.html", staff, csrf, status=404, error="Không có định dạng này.")
        report, days = report_of(request)
        store.audit(staff.username, "export_analytics", kind, days=days)
        name = f"motcua-thong-ke-{report.start:%Y%m%d}-{report.end:%Y%m%d}.{kind}"
        if kind == "csv":
            return Response(to_csv(report), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})
        return Response(to_xlsx(report), headers={"Content-Disposition": f'attachment; filename="{name}"'},
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    @page()
    async def handoff_list(request, staff, csrf, form):
        return render(request, "handoffs.html", staff, csrf, items=console.handoffs.open())

    def handoff_page(request, staff, csrf, conversation, status=200, error=None):
        return render(request, "handoff.html", staff, csrf, status=status, error=error, conversation=conversation,
                      handoff=console.handoffs.get(conversation), turns=console.conversations.turns(conversation),
                      messages=console.handoffs.messages(conversation))

    @page()
    async def handoff_detail(request, staff, csrf, form):
        return handoff_page(request, staff, csrf, request.path_params["conversation"])

    @page("editor", write=True)
    async def handoff_take(request, staff, csrf, form):
        conversation = request.path_params["conversation"]
        if not console.handoffs.take(conversation, channel_of(conversation), staff.username):
            return handoff_page(request, staff, csrf, conversation, 409, "Một cán bộ khác đang trò chuyện với công dân này.")
        problem = await console.send(conversation, JOINED.format(name=staff.full_name or staff.username))
        console.handoffs.add_message(conversation, "system", "Cán bộ nhận cuộc trò chuyện", staff.username)
        store.audit(staff.username, "handoff_take", conversation, notified=problem is None)
        if problem:
            return handoff_page(request, staff, csrf, conversation, 502, f"Đã nhận, nhưng chưa báo được công dân: {problem}")
        return RedirectResponse(f"/handoffs/{quote(conversation)}?msg=taken", status_code=303)

    @page("editor", write=True)
    async def handoff_reply(request, staff, csrf, form):
        conversation = request.path_params["conversation"]
        text = str(form.get("text", "")).strip()
        current = console.handoffs.get(conversation)
        if not current or current["state"] != "active" or current["staff"] != staff.username:
            return handoff_page(request, staff, csrf, conversation, 409, "Bạn cần nhận cuộc trò chuyện trước khi trả lời.")
        if not 1 <= len(text) <= 2000:
            return handoff_page(request, staff, csrf, conversation, 400, "Tin nhắn cần từ 1 đến 2.000 ký tự.")
        problem = await console.send(conversation, f"Cán bộ {staff.full_name or staff.username}: {text}")
        if problem:
            return handoff_page(request, staff, csrf, conversation, 502, f"Chưa gửi được: {problem}")
        console.handoffs.add_message(conversation, "staff", text, staff.username)
        store.audit(staff.username, "handoff_reply", conversation)
        return RedirectResponse(f"/handoffs/{quote(conversation)}?msg=sent", status_code=303)

    @page("editor", write=True)
    async def handoff_release(request, staff, csrf, form):
        conversation = request.path_params["conversation"]
        if console.handoffs.release(conversation):
            await console.send(conversation, LEFT)
            console.handoffs.add_message(conversation, "system", "Trả lại cho trợ lý tự động", staff.username)
            store.audit(staff.username, "handoff_release", conversation)
        return RedirectResponse("/handoffs?msg=released", status_code=303)

    @page("admin")
    def audit(request, staff, csrf, form):
        return render(request, "audit.html", staff, csrf, entries=store.audit_log())

    @page()
    async def home(request, staff, csrf, form):
        return RedirectResponse("/unanswered", status_code=303)

    routes = [
        Route("/", home), Route("/login", accounts.login_page, methods=["GET"]),
        Route("/login", accounts.login, methods=["POST"]),
        Route("/logout", page(write=True)(accounts.logout), methods=["POST"]),
        Route("/unanswered", unanswered_list), Route("/unanswered/{key:path}/map", group_map, methods=["POST"]),
        Route("/unanswered/{key:path}/answer", group_answer, methods=["POST"]),
        Route("/unanswered/{key:path}/dismiss", group_dismiss, methods=["POST"]),
        Route("/unanswered/{key:path}", group_detail),
        Route("/changes", changes), Route("/changes/export", export, methods=["POST"]),
        Route("/catalogue", catalogue_list), Route("/catalogue/{code}", catalogue_detail),
        Route("/catalogue/{code}", catalogue_save, methods=["POST"]),
        Route("/catalogue-import", reimport_page), Route("/catalogue-import/stage", reimport_stage, methods=["POST"]),
        Route("/catalogue-import/{decision:str}", reimport_decide, methods=["POST"]),
        Route("/faq", faq_list), Route("/faq/{faq_id:int}", faq_toggle, methods=["POST"]),
        Route("/conversations", conversations_list), Route("/conversations/{sender:path}", conversation_detail),
        Route("/analytics", analytics), Route("/analytics.{kind:str}", analytics_export),
        Route("/users", page("admin")(accounts.users)),
        Route("/users", page("admin", write=True)(accounts.user_create), methods=["POST"]),
        Route("/users/{user_id:int}", page("admin", write=True)(accounts.user_update), methods=["POST"]),
        Route("/users/{user_id:int}/password", page("admin", write=True)(accounts.user_password), methods=["POST"]),
        Route("/password", page()(accounts.password_page)),
        Route("/password", page(write=True)(accounts.password_change), methods=["POST"]),
        Route("/audit", audit),
        Route(locks.PATH, page()(locks.locks_page)),
        Route(locks.PATH + "/clear", page(locks.CLEAR_ROLE, write=True)(locks.clear_lock), methods=["POST"]),
        Route("/handoffs", handoff_list), Route("/handoffs/{conversation:path}/take", handoff_take, methods=["POST"]),
        Route("/handoffs/{conversation:path}/reply", handoff_reply, methods=["POST"]),
        Route("/handoffs/{conversation:path}/release", handoff_release, methods=["POST"]),
        Route("/handoffs/{conversation:path}", handoff_detail),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    async def headers(request: Request, call_next):
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = ("default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                                       "frame-ancestors 'none'; form-action 'self'")
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        if isinstance(response, HTMLResponse) or response.media_type == "text/html":
            response.headers["Cache-Control"] = "no-store"
        return response

    app = Starlette(routes=routes, middleware=[Middleware(BaseHTTPMiddleware, dispatch=headers)])
    app.state.console = console
    app.state.render = render  # for the module-level pages (console.accounts, console.locks)
    return app
