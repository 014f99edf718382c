"""Rasa's SQL tracker store, with phone and ID numbers masked before anything is written.

Citizens sometimes type a full phone or citizen-ID number; the conversation store keeps only the
last digits (dossiers.privacy.mask_text), in every string of every event: message text, parse data,
entities, slots and bot replies.
"""
from __future__ import annotations

from typing import Any, Iterator

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event

from dossiers.privacy import mask_text


def mask_value(value: Any) -> Any:
    """``value`` with every string in it masked (dicts and lists walked)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_value(v) for v in value]
    return value


def mask_event(event: Event) -> Event:
    """The event itself when it holds no personal number, else a masked copy."""
    data = event.as_dict()
    masked = mask_value(data)
    if masked == data:
        return event
    copy = Event.from_parameters(masked)
    return copy if copy is not None else event


class MaskingSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that never stores a full phone or ID number."""

    def _additional_events(self, session, tracker) -> Iterator:
        for event in super()._additional_events(session, tracker):
            yield mask_event(event)
