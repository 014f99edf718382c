"""What every console page shares: the ``Console`` object (stores, catalogue, senders, the export job),
the flash messages and ``render``. The page modules (``questions``, ``catalogue_pages`` ...) import from here.

The application keeps its ``Console`` on ``app.state.console``; ``console.auth`` puts the signed-in staff
member and their CSRF token on ``request.state`` before any endpoint runs.
"""
from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, List, Optional

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from channels.addresses import client_address, client_key
from channels.outbound import build_senders
from channels.state import ChannelState
from console.conversations import Conversations, channel_of
from console.question_groups import QuestionGroups
from console.rollup import Rollup
from console.store import ROLES, ConsoleStore, Staff
from core.clock import now_local
from core.privacy import Hasher, mask_text
from core.settings import ROOT, Settings
from core.stores.handoff import HandoffStore
from core.stores.review_log import ReviewLog
from knowledge_base.catalogue import Catalogue

HERE = Path(__file__).resolve().parent
log = logging.getLogger(__name__)
PAGE_BUDGET = 5000  # events a page may sum before it reads (about 0.2 s); more is left to the background job
PAGE_QUESTIONS = 200  # new questions a page may place (encoding them takes about 1 ms each)
MESSAGES = {
    "mapped": "Đã gắn câu hỏi vào thủ tục. Bấm \"Cập nhật trợ lý\" ở trang Thay đổi để trợ lý dùng ngay.",
    "answered": "Đã lưu câu trả lời; trợ lý dùng nó trong vòng 30 giây.",
    "dismissed": "Đã bỏ qua nhóm câu hỏi.",
    "split": "Đã tách các cách hỏi đã chọn thành nhóm mới (nhóm này).",
    "merged": "Đã gộp nhóm kia vào nhóm này.",
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
    "name": "Đã lưu tên hiển thị; công dân thấy tên mới từ tin nhắn tiếp theo.",
}
# Why a question was logged for staff (the review log's reason codes), in the console's words.
REASONS = {
    "no_match": "không tìm thấy thủ tục phù hợp",
    "not_understood": "trợ lý không hiểu câu hỏi",
    "out_of_scope": "ngoài phạm vi của Sở",
    "other_agency": "việc của cơ quan khác (đã chỉ cơ quan cho người dân)",
    "handoff_requested": "người dân muốn gặp cán bộ",
}


