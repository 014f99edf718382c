"""Shared, lazily created services for the actions (nothing is built at import)."""
from __future__ import annotations

import functools
from typing import Optional

from core.privacy import mask_text
from core.settings import get_settings
from core.stores.review_log import ReviewLog
from knowledge_base.service import KnowledgeBase


@functools.lru_cache(maxsize=1)
def knowledge_base() -> KnowledgeBase:
    """The process-wide knowledge base (catalogue and index load on first search)."""
    return KnowledgeBase(get_settings())


@functools.lru_cache(maxsize=1)
def dossier_service():
    """The process-wide dossier service (database opened and migrated on first lookup)."""
    from dossiers.factory import open_service

    return open_service(get_settings())


@functools.lru_cache(maxsize=1)
def review_log() -> ReviewLog:
    """The process-wide review log."""
    return ReviewLog(get_settings().storage.database_url)


@functools.lru_cache(maxsize=1)
def staff_answers():
    """Answers staff wrote in the console (re-read every 30 s)."""
    from core.stores.faq import StaffAnswers

    return StaffAnswers(get_settings().storage.database_url)


@functools.lru_cache(maxsize=1)
def handoffs():
    """Conversations handed to staff."""
    from core.stores.handoff import HandoffStore

    return HandoffStore(get_settings().storage.database_url)


@functools.lru_cache(maxsize=1)
def working_calendar():
    """Working days and office hours (dossiers/data/calendar.yml)."""
    from dossiers.calendar import WorkingCalendar

    return WorkingCalendar.load(get_settings().office.calendar_file)


def channel_of(tracker) -> str:
    """The input channel of the latest message ('rest', 'socketio', 'telegram', ...)."""
    return (tracker.get_latest_input_channel() or "unknown") if hasattr(tracker, "get_latest_input_channel") else "unknown"


def client_of(tracker) -> Optional[str]:
    """The keyed digest of the client address the channel put in the latest message's metadata
    (``motcua_client``), or None (a channel that sets none, tests): then the conversation stands for it."""
    metadata = tracker.latest_message.get("metadata") or {}
    client = metadata.get("motcua_client") if isinstance(metadata, dict) else None
    return client if isinstance(client, str) and client else None


def entity(tracker, name: str):
    """The first value of entity ``name`` in the latest message (button payloads carry them), or None."""
    return next((e.get("value") for e in tracker.latest_message.get("entities", []) if e.get("entity") == name), None)


def log_unanswered(tracker, reason: str, candidates=()) -> int:
    """Record the tracker's latest message for staff review, with the candidates considered."""
    return review_log().record_unanswered(
        tracker.sender_id, channel_of(tracker), mask_text(tracker.latest_message.get("text") or ""), reason,
        [{"code": h.code, "name": h.name, "confidence": round(h.confidence, 3)} for h in candidates])
