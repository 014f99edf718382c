"""Retention: personal data older than the retention period is deleted or anonymised.

`motcua privacy purge` runs this, and `motcua channels deliver` once a day. What each store keeps of a
row older than the cut-off:

- tracker store (Rasa's ``events``): the row, its type, time, intent and action, and the slots that
  analytics reads (procedure); texts, entities, other slot values and metadata are dropped;
- review log: the row, its reason, rating, procedure and time (the console's analytics still count
  it); the question, comment and answer texts are blanked;
- handoffs: transcripts, closed handoffs, finished staff alerts and the request counts of the hourly
  limits (conversation ids, client digests) are deleted;
- dossier service: lookup audit rows lose their conversation id and client digest; finished notices,
  old verifications, locks and subscriptions to closed dossiers are deleted;
- channels and console: widget inboxes, contacts, offered options, seen message ids, login failures,
  expired sessions are deleted; citizens' phrasings copied into the staff audit log are dropped.

A conversation with nothing newer than the cut-off anywhere is renamed, the same way in the tracker
store and the review log, to a keyed pseudonym that keeps its channel prefix (``tg-anon-3f…``): the
Telegram chat or Zalo user id is gone, counts per conversation and channel stay the same.

Tables are read by name (reflected), not imported: this module sits below the stores it cleans, and a
store that does not exist yet in a database is skipped. Rows are read in Vietnam time (naive local:
motcua sets TZ for its processes, core.settings), except the channels' tables (naive UTC) and Rasa's
events (Unix time); the cut-off is computed in Vietnam time whatever this host's clock is set to.

Events are anonymised in place (same ids); the Rasa server's session cache (components.tracker_store)
never serves a session holding an event older than SHORTEST_PERIOD, so it cannot keep a purged text.
"""
from __future__ import annotations

import datetime as dt
import json
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Set, Tuple

from sqlalchemy import MetaData, Table, and_, delete, func, inspect, not_, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.elements import ColumnElement

from core.clock import VN_TZ
from core.privacy import mask_value
from core.vocabulary import FINAL_STATUSES

PURGED = "purged"  # key set on an anonymised event: the console shows such turns as removed
ANON = "anon-"
# Slots kept on anonymised events: analytics read them, they say nothing about the person.
KEPT_SLOTS = ("procedure_code", "aspect", "filing_channel")
# Staff audit entries that copy citizens' words (phrasings of a question group).
QUESTION_ACTIONS = ("map_question", "answer_question", "dismiss_question", "split_questions")
BATCH = 500
# The shortest retention period: a purge never touches what is younger (the tracker cache relies on it).
SHORTEST_PERIOD = dt.timedelta(days=1)
MAIN_TABLES = ("unanswered", "feedback", "handoff_messages", "handoffs", "handoff_alerts", "handoff_requests",
               "dossiers",
               "dossier_lookup_audit", "notice_outbox", "dossier_verifications", "dossier_lookup_locks",
               "dossier_lookup_alerts", "dossier_notice_subscriptions", "web_inbox", "channel_contacts",
               "channel_options", "channel_seen", "staff_login_failures", "staff_sessions", "staff_audit_log",
               "console_conversations", "console_conversation_days", "console_procedure_asks", "question_members",
               "handoff_reads")


@dataclass(frozen=True)
class Cutoff:
    """The retention cut-off in the three clocks the stores use."""

    local: dt.datetime  # naive Vietnam time
    utc: dt.datetime  # naive UTC
    epoch: float  # Unix time

    @classmethod
    def days_before(cls, now: dt.datetime, days: int) -> Cutoff:
        """``days`` before ``now`` (an aware time; a naive one is taken as Vietnam time, as the stores write it)."""
        if dt.timedelta(days=days) < SHORTEST_PERIOD:
            raise ValueError("the retention period is at least 1 day")
        moment = (now if now.tzinfo else now.replace(tzinfo=VN_TZ)) - dt.timedelta(days=days)
        return cls(moment.astimezone(VN_TZ).replace(tzinfo=None),
                   moment.astimezone(dt.timezone.utc).replace(tzinfo=None), moment.timestamp())


