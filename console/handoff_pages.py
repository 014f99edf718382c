"""Gặp cán bộ: the live desk of citizens waiting for a person, and an editor taking a conversation (the bot
pauses there), replying on the citizen's channel, and handing it back to the bot. Every step is audited.

The pages render fully on the server (they work without JavaScript); ``static/handoff-desk.js`` then polls
``/handoffs.json`` and ``/handoffs/{conversation}/messages.json`` every 2 s to update them in place, mark what
is unread and, once staff switch it on, beep. Citizens see a staff member's display name ("Cán bộ Nguyễn Thị
Lan"), never their login name.

Taking, replying and releasing send to the citizen, so those endpoints are ``async``; their database work and
rendering still run in worker threads.
"""
from __future__ import annotations

import datetime as dt
from typing import Dict, List, Optional, Tuple
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from console.auth import requires
from console.conversations import channel_of
from console.store import Staff
from console.web import Console, console_of, render, staff_of
from core.stores.handoff import PAGE
from core.texts import text
from core.vocabulary import CHAT_CHANNEL_NAMES

STATES = {"requested": "Đang chờ", "active": "Cán bộ đang trả lời"}
LAST_TEXT = 200  # characters of the citizen's last message on the desk


# What citizens read ---------------------------------------------------------------------------------------
def joined_text(staff: Staff) -> str:
    """The citizen's notice that ``staff`` took the conversation (no login name when there is no display name)."""
    if staff.full_name:
        return text("handoff.staff_joined", name=staff.full_name)
    return text("handoff.staff_joined_unnamed")


def reply_text(staff: Staff, message: str) -> str:
    """A staff reply as the citizen receives it, signed with the display name (or the department's)."""
    if staff.full_name:
        return text("handoff.staff_reply", name=staff.full_name, message=message)
    return text("handoff.staff_reply_unnamed", message=message)


# What staff read --------------------------------------------------------------------------------------------
def waited(seconds: Optional[int]) -> str:
    """How long a citizen has waited, in words: 'dưới 1 phút', '12 phút', '1 giờ 5 phút', '2 ngày 3 giờ'."""
    if seconds is None:
        return "—"
    minutes = max(0, seconds) // 60
    if minutes < 1:
        return "dưới 1 phút"
    if minutes < 60:
        return f"{minutes} phút"
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} giờ {rest} phút" if rest else f"{hours} giờ"
    days, hours = divmod(hours, 24)
    return f"{days} ngày {hours} giờ" if hours else f"{days} ngày"


def stamp(at: Optional[dt.datetime]) -> str:
    """'09:05 25/11': when a message came (staff lists)."""
    return at.strftime("%H:%M %d/%m") if at else "—"


def staff_name(username: Optional[str], names: Dict[str, str]) -> str:
    """A staff member as colleagues read them: the display name, else the login name."""
    return names.get(username or "", "") or username or "—"


def status_line(handoff: Optional[dict], names: Dict[str, str]) -> str:
    """Who answers the conversation now, in one sentence."""
    if handoff and handoff["state"] == "active":
        return f"Cán bộ {staff_name(handoff['staff'], names)} đang trả lời; trợ lý tự động tạm dừng."
    if handoff and handoff["state"] == "requested":
        return "Công dân đang chờ cán bộ."
    return "Trợ lý tự động đang trả lời."


def message_view(message: dict, names: Dict[str, str], seen: int) -> dict:
    """A handoff message as the conversation page and its poll show it (text already masked by the store)."""
    who = message["who"]
    label = {"citizen": "Công dân", "staff": f"Cán bộ {staff_name(message['staff'], names)}"}.get(who, "Hệ thống")
    return {"id": message["id"], "who": who, "label": label, "text": message["text"], "at": stamp(message["at"]),
            "unread": who == "citizen" and message["id"] > seen}


