"""Cuộc trò chuyện: the conversations, searched and filtered by channel, 50 to a page, read from the console's sums
(``console.rollup``), and one read turn by turn (citizens' words masked by the templates)."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from console.auth import requires
from console.conversations import CHANNELS
from console.web import console_of, page_number, render

PER_PAGE = 50


@requires()
def conversations_list(request: Request) -> Response:
    """The latest conversations, searched by their words (``q``) and filtered by ``channel``, page ``page``."""
    q = request.query_params.get("q", "")[:200]
    channel = request.query_params.get("channel", "")
    channel = channel if channel in CHANNELS else ""
    number = page_number(request)
    sums = console_of(request).current_sums()
    items, more = sums.conversations(q, channel, number, PER_PAGE)
    return render(request, "conversations.html", q=q, channel=channel, channels=CHANNELS, items=items, page=number,
                  more=more, pending=sums.pending())


@requires()
def conversation_detail(request: Request) -> Response:
    """One conversation, turn by turn."""
    sender = request.path_params["sender"]
    return render(request, "conversation.html", sender=sender, turns=console_of(request).conversations.turns(sender))


routes = [
    Route("/conversations", conversations_list),
    Route("/conversations/{sender:path}", conversation_detail),
]
