"""Rasa's SQL tracker store, with phone and ID numbers masked before anything is written, and the
latest conversation sessions kept in memory.

Masking: citizens sometimes type a full phone or citizen-ID number; the conversation store keeps
only the last digits (core.privacy.mask_value, i.e. mask_text on every string), in every event:
the citizen's text and parse data with its entities, the bot's text, buttons and data, slot values,
and every event's metadata.

Cache: Rasa reads the whole session back from SQL and rebuilds every event on each message, and
counts the stored events again on each save; under load that was about 40 % of the Rasa server's
CPU. The events of the latest session of recent conversations (as stored, i.e. masked) are kept
in memory, so a message costs one indexed lookup of the conversation's latest event id and one
INSERT of its new events. The cached session is used only when that id is still the one this
process wrote or read last, so several Rasa workers or servers on one database stay correct
(each then re-reads what another one wrote). ``cache_size: 0`` (MOTCUA_TRACKER_CACHE=0) turns it off.

Threads: retrieve and save do their database work in worker threads, so a slow query never holds the
Rasa server's event loop and the other conversations waiting on it; the cache is shared under a lock.

The retention purge (core.retention) anonymises old events in place, keeping their ids, so the
latest id cannot tell. It never touches an event younger than its SHORTEST_PERIOD (a day); a cached
session is served only while its oldest event is younger than that, less an hour for clocks that
differ between hosts (CACHE_SPAN): an older one is read again from SQL, as the purge left it.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Iterator, List, Optional, Text, Tuple, TypeVar

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError

from core.db import CONNECT_TIMEOUT_S, make_engine
from core.privacy import mask_value, might_hold_number
from core.retention import SHORTEST_PERIOD
from knowledge_base.retrieval.handover import KEY as QUERY_VECTOR

# How old the oldest event of a session served from memory may be (seconds): younger than anything a purge
# may anonymise, with an hour's margin for the purge's and the Rasa server's clocks.
CACHE_SPAN = SHORTEST_PERIOD.total_seconds() - 3600.0
T = TypeVar("T")


def mask_event(event: Event) -> Event:
    """The event itself when it holds no personal number, else a masked copy."""
    return masked_record(event)[0]


# JSON escapes of control characters (a phone number's separators may have become one).
_JSON_ESCAPES = re.compile(r"\\(?:[ntrfb]|u00[01][0-9a-fA-F])")
# A key and a fractional JSON number ("timestamp": 1795451120.25, confidences): never a string, never
# masked (mask_value leaves floats alone), and a timestamp's digits would send every event down the
# slow path. A quote inside a string is escaped, so the match cannot start inside one.
_FLOAT_FIELDS = re.compile(r'(?<!\\)"[^"\\]*": -?[0-9]+(?:\.[0-9]+(?:[eE][-+]?[0-9]+)?|[eE][-+]?[0-9]+)(?=[,}\]])')


def masked_record(event: Event) -> Tuple[Event, dict, str]:
    """(event, its dict, its JSON), masked, without the query vector the NLU handed to the search (it served
    that one turn). Most events hold no number: one regex pass over the JSON tells (a hint anywhere, even in
    a number, only sends it down the exact, slower path)."""
    data = event.as_dict()
    if isinstance(data.get("parse_data"), dict) and QUERY_VECTOR in data["parse_data"]:
        data = {**data, "parse_data": {k: v for k, v in data["parse_data"].items() if k != QUERY_VECTOR}}
        event = Event.from_parameters(data) or event
    # Non-ASCII kept literal, so the only escapes are of quotes, backslashes and control characters.
    blob = json.dumps(data, ensure_ascii=False)
    if not might_hold_number(_JSON_ESCAPES.sub(" ", _FLOAT_FIELDS.sub("", blob))):
        return event, data, blob
    masked = mask_value(data)
    if masked == data:
        return event, data, blob
    copy = Event.from_parameters(masked)
    return (copy if copy is not None else event), masked, json.dumps(masked, ensure_ascii=False)


async def finished(work: Callable[..., T], *args: Any) -> T:
    """``work(*args)`` in a worker thread, seen to its end: if the awaiting request is cancelled (the client
    went away), the work still completes before the cancellation goes on, so the conversation's lock is never
    released while its events are half written."""
    job = asyncio.ensure_future(asyncio.to_thread(work, *args))
    try:
        return await asyncio.shield(job)
    except asyncio.CancelledError:
        await asyncio.wait([job])
        raise


log = logging.getLogger(__name__)
# A database that restarts (PostgreSQL's failover, an upgrade) refuses connections for a second or two: the
# tracker store's work is tried again this long before the message fails (and the citizen gets the apology).
# Kept well under the conversation lock's lifetime (MOTCUA_LOCK_LIFETIME_S, 6 s), so a retrying server still
# holds its conversation.
RETRY_DELAYS_S = (0.25, 0.5, 1.0, 1.0, 1.25)


def retried(work: Callable[..., T], *args: Any, delays=RETRY_DELAYS_S, before_retry: Callable[[], None] = lambda: None
            ) -> T:
    """``work(*args)``, tried again after each of ``delays`` while the database is unreachable or dropped the
    connection (SQLAlchemy has then emptied its pool: the next try connects afresh); ``before_retry`` runs before
    each new try (a save forgets its cached session, so a write whose COMMIT went through before the connection
    dropped is counted, not written twice)."""
    for delay in (*delays, None):
        try:
            return work(*args)
        except DBAPIError as exc:
            if delay is None or not (exc.connection_invalidated or isinstance(exc, OperationalError)):
                raise
            before_retry()
            log.warning("tracker store: database unavailable (%s); trying again in %.2g s",
                        str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


LOADED = "_motcua_stored"  # on a tracker this store read or saved: how many of its events are stored


def _loaded(tracker: DialogueStateTracker) -> DialogueStateTracker:
    setattr(tracker, LOADED, len(tracker.events))
    return tracker


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
        # sender -> (last id, events of the latest session, the oldest one's timestamp)
        self._cache: OrderedDict[Text, Tuple[int, List[Event], float]] = OrderedDict()
        self._cache_lock = threading.Lock()  # the database work runs in worker threads, several at once
        self._sqlite_turn: Optional[threading.Lock] = None
        # Plain SQL: building an ORM query's cache key cost more than running it.
        events = self.SQLEvent.__tablename__
        self._last_id_sql = text(f"SELECT max(id) FROM {events} WHERE sender_id = :sender")
        self._insert_events = self.SQLEvent.__table__.insert()  # one statement: SQLAlchemy keeps its cache key
        self._written_since_sql = text(
            f"SELECT max(id), count(*) FROM {events} WHERE sender_id = :sender AND id > :since"
        )
        if self.engine.dialect.name == "sqlite":
            self._pool_sqlite_connections()
        else:  # a connection the server dropped (a restart) is noticed before use, not by a failed message
            import sqlalchemy as sa
            from rasa.core.tracker_store import create_engine_kwargs
            from sqlalchemy.orm import sessionmaker

            url = self.engine.url.render_as_string(hide_password=False)
            self.engine.dispose()
            kwargs = create_engine_kwargs(url)  # Rasa's own: the schema's search path, the pool's size
            if url.startswith("postgresql"):  # an unreachable host fails in seconds, not in minutes
                kwargs["connect_args"] = {**kwargs.get("connect_args", {}), "connect_timeout": CONNECT_TIMEOUT_S}
            self.engine = sa.create_engine(url, pool_pre_ping=True, **kwargs)
            self.sessionmaker = sessionmaker(bind=self.engine)

    def _pool_sqlite_connections(self) -> None:
        """Serve a SQLite file through the project's engine (core.db.make_engine): pooled
        connections in write-ahead-log mode with a busy timeout. Rasa's own engine (SQLAlchemy 1.4)
        opens and closes the file for every session: about 15 % of the Rasa server's CPU under load."""
        from sqlalchemy.orm import sessionmaker

        url = self.engine.url
        self._sqlite_turn = threading.Lock()
        self.engine.dispose()
        if url.database and url.database != ":memory:":
            self.engine = make_engine(str(url))
        else:  # one in-memory database whatever the thread (SQLAlchemy's default gives each thread its own)
            self.engine = make_engine("sqlite://")
            self.Base.metadata.create_all(self.engine)
        self.sessionmaker = sessionmaker(bind=self.engine)

    def _remember(self, sender_id: Text, last_id: Optional[int], events: List[Event]) -> None:
        if self.cache_size <= 0 or last_id is None:
            return
        session = latest_session(events)
        oldest = min((e.timestamp for e in session), default=time.time())
        with self._cache_lock:
            self._cache[sender_id] = (last_id, session, oldest)
            self._cache.move_to_end(sender_id)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def _recount(self, tracker: DialogueStateTracker) -> None:
        """Before a save is tried again: what is stored is counted afresh (the failed try's COMMIT may have gone
        through before the connection dropped)."""
        self._forget(tracker.sender_id)
        if hasattr(tracker, LOADED):
            delattr(tracker, LOADED)

    def _forget(self, sender_id: Text) -> None:
        with self._cache_lock:
            self._cache.pop(sender_id, None)

    def _last_id(self, session, sender_id: Text) -> Optional[int]:
        return session.execute(self._last_id_sql, {"sender": sender_id}).scalar()

    def _written_since(self, session, sender_id: Text, since: int) -> Tuple[Optional[int], int]:
        """(latest event id, events stored after ``since``) of a conversation."""
        row = session.execute(self._written_since_sql, {"sender": sender_id, "since": since}).one()
        return row[0], row[1]

    def _fresh_cache(self, session, sender_id: Text) -> Optional[List[Event]]:
        """The cached session when nobody has written to the conversation since and no purge can have
        changed it (its oldest event is younger than CACHE_SPAN); else None."""
        entry = self._cache.get(sender_id)
        if entry is None or entry[2] < time.time() - CACHE_SPAN or self._last_id(session, sender_id) != entry[0]:
            self._forget(sender_id)
            return None
        with self._cache_lock:
            if sender_id in self._cache:
                self._cache.move_to_end(sender_id)
        return entry[1]

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The latest session's tracker, from memory when nothing was written since this process saw it.

        The database work and the rebuilding of events run in a worker thread: a slow query or a long
        conversation never holds the event loop, where the other conversations' messages wait."""
        return await finished(retried, self._retrieve_latest, sender_id)

    @contextlib.contextmanager
    def _turn(self) -> Iterator[None]:
        """On SQLite, this process's threads take turns (its transactions lock the whole file: threads
        racing for it would only sleep in its busy handler); other databases need no turn."""
        if self._sqlite_turn is None:
            yield
        else:
            with self._sqlite_turn:
                yield

    def _retrieve_latest(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        if self.cache_size > 0 and self.domain is not None and sender_id in self._cache:
            with self._turn(), self.session_scope() as session:
                cached = self._fresh_cache(session, sender_id)
            if cached is not None:
                return _loaded(DialogueStateTracker.from_events(sender_id, cached, self.domain.slots))
        with self._turn(), self.session_scope() as session:  # as SQLTrackerStore.retrieve, latest id in one read
            last_id = self._last_id(session, sender_id) if self.cache_size > 0 else None
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
            events = [json.loads(row.data) for row in rows]
        if not self.domain or not events:
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        self._remember(sender_id, last_id, list(tracker.events))
        return _loaded(tracker)

    async def create_tracker(self, sender_id: Text, append_action_listen: bool = True) -> DialogueStateTracker:
        """A new conversation's tracker (as Rasa's own). Rasa creates one only when a retrieve found none, which
        means nothing of it is stored (a store without a domain is given an empty one): its first save does not count
        the stored events (an ORM count query, about 2 % of the Rasa server's time under load), and a tracker with
        no events yet (Rasa's processor asks for no initial action) is not saved at all, there being nothing to
        write. ``motcua.rasa_main`` makes the FailSafeTrackerStore Rasa wraps this store in call it."""
        tracker = _loaded(self.init_tracker(sender_id))
        if append_action_listen:
            tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
        if tracker.events:
            await self.save(tracker)
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the events added since the last save, masked, and remember the session (the database work in a
        worker thread, as in ``retrieve``).

        Rasa holds the conversation's lock from retrieve to save (a Redis lock store across workers),
        so a cached session checked at retrieve is still what is stored; one query after the insert
        confirms that only this save wrote since, else the cached session is dropped.
        """
        await self.stream_events(tracker)
        await finished(lambda: retried(self._save_new_events, tracker,
                                       before_retry=lambda: self._recount(tracker)))

    async def _stream_new_events(self, event_broker: Any, new_events: List[Event], sender_id: Text) -> None:
        """Publish new events as they are stored: masked, without the query vector."""
        for event in new_events:
            event_broker.publish({"sender_id": sender_id, **masked_record(event)[1]})

    def _save_new_events(self, tracker: DialogueStateTracker) -> None:
        events = list(tracker.events)
        entry = self._cache.get(tracker.sender_id)
        # How many of this tracker's events are already stored: as many as it was read with (or last saved).
        # Counting what the database holds instead would, when another server wrote to this conversation
        # meanwhile (its lock ran out under load), skip as many of this turn's own events: lost messages.
        loaded = getattr(tracker, LOADED, None)
        with self._turn(), self.session_scope() as session:
            if entry is not None and len(events) >= len(entry[1]) and loaded in (None, len(entry[1])):
                since, stored = entry[0], entry[1]
            else:  # as SQLTrackerStore does: the events of the latest session already stored come first
                entry = None
                count = loaded if loaded is not None else \
                    self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False).count()
                stored = [mask_event(e) for e in events[:count]]
            new, rows = [], []
            for event in events[len(stored):]:
                event, data, blob = masked_record(event)
                new.append(event)
                rows.append(dict(sender_id=tracker.sender_id, type_name=event.type_name,
                                 timestamp=data.get("timestamp"),
                                 intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                                 action_name=data.get("name"), data=blob))
            if rows:
                session.execute(self._insert_events, rows)
            last_id = None
            if self.cache_size > 0:
                if entry is None:
                    last_id = self._last_id(session, tracker.sender_id)
                else:
                    last_id, written = self._written_since(session, tracker.sender_id, since)
                    last_id = since if written == 0 else last_id
                    if written != len(rows):  # someone else wrote to this conversation: re-read next time
                        last_id = None
                        self._forget(tracker.sender_id)
            session.commit()
        setattr(tracker, LOADED, len(events))
        self._remember(tracker.sender_id, last_id, stored + new)