class Console:
    """Shared objects of the application (made once by ``create_app``; nothing opens a connection here)."""

    def __init__(self, settings: Settings, store: Optional[ConsoleStore] = None,
                 embed: Optional[Callable[[List[str]], Any]] = None):
        """``embed``: texts to unit vectors for grouping questions (None: the configured search encoder)."""
        self.settings = settings
        self._embed = embed
        self.store = store or ConsoleStore(settings.storage.database_url)
        self.review = ReviewLog(settings.storage.database_url)
        self.conversations = Conversations(settings.servers.tracker_store_url)
        self.handoffs = HandoffStore(settings.storage.database_url)
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.templates.env.filters["reason"] = lambda code: REASONS.get(code, code)
        self.templates.env.filters["mask"] = mask_text  # citizens' words copied into staff records
        self.export_state: dict = {"running": False, "log": "", "finished_at": None, "ok": None}
        catalogue_dir = settings.knowledge.catalogue_dir
        self.staging = catalogue_dir.parent / (catalogue_dir.name + "-staging")
        self._catalogue: Optional[Catalogue] = None
        self._catalogue_version: Optional[int] = None  # the published version it was loaded at
        self._senders: Optional[dict] = None
        self._address_hasher: Optional[Hasher] = None
        self._rollup: Optional[Rollup] = None
        self._questions: Optional[QuestionGroups] = None

    @property
    def staged(self) -> Optional[dict]:
        """The staged re-import's diff and report, read from the staging folder (kept across restarts)."""
        from console.catalogue import staged_summary

        return staged_summary(self.staging)

    def start_background(self, every_s: float = 10.0) -> None:
        """A daemon thread that sums new events and groups new questions every ``every_s`` seconds, so pages
        only ever have a few to do."""
        def loop():
            while True:
                try:
                    self.rollup.catch_up()
                    self.current_groups(budget=None)
                except Exception:  # a locked or restarting database: try again next round
                    log.warning("console background catch-up failed", exc_info=True)
                time.sleep(every_s)

        threading.Thread(target=loop, name="console-catch-up", daemon=True).start()

    def current_groups(self, budget: Optional[int] = PAGE_QUESTIONS) -> QuestionGroups:
        """The unanswered questions' groups with at most ``budget`` new questions placed (the background job or
        `motcua console rollup` places a backlog). Blocking: loads the encoder on first use."""
        if self._questions is None:
            embed = self._embed
            if embed is None:
                from knowledge_base.grouping import question_encoder
                from knowledge_base.retrieval.dense import Embedder

                embed = question_encoder(Embedder.configured(self.settings), self.catalogue)
            self._questions = QuestionGroups(self.settings.storage.database_url, embed=embed)
        try:
            self._questions.catch_up(budget)
        except Exception:  # a race with another worker or a busy database: show the groups as they are
            log.warning("new questions not grouped yet", exc_info=True)
        return self._questions

    @property
    def rollup(self) -> Rollup:
        """The console's sums of the tracker store (opened on first use). Blocking."""
        if self._rollup is None:
            self._rollup = Rollup(self.settings.servers.tracker_store_url, self.settings.storage.database_url)
        return self._rollup

    def current_sums(self, budget: int = PAGE_BUDGET) -> Rollup:
        """The sums brought up to date by at most ``budget`` events (the background job or `motcua console
        rollup` does a backlog); a page says when some are still waiting (``Rollup.pending``). Blocking."""
        rollup = self.rollup
        try:
            rollup.catch_up(budget)
        except Exception:  # a busy or restarting database: show the sums as they are, catch up next time
            log.warning("console sums not brought up to date", exc_info=True)
        return rollup

    def client(self, peer: Optional[str], forwarded_for: str) -> str:
        """A keyed digest of the client's key (``client_key``: an IPv6 address by its /64; X-Forwarded-For
        believed only from trusted proxies)."""
        if self._address_hasher is None:  # made on first use: it may create the local key file
            self._address_hasher = Hasher.configured(self.settings)
        address = client_address(peer, forwarded_for, self.settings.channels.trusted_proxies)
        return self._address_hasher.client_hash("ip:" + client_key(address))

    async def send(self, conversation: str, text: str) -> Optional[str]:
        """Send ``text`` to a citizen on their conversation's channel; None when sent, else why not."""
        if self._senders is None:
            def senders():  # creates tables and stores the Zalo tokens: database work, off the event loop
                state = ChannelState(self.settings.storage.database_url)
                return build_senders(self.settings, state, web_open_only=False)

            self._senders = await run_in_threadpool(senders)
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
    def catalogue(self) -> Catalogue:
        """The catalogue as on disk (loaded on first use, again after ``forget_catalogue`` or once this node took
        another published version: knowledge_base.published). Blocking."""
        from knowledge_base.published import local_version

        version = local_version(self.settings.knowledge.index_dir)
        if self._catalogue is None or version != self._catalogue_version:
            self._catalogue = Catalogue.load(self.settings.knowledge.catalogue_dir)
            self._catalogue_version = version
        return self._catalogue

    def forget_catalogue(self) -> None:
        """Drop the loaded catalogue after a change on disk: the next use reads it again."""
        self._catalogue = None

    def run_export(self, username: str) -> None:
        """`motcua console export` in the background (index rebuild takes a while)."""
        if self.export_state["running"]:
            return
        self.export_state.update(running=True, log="", ok=None)

        def work():
            result = subprocess.run([sys.executable, "-m", "motcua", "console", "export"], cwd=ROOT,
                                    capture_output=True, text=True, timeout=1800)
            self.export_state.update(running=False, ok=result.returncode == 0, finished_at=now_local(),
                                     log=(result.stdout + result.stderr)[-4000:])
            self.store.audit(username, "export", ok=result.returncode == 0)

        threading.Thread(target=work, daemon=True).start()


def console_of(request: Request) -> Console:
    """The application's ``Console``."""
    return request.app.state.console


def current(request: Request) -> tuple[Optional[Staff], Optional[str]]:
    """(Staff, csrf token) of the request's session, or (None, None): resolved by ``console.auth``."""
    return getattr(request.state, "staff", None), getattr(request.state, "csrf", None)


def staff_of(request: Request) -> Staff:
    """The signed-in staff member (only behind ``console.auth.requires``)."""
    return request.state.staff


def page(request: Request, name: str, staff: Optional[Staff], csrf: Optional[str], status: int = 200,
         **ctx: Any) -> Response:
    """Render template ``name`` for ``staff`` (None on the login page). Blocking: the waiting-count query."""
    console = console_of(request)
    ctx.update(request=request, staff=staff, csrf=csrf, roles=ROLES,
               message=MESSAGES.get(request.query_params.get("msg", "")),
               waiting=console.handoffs.waiting() if staff else 0)
    return console.templates.TemplateResponse(request, name, ctx, status_code=status)


def page_number(request: Request, most: int = 10_000) -> int:
    """The request's ``page`` (1 to ``most``; anything else is 1)."""
    return small_number(request.query_params.get("page", "1"), most) or 1


def small_number(raw: str, most: int = 10**9) -> Optional[int]:
    """``raw`` as a whole number from 0 to ``most`` (ASCII digits only), else None."""
    raw = (raw or "").strip()
    return min(int(raw), most) if raw.isascii() and raw.isdigit() and len(raw) <= 10 else None


def render(request: Request, name: str, status: int = 200, **ctx: Any) -> Response:
    """Render template ``name`` for the signed-in staff member. Blocking: call it from a worker thread."""
    staff, csrf = current(request)
    return page(request, name, staff, csrf, status=status, **ctx)


def error(request: Request, status: int, text: str) -> Response:
    """The error page with ``text`` and ``status``. Blocking."""
    return render(request, "error.html", status=status, error=text)
