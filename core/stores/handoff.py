"""Human handoff: a conversation a staff member has taken is not answered by the assistant.

States: ``requested`` (the citizen asked for a person), ``active`` (a staff member took it: the
channels keep the citizen's messages here instead of passing them to the assistant), ``closed``
(handed back). Messages exchanged meanwhile are kept in ``handoff_messages``, phone and ID numbers
masked both ways (what is sent is not changed, only what is kept).

The staff desk (``desk``) lists the open handoffs with the citizen's last message, how long they have
waited and, per staff member, how many of their messages are unread (``handoff_reads``: the last message
id each staff member has seen in each conversation; dropped when the handoff is handed back).

Each new request also queues a staff alert (``handoff_alerts``); `motcua channels deliver` sends it
(channels.staff_alerts), retrying with backoff, so a slow staff channel never delays the citizen.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable, List, Optional, Sequence, Tuple

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy import text as sql

from core.clock import now_local
from core.db import DeliveryQueue, create_tables, insert_once, make_engine
from core.privacy import mask_text
from core.stores.review_log import metadata as review_metadata
from core.stores.review_log import unanswered as review_table

metadata = MetaData()

handoffs_table = Table(
    "handoffs", metadata,
    Column("conversation_id", String(128), primary_key=True),
    Column("channel", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("staff", String(64), nullable=True),
    Column("requested_at", DateTime, nullable=True),
    Column("taken_at", DateTime, nullable=True),
    Column("closed_at", DateTime, nullable=True),
    # the desk lists the open ones, oldest request first, every few seconds
    Index("ix_handoffs_state_requested", "state", "requested_at"),
)

messages_table = Table(
    "handoff_messages", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(128), nullable=False, index=True),
    Column("who", String(16), nullable=False),  # citizen | staff | system
    Column("staff", String(64), nullable=True),
    Column("text", Text, nullable=False),
    Column("at", DateTime, nullable=False),
)

# The last handoff message each staff member has seen in each open conversation (the desk's unread counts).
reads_table = Table(
    "handoff_reads", metadata,
    Column("conversation_id", String(128), primary_key=True),
    Column("staff", String(64), primary_key=True),
    Column("last_seen_id", Integer, nullable=False),
)

alerts_table = Table(
    "handoff_alerts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(128), nullable=False, index=True),
    Column("channel", String(16), nullable=False),
    Column("requested_at", DateTime, nullable=False),
    Column("state", String(16), nullable=False),  # pending | sending | sent | failed | skipped
    Column("delivered_to", String(256), nullable=False),  # comma-separated targets that have it
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime, nullable=False),
    Column("last_error", Text, nullable=True),
)

# One row per new request for a person, with the client's keyed digest: the hourly limits per
# conversation and per client (a flood from fresh web sessions of one address) count these.
requests_table = Table(
    "handoff_requests", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(128), nullable=False, index=True),
    Column("client_hash", String(64), nullable=True, index=True),
    Column("requested_at", DateTime, nullable=False, index=True),
)


# What request() returns when an hourly allowance is spent: by this conversation, or by its client address.
LIMITED_CONVERSATION = "limited_conversation"
LIMITED_CLIENT = "limited_client"
OPEN = ("requested", "active")
DESK_LIMIT = 200  # the desk lists at most this many open handoffs (the oldest requests)
PAGE = 100  # handoff messages per page of a transcript


def _desk_order() -> tuple:
    """Open handoffs in the order the desk takes them: the oldest request first (taken without one: when taken)."""
    return func.coalesce(handoffs_table.c.requested_at, handoffs_table.c.taken_at), handoffs_table.c.conversation_id


def _recent(conn, since: dt.datetime, conversation_id: str, client_hash: Optional[str]) -> Tuple[int, int]:
    """Requests since ``since``: (by this conversation, by this client; 0 without a client digest)."""
    recent = requests_table.c.requested_at >= since
    by_conversation = conn.execute(select(func.count()).select_from(requests_table).where(and_(
        recent, requests_table.c.conversation_id == conversation_id))).scalar_one()
    by_client = conn.execute(select(func.count()).select_from(requests_table).where(and_(
        recent, requests_table.c.client_hash == client_hash))).scalar_one() if client_hash else 0
    return by_conversation, by_client


class HandoffStore:
    def __init__(self, url: str, clock: Callable[[], dt.datetime] = now_local):
        self.engine = make_engine(url)
        create_tables(metadata, self.engine)
        create_tables(review_metadata, self.engine)  # the desk shows the message that asked for a person
        self.clock = clock

    def _set(self, conversation_id: str, channel: str, **values) -> None:
        with self.engine.begin() as conn:
            self._set_in(conn, conversation_id, channel, **values)

    @staticmethod
    def _set_in(conn, conversation_id: str, channel: str, **values) -> None:
        """Update a conversation's handoff row, or insert it (a parallel insert won: update that one)."""
        where = handoffs_table.c.conversation_id == conversation_id
        if conn.execute(update(handoffs_table).where(where).values(**values)).rowcount:
            return
        row = insert(handoffs_table).values(conversation_id=conversation_id, channel=channel, **values)
        if insert_once(conn, row) is None:
            conn.execute(update(handoffs_table).where(where).values(**values))

    def request(self, conversation_id: str, channel: str, client_hash: Optional[str] = None, per_hour: int = 0,
                per_hour_client: int = 0) -> str:
        """The citizen asks for a person; returns the state: 'requested', the current one when a handoff is
        already open (an active handoff stays active), or LIMITED_CONVERSATION / LIMITED_CLIENT when this
        conversation asked ``per_hour`` times, or this client ``per_hour_client`` times, within the hour
        (0: no limit); nothing is queued then.

        ``client_hash`` is the client's digest (message metadata ``motcua_client``), kept for the limits.
        The count and the insert are one transaction, one request at a time per conversation and per
        client (actions run in threads: parallel fresh sessions would otherwise all read a count under
        the limit). SQLite's BEGIN IMMEDIATE (core.db) already runs writers one at a time; PostgreSQL
        takes a transaction advisory lock per key, sorted so two requests cannot deadlock.
        """
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                keys = [f"handoff:conversation:{conversation_id}"] + ([f"handoff:client:{client_hash}"]
                                                                       if client_hash else [])
                for key in sorted(keys):
                    conn.execute(sql("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
            current = conn.execute(select(handoffs_table.c.state).where(
                handoffs_table.c.conversation_id == conversation_id)).scalar()
            if current in ("active", "requested"):
                return current  # asking again while waiting keeps the place in the queue, and one alert
            now = self.clock()
            limited = self._over_limit(conn, now, conversation_id, client_hash, per_hour, per_hour_client)
            if limited:
                return limited
            values = dict(state="requested", requested_at=now, staff=None, taken_at=None, closed_at=None)
            self._set_in(conn, conversation_id, channel, **values)
            conn.execute(insert(alerts_table).values(conversation_id=conversation_id, channel=channel,
                                                     requested_at=now, state="pending", delivered_to="",
                                                     attempts=0, next_attempt_at=now))
            conn.execute(insert(requests_table).values(conversation_id=conversation_id, client_hash=client_hash,
                                                       requested_at=now))
            # only the last hour counts: older rows (client digests) go with the next request, or with the
            # retention purge (core.retention) when none comes
            conn.execute(delete(requests_table).where(requests_table.c.requested_at < now - dt.timedelta(days=1)))
        return "requested"

    @staticmethod
    def _over_limit(conn, now: dt.datetime, conversation_id: str, client_hash: Optional[str], per_hour: int,
                    per_hour_client: int) -> Optional[str]:
        """LIMITED_CONVERSATION or LIMITED_CLIENT when a new request would pass an hourly allowance, else None."""
        by_conversation, by_client = _recent(conn, now - dt.timedelta(hours=1), conversation_id, client_hash)
        if per_hour > 0 and by_conversation >= per_hour:
            return LIMITED_CONVERSATION
        if per_hour_client > 0 and by_client >= per_hour_client:
            return LIMITED_CLIENT
        return None

    def recent_requests(self, conversation_id: str, client_hash: Optional[str],
                        within: dt.timedelta = dt.timedelta(hours=1)) -> Tuple[int, int]:
        """New requests for a person made ``within`` the last while: (by this conversation, by this client;
        0 without a client digest)."""
        with self.engine.connect() as conn:
            return _recent(conn, self.clock() - within, conversation_id, client_hash)

    def take(self, conversation_id: str, channel: str, staff: str) -> bool:
        """A staff member takes the conversation; False when someone else already has it."""
        current = self.get(conversation_id)
        if current and current["state"] == "active" and current["staff"] != staff:
            return False
        self._set(conversation_id, channel, state="active", staff=staff, taken_at=self.clock(), closed_at=None)
        return True

    def release(self, conversation_id: str) -> bool:
        """Hand the conversation back to the assistant (what staff had read goes); False when it was not open."""
        with self.engine.begin() as conn:
            conn.execute(delete(reads_table).where(reads_table.c.conversation_id == conversation_id))
            return conn.execute(update(handoffs_table).where(and_(
                handoffs_table.c.conversation_id == conversation_id,
                handoffs_table.c.state.in_(OPEN)))
                .values(state="closed", closed_at=self.clock())).rowcount == 1

    def get(self, conversation_id: str) -> Optional[dict]:
        with self.engine.connect() as conn:
            row = conn.execute(select(handoffs_table).where(handoffs_table.c.conversation_id == conversation_id)
                               ).mappings().first()
        return dict(row) if row else None

    def is_active(self, conversation_id: str) -> bool:
        """Whether a person has this conversation (the assistant stays quiet)."""
        with self.engine.connect() as conn:
            return conn.execute(select(handoffs_table.c.state).where(and_(
                handoffs_table.c.conversation_id == conversation_id,
                handoffs_table.c.state == "active"))).first() is not None

    def desk(self, staff: str, limit: int = DESK_LIMIT) -> Tuple[List[dict], bool]:
        """The open handoffs for ``staff``'s desk, oldest request first, and whether there are more than ``limit``.

        Each row is the handoff with ``last_text`` / ``last_at`` (the citizen's last message: kept during the
        hold, or the one that asked for a person, whichever is later; masked), ``waiting_since`` (the request
        while nobody has taken it; then the first citizen message nobody has answered yet, else None) and
        ``unread`` (the citizen's messages of this hold ``staff`` has not seen). One query with correlated
        subqueries on ``handoff_messages``' conversation index, one for the request messages.
        """
        h, r = handoffs_table, reads_table
        m, last, answer, first, count = (messages_table.alias(name) for name in ("m", "last", "ans", "first", "cnt"))

        def of(table):
            """The correlation of a subquery's rows to the handoff."""
            return table.c.conversation_id == h.c.conversation_id

        last_citizen = select(func.max(m.c.id)).where(of(m), m.c.who == "citizen").correlate(h).scalar_subquery()
        last_answer = select(func.max(answer.c.id)).where(of(answer), answer.c.who != "citizen").correlate(
            h).scalar_subquery()
        unanswered_since = select(func.min(first.c.at)).where(
            of(first), first.c.who == "citizen", first.c.id > func.coalesce(last_answer, 0)).correlate(
            h).scalar_subquery()
        seen = select(r.c.last_seen_id).where(of(r), r.c.staff == staff).correlate(h).scalar_subquery()
        unread = select(func.count()).select_from(count).where(
            of(count), count.c.who == "citizen", count.c.id > func.coalesce(seen, 0),
            count.c.at >= func.coalesce(h.c.taken_at, h.c.requested_at)).correlate(h).scalar_subquery()
        query = (select(h, last.c.text.label("last_text"), last.c.at.label("last_at"),
                        unanswered_since.label("unanswered_since"), unread.label("unread"))
                 .select_from(h.outerjoin(last, last.c.id == last_citizen))
                 .where(h.c.state.in_(OPEN)).order_by(*_desk_order()).limit(limit + 1))
        with self.engine.connect() as conn:
            rows = [dict(row) for row in conn.execute(query).mappings()]
            requests = self._request_messages(conn, [row["conversation_id"] for row in rows[:limit]])
        for row in rows:
            asked = requests.get(row["conversation_id"])
            if asked and (row["last_at"] is None or asked[1] > row["last_at"]):
                row["last_text"], row["last_at"] = asked
            row["last_text"] = mask_text(row["last_text"]) if row["last_text"] else None
            since = row.pop("unanswered_since")
            row["waiting_since"] = row["requested_at"] if row["state"] == "requested" else since
        return rows[:limit], len(rows) > limit

    @staticmethod
    def _request_messages(conn, conversations: Sequence[str]) -> dict:
        """conversation id -> (text, when) of the latest message with which it asked for a person (review log)."""
        if not conversations:
            return {}
        latest = select(func.max(review_table.c.id)).where(and_(
            review_table.c.conversation_id.in_(list(conversations)), review_table.c.reason == "handoff_requested",
            review_table.c.text != "")).group_by(review_table.c.conversation_id)
        return {row.conversation_id: (row.text, row.asked_at) for row in conn.execute(select(
            review_table.c.conversation_id, review_table.c.text, review_table.c.asked_at).where(
            review_table.c.id.in_(latest)))}

    def add_message(self, conversation_id: str, who: str, text: str, staff: Optional[str] = None) -> int:
        """Keep a message of the transcript (citizen's or staff's), phone and ID numbers masked; returns its id."""
        with self.engine.begin() as conn:
            return conn.execute(insert(messages_table).values(conversation_id=conversation_id, who=who, staff=staff,
                                                              text=mask_text(text), at=self.clock())
                                ).inserted_primary_key[0]

    def messages(self, conversation_id: str, after: int = 0, limit: Optional[int] = PAGE) -> List[dict]:
        """A conversation's transcript after message id ``after``, oldest first, at most ``limit`` messages (None:
        all), numbers masked (also in rows kept before masking)."""
        query = select(messages_table).where(and_(messages_table.c.conversation_id == conversation_id,
                                                  messages_table.c.id > after)).order_by(messages_table.c.id)
        with self.engine.connect() as conn:
            return [dict(r, text=mask_text(r["text"]))
                    for r in conn.execute(query.limit(limit) if limit else query).mappings()]

    def latest_messages(self, conversation_id: str, limit: int = 2 * PAGE) -> Tuple[List[dict], bool]:
        """The last ``limit`` messages of a conversation's transcript, oldest first, numbers masked, and whether
        older ones were left out."""
        with self.engine.connect() as conn:
            rows = [dict(r, text=mask_text(r["text"])) for r in conn.execute(select(messages_table).where(
                messages_table.c.conversation_id == conversation_id).order_by(messages_table.c.id.desc())
                .limit(limit + 1)).mappings()]
        return rows[:limit][::-1], len(rows) > limit

    # What each staff member has read ------------------------------------------------------------
    def seen(self, conversation_id: str, staff: str) -> int:
        """The id of the last message ``staff`` has seen in the conversation (0: none)."""
        with self.engine.connect() as conn:
            return conn.execute(select(reads_table.c.last_seen_id).where(and_(
                reads_table.c.conversation_id == conversation_id, reads_table.c.staff == staff))).scalar() or 0

    def mark_seen(self, conversation_id: str, staff: str, upto: int) -> int:
        """``staff`` has seen the conversation's messages up to id ``upto`` (never beyond its last one, never
        backwards; nothing is kept for a handoff that is not open); returns the id now marked."""
        where = and_(reads_table.c.conversation_id == conversation_id, reads_table.c.staff == staff)
        with self.engine.begin() as conn:
            if conn.execute(select(handoffs_table.c.state).where(
                    handoffs_table.c.conversation_id == conversation_id)).scalar() not in OPEN:
                return 0
            latest = conn.execute(select(func.max(messages_table.c.id)).where(
                messages_table.c.conversation_id == conversation_id)).scalar() or 0
            upto = min(upto, latest)
            if upto <= 0:
                return 0
            forward = update(reads_table).where(and_(where, reads_table.c.last_seen_id < upto)).values(
                last_seen_id=upto)
            if not conn.execute(forward).rowcount and insert_once(conn, insert(reads_table).values(
                    conversation_id=conversation_id, staff=staff, last_seen_id=upto)) is None:
                conn.execute(forward)  # the row was there (at or past ``upto``), or a parallel insert won
            return conn.execute(select(reads_table.c.last_seen_id).where(where)).scalar() or 0

    # Staff alerts -------------------------------------------------------------------------------
    @property
    def alert_queue(self) -> DeliveryQueue:
        """The alert queue (the deliverer's side)."""
        return DeliveryQueue(self.engine, alerts_table, lambda: self.clock())

    def due_alerts(self, limit: int = 50) -> List[dict]:
        """Alerts to send now, oldest first."""
        return self.alert_queue.due(limit)

    def claim_alert(self, alert_id: int, lease: dt.timedelta = dt.timedelta(minutes=5)) -> bool:
        """Take a due alert for sending, for ``lease``; False when another deliverer has it."""
        return self.alert_queue.claim(alert_id, lease)

    def finish_alert(self, alert_id: int, state: str, delivered_to: Sequence[str] = (),
                     note: Optional[str] = None) -> None:
        """Close an alert: ``sent`` or ``skipped`` (``note`` says why)."""
        self.alert_queue.finish(alert_id, state, delivered_to, note)

    def retry_alert(self, alert_id: int, delivered_to: Sequence[str], error: str, max_attempts: int = 6,
                    base_delay_s: float = 30.0) -> str:
        """Some target failed: 'pending' again after a backoff, 'failed' after the last attempt."""
        return self.alert_queue.retry(alert_id, delivered_to, error, max_attempts, base_delay_s)

    def alerts(self) -> List[dict]:
        """Every staff alert, oldest first (operators and tests)."""
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(alerts_table).order_by(alerts_table.c.id)).mappings()]

    def waiting(self) -> int:
        """How many citizens wait for a person (requested, not yet taken)."""
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(handoffs_table).where(
                handoffs_table.c.state == "requested")).scalar_one()
