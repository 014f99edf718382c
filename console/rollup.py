"""The tracker store summed up for the console's pages, kept current as messages arrive.

Rasa's ``events`` table grows by a dozen rows per citizen message; reading it whole for a page stops working
after a few thousand conversations. The console keeps, in its own database, what its pages show:

- ``console_conversations``: one row per conversation (channel, first and last message, citizen messages,
  the citizen's last words masked);
- ``console_conversation_days``: per conversation and day, its citizen messages (the daily table and chart) and
  their folded, masked words (search; the retention purge blanks a day's words past the cut-off);
- ``console_procedure_asks``: the procedures a conversation was shown, with the day first shown;
- ``console_reply_times``: per day, how long the assistant took to reply, as a histogram of 5 % buckets.

``Rollup.catch_up`` reads the events past its watermark in batches and adds them; pages call it with a
small budget before they read (a quiet box is always current), and `motcua console rollup` or the console's
background thread catches up the rest. Two workers cannot count an event twice: each batch moves the
watermark with a compare-and-set in the same transaction as its sums. Events are read in id order and only
up to the first missing id: on PostgreSQL a transaction that took a lower id may commit after a higher one,
so a gap is waited for (``GAP_GRACE_S``) before it is taken for a rolled-back transaction and passed over.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    func,
    insert,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine

from console.conversations import channel_of
from core.db import create_tables, insert_once, make_engine
from core.privacy import mask_text
from core.text import fold

BATCH = 20_000  # events read and summed per transaction
GAP_GRACE_S = 30.0  # how long a missing event id is waited for before it is passed over
SEARCH_CHARS = 1000  # folded citizen words kept per conversation and day, for search
LAST_TEXT_CHARS = 300
BUCKET = math.log(1.05)  # reply-time histogram: 5 % wide buckets of milliseconds

metadata = MetaData()

state_table = Table(
    "console_rollup_state", metadata,
    Column("name", String(32), primary_key=True),
    Column("last_id", Integer, nullable=False),
    Column("updated_at", DateTime, nullable=True),
)

conversations_table = Table(
    "console_conversations", metadata,
    Column("sender_id", String(255), primary_key=True),
    Column("channel", String(16), nullable=False),
    Column("first_at", DateTime, nullable=False),
    Column("last_at", DateTime, nullable=False),
    Column("messages", Integer, nullable=False),
    Column("last_text", Text, nullable=False, default=""),
    Column("awaiting", Float, nullable=True),  # epoch of a citizen message the assistant has not answered yet
    Index("ix_console_conversations_last", "last_at"),
    Index("ix_console_conversations_channel_last", "channel", "last_at"),
)

days_table = Table(
    "console_conversation_days", metadata,
    Column("sender_id", String(255), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("channel", String(16), nullable=False),
    Column("messages", Integer, nullable=False),
    Column("words", Text, nullable=False, default=""),
    Index("ix_console_conversation_days_day", "day", "channel", "messages"),
)

procedures_table = Table(
    "console_procedure_asks", metadata,
    Column("sender_id", String(255), primary_key=True),
    Column("code", String(32), primary_key=True),
    Column("day", Date, nullable=False),
    Index("ix_console_procedure_asks_day", "day", "code"),
)

replies_table = Table(
    "console_reply_times", metadata,
    Column("day", Date, primary_key=True),
    Column("bucket", Integer, primary_key=True),
    Column("count", Integer, nullable=False),
)


def mark(conn: Connection, name: str) -> int:
    """The watermark ``name`` (the id of the last row a catch-up took in; 0 before the first)."""
    return int(conn.execute(select(state_table.c.last_id).where(state_table.c.name == name)).scalar() or 0)


def move_mark(conn: Connection, name: str, last: int, new: int) -> bool:
    """Move the watermark ``name`` from ``last`` to ``new`` in the caller's transaction; False when another worker
    moved it first (the caller then drops its batch)."""
    if last == 0:
        insert_once(conn, insert(state_table).values(name=name, last_id=0, updated_at=dt.datetime.now()))
    return conn.execute(update(state_table).where(and_(state_table.c.name == name, state_table.c.last_id == last))
                        .values(last_id=new, updated_at=dt.datetime.now())).rowcount == 1


def bucket_of(ms: float) -> int:
    """The reply-time histogram bucket of ``ms`` milliseconds."""
    return int(math.floor(math.log(max(ms, 1.0)) / BUCKET))


def bucket_ms(bucket: int) -> float:
    """The middle of a histogram bucket, in milliseconds."""
    return math.exp((bucket + 0.5) * BUCKET)


@dataclass
class _Conversation:
    first: float
    last: float
    messages: int = 0
    last_text: str = ""
    awaiting: Optional[float] = None  # epoch of the first citizen message the assistant has not answered yet


@dataclass
class _Batch:
    """What one batch of events adds."""

    conversations: Dict[str, _Conversation] = field(default_factory=dict)
    days: Dict[Tuple[str, dt.date], int] = field(default_factory=lambda: defaultdict(int))
    words: Dict[Tuple[str, dt.date], str] = field(default_factory=lambda: defaultdict(str))
    procedures: Dict[Tuple[str, str], dt.date] = field(default_factory=dict)
    replies: Dict[Tuple[dt.date, int], int] = field(default_factory=lambda: defaultdict(int))


def _upsert(conn: Connection, table: Table, rows: List[dict], keys: Iterable[str], add: Iterable[str] = (),
            replace: Iterable[str] = (), append: Iterable[str] = ()) -> None:
    """INSERT ``rows``; on a key conflict add the ``add`` columns to the stored ones, overwrite ``replace`` and
    append the ``append`` texts (up to SEARCH_CHARS)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    statement = dialect_insert(table)
    values = {c: table.c[c] + statement.excluded[c] for c in add}
    values.update({c: statement.excluded[c] for c in replace})
    values.update({c: func.substr(table.c[c] + " " + statement.excluded[c], 1, SEARCH_CHARS) for c in append})
    statement = (statement.on_conflict_do_update(index_elements=list(keys), set_=values) if values
                 else statement.on_conflict_do_nothing(index_elements=list(keys)))
    for start in range(0, len(rows), 2000):
        conn.execute(statement, rows[start:start + 2000])