def desk_view(console: Console, staff: Staff) -> Tuple[List[dict], bool]:
    """The open handoffs as the desk shows them, and whether more were left out. Blocking."""
    rows, more = console.handoffs.desk(staff.username)
    names = console.store.display_names([r["staff"] for r in rows])
    now = console.handoffs.clock()
    items = []
    for r in rows:
        seconds = int((now - r["waiting_since"]).total_seconds()) if r["waiting_since"] else None
        last = r["last_text"] or ""
        items.append({
            "conversation": r["conversation_id"], "url": f"/handoffs/{quote(r['conversation_id'])}",
            "channel": r["channel"], "channel_name": CHAT_CHANNEL_NAMES.get(r["channel"], r["channel"]),
            "state": r["state"], "state_name": STATES.get(r["state"], r["state"]),
            "staff": r["staff"], "staff_name": staff_name(r["staff"], names) if r["staff"] else "—",
            "last_message": last[:LAST_TEXT] + ("…" if len(last) > LAST_TEXT else ""), "last_at": stamp(r["last_at"]),
            "waiting_s": seconds, "waiting": waited(seconds), "unread": r["unread"],
            "requested_at": r["requested_at"].strftime("%H:%M %d/%m/%Y") if r["requested_at"] else "—",
        })
    return items, more


def no_store(payload: dict) -> JSONResponse:
    """A JSON answer for the pages' polls, never cached."""
    return JSONResponse(payload, headers={"Cache-Control": "no-store"})


def handoff_page(request: Request, conversation: str, status: int = 200, error: Optional[str] = None) -> Response:
    """One conversation: its handoff, its turns and the latest staff messages (those marked read). Blocking."""
    console, staff = console_of(request), staff_of(request)
    handoffs = console.handoffs
    handoff = handoffs.get(conversation)
    messages, older = handoffs.latest_messages(conversation)
    seen = handoffs.seen(conversation, staff.username)
    names = console.store.display_names([handoff["staff"] if handoff else ""] + [m["staff"] for m in messages])
    last_id = messages[-1]["id"] if messages else 0
    response = render(request, "handoff.html", status=status, error=error, conversation=conversation,
                      handoff=handoff, status_line=status_line(handoff, names), last_id=last_id, older=older,
                      turns=console.conversations.turns(conversation),
                      messages=[message_view(m, names, seen) for m in messages])
    if last_id > seen:  # a write only when there is something new to mark
        handoffs.mark_seen(conversation, staff.username, last_id)
    return response


def refuse(request: Request, conversation: str, status: int, error: str):
    """``handoff_page`` with an error, rendered in a worker thread."""
    return run_in_threadpool(handoff_page, request, conversation, status, error)


def record(request: Request, conversation: str, who: str, text: str, action: str, **detail) -> None:
    """A message in the conversation's handoff log and an audit entry. Blocking."""
    console, staff = console_of(request), staff_of(request)
    console.handoffs.add_message(conversation, who, text, staff.username)
    console.store.audit(staff.username, action, conversation, **detail)


@requires()
def handoff_list(request: Request) -> Response:
    """The open handoffs (waiting or taken), with the citizen's last message, the wait and what is unread."""
    items, more = desk_view(console_of(request), staff_of(request))
    return render(request, "handoffs.html", items=items, more=more)


@requires()
def handoff_desk_json(request: Request) -> Response:
    """The desk for its poll: the open handoffs (as the page lists them), how many wait, how many unread."""
    items, more = desk_view(console_of(request), staff_of(request))
    return no_store({"items": items, "more": more, "waiting": console_of(request).handoffs.waiting(),
                     "unread": sum(i["unread"] for i in items)})


@requires()
def handoff_detail(request: Request) -> Response:
    """One conversation with a citizen who asked for a person."""
    return handoff_page(request, request.path_params["conversation"])


