"""What the channels remember between messages, in the review database (SQLite or PostgreSQL).

- offered options (button payloads behind Telegram's short callback data and Zalo's numbers),
- inbound message ids already handled (webhooks are retried; a retry must not answer twice),
- when each citizen last wrote or polled (Zalo's reply window, "is the web widget open"),
- OAuth tokens that rotate (Zalo's refresh token works once, so the new one must be kept),
- messages waiting for a web widget to fetch them.

Every method is synchronous and short; async callers run them with ``asyncio.to_thread``.
"""
from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from typing import Callable, Iterable, List, Optional, Tuple

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    delete,
    insert,
    select,
    update,
)

from core.clock import utc_now
from core.db import create_tables, insert_once, make_engine

metadata = MetaData()

options_table = Table(
    "channel_options", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("batch", String(16), nullable=False),
    Column("idx", Integer, nullable=False),
    Column("title", String(500), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Index("ix_channel_options_user", "channel", "user_id", "batch"),
)

seen_table = Table(
    "channel_seen", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),
    Column("message_id", String(128), nullable=False),
    Column("seen_at", DateTime, nullable=False),
    UniqueConstraint("channel", "message_id", name="uq_channel_seen"),
)

contacts_table = Table(
    "channel_contacts", metadata,
    Column("channel", String(16), primary_key=True),
    Column("user_id", String(128), primary_key=True),
    Column("last_inbound_at", DateTime, nullable=True),
    Column("last_poll_at", DateTime, nullable=True),
)

