"""Câu hỏi chưa trả lời: the unanswered questions in groups that mean the same (``console.question_groups``), 50
groups to a page; a group with its phrasings, the conversations around its latest askings and the groups near it
in meaning; the editors' three decisions on a group (map it to a procedure: its phrasings become aliases; answer
it: a staff answer for the bot; dismiss it, confirmed) and their two corrections of the grouping (split phrasings
off, merge with another group). Every decision and correction is audited.
"""
from __future__ import annotations

import datetime as dt

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from console.auth import requires
from console.upkeep import add_aliases
from console.web import console_of, error, page_number, render, small_number, staff_of
from core.clock import now_local
from core.text import fold
from knowledge_base.grouping import key_of

PER_PAGE = 50
WINDOW = dt.timedelta(days=90)  # the list shows groups asked within this window
MOST_PHRASINGS = 20  # phrasings a decision copies into aliases or staff answers


@requires()
def unanswered_list(request: Request) -> Response:
    """The groups still open (or decided, ``show=done``), the most frequent or the newest first, page ``page``."""
    show = "done" if request.query_params.get("show") == "done" else "open"
    sort = "newest" if request.query_params.get("sort") == "newest" else "frequent"
    number = page_number(request)
    groups = console_of(request).current_groups()
    rows, more = groups.page(now_local() - WINDOW, show == "open", sort, number, PER_PAGE)
    return render(request, "unanswered.html", groups=rows, show=show, sort=sort, page=number, more=more)


def _group_id(request: Request):
    return small_number(request.path_params["gid"])


def _group(request: Request):
    """(group id, group dict) of the request's path, or (None, None). Blocking."""
    gid = _group_id(request)
    if gid is None:
        return None, None
    return gid, console_of(request).current_groups().group(gid)


@requires()
def group_detail(request: Request) -> Response:
    """One group: its phrasings, the last five askings with the turns around them, the groups near it, and a
    catalogue search to map it."""
    console = console_of(request)
    gid, group = _group(request)
    if group is None:
        return error(request, 404, "Không tìm thấy nhóm câu hỏi này.")
    contexts = []
    for row in group["rows"]:
        turns = console.conversations.turns(row["conversation_id"])
        at = next((i for i, t in enumerate(turns) if t.who == "citizen" and t.at >= row["asked_at"]
                   - dt.timedelta(seconds=5)), len(turns) - 1)
        contexts.append({"row": row, "turns": turns[max(at - 4, 0):at + 4]})
    query = request.query_params.get("q", "")[:200]
    found = []
    if query:
        needle = fold(query)
        found = [p for p in console.catalogue if needle in fold(p.name) or needle in p.code][:20]
    near = console.current_groups().neighbours(gid)
    return render(request, "group.html", group=group, contexts=contexts, query=query, found=found, near=near)


def _phrasings(group: dict) -> list:
    return [text for text, _, _ in group["phrasings"][:MOST_PHRASINGS]]


@requires("editor", write=True)
def group_map(request: Request, form: FormData) -> Response:
    """Map the group to a procedure: its phrasings become the procedure's aliases."""
    console, staff = console_of(request), staff_of(request)
    _, group = _group(request)
    code = str(form.get("code", "")).strip()
    if group is None or console.catalogue.get(code) is None:
        return error(request, 400, "Mã thủ tục không có trong danh mục.")
    phrasings = _phrasings(group)
    added = add_aliases(console.settings.knowledge.catalogue_dir, code, phrasings)
    console.forget_catalogue()
    console.store.decide(group["keys"], "mapped", staff.username, procedure_code=code)
    console.store.audit(staff.username, "map_question", code, phrasings=phrasings, aliases_added=added)
    return RedirectResponse("/unanswered?msg=mapped", status_code=303)


@requires("editor", write=True)
def group_answer(request: Request, form: FormData) -> Response:
    """Answer the group: a staff answer for each distinct phrasing."""
    console, staff = console_of(request), staff_of(request)
    store = console.store
    _, group = _group(request)
    answer = str(form.get("answer", "")).strip()
    if group is None or not group["phrasings"] or not (10 <= len(answer) <= 2000):
        return error(request, 400, "Câu trả lời cần từ 10 đến 2.000 ký tự.")
    phrasings = _phrasings(group)
    faq_id = store.add_faq(phrasings[0], answer, staff.username)
    seen = {key_of(phrasings[0])}
    for phrasing in phrasings[1:]:
        if key_of(phrasing) not in seen:
            seen.add(key_of(phrasing))
            store.add_faq(phrasing, answer, staff.username)
    store.decide(group["keys"], "answered", staff.username, faq_id=faq_id)
    store.audit(staff.username, "answer_question", str(faq_id), question=phrasings[0], answer=answer)
    return RedirectResponse("/unanswered?msg=answered", status_code=303)


@requires("editor", write=True)
def group_dismiss(request: Request, form: FormData) -> Response:
    """Dismiss the group (nothing to fix), once the editor has ticked that they are sure."""
    console, staff = console_of(request), staff_of(request)
    gid, group = _group(request)
    if group is None:
        return error(request, 404, "Không tìm thấy nhóm câu hỏi này.")
    if form.get("confirm") != "yes":
        return error(request, 400, "Hãy đánh dấu ô xác nhận trước khi bỏ qua nhóm câu hỏi.")
    console.store.decide(group["keys"], "dismissed", staff.username)
    console.store.audit(staff.username, "dismiss_question", str(gid), phrasings=_phrasings(group))
    return RedirectResponse("/unanswered?msg=dismissed", status_code=303)


@requires("editor", write=True)
def group_split(request: Request, form: FormData) -> Response:
    """Move the ticked phrasings out of the group into a new one."""
    console, staff = console_of(request), staff_of(request)
    gid, group = _group(request)
    if group is None:
        return error(request, 404, "Không tìm thấy nhóm câu hỏi này.")
    keys = [str(k) for k in form.getlist("key")][:1000]
    new = console.current_groups().split(gid, keys)
    if new is None:
        return error(request, 400, "Hãy chọn ít nhất một cách hỏi để tách, và để lại ít nhất một cách hỏi trong nhóm.")
    console.store.audit(staff.username, "split_questions", str(gid), new_group=new, keys=keys)
    return RedirectResponse(f"/unanswered/{new}?msg=split", status_code=303)


@requires("editor", write=True)
def group_merge(request: Request, form: FormData) -> Response:
    """Merge another group (its number) into this one."""
    console, staff = console_of(request), staff_of(request)
    gid, group = _group(request)
    other = small_number(str(form.get("other", "")).strip().lstrip("#"))
    groups = console.current_groups()
    if group is None or other is None or other == gid or groups.group(other) is None:
        return error(request, 400, "Không tìm thấy nhóm cần gộp (ghi số nhóm, khác nhóm này).")
    moved = groups.merge(gid, other)
    console.store.audit(staff.username, "merge_questions", str(gid), merged=other, moved=moved)
    return RedirectResponse(f"/unanswered/{gid}?msg=merged", status_code=303)


routes = [
    Route("/unanswered", unanswered_list),
    Route("/unanswered/{gid}/map", group_map, methods=["POST"]),
    Route("/unanswered/{gid}/answer", group_answer, methods=["POST"]),
    Route("/unanswered/{gid}/dismiss", group_dismiss, methods=["POST"]),
    Route("/unanswered/{gid}/split", group_split, methods=["POST"]),
    Route("/unanswered/{gid}/merge", group_merge, methods=["POST"]),
    Route("/unanswered/{gid}", group_detail),
]
