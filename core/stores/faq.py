"""Staff answers (FAQ) as the assistant uses them: the closest active entry to a question."""
from __future__ import annotations

import time
from typing import List, Optional

from sqlalchemy import inspect, select

from core.db import make_engine
from knowledge_base.grouping import best_faq


class StaffAnswers:
    """Reads the console's ``staff_faq`` table, re-reading it at most every ``ttl_s`` seconds."""

    def __init__(self, url: str, ttl_s: float = 30.0):
        self.engine = make_engine(url)
        self.ttl_s = ttl_s
        self._entries: List[dict] = []
        self._read_at = 0.0

    def entries(self) -> List[dict]:
        if time.monotonic() - self._read_at > self.ttl_s:
            from console.store import faq_table

            if inspect(self.engine).has_table(faq_table.name):
                with self.engine.connect() as conn:
                    self._entries = [dict(r) for r in conn.execute(
                        select(faq_table).where(faq_table.c.active.is_(True))).mappings()]
            self._read_at = time.monotonic()
        return self._entries

    def match(self, question: str) -> Optional[dict]:
        """The staff answer for ``question``, or None."""
        return best_faq(question, self.entries())


def staff_reply(entry: dict) -> str:
    """The citizen's text: the answer, who stands behind it, and a next step."""
    return (f"{entry['answer'].strip()}\n(Trả lời của cán bộ Sở, cập nhật {entry['created_at']:%d/%m/%Y}.) "
            "Bạn cần hỏi thêm gì không?")