tokens_table = Table(
    "channel_tokens", metadata,
    Column("name", String(32), primary_key=True),
    Column("access_token", Text, nullable=False),
    Column("refresh_token", Text, nullable=True),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

web_inbox_table = Table(
    "web_inbox", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(128), nullable=False, index=True),
    Column("message", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("fetched", Boolean, nullable=False, default=False),
)


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: Optional[str]
    version: int


class ChannelState:
    """The channels' shared memory; safe with several Rasa workers on one database."""

    def __init__(self, url: str, clock: Callable[[], dt.datetime] = utc_now, option_ttl_minutes: int = 120):
        self.engine = make_engine(url)
        create_tables(metadata, self.engine)
        self.clock = clock
        self.option_ttl = dt.timedelta(minutes=option_ttl_minutes)

    # Offered options ---------------------------------------------------------------------------
    def offer(self, channel: str, user_id: str, buttons: Iterable[dict]) -> str:
        """Remember the buttons offered to a citizen; returns the batch id that names them."""
        batch = secrets.token_hex(4)
        rows = [{"channel": channel, "user_id": user_id, "batch": batch, "idx": i,
                 "title": str(b.get("title", ""))[:500], "payload": str(b.get("payload", "")),
                 "created_at": self.clock()} for i, b in enumerate(buttons)]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(insert(options_table), rows)
        return batch

    def option(self, channel: str, user_id: str, batch: Optional[str], idx: int) -> Optional[Tuple[str, str]]:
        """(title, payload) of an offered option; ``batch=None`` means the latest offer. None when unknown or old."""
        query = select(options_table.c.title, options_table.c.payload, options_table.c.created_at).where(and_(
            options_table.c.channel == channel, options_table.c.user_id == user_id, options_table.c.idx == idx))
        if batch is None:
            query = query.order_by(options_table.c.id.desc()).limit(1)
        else:
            query = query.where(options_table.c.batch == batch)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None or self.clock() - row.created_at > self.option_ttl:
            return None
        return row.title, row.payload

    def latest_offer_size(self, channel: str, user_id: str) -> int:
        """How many options the latest still-valid offer to this citizen had (0: none)."""
        with self.engine.connect() as conn:
            last = conn.execute(select(options_table.c.batch, options_table.c.created_at).where(and_(
                options_table.c.channel == channel, options_table.c.user_id == user_id))
                .order_by(options_table.c.id.desc()).limit(1)).first()
            if last is None or self.clock() - last.created_at > self.option_ttl:
                return 0
            return len(conn.execute(select(options_table.c.id).where(and_(
                options_table.c.channel == channel, options_table.c.user_id == user_id,
                options_table.c.batch == last.batch))).all())

    def withdraw_offers(self, channel: str, user_id: str) -> None:
        """Forget the options offered to a citizen (they wrote something else, so numbers mean numbers again)."""
        with self.engine.begin() as conn:
            conn.execute(delete(options_table).where(and_(options_table.c.channel == channel,
                                                          options_table.c.user_id == user_id)))

    # Inbound message ids -----------------------------------------------------------------------
    def first_time(self, channel: str, message_id: str) -> bool:
        """True the first time a message id is seen on a channel; False for a retried delivery."""
        with self.engine.begin() as conn:
            return insert_once(conn, insert(seen_table).values(channel=channel, message_id=str(message_id)[:128],
                                                               seen_at=self.clock())) is not None

    def prune(self, older_than_days: int = 7) -> None:
        """Drop remembered ids and options older than ``older_than_days``."""
        limit = self.clock() - dt.timedelta(days=older_than_days)
        with self.engine.begin() as conn:
            conn.execute(delete(seen_table).where(seen_table.c.seen_at < limit))
            conn.execute(delete(options_table).where(options_table.c.created_at < limit))

    # Contacts ------------------------------------------------------------------------------------
    def _touch(self, channel: str, user_id: str, column: str) -> None:
        now = self.clock()
        with self.engine.begin() as conn:
            done = conn.execute(update(contacts_table).where(and_(
                contacts_table.c.channel == channel, contacts_table.c.user_id == user_id)
            ).values({column: now})).rowcount
            if not done and insert_once(conn, insert(contacts_table).values(
                    channel=channel, user_id=user_id, **{column: now})) is None:
                conn.execute(update(contacts_table).where(and_(
                    contacts_table.c.channel == channel, contacts_table.c.user_id == user_id)).values({column: now}))

    def inbound(self, channel: str, user_id: str) -> None:
        """Record that a citizen just wrote on a channel."""
        self._touch(channel, user_id, "last_inbound_at")

    def polled(self, channel: str, user_id: str) -> None:
        """Record that a citizen's widget just asked for new messages."""
        self._touch(channel, user_id, "last_poll_at")

    def contact(self, channel: str, user_id: str) -> Tuple[Optional[dt.datetime], Optional[dt.datetime]]:
        """(last inbound, last poll) times of a citizen on a channel."""
        with self.engine.connect() as conn:
            row = conn.execute(select(contacts_table.c.last_inbound_at, contacts_table.c.last_poll_at).where(and_(
                contacts_table.c.channel == channel, contacts_table.c.user_id == user_id))).first()
        return (row[0], row[1]) if row else (None, None)

    # Tokens ------------------------------------------------------------------------------------
    def tokens(self, name: str, seed: Optional[Tokens] = None) -> Optional[Tokens]:
        """The stored tokens of ``name``; the first call stores ``seed`` (from the environment)."""
        with self.engine.begin() as conn:
            row = conn.execute(select(tokens_table).where(tokens_table.c.name == name)).mappings().first()
            if row is None and seed is not None:
                insert_once(conn, insert(tokens_table).values(name=name, access_token=seed.access_token,
                                                              refresh_token=seed.refresh_token, version=1,
                                                              updated_at=self.clock()))
                row = conn.execute(select(tokens_table).where(tokens_table.c.name == name)).mappings().first()
        return Tokens(row["access_token"], row["refresh_token"], row["version"]) if row else None

    def replace_tokens(self, name: str, expected_version: int, access_token: str, refresh_token: Optional[str]) -> bool:
        """Store refreshed tokens unless someone else already did (compare-and-set on the version)."""
        with self.engine.begin() as conn:
            return conn.execute(update(tokens_table).where(and_(
                tokens_table.c.name == name, tokens_table.c.version == expected_version)).values(
                access_token=access_token, refresh_token=refresh_token, version=expected_version + 1,
                updated_at=self.clock())).rowcount == 1

    # Web inbox ---------------------------------------------------------------------------------
    def web_push(self, conversation_id: str, message: dict) -> int:
        """Queue a message for a web widget; returns its id."""
        with self.engine.begin() as conn:
            return conn.execute(insert(web_inbox_table).values(
                conversation_id=conversation_id, message=json.dumps(message, ensure_ascii=False),
                created_at=self.clock(), fetched=False)).inserted_primary_key[0]

    def web_fetch(self, conversation_id: str) -> List[dict]:
        """Messages waiting for a widget, oldest first, each handed out once."""
        with self.engine.begin() as conn:
            rows = conn.execute(select(web_inbox_table.c.id, web_inbox_table.c.message).where(and_(
                web_inbox_table.c.conversation_id == conversation_id, web_inbox_table.c.fetched.is_(False)))
                .order_by(web_inbox_table.c.id)).all()
            taken = []
            for row in rows:
                if conn.execute(update(web_inbox_table).where(and_(
                        web_inbox_table.c.id == row.id, web_inbox_table.c.fetched.is_(False)))
                        .values(fetched=True)).rowcount == 1:
                    taken.append(dict(json.loads(row.message), id=row.id))
        return taken

    def close(self) -> None:
        self.engine.dispose()