@requires()
def handoff_messages_json(request: Request) -> Response:
    """The conversation page's poll: the handoff's state and up to PAGE messages after id ``after``; with
    ``seen=1`` (the page is in view) they count as read by the staff member."""
    console, staff = console_of(request), staff_of(request)
    conversation = request.path_params["conversation"]
    try:
        after = min(max(0, int(request.query_params.get("after", "0"))), 2**31 - 1)
    except ValueError:
        return JSONResponse({"error": "after: một số nguyên"}, status_code=400)
    handoffs = console.handoffs
    handoff = handoffs.get(conversation)
    seen = handoffs.seen(conversation, staff.username)
    messages = handoffs.messages(conversation, after=after, limit=PAGE)
    names = console.store.display_names([handoff["staff"] if handoff else ""] + [m["staff"] for m in messages])
    last_id = messages[-1]["id"] if messages else after
    if request.query_params.get("seen") == "1" and last_id > seen:  # polls that bring nothing new write nothing
        handoffs.mark_seen(conversation, staff.username, last_id)
    return no_store({
        "conversation": conversation, "state": handoff["state"] if handoff else None,
        "staff": handoff["staff"] if handoff else None, "status": status_line(handoff, names),
        "messages": [message_view(m, names, seen) for m in messages], "last_id": last_id,
        "more": len(messages) == PAGE, "waiting": handoffs.waiting(),
    })


@requires("editor", write=True)
async def handoff_take(request: Request, form: FormData) -> Response:
    """Take the conversation (unless another staff member has it) and tell the citizen."""
    console, staff = console_of(request), staff_of(request)
    conversation = request.path_params["conversation"]
    if not await run_in_threadpool(console.handoffs.take, conversation, channel_of(conversation), staff.username):
        return await refuse(request, conversation, 409, "Một cán bộ khác đang trò chuyện với công dân này.")
    problem = await console.send(conversation, joined_text(staff))
    await run_in_threadpool(record, request, conversation, "system", "Cán bộ nhận cuộc trò chuyện", "handoff_take",
                            notified=problem is None)
    if problem:
        return await refuse(request, conversation, 502, f"Đã nhận, nhưng chưa báo được công dân: {problem}")
    return RedirectResponse(f"/handoffs/{quote(conversation)}?msg=taken", status_code=303)


@requires("editor", write=True)
async def handoff_reply(request: Request, form: FormData) -> Response:
    """Send the staff member's message to the citizen (only by the one who took the conversation)."""
    console, staff = console_of(request), staff_of(request)
    conversation = request.path_params["conversation"]
    message = str(form.get("text", "")).strip()
    current = await run_in_threadpool(console.handoffs.get, conversation)
    if not current or current["state"] != "active" or current["staff"] != staff.username:
        return await refuse(request, conversation, 409, "Bạn cần nhận cuộc trò chuyện trước khi trả lời.")
    if not 1 <= len(message) <= 2000:
        return await refuse(request, conversation, 400, "Tin nhắn cần từ 1 đến 2.000 ký tự.")
    problem = await console.send(conversation, reply_text(staff, message))
    if problem:
        return await refuse(request, conversation, 502, f"Chưa gửi được: {problem}")
    await run_in_threadpool(record, request, conversation, "staff", message, "handoff_reply")
    return RedirectResponse(f"/handoffs/{quote(conversation)}?msg=sent", status_code=303)


@requires("editor", write=True)
async def handoff_release(request: Request, form: FormData) -> Response:
    """Hand the conversation back to the bot and tell the citizen."""
    console = console_of(request)
    conversation = request.path_params["conversation"]
    if await run_in_threadpool(console.handoffs.release, conversation):
        await console.send(conversation, text("handoff.staff_left"))
        await run_in_threadpool(record, request, conversation, "system", "Trả lại cho trợ lý tự động",
                                "handoff_release")
    return RedirectResponse("/handoffs?msg=released", status_code=303)


routes = [
    Route("/handoffs", handoff_list),
    Route("/handoffs.json", handoff_desk_json),
    Route("/handoffs/{conversation:path}/messages.json", handoff_messages_json),
    Route("/handoffs/{conversation:path}/take", handoff_take, methods=["POST"]),
    Route("/handoffs/{conversation:path}/reply", handoff_reply, methods=["POST"]),
    Route("/handoffs/{conversation:path}/release", handoff_release, methods=["POST"]),
    Route("/handoffs/{conversation:path}", handoff_detail),
]