@dataclass(frozen=True)
class Removed:
    """How many rows of one kind a store lost or had anonymised."""

    store: str
    what: str
    count: int


def pseudonym_maker(digest: Callable[[str], str]) -> Callable[[str], str]:
    """Renames conversation ids: ``digest`` (keyed, e.g. Hasher.hash bound to a purpose) of the id,
    after its channel prefix: 'tg-123456789' -> 'tg-anon-<digest>'."""
    def rename(conversation_id: str) -> str:
        return f"{_split(conversation_id)[0]}{ANON}{digest(conversation_id)[:20]}"
    return rename


def _split(conversation_id: str) -> Tuple[str, str]:
    """(channel prefix such as 'tg-' or '', the rest)."""
    head, sep, rest = conversation_id.partition("-")
    if sep and head.isascii() and head.isalpha() and len(head) <= 8:
        return head + sep, rest
    return "", conversation_id


def is_pseudonym(conversation_id: str) -> bool:
    """Whether a conversation id was already renamed by a purge."""
    return _split(conversation_id)[1].startswith(ANON)


def anonymised_event(data: dict) -> dict:
    """A stored Rasa event without what the person said or was told: texts, entities, bot data, metadata
    and slot values other than KEPT_SLOTS are dropped; the keys Rasa needs to read it back stay."""
    out = dict(data)
    for key, empty in (("text", None), ("data", {}), ("metadata", {}), ("entities", []), ("action_text", None),
                       ("message_id", None)):
        if key in out:
            out[key] = empty
    if "parse_data" in out:
        intent = (out["parse_data"] or {}).get("intent") or {}
        out["parse_data"] = {"intent": {"name": intent.get("name"), "confidence": intent.get("confidence")},
                             "entities": []}
    if "value" in out and not (out.get("event") == "slot" and out.get("name") in KEPT_SLOTS):
        out["value"] = None
    out = mask_value(out)  # whatever else an event type carries
    out[PURGED] = True
    return out


def _reflect(engine: Engine, names: Iterable[str]) -> Dict[str, Table]:
    """The tables of ``names`` that exist in a database, as they are there."""
    with engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
        meta = MetaData()
        return {name: Table(name, meta, autoload_with=conn) for name in names if name in present}


