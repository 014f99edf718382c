"""Past conversations, read from Rasa's SQL tracker store (table ``events``), numbers masked (also in
events stored before masking covered every written form)."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Iterator, List, Optional

from sqlalchemy import MetaData, Table, and_, inspect, select

from core.db import make_engine
from core.privacy import mask_text
from core.retention import PURGED

# What staff see in place of a turn whose words the retention purge removed.
PURGED_TEXT = "(nội dung đã xóa khi hết thời hạn lưu trữ)"


@dataclass(frozen=True)
class Turn:
    at: dt.datetime
    who: str  # citizen | bot
    text: str
    intent: Optional[str] = None
    channel: Optional[str] = None


class Conversations:
    """Read-only view of the tracker store."""

    def __init__(self, url: str):
        self.engine = make_engine(url)
        self._events: Optional[Table] = None

    @property
    def events(self) -> Optional[Table]:
        if self._events is None and inspect(self.engine).has_table("events"):
            self._events = Table("events", MetaData(), autoload_with=self.engine)
        return self._events

    def turns(self, sender_id: str) -> List[Turn]:
        """What the citizen and the assistant said, in order, phone / ID numbers masked."""
        ev = self.events
        if ev is None:
            return []
        with self.engine.connect() as conn:
            rows = conn.execute(select(ev.c.type_name, ev.c.timestamp, ev.c.data).where(and_(
                ev.c.sender_id == sender_id, ev.c.type_name.in_(("user", "bot")))).order_by(ev.c.id)).all()
        return list(_turns(rows))

    def close(self) -> None:
        self.engine.dispose()


def _turns(rows) -> Iterator[Turn]:
    for type_name, timestamp, data in rows:
        event = json.loads(data)
        text = event.get("text") or ""
        if type_name == "bot" and not text and (event.get("data") or {}).get("buttons"):
            text = " / ".join(b.get("title", "") for b in event["data"]["buttons"])
        if event.get(PURGED):
            text = PURGED_TEXT
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name") if type_name == "user" else None
        yield Turn(dt.datetime.fromtimestamp(timestamp), "citizen" if type_name == "user" else "bot", mask_text(text),
                   intent, event.get("input_channel"))


PREFIXES = (("tg-", "telegram"), ("zalo-", "zalo"), ("web-", "web"))
CHANNELS = ("web", "telegram", "zalo", "rest")  # every channel a conversation id can name (``channel_of``)


def channel_of(sender_id: str) -> str:
    """The channel a conversation id names (tg-, zalo-, web-); other ids came through REST / socket.io."""
    for prefix, name in PREFIXES:
        if sender_id.startswith(prefix):
            return name
    return "rest"
