"""Câu trả lời của cán bộ: the staff answers the bot gives, each switched on or off by an editor (audited)."""
from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from console.auth import requires
from console.web import console_of, page_number, render, staff_of

PER_PAGE = 100


@requires()
def faq_list(request: Request) -> Response:
    """Every staff answer, active or not, the newest first, 100 to a page."""
    number = page_number(request)
    faqs = console_of(request).store.faqs(active_only=False, limit=PER_PAGE + 1, offset=(number - 1) * PER_PAGE,
                                          newest_first=True)
    return render(request, "faq.html", faqs=faqs[:PER_PAGE], page=number, more=len(faqs) > PER_PAGE)


@requires("editor", write=True)
def faq_toggle(request: Request, form: FormData) -> Response:
    """Switch one staff answer on (``active=1``) or off."""
    store, staff = console_of(request).store, staff_of(request)
    faq_id = int(request.path_params["faq_id"])
    active = form.get("active") == "1"
    store.set_faq_active(faq_id, active)
    store.audit(staff.username, "faq_active" if active else "faq_inactive", str(faq_id))
    return RedirectResponse("/faq?msg=faq", status_code=303)


routes = [
    Route("/faq", faq_list),
    Route("/faq/{faq_id:int}", faq_toggle, methods=["POST"]),
]