class Purge:
    """One purge run over the tracker store and the main database."""

    def __init__(self, tracker: Engine, main: Engine, cutoff: Cutoff, pseudonym: Callable[[str], str],
                 dry_run: bool = False):
        self.tracker, self.main, self.cutoff = tracker, main, cutoff
        self.pseudonym, self.dry_run = pseudonym, dry_run
        self.removed: List[Removed] = []
        self.events: Optional[Table] = None
        self.tables: Dict[str, Table] = {}

    def run(self) -> List[Removed]:
        """Purge every store; what was removed, store by store (a dry run changes nothing)."""
        self.events = _reflect(self.tracker, ("events",)).get("events")
        self.tables = _reflect(self.main, MAIN_TABLES)
        retired = self.retired_conversations()
        renames = {old: self.pseudonym(old) for old in sorted(retired)}
        self.tracker_events(renames)
        self.review_log(renames)
        self.console_sums(renames)
        self.handoffs()
        self.dossier_service()
        self.channels_and_console()
        return self.removed

    # Helpers ----------------------------------------------------------------------------------------
    @contextmanager
    def _conn(self, engine: Engine) -> Iterator[Connection]:
        """A transaction, committed, or rolled back in a dry run."""
        with engine.connect() as conn:
            transaction = conn.begin()
            try:
                yield conn
            except BaseException:
                transaction.rollback()
                raise
            if self.dry_run:
                transaction.rollback()
            else:
                transaction.commit()

    def _note(self, store: str, what: str, count: int) -> None:
        self.removed.append(Removed(store, what, max(int(count or 0), 0)))

    def _apply(self, store: str, table_name: str, what: str, statement: Callable[[Table], Optional[Any]]) -> None:
        """Run the DELETE or UPDATE that ``statement(table)`` builds in the main database (None, or no such
        table: nothing to do), and note its row count."""
        table = self.tables.get(table_name)
        built = statement(table) if table is not None else None
        if built is None:
            return
        with self._conn(self.main) as conn:
            self._note(store, what, conn.execute(built).rowcount)

    def _old(self, table: Table, column: str, utc: bool = False) -> ColumnElement:
        return table.c[column] < (self.cutoff.utc if utc else self.cutoff.local)

    # Conversations -------------------------------------------------------------------------------------
    def retired_conversations(self) -> Set[str]:
        """Conversation ids with rows older than the cut-off and nothing newer in any store."""
        old: Set[str] = set()
        recent: Set[str] = set()
        events = self.events
        with self.tracker.connect() as conn:
            if events is not None:
                old |= set(conn.execute(select(events.c.sender_id).group_by(events.c.sender_id).having(
                    func.max(events.c.timestamp) < self.cutoff.epoch)).scalars())
                recent |= set(conn.execute(select(events.c.sender_id).distinct().where(
                    events.c.timestamp >= self.cutoff.epoch)).scalars())
        sources = (("unanswered", "asked_at", True), ("feedback", "created_at", True),
                   ("handoff_messages", "at", False), ("handoffs", "requested_at", False),
                   ("handoffs", "closed_at", False), ("handoff_requests", "requested_at", False),
                   ("dossier_lookup_audit", "at", False),
                   ("dossier_notice_subscriptions", "created_at", False),
                   ("dossier_verifications", "verified_at", False), ("notice_outbox", "created_at", False))
        with self.main.connect() as conn:
            for name, column, renamed in sources:
                table = self.tables.get(name)
                if table is None:
                    continue
                ids, at = table.c.conversation_id, table.c[column]
                if renamed:
                    old |= set(conn.execute(select(ids).group_by(ids).having(
                        func.max(at) < self.cutoff.local)).scalars())
                recent |= set(conn.execute(select(ids).distinct().where(at >= self.cutoff.local)).scalars())
            handoffs = self.tables.get("handoffs")
            if handoffs is not None:  # a handoff still open keeps its conversation, however old
                recent |= set(conn.execute(select(handoffs.c.conversation_id).where(
                    handoffs.c.state.in_(("requested", "active")))).scalars())
        return {c for c in old - recent if c and not is_pseudonym(c)}

    # Stores ------------------------------------------------------------------------------------------
    def tracker_events(self, renames: Dict[str, str]) -> None:
        """Anonymise old events in batches (each its own short transaction), then rename retired conversations."""
        store, events = "tracker store", self.events
        if events is None:
            return
        marker = f'%"{PURGED}": true%'
        last, changed = 0, 0
        while True:
            with self._conn(self.tracker) as conn:
                rows = conn.execute(select(events.c.id, events.c.data).where(and_(
                    events.c.id > last, events.c.timestamp < self.cutoff.epoch, not_(events.c.data.like(marker))))
                    .order_by(events.c.id).limit(BATCH)).all()
                for row in rows:
                    data = json.loads(row.data or "{}")
                    conn.execute(update(events).where(events.c.id == row.id).values(
                        data=json.dumps(anonymised_event(data), ensure_ascii=False)))
                changed += len(rows)
            if len(rows) < BATCH:
                break
            last = rows[-1].id
        self._note(store, "events anonymised (texts, entities, slot values, metadata)", changed)
        self._rename(self.tracker, store, events, "sender_id", renames)

    def _rename(self, engine: Engine, store: str, table: Optional[Table], column: str,
                renames: Dict[str, str]) -> None:
        """Rename the retired conversations found in ``table``."""
        if table is None:
            return
        wanted, present = sorted(renames), set()
        with self._conn(engine) as conn:
            for start in range(0, len(wanted), BATCH):  # within every database's limit of bound parameters
                present |= set(conn.execute(select(table.c[column]).distinct().where(
                    table.c[column].in_(wanted[start:start + BATCH]))).scalars())
            for old in sorted(present):
                conn.execute(update(table).where(table.c[column] == old).values({column: renames[old]}))
        self._note(store, f"conversations renamed ({table.name})", len(present))

    def review_log(self, renames: Dict[str, str]) -> None:
        """Blank old question, comment and answer texts; rename retired conversations (rows stay: analytics)."""
        store = "review log"
        self._apply(store, "unanswered", "question texts blanked", lambda t: update(t).where(and_(
            self._old(t, "asked_at"), t.c.text != "")).values(text=""))
        self._apply(store, "feedback", "feedback comments and answers blanked", lambda t: update(t).where(
            and_(self._old(t, "created_at"), or_(t.c.comment != "", t.c.answer != ""))).values(comment="", answer=""))
        for name in ("unanswered", "feedback"):
            self._rename(self.main, store, self.tables.get(name), "conversation_id", renames)

    def console_sums(self, renames: Dict[str, str]) -> None:
        """Blank the citizens' words the console keeps per conversation (its last message, its words for search)
        past the cut-off; rename retired conversations in the console's sums (the counts stay: analytics)."""
        store = "console"
        self._apply(store, "console_conversations", "conversations' last words blanked", lambda t: update(t).where(
            and_(self._old(t, "last_at"), t.c.last_text != "")).values(last_text=""))
        self._apply(store, "console_conversation_days", "conversation days' words blanked", lambda t: update(t).where(
            and_(t.c.day < self.cutoff.local.date(), t.c.words != "")).values(words=""))
        self._apply(store, "question_members", "unanswered questions' grouping keys deleted",
                    lambda t: delete(t).where(self._old(t, "asked_at")))
        self._apply(store, "handoff_reads", "staff read marks of closed handoffs deleted", lambda t: delete(t).where(
            t.c.conversation_id.notin_(select(self.tables["handoffs"].c.conversation_id))) if "handoffs" in self.tables
            else None)
        for name in ("console_conversations", "console_conversation_days", "console_procedure_asks"):
            self._rename(self.main, store, self.tables.get(name), "sender_id", renames)

    def handoffs(self) -> None:
        """Delete old transcripts, closed handoffs, finished staff alerts and the limits' request counts."""
        store = "handoffs"
        self._apply(store, "handoff_messages", "transcript messages deleted",
                    lambda t: delete(t).where(self._old(t, "at")))
        self._apply(store, "handoffs", "closed handoffs deleted", lambda t: delete(t).where(and_(
            t.c.state == "closed", func.coalesce(t.c.closed_at, t.c.taken_at, t.c.requested_at) < self.cutoff.local)))
        self._apply(store, "handoff_alerts", "finished staff alerts deleted", lambda t: delete(t).where(and_(
            self._old(t, "requested_at"), t.c.state.notin_(("pending", "sending")))))
        self._apply(store, "handoff_requests", "request counts deleted (conversation ids, client digests)",
                    lambda t: delete(t).where(self._old(t, "requested_at")))

    def dossier_service(self) -> None:
        """Strip the lookup audit of who looked; delete finished notices, old verifications, locks, alerts and
        subscriptions to dossiers closed before the cut-off (the dossiers themselves are the agency's records)."""
        store = "dossier service"

        def audit(t: Table):
            values: Dict[str, object] = {"conversation_id": ""}
            who = t.c.conversation_id != ""
            if "client_hash" in t.c:
                values["client_hash"] = None
                who = or_(who, t.c.client_hash.isnot(None))
            return update(t).where(and_(self._old(t, "at"), who)).values(values)

        self._apply(store, "dossier_lookup_audit", "lookup audit rows anonymised", audit)
        self._apply(store, "notice_outbox", "finished notices deleted", lambda t: delete(t).where(and_(
            self._old(t, "created_at"), t.c.state.in_(("sent", "failed")))))
        self._apply(store, "dossier_verifications", "verifications deleted", lambda t: delete(t).where(and_(
            self._old(t, "verified_at"), self._old(t, "expires_at"))))
        self._apply(store, "dossier_lookup_locks", "lookup locks deleted", self._old_locks)
        self._apply(store, "dossier_lookup_alerts", "finished lookup alerts deleted",
                    lambda t: delete(t).where(and_(self._old(t, "raised_at"),
                                                   t.c.state.notin_(("pending", "sending")))))

        def subscriptions(t: Table):
            dossiers = self.tables["dossiers"]  # reflected with the table that refers to it
            closed = select(dossiers.c.code).where(and_(dossiers.c.status_code.in_(sorted(FINAL_STATUSES)),
                                                        self._old(dossiers, "status_at")))
            return delete(t).where(and_(self._old(t, "created_at"), or_(
                t.c.dossier_code.in_(closed), t.c.dossier_code.notin_(select(dossiers.c.code)))))

        self._apply(store, "dossier_notice_subscriptions", "subscriptions to closed dossiers deleted",
                    subscriptions)

    def _old_locks(self, t: Table):
        """Locks whose every time is before the cut-off (the columns differ between schema versions)."""
        times = [t.c[name] for name in ("locked_until", "last_failure_at", "first_failure_at") if name in t.c]
        if not times:
            return None
        return delete(t).where(and_(*(or_(c.is_(None), c < self.cutoff.local) for c in times)))

    def channels_and_console(self) -> None:
        """Delete what the channels and the console remember of people past the cut-off."""
        channels, console = "channels", "console"
        self._apply(channels, "web_inbox", "web widget messages deleted",
                    lambda t: delete(t).where(self._old(t, "created_at", utc=True)))
        self._apply(channels, "channel_contacts", "contacts deleted", lambda t: delete(t).where(and_(
            or_(t.c.last_inbound_at.is_(None), self._old(t, "last_inbound_at", utc=True)),
            or_(t.c.last_poll_at.is_(None), self._old(t, "last_poll_at", utc=True)))))
        self._apply(channels, "channel_options", "offered options deleted",
                    lambda t: delete(t).where(self._old(t, "created_at", utc=True)))
        self._apply(channels, "channel_seen", "seen message ids deleted",
                    lambda t: delete(t).where(self._old(t, "seen_at", utc=True)))
        self._apply(console, "staff_login_failures", "login failures deleted",
                    lambda t: delete(t).where(self._old(t, "at")))
        self._apply(console, "staff_sessions", "expired sessions deleted",
                    lambda t: delete(t).where(self._old(t, "expires_at")))
        self._apply(console, "staff_audit_log", "citizens' phrasings dropped from the audit log",
                    lambda t: update(t).where(and_(self._old(t, "at"), t.c.action.in_(QUESTION_ACTIONS),
                                                   t.c.detail != json.dumps({PURGED: True}))).values(
                        detail=json.dumps({PURGED: True})))


def purge(tracker_url: str, database_url: str, cutoff: Cutoff, pseudonym: Callable[[str], str],
          dry_run: bool = False) -> List[Removed]:
    """Purge the tracker store and the main database; what was removed (nothing is changed in a dry run)."""
    from core.db import make_engine

    tracker, main = make_engine(tracker_url), make_engine(database_url)
    try:
        return Purge(tracker, main, cutoff, pseudonym, dry_run).run()
    finally:
        tracker.dispose()
        main.dispose()


def report_lines(removed: Iterable[Removed]) -> List[str]:
    """One line per store: 'review log: 12 question texts blanked, 0 feedback ...'."""
    stores: Dict[str, List[str]] = {}
    for item in removed:
        stores.setdefault(item.store, []).append(f"{item.count} {item.what}")
    return [f"{store}: {', '.join(parts)}" for store, parts in stores.items()]
