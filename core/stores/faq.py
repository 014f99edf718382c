"""Staff answers (FAQ): the table the console writes and the assistant reads."""
from __future__ import annotations

import time
from typing import List

from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, String, Table, Text, inspect, select
from sqlalchemy.engine import Engine

from core.db import make_engine
from core.formatting import date
from core.texts import text

faq_metadata = MetaData()
faq_table = Table(
    "staff_faq", faq_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("author", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
)


class ActiveAnswers:
    """The active entries of ``staff_faq``, re-read at most every ``ttl_s`` seconds."""

    def __init__(self, url: str, ttl_s: float = 30.0):
        self.engine: Engine = make_engine(url)
        self.ttl_s = ttl_s
        self._entries: List[dict] = []
        self._read_at = 0.0

    def entries(self) -> List[dict]:
        """The active entries (empty when the console never created its tables)."""
        if time.monotonic() - self._read_at > self.ttl_s:
            if inspect(self.engine).has_table(faq_table.name):
                with self.engine.connect() as conn:
                    self._entries = [dict(r) for r in conn.execute(
                        select(faq_table).where(faq_table.c.active.is_(True))).mappings()]
            self._read_at = time.monotonic()
        return self._entries


def staff_reply(entry: dict) -> str:
    """The citizen's text: the answer, who stands behind it, and a next step."""
    return text("faq.staff_answer", answer=entry["answer"].strip(), date=date(entry["created_at"]))
