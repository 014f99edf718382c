"""Gặp cán bộ: the citizens waiting for a person, and an editor taking a conversation (the bot pauses there),
replying on the citizen's channel, and handing it back to the bot. Every step is audited.

Taking, replying and releasing send to the citizen, so those endpoints are ``async``; their database work and
rendering still run in worker threads.
"""
from __future__ import annotations

from typing import Optional
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from console.auth import requires
from console.conversations import channel_of
from console.web import console_of, render, staff_of
from core.texts import text


def handoff_page(request: Request, conversation: str, status: int = 200, error: Optional[str] = None) -> Response:
    """One conversation: its handoff, its turns and the staff messages. Blocking."""
    handoffs = console_of(request).handoffs
    return render(request, "handoff.html", status=status, error=error, conversation=conversation,
                  handoff=handoffs.get(conversation), turns=console_of(request).conversations.turns(conversation),
                  messages=handoffs.messages(conversation))


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
    """The open handoffs (waiting or taken)."""
    return render(request, "handoffs.html", items=console_of(request).handoffs.open())


@requires()
def handoff_detail(request: Request) -> Response:
    """One conversation with a citizen who asked for a person."""
    return handoff_page(request, request.path_params["conversation"])


@requires("editor", write=True)
async def handoff_take(request: Request, form: FormData) -> Response:
    """Take the conversation (unless another staff member has it) and tell the citizen."""
    console, staff = console_of(request), staff_of(request)
    conversation = request.path_params["conversation"]
    if not await run_in_threadpool(console.handoffs.take, conversation, channel_of(conversation), staff.username):
        return await refuse(request, conversation, 409, "Một cán bộ khác đang trò chuyện với công dân này.")
    problem = await console.send(conversation, text("handoff.staff_joined", name=staff.full_name or staff.username))
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
    problem = await console.send(conversation, text("handoff.staff_reply", name=staff.full_name or staff.username,
                                                    message=message))
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
    Route("/handoffs/{conversation:path}/take", handoff_take, methods=["POST"]),
    Route("/handoffs/{conversation:path}/reply", handoff_reply, methods=["POST"]),
    Route("/handoffs/{conversation:path}/release", handoff_release, methods=["POST"]),
    Route("/handoffs/{conversation:path}", handoff_detail),
]