class Rollup:
    """The console's sums of the tracker store (``tracker_url``), kept in the console's database."""

    def __init__(self, tracker_url: str, database_url: str, gap_grace_s: float = GAP_GRACE_S,
                 clock=time.monotonic):
        self.tracker: Engine = make_engine(tracker_url)
        self.main: Engine = make_engine(database_url)
        create_tables(metadata, self.main)
        self.gap_grace_s, self.clock = gap_grace_s, clock
        self._events: Optional[Table] = None
        self._gap: Optional[Tuple[int, float]] = None  # (the id after the gap, when the gap was first seen)

    @property
    def events(self) -> Optional[Table]:
        """Rasa's events table (None until Rasa has created it)."""
        if self._events is None and inspect(self.tracker).has_table("events"):
            self._events = Table("events", MetaData(), autoload_with=self.tracker)
        return self._events

    def watermark(self) -> int:
        """The id of the last event summed."""
        with self.main.connect() as conn:
            return mark(conn, "events")

    def pending(self, cap: int = 100_000) -> int:
        """Events not summed yet, counted up to ``cap`` (a page says its figures are being brought up to date)."""
        ev = self.events
        if ev is None:
            return 0
        waiting = select(ev.c.id).where(ev.c.id > self.watermark()).limit(cap).subquery()
        with self.tracker.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(waiting)).scalar() or 0)

    # What the pages read ----------------------------------------------------------------------------
    def conversations(self, search: str = "", channel: str = "", page: int = 1,
                      per_page: int = 50) -> Tuple[List[dict], bool]:
        """One page of conversations, the latest first, and whether another page follows. ``search`` matches
        the citizens' words (accents and case folded) or the conversation id; ``channel`` one of PREFIXES' names
        or 'rest'."""
        t = conversations_table
        query = select(t.c.sender_id, t.c.channel, t.c.first_at, t.c.last_at, t.c.messages, t.c.last_text)
        if channel:
            query = query.where(t.c.channel == channel)
        needle = " ".join(fold(search).split())
        if needle:
            pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            said = select(days_table.c.sender_id).where(days_table.c.words.like(pattern, escape="\\"))
            query = query.where(or_(t.c.sender_id.in_(said), t.c.sender_id.like(pattern, escape="\\")))
        query = query.order_by(t.c.last_at.desc(), t.c.sender_id).offset((page - 1) * per_page).limit(per_page + 1)
        with self.main.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        return [dict(r, id=r["sender_id"], first=r["first_at"], last=r["last_at"]) for r in rows[:per_page]], \
            len(rows) > per_page

    def daily(self, start: dt.date, end: dt.date) -> List[dict]:
        """Per day and channel: conversations with a citizen message that day, and their messages."""
        t = days_table
        query = (select(t.c.day, t.c.channel, func.count().label("conversations"),
                        func.sum(t.c.messages).label("messages"))
                 .where(and_(t.c.day >= start, t.c.day <= end)).group_by(t.c.day, t.c.channel)
                 .order_by(t.c.day, t.c.channel))
        with self.main.connect() as conn:
            return [{"day": r.day, "channel": r.channel, "conversations": int(r.conversations),
                     "messages": int(r.messages or 0)} for r in conn.execute(query)]

    def talked(self, start: dt.date, end: dt.date) -> int:
        """Conversations with a citizen message within the days."""
        t = days_table
        with self.main.connect() as conn:
            return int(conn.execute(select(func.count(t.c.sender_id.distinct())).where(and_(
                t.c.day >= start, t.c.day <= end))).scalar() or 0)

    def top_procedures(self, start: dt.date, end: dt.date, limit: int = 10) -> List[Tuple[str, int]]:
        """The procedures shown in the most conversations first shown them within the days."""
        t = procedures_table
        n = func.count().label("n")
        query = (select(t.c.code, n).where(and_(t.c.day >= start, t.c.day <= end)).group_by(t.c.code)
                 .order_by(n.desc(), t.c.code).limit(limit))
        with self.main.connect() as conn:
            return [(r.code, int(r.n)) for r in conn.execute(query)]

    def median_reply_ms(self, start: dt.date, end: dt.date) -> Optional[float]:
        """The median reply time within the days (to 5 %), or None without replies."""
        t = replies_table
        query = (select(t.c.bucket, func.sum(t.c.count).label("n")).where(and_(t.c.day >= start, t.c.day <= end))
                 .group_by(t.c.bucket).order_by(t.c.bucket))
        with self.main.connect() as conn:
            counts = [(int(r.bucket), int(r.n)) for r in conn.execute(query)]
        total = sum(n for _, n in counts)
        if not total:
            return None
        seen = 0
        for bucket, n in counts:
            seen += n
            if seen * 2 >= total:
                return bucket_ms(bucket)
        return None  # unreachable

    def catch_up(self, budget: Optional[int] = None, batch: int = BATCH) -> int:
        """Sum the events past the watermark (at most about ``budget`` of them; None: all); how many were read."""
        total = 0
        while budget is None or total < budget:
            size = batch if budget is None else min(batch, budget - total)
            read, complete = self._step(size)
            total += read
            if not complete:
                break
        return total

    def _step(self, size: int) -> Tuple[int, bool]:
        """One batch: (events read, whether a full batch was read and more may follow)."""
        ev = self.events
        if ev is None:
            return 0, False
        last = self.watermark()
        with self.tracker.connect() as conn:
            rows = conn.execute(select(ev.c.id, ev.c.sender_id, ev.c.type_name, ev.c.timestamp, ev.c.data)
                                .where(ev.c.id > last).order_by(ev.c.id).limit(size)).all()
        ready = self._contiguous(rows, last)
        if not ready:
            return 0, False
        senders = sorted({r.sender_id for r in ready if r.sender_id})
        with self.main.connect() as conn:
            known = self._known(conn, senders)
        batch = self._sum(ready, known)
        with self.main.begin() as conn:
            if not move_mark(conn, "events", last, int(ready[-1].id)):
                return 0, False  # another worker summed these events
            self._write(conn, batch)
        return len(ready), len(ready) == len(rows) == size

    def _contiguous(self, rows, last: int) -> list:
        """The rows up to the first missing id; past a gap once it has been waited for ``gap_grace_s``."""
        expect, ready = last + 1, []
        for row in rows:
            if row.id != expect:
                break
            ready.append(row)
            expect += 1
        if ready or not rows:
            return ready
        now = self.clock()
        if self._gap is None or self._gap[0] != rows[0].id:
            self._gap = (rows[0].id, now)  # first seen: wait for the missing ids
            return []
        if now - self._gap[1] < self.gap_grace_s:
            return []
        self._gap = None  # waited long enough: a rolled-back transaction; go on from the next id
        return [rows[0]] + self._contiguous(rows[1:], rows[0].id)

    @staticmethod
    def _known(conn: Connection, senders: List[str]) -> Dict[str, _Conversation]:
        """The stored rows of ``senders``, to add the batch to."""
        t, out = conversations_table, {}
        for start in range(0, len(senders), 500):
            for row in conn.execute(select(t.c.sender_id, t.c.first_at, t.c.last_at, t.c.messages, t.c.last_text,
                                           t.c.awaiting).where(t.c.sender_id.in_(senders[start:start + 500]))):
                out[row.sender_id] = _Conversation(row.first_at.timestamp(), row.last_at.timestamp(), row.messages,
                                                   row.last_text, row.awaiting)
        return out

    def _sum(self, rows, known: Dict[str, _Conversation]) -> _Batch:
        batch = _Batch()
        for row in rows:
            kind, sender, ts = row.type_name, row.sender_id or "", float(row.timestamp or 0)
            if kind not in ("user", "bot", "slot") or not sender:
                continue
            conv = batch.conversations.get(sender)
            if conv is None:
                conv = batch.conversations[sender] = known.get(sender) or _Conversation(first=ts, last=ts)
            day = dt.datetime.fromtimestamp(ts).date()
            conv.first, conv.last = min(conv.first, ts), max(conv.last, ts)
            if kind == "user":
                event = _json(row.data)
                words = mask_text(str(event.get("text") or ""))
                conv.messages += 1
                conv.last_text = words[:LAST_TEXT_CHARS]
                if conv.awaiting is None:
                    conv.awaiting = ts
                batch.days[(sender, day)] += 1
                if len(batch.words[(sender, day)]) < SEARCH_CHARS:
                    batch.words[(sender, day)] = (batch.words[(sender, day)] + " " + fold(words)).strip()
            elif kind == "bot":
                if conv.awaiting is not None:
                    batch.replies[(day, bucket_of((ts - conv.awaiting) * 1000))] += 1
                    conv.awaiting = None
            else:
                event = _json(row.data)
                if event.get("name") == "procedure_code" and event.get("value"):
                    batch.procedures.setdefault((sender, str(event["value"])[:32]), day)
        return batch

    @staticmethod
    def _write(conn: Connection, batch: _Batch) -> None:
        rows = [{"sender_id": sender, "channel": channel_of(sender), "first_at": dt.datetime.fromtimestamp(conv.first),
                 "last_at": dt.datetime.fromtimestamp(conv.last), "messages": conv.messages,
                 "last_text": conv.last_text, "awaiting": conv.awaiting}
                for sender, conv in batch.conversations.items() if conv.messages]  # a citizen has said something
        _upsert(conn, conversations_table, rows, ["sender_id"],
                replace=["first_at", "last_at", "messages", "last_text", "awaiting"])
        _upsert(conn, days_table, [{"sender_id": s, "day": d, "channel": channel_of(s), "messages": n,
                                    "words": batch.words[(s, d)][:SEARCH_CHARS]}
                                   for (s, d), n in batch.days.items()], ["sender_id", "day"], add=["messages"],
                append=["words"])
        _upsert(conn, procedures_table, [{"sender_id": s, "code": c, "day": d}
                                         for (s, c), d in batch.procedures.items()], ["sender_id", "code"])
        _upsert(conn, replies_table, [{"day": d, "bucket": b, "count": n} for (d, b), n in batch.replies.items()],
                ["day", "bucket"], add=["count"])

    def close(self) -> None:
        self.tracker.dispose()
        self.main.dispose()


def _json(data: Optional[str]) -> dict:
    try:
        value = json.loads(data or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def catch_up(settings, budget: Optional[int] = None) -> int:
    """Bring the console's sums up to date with the tracker store of ``settings``; events read."""
    rollup = Rollup(settings.servers.tracker_store_url, settings.storage.database_url)
    try:
        return rollup.catch_up(budget)
    finally:
        rollup.close()
