"""Status-change notices: who asked for them, and the outbox the channels deliver from."""
from __future__ import annotations

import datetime as dt
from typing import Iterable, List, Optional

from sqlalchemy import and_, case, delete, func, insert, or_, select, update

from core import texts
from core.db import DeliveryQueue, after_failure, insert_once
from core.formatting import moment
from core.vocabulary import status_name
from dossiers.codes import check_code
from dossiers.schema import outbox, outbox_alerts, subscriptions

# A deliverer sends a notice within seconds (the channels' clients time out after 10-30 s): one still 'sending'
# this long after it was claimed was left by a deliverer that died mid-send.
STUCK_AFTER = dt.timedelta(minutes=10)


class NoticeOutbox:
    """Subscriptions and the notice outbox (mixed into DossierService: needs ``engine`` and ``clock``)."""

    def _queue_notices(self, conn, code, status, at, history_id, now) -> int:
        """Queue one notice per subscribed conversation for a new history entry; returns how many."""
        subs = conn.execute(select(subscriptions).where(subscriptions.c.dossier_code == code)).mappings().all()
        text = notice_text(code, status, at)
        queued = 0
        for sub in subs:
            key = f"{code}:{history_id}:{sub['channel']}:{sub['conversation_id']}"
            if insert_once(conn, insert(outbox).values(
                    event_key=key, dossier_code=code, conversation_id=sub["conversation_id"],
                    channel=sub["channel"], text=text, state="pending", attempts=0, next_attempt_at=now,
                    created_at=now)) is not None:
                queued += 1
        return queued

    def subscribe(self, code: str, conversation_id: str, channel: str) -> bool:
        """Opt a conversation in to status-change notices of a dossier; False when already in."""
        check = check_code(code)
        if not check.ok:
            raise ValueError(check.problem)
        with self.engine.begin() as conn:
            return insert_once(conn, insert(subscriptions).values(
                dossier_code=check.code, conversation_id=conversation_id, channel=channel or "unknown",
                created_at=self.clock())) is not None

    def unsubscribe(self, code: str, conversation_id: str, channel: str) -> int:
        """Stop notices of a dossier to a conversation; returns how many subscriptions were removed."""
        with self.engine.begin() as conn:
            return conn.execute(delete(subscriptions).where(and_(
                subscriptions.c.dossier_code == check_code(code).code,
                subscriptions.c.conversation_id == conversation_id, subscriptions.c.channel == channel))).rowcount

    def _due_query(self, channels: Optional[Iterable[str]]):
        query = select(outbox).where(and_(outbox.c.state == "pending", outbox.c.next_attempt_at <= self.clock()))
        if channels is not None:
            query = query.where(outbox.c.channel.in_(list(channels)))
        return query.order_by(outbox.c.id)

    def due_notices(self, channels: Optional[Iterable[str]] = None, limit: int = 100) -> List[dict]:
        """Pending notices whose next attempt is due, oldest first."""
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(self._due_query(channels).limit(limit)).mappings()]

    def claim_next(self, channels: Optional[Iterable[str]] = None) -> Optional[dict]:
        """Take the oldest due notice for sending (None: none is due), in one transaction. On PostgreSQL the row is
        chosen ``FOR UPDATE SKIP LOCKED``: deliverers running at once take different notices and never wait on one
        another; SQLite's transactions take the write lock first (``core.db.make_engine``), one at a time. One
        notice per claim: a deliverer that dies holds at most one notice in 'sending', and that one is never
        retried (it may have reached the citizen; a notice is never sent twice): staff are alerted instead."""
        with self.engine.begin() as conn:
            query = self._due_query(channels).limit(1)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            row = conn.execute(query).mappings().first()
            if row is None:
                return None
            now = self.clock()
            taken = conn.execute(update(outbox).where(and_(outbox.c.id == row["id"], outbox.c.state == "pending"))
                                 .values(state="sending", claimed_at=now)).rowcount
            return {**dict(row), "state": "sending", "claimed_at": now} if taken == 1 else None

    def mark_sent(self, notice_id: int) -> bool:
        """Record a delivered notice; False when it was no longer pending or claimed (never send twice)."""
        with self.engine.begin() as conn:
            return conn.execute(update(outbox).where(and_(outbox.c.id == notice_id,
                                                          outbox.c.state.in_(("pending", "sending"))))
                                .values(state="sent", sent_at=self.clock(),
                                        attempts=outbox.c.attempts + 1)).rowcount == 1

    def mark_failed(self, notice_id: int, error: str, max_attempts: int = 6, base_delay_s: float = 30.0) -> str:
        """Record a failed delivery: retried later with exponential backoff, 'failed' after the last try."""
        with self.engine.begin() as conn:
            row = conn.execute(select(outbox.c.attempts, outbox.c.state).where(outbox.c.id == notice_id)).first()
            if row is None:
                raise KeyError(notice_id)
            if row[1] == "sent":
                return "sent"
            attempts = row[0] + 1
            state, delay = after_failure(attempts, max_attempts, base_delay_s)
            conn.execute(update(outbox).where(outbox.c.id == notice_id).values(
                attempts=attempts, state=state, last_error=error[:2000], next_attempt_at=self.clock() + delay))
            return state

    def defer(self, notice_id: int, reason: str, wait: dt.timedelta, max_age: dt.timedelta) -> str:
        """A notice the channel cannot take yet (the widget is closed, Zalo's reply window is shut): pending again
        after ``wait`` with its tries untouched, or 'expired' once it is older than ``max_age`` (a status that
        late is no news). Returns the new state."""
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(update(outbox).where(and_(outbox.c.id == notice_id,
                                                             outbox.c.state.in_(("pending", "sending"))))
                                   .values(state=case((outbox.c.created_at < now - max_age, "expired"),
                                                      else_="pending"),
                                           last_error=reason[:2000], next_attempt_at=now + wait))
            row = conn.execute(select(outbox.c.state).where(outbox.c.id == notice_id)).first()
        if row is None:
            raise KeyError(notice_id)
        return row[0]

    def mark_unknown(self, notice_id: int, error: str) -> bool:
        """A send whose outcome is unknown (a timeout after the channel may have taken it): never repeated
        blindly; staff see it in the outbox (`motcua dossiers outbox`). False when it was no longer claimed."""
        with self.engine.begin() as conn:
            return conn.execute(update(outbox).where(and_(outbox.c.id == notice_id, outbox.c.state == "sending"))
                                .values(state="unknown", last_error=error[:2000],
                                        attempts=outbox.c.attempts + 1)).rowcount == 1

    def watch_stuck(self, stuck_after: dt.timedelta = STUCK_AFTER) -> Optional[int]:
        """Queue one staff alert for the notices that may not have reached their citizen and no alert counted
        yet: 'sending' for longer than ``stuck_after`` (their deliverer died) or 'unknown'. Each notice is counted
        in one alert; two deliverers watching at once raise it once. The new alert's id, or None."""
        now = self.clock()
        claimed = func.coalesce(outbox.c.claimed_at, outbox.c.created_at)  # rows claimed before 0003: created
        stuck = and_(outbox.c.state == "sending", claimed < now - stuck_after)
        unseen = and_(outbox.c.alerted_at.is_(None), or_(stuck, outbox.c.state == "unknown"))
        with self.engine.begin() as conn:
            ids = [row[0] for row in conn.execute(select(outbox.c.id).where(unseen))]
            if not ids:
                return None
            # marked with this moment: rows another deliverer marked meanwhile are counted in its alert
            conn.execute(update(outbox).where(and_(outbox.c.id.in_(ids), unseen)).values(alerted_at=now))
            states = [row[0] for row in conn.execute(select(outbox.c.state).where(and_(
                outbox.c.id.in_(ids), outbox.c.alerted_at == now)))]
            if not states:
                return None
            unknown = states.count("unknown")
            return conn.execute(insert(outbox_alerts).values(
                raised_at=now, stuck=len(states) - unknown, unknown=unknown, state="pending", delivered_to="",
                attempts=0, next_attempt_at=now)).inserted_primary_key[0]

    @property
    def notice_alert_queue(self) -> DeliveryQueue:
        """The queue of alerts about stuck notices (the staff alerter's side)."""
        return DeliveryQueue(self.engine, outbox_alerts, lambda: self.clock())

    def notice_alerts(self, limit: int = 50) -> List[dict]:
        """Alerts about stuck notices, newest first (`motcua channels deliver --status`, tests)."""
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(outbox_alerts).order_by(outbox_alerts.c.id.desc())
                                                  .limit(limit)).mappings()]

    def outbox_rows(self) -> List[dict]:
        """Every notice, oldest first (staff view and tests)."""
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(outbox).order_by(outbox.c.id)).mappings()]


def notice_text(code: str, status: int, at: dt.datetime) -> str:
    """Vietnamese text of a status-change notice (no personal data)."""
    return texts.text("dossier.notice", code=code, status=status_name(status), moment=moment(at))
