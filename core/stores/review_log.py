"""What staff review: questions the assistant could not answer, and citizens' feedback.

SQLAlchemy Core over SQLite by default (PostgreSQL by URL). Tables are created on first use.
Phone and ID numbers in citizens' texts are masked when written and again when read (rows written
before masking covered every form); `motcua privacy purge` later blanks the texts and keeps the rows.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import List, Optional, Sequence

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, and_, insert, select
from sqlalchemy.engine import Engine

from core.clock import now_local
from core.db import create_tables, make_engine
from core.privacy import mask_text

metadata = MetaData()

unanswered = Table(
    "unanswered", metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", String(128), nullable=False, index=True),
    Column("channel", String(32), nullable=False, default="unknown"),
    Column("asked_at", DateTime, nullable=False, index=True),
    Column("text", Text, nullable=False),
    Column("reason", String(32), nullable=False),
    Column("candidates", Text, nullable=False, default="[]"),
)

feedback = Table(
    "feedback", metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", String(128), nullable=False, index=True),
    Column("channel", String(32), nullable=False, default="unknown"),
    Column("created_at", DateTime, nullable=False, index=True),
    Column("rating", String(16), nullable=False),
    Column("comment", Text, nullable=False, default=""),
    Column("procedure_code", String(16), nullable=True),
    Column("aspect", String(32), nullable=True),
    Column("answer", Text, nullable=False, default=""),
)


class ReviewLog:
    """Records unanswered questions and feedback for the staff console."""

    def __init__(self, url: str):
        """``url``: an SQLAlchemy database URL."""
        self.url = url
        self._engine: Optional[Engine] = None

    @property
    def engine(self) -> Engine:
        """The engine, created (with the tables) on first use."""
        if self._engine is None:
            if self.url.startswith("sqlite:///"):
                from pathlib import Path

                Path(self.url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
            self._engine = make_engine(self.url)
            create_tables(metadata, self._engine)
        return self._engine

    def record_unanswered(self, conversation_id: str, channel: str, text: str, reason: str,
                          candidates: Sequence[dict] = (), when: Optional[dt.datetime] = None) -> int:
        """Store a question the assistant could not answer; returns its id."""
        with self.engine.begin() as conn:
            result = conn.execute(insert(unanswered).values(
                conversation_id=conversation_id, channel=channel or "unknown", text=mask_text(text), reason=reason,
                asked_at=when or now_local(), candidates=json.dumps(list(candidates), ensure_ascii=False)))
            return int(result.inserted_primary_key[0])

    def record_feedback(self, conversation_id: str, channel: str, rating: str, comment: str = "",
                        procedure_code: Optional[str] = None, aspect: Optional[str] = None, answer: str = "",
                        when: Optional[dt.datetime] = None) -> int:
        """Store a rating ('positive' / 'negative') of the answer it refers to; returns its id."""
        if rating not in ("positive", "negative"):
            raise ValueError(f"rating must be 'positive' or 'negative', not {rating!r}")
        with self.engine.begin() as conn:
            result = conn.execute(insert(feedback).values(
                conversation_id=conversation_id, channel=channel or "unknown", rating=rating,
                comment=mask_text(comment), procedure_code=procedure_code, aspect=aspect, answer=mask_text(answer),
                created_at=when or now_local()))
            return int(result.inserted_primary_key[0])

    def unanswered_rows(self) -> List[dict]:
        """All unanswered questions, newest first, numbers masked."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(unanswered).order_by(unanswered.c.asked_at.desc(), unanswered.c.id.desc()))
            return [dict(r._mapping, text=mask_text(r.text), candidates=json.loads(r.candidates)) for r in rows]

    def unanswered_since(self, since: dt.datetime, exclude_reasons: Sequence[str] = ()) -> List[dict]:
        """Questions asked since ``since`` that still have their text (not purged), oldest first, numbers
        masked; ``exclude_reasons``: reason codes left out."""
        query = select(unanswered).where(and_(unanswered.c.asked_at >= since, unanswered.c.text != ""))
        if exclude_reasons:
            query = query.where(unanswered.c.reason.notin_(list(exclude_reasons)))
        with self.engine.connect() as conn:
            return [dict(r._mapping, text=mask_text(r.text))
                    for r in conn.execute(query.order_by(unanswered.c.id))]

    def feedback_rows(self) -> List[dict]:
        """All feedback, newest first, numbers masked."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(feedback).order_by(feedback.c.created_at.desc(), feedback.c.id.desc()))
            return [dict(r._mapping, comment=mask_text(r.comment), answer=mask_text(r.answer)) for r in rows]
