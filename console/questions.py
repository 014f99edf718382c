"""Câu hỏi chưa trả lời: the unanswered questions grouped, a group with the conversations around it, and the
editors' three decisions on a group: map it to a procedure (its phrasings become aliases), answer it (a staff
answer for the bot), or dismiss it. Every decision is audited.
"""
from __future__ import annotations

import datetime as dt

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from console.auth import requires
from console.upkeep import add_aliases
from console.web import console_of, error, render, staff_of
from core.text import fold
from knowledge_base.grouping import key_of


@requires()
def unanswered_list(request: Request) -> Response:
    """The groups still open (or decided, ``show=done``), the most frequent or the newest first."""
    show = request.query_params.get("show", "open")
    sort = request.query_params.get("sort", "frequent")
    groups = [g for g in console_of(request).groups() if (g.decision is None) == (show == "open")]
    if sort == "newest":
        groups.sort(key=lambda g: g.latest, reverse=True)
    return render(request, "unanswered.html", groups=groups, show=show, sort=sort)


@requires()
def group_detail(request: Request) -> Response:
    """One group: the last five askings with the turns around them, and a catalogue search to map it."""
    console = console_of(request)
    group = console.find_group(request.path_params["key"])
    if group is None:
        return error(request, 404, "Không tìm thấy nhóm câu hỏi này.")
    contexts = []
    for row in sorted(group.rows, key=lambda r: r["asked_at"], reverse=True)[:5]:
        turns = console.conversations.turns(row["conversation_id"])
        at = next((i for i, t in enumerate(turns) if t.who == "citizen" and t.at >= row["asked_at"]
                   - dt.timedelta(seconds=5)), len(turns) - 1)
        contexts.append({"row": row, "turns": turns[max(at - 4, 0):at + 4]})
    query = request.query_params.get("q", "")
    found = []
    if query:
        needle = fold(query)
        found = [p for p in console.catalogue if needle in fold(p.name) or needle in p.code][:20]
    return render(request, "group.html", group=group, contexts=contexts, query=query, found=found)


@requires("editor", write=True)
def group_map(request: Request, form: FormData) -> Response:
    """Map the group to a procedure: its phrasings become the procedure's aliases."""
    console, staff = console_of(request), staff_of(request)
    group = console.find_group(request.path_params["key"])
    code = str(form.get("code", "")).strip()
    if group is None or console.catalogue.get(code) is None:
        return error(request, 400, "Mã thủ tục không có trong danh mục.")
    added = add_aliases(console.settings.knowledge.catalogue_dir, code, group.phrasings)
    console.forget_catalogue()
    console.store.decide(group.keys, "mapped", staff.username, procedure_code=code)
    console.store.audit(staff.username, "map_question", code, phrasings=group.phrasings, aliases_added=added)
    return RedirectResponse("/unanswered?msg=mapped", status_code=303)


@requires("editor", write=True)
def group_answer(request: Request, form: FormData) -> Response:
    """Answer the group: a staff answer for each distinct phrasing."""
    console, staff = console_of(request), staff_of(request)
    store = console.store
    group = console.find_group(request.path_params["key"])
    answer = str(form.get("answer", "")).strip()
    if group is None or not (10 <= len(answer) <= 2000):
        return error(request, 400, "Câu trả lời cần từ 10 đến 2.000 ký tự.")
    faq_id = store.add_faq(group.phrasings[0], answer, staff.username)
    for phrasing in group.phrasings[1:]:
        if key_of(phrasing) != key_of(group.phrasings[0]):
            store.add_faq(phrasing, answer, staff.username)
    store.decide(group.keys, "answered", staff.username, faq_id=faq_id)
    store.audit(staff.username, "answer_question", str(faq_id), question=group.phrasings[0], answer=answer)
    return RedirectResponse("/unanswered?msg=answered", status_code=303)


@requires("editor", write=True)
def group_dismiss(request: Request, form: FormData) -> Response:
    """Dismiss the group (nothing to fix)."""
    console, staff = console_of(request), staff_of(request)
    group = console.find_group(request.path_params["key"])
    if group is not None:
        console.store.decide(group.keys, "dismissed", staff.username)
        console.store.audit(staff.username, "dismiss_question", group.key, phrasings=group.phrasings)
    return RedirectResponse("/unanswered?msg=dismissed", status_code=303)


routes = [
    Route("/unanswered", unanswered_list),
    Route("/unanswered/{key:path}/map", group_map, methods=["POST"]),
    Route("/unanswered/{key:path}/answer", group_answer, methods=["POST"]),
    Route("/unanswered/{key:path}/dismiss", group_dismiss, methods=["POST"]),
    Route("/unanswered/{key:path}", group_detail),
]
