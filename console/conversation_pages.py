"""Cuộc trò chuyện: the conversations in the tracker store, searched and filtered by channel, and one read
turn by turn (citizens' words masked by the templates)."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from console.auth import requires
from console.web import console_of, render


@requires()
def conversations_list(request: Request) -> Response:
    """The latest conversations, searched by their words (``q``) and filtered by ``channel``."""
    q, channel = request.query_params.get("q", ""), request.query_params.get("channel", "")
    return render(request, "conversations.html", q=q, channel=channel,
                  items=console_of(request).conversations.list(q, channel))


@requires()
def conversation_detail(request: Request) -> Response:
    """One conversation, turn by turn."""
    sender = request.path_params["sender"]
    return render(request, "conversation.html", sender=sender, turns=console_of(request).conversations.turns(sender))


routes = [
    Route("/conversations", conversations_list),
    Route("/conversations/{sender:path}", conversation_detail),
]
