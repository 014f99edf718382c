"""What the actions work with: one ``ActionContext`` of services and a clock (nothing is built at import).

Actions call ``current()``; the process-wide default builds each service from the settings on first use.
Tests build their own context and ``install`` it (or use ``installed`` as a context manager).
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, Optional, Sequence, Text

from rasa_sdk import Tracker

from core.clock import now_local
from core.privacy import mask_text
from core.settings import Settings, get_settings
from core.stores.handoff import HandoffStore
from core.stores.review_log import ReviewLog
from knowledge_base.retrieval.handover import KEY as QUERY_VECTOR
from knowledge_base.service import KnowledgeBase
from knowledge_base.staff_answers import StaffAnswers

if TYPE_CHECKING:  # pragma: no cover
    from dossiers.calendar import WorkingCalendar
    from dossiers.service import DossierService
    from knowledge_base.retrieval.hybrid import Hit


@dataclasses.dataclass
class ActionContext:
    """The services an action may use, and the clock it reads (naive Vietnam time)."""

    knowledge_base: KnowledgeBase
    review_log: ReviewLog
    dossier_service: DossierService
    staff_answers: StaffAnswers
    handoffs: HandoffStore
    working_calendar: WorkingCalendar
    clock: Callable[[], dt.datetime] = now_local


class SettingsContext(ActionContext):
    """The process-wide default: each service is built from ``settings`` when an action first uses it (a
    dossier service needs the hash key; an action about office hours must not)."""

    def __init__(self, settings: Settings, clock: Callable[[], dt.datetime] = now_local) -> None:
        """Build nothing yet."""
        self.settings = settings
        self.clock = clock

    @functools.cached_property
    def knowledge_base(self) -> KnowledgeBase:  # type: ignore[override]
        """The knowledge base (catalogue and index load on first search)."""
        return KnowledgeBase(self.settings)

    @functools.cached_property
    def review_log(self) -> ReviewLog:  # type: ignore[override]
        """The review log."""
        return ReviewLog(self.settings.storage.database_url)

    @functools.cached_property
    def dossier_service(self) -> DossierService:  # type: ignore[override]
        """The dossier service (database opened and migrated on first lookup)."""
        from dossiers.factory import open_service

        return open_service(self.settings)

    @functools.cached_property
    def staff_answers(self) -> StaffAnswers:  # type: ignore[override]
        """Answers staff wrote in the console (re-read every 30 s)."""
        return StaffAnswers(self.settings.storage.database_url)

    @functools.cached_property
    def handoffs(self) -> HandoffStore:  # type: ignore[override]
        """Conversations handed to staff."""
        return HandoffStore(self.settings.storage.database_url)

    @functools.cached_property
    def working_calendar(self) -> WorkingCalendar:  # type: ignore[override]
        """Working days and office hours (dossiers/data/calendar.yml)."""
        from dossiers.calendar import WorkingCalendar

        return WorkingCalendar.load(self.settings.office.calendar_file)


_installed: Optional[ActionContext] = None


@functools.lru_cache(maxsize=1)
def default() -> ActionContext:
    """The process-wide context, from the environment's settings."""
    return SettingsContext(get_settings())


def current() -> ActionContext:
    """The context actions use: the installed one, else the process-wide default."""
    return _installed if _installed is not None else default()


def install(context: Optional[ActionContext]) -> None:
    """Make ``context`` the one actions use (None: back to the default)."""
    global _installed
    _installed = context


@contextlib.contextmanager
def installed(context: ActionContext) -> Iterator[ActionContext]:
    """``context`` in use inside the ``with`` block, the previous one after it."""
    previous = _installed
    install(context)
    try:
        yield context
    finally:
        install(previous)


def knowledge_base_for(tracker: Tracker) -> KnowledgeBase:
    """The knowledge base, given the query vector the NLU computed for the latest message (if any), so a
    search of that message's text does not encode it again."""
    kb = current().knowledge_base
    latest = tracker.latest_message if isinstance(tracker.latest_message, dict) else {}
    text = latest.get("text")
    kb.accept_query_vector(latest.get(QUERY_VECTOR), text if isinstance(text, str) else "")
    return kb


def channel_of(tracker: Tracker) -> str:
    """The input channel of the latest message ('rest', 'socketio', 'telegram', ...)."""
    if not hasattr(tracker, "get_latest_input_channel"):
        return "unknown"
    return tracker.get_latest_input_channel() or "unknown"


def client_of(tracker: Tracker) -> Optional[str]:
    """The keyed digest of the client address the channel put in the latest message's metadata
    (``motcua_client``), or None (a channel that sets none, tests): then the conversation stands for it."""
    metadata = tracker.latest_message.get("metadata") or {}
    client = metadata.get("motcua_client") if isinstance(metadata, dict) else None
    return client if isinstance(client, str) and client else None


def entity(tracker: Tracker, name: str) -> Any:
    """The first value of entity ``name`` in the latest message (button payloads carry them), or None."""
    return next((e.get("value") for e in tracker.latest_message.get("entities", []) if e.get("entity") == name), None)


def log_unanswered(tracker: Tracker, reason: str, candidates: Sequence[Hit] = ()) -> int:
    """Record the tracker's latest message for staff review, with the candidates considered."""
    considered: Sequence[Dict[Text, Any]] = [
        {"code": h.code, "name": h.name, "confidence": round(h.confidence, 3)} for h in candidates]
    return current().review_log.record_unanswered(
        tracker.sender_id, channel_of(tracker), mask_text(tracker.latest_message.get("text") or ""), reason,
        considered)
