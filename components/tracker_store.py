"""Rasa's SQL tracker store, with phone and ID numbers masked before anything is written, and the
latest conversation sessions kept in memory.

Masking: citizens sometimes type a full phone or citizen-ID number; the conversation store keeps
only the last digits (dossiers.privacy.mask_text), in every string of every event: message text,
parse data, entities, slots and bot replies.

Cache: Rasa reads the whole session back from SQL and rebuilds every event on each message, and
counts the stored events again on each save; under load that was about 40 % of the Rasa server's
CPU. The events of the latest session of recent conversations (as stored, i.e. masked) are kept
in memory, so a message costs one indexed lookup of the conversation's latest event id and one
INSERT of its new events. The cached session is used only when that id is still the one this
process wrote or read last, so several Rasa workers or servers on one database stay correct
(each then re-reads what another one wrote). ``cache_size: 0`` (MOTCUA_TRACKER_CACHE=0) turns it off.
"""
from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any, List, Optional, Text, Tuple

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

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


def _sqlite_wal(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def latest_session(events: List[Event]) -> List[Event]:
    """The events from the last SessionStarted on (what SQLTrackerStore.retrieve returns)."""
    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], SessionStarted):
            return events[index:]
    return events


class MaskingSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that never stores a full phone or ID number, with an in-memory session cache."""

    def __init__(self, *args: Any, cache_size: int = 2000, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cache_size = int(cache_size)
        self._cache: "OrderedDict[Text, Tuple[int, List[Event]]]" = OrderedDict()  # sender -> (last id, events)
        if self.engine.dialect.name == "sqlite":
            from sqlalchemy import event as sa_event

            # Write-ahead log: readers do not block the writer, and a commit costs no full-file sync.
            sa_event.listen(self.engine, "connect", _sqlite_wal)
            with self.engine.connect() as conn:
                _sqlite_wal(conn.connection, None)

    def _remember(self, sender_id: Text, last_id: Optional[int], events: List[Event]) -> None:
        if self.cache_size <= 0 or last_id is None:
            return
        self._cache[sender_id] = (last_id, latest_session(events))
        self._cache.move_to_end(sender_id)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def _last_id(self, session, sender_id: Text) -> Optional[int]:
        from sqlalchemy import func

        return session.query(func.max(self.SQLEvent.id)).filter(self.SQLEvent.sender_id == sender_id).scalar()

    def _fresh_cache(self, session, sender_id: Text) -> Optional[List[Event]]:
        """The cached session when nobody has written to the conversation since; else None."""
        entry = self._cache.get(sender_id)
        if entry is None or self._last_id(session, sender_id) != entry[0]:
            self._cache.pop(sender_id, None)
            return None
        self._cache.move_to_end(sender_id)
        return entry[1]

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The latest session's tracker, from memory when nothing was written since this process saw it."""
        if self.cache_size > 0 and self.domain is not None and sender_id in self._cache:
            with self.session_scope() as session:
                cached = self._fresh_cache(session, sender_id)
            if cached is not None:
                return DialogueStateTracker.from_events(sender_id, cached, self.domain.slots)
        with self.session_scope() as session:
            last_id = self._last_id(session, sender_id) if self.cache_size > 0 else None
        tracker = await super().retrieve(sender_id)
        if tracker is not None:
            self._remember(sender_id, last_id, list(tracker.events))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the events added since the last save, masked, and remember the session."""
        await self.stream_events(tracker)
        events = list(tracker.events)
        with self.session_scope() as session:
            cached = self._fresh_cache(session, tracker.sender_id) if tracker.sender_id in self._cache else None
            if cached is not None and len(events) >= len(cached):
                stored = cached
            else:  # as SQLTrackerStore does: the events of the latest session already stored come first
                count = self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False).count()
                stored = [mask_event(e) for e in events[:count]]
            new = [mask_event(e) for e in events[len(stored):]]
            rows = []
            for event in new:
                data = event.as_dict()
                rows.append(dict(sender_id=tracker.sender_id, type_name=event.type_name,
                                 timestamp=data.get("timestamp"),
                                 intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                                 action_name=data.get("name"), data=json.dumps(data)))
            if rows:
                session.execute(self.SQLEvent.__table__.insert(), rows)
            last_id = self._last_id(session, tracker.sender_id) if self.cache_size > 0 else None
            session.commit()
        self._remember(tracker.sender_id, last_id, stored + new)
