"""What keeps dossier lookups from being used or abused by someone who is not the applicant.

- Verification lives on the server: a successful lookup records (conversation, channel, dossier,
  until when); whatever reveals a dossier asks ``verified_code``, never what the caller claims.
- Failed verifications lock escalating steps (15 min, 1 h, 24 h by default) per conversation, per
  client address (a keyed digest from the channel) and per dossier. Each key counts its own
  failures; ``lockout_failures`` of them lock it for the next step; every full day with neither a
  failure nor a lock steps its level down once. The per-dossier key bounds the guesses at one
  dossier from any number of conversations and addresses.
- A client address may stand for many citizens (a carrier's NAT, an office network), so its key
  has a looser ladder: CLIENT_FACTOR times the failures per step, and no lock longer than
  CLIENT_LONGEST (20 failures: 15 min, 40: 1 h, then 1 h again by default).
- A conversation that verified a dossier before is held only by its own conversation key for that
  dossier, so a stranger's failures cannot lock the owner's own chat out.
- Many distinct codes failing from one client address within an hour queue one staff alert per
  address and hour (no personal data), delivered by `motcua channels deliver`.

A mixin of DossierService (needs ``engine``, ``clock``, ``hasher`` and the limits it sets).
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Dict, List, Optional, Sequence, Tuple

from sqlalchemy import and_, delete, distinct, func, insert, select, text, update

from core.db import DeliveryQueue, insert_once
from dossiers.schema import lookup_alerts, lookup_audit, lookup_locks, verifications

QUIET = dt.timedelta(days=1)  # a key's level steps down after each full day without failure or lock
ENUMERATION_WINDOW = dt.timedelta(hours=1)
DIGEST_RE = re.compile(r"[0-9a-f]{32}")  # what Hasher.client_hash gives
SCOPES = {"sender": "conversation", "client": "client", "code": "dossier"}
FAILED = ("denied", "locked")
# A client address is shared by everyone behind it (carrier NAT, an office, a café): five citizens
# mistyping once each must not lock out a sixth. Its key counts this many times the failures per step
# and never locks longer than CLIENT_LONGEST; the dossier key still bounds the guesses at a dossier.
CLIENT_FACTOR = 4
CLIENT_LONGEST = dt.timedelta(hours=1)


def client_ladder(failures: int, steps: Sequence[dt.timedelta]) -> Tuple[int, List[dt.timedelta]]:
    """(failures per step, steps) of a client-address key, from the per-conversation ladder: CLIENT_FACTOR
    times the failures, each step at most CLIENT_LONGEST (steps that become equal are merged)."""
    capped: List[dt.timedelta] = []
    for step in steps:
        step = min(step, CLIENT_LONGEST)
        if not capped or capped[-1] != step:
            capped.append(step)
    return failures * CLIENT_FACTOR, capped


def conversation_key(conversation_id: str, channel: str) -> str:
    """The lock key of a conversation on a channel."""
    return f"sender:{channel_name(channel)}:{conversation_id}"[:200]


def channel_name(channel: Optional[str]) -> str:
    """The channel as stored ('unknown' when the caller does not know it)."""
    return (channel or "unknown")[:32]


def scope_of(key: str) -> str:
    """'conversation', 'client' or 'dossier' for a lock key."""
    return SCOPES.get(key.split(":", 1)[0], "")


def decayed(row, now: dt.datetime) -> Tuple[int, int]:
    """(level, failures) of a lock row once its quiet days are taken off: each full day with neither a
    failure nor a lock steps the level down once and forgets the failures counted towards the next lock."""
    if row is None:
        return 0, 0
    level, failures = row["level"] or 0, row["failures"] or 0
    last = max((t for t in (row["last_failure_at"], row["locked_until"]) if t is not None), default=None)
    if last is None or now - last < QUIET:
        return level, failures
    return max(level - (now - last) // QUIET, 0), 0


def active_lock(rows: Dict[str, dict], now: dt.datetime) -> Tuple[Optional[dt.datetime], str]:
    """The latest end of the locks in force among ``rows`` (key -> row) and its scope; (None, '') if none."""
    found = [(row["locked_until"], key) for key, row in rows.items()
             if row["locked_until"] is not None and row["locked_until"] > now]
    if not found:
        return None, ""
    until, key = max(found)
    return until, scope_of(key)


class LookupGuard:
    """Server-side verifications, escalating lookup locks and enumeration alerts (mixed into DossierService)."""

    lockout_failures: int
    lockout_steps: Sequence[dt.timedelta]
    verification: dt.timedelta
    enumeration_codes: int

    # -- who the client is -----------------------------------------------------------------------
    def client_digest(self, conversation_id: str, channel: str, client: Optional[str]) -> str:
        """The keyed digest standing for the client: the channel's digest as given, anything else (a raw
        address) hashed with the key; without a client, the conversation's digest."""
        if client and DIGEST_RE.fullmatch(client):
            return client
        return self.hasher.client_hash(client or f"conversation:{channel_name(channel)}:{conversation_id}")

    # -- verifications ---------------------------------------------------------------------------
    def verified_code(self, conversation_id: str, channel: str, client: Optional[str] = None) -> Optional[str]:
        """The dossier this conversation verified most recently, while that verification lasts, asked from the
        client that verified it (the conversation id alone is no proof: it can leak); else None."""
        with self.engine.connect() as conn:
            return conn.execute(
                select(verifications.c.dossier_code).where(and_(
                    verifications.c.conversation_id == conversation_id[:128],
                    verifications.c.channel == channel_name(channel), verifications.c.expires_at > self.clock(),
                    verifications.c.client_hash == self.client_digest(conversation_id, channel, client)))
                .order_by(verifications.c.verified_at.desc()).limit(1)).scalar()

    def _record_verification(self, conn, conversation_id: str, channel: str, code: str, now: dt.datetime,
                             known: bool, digest: str) -> None:
        """Record a success until ``verification`` from now; ``known``: the row exists (_known_owner)."""
        where = and_(verifications.c.dossier_code == code, verifications.c.conversation_id == conversation_id[:128],
                     verifications.c.channel == channel_name(channel))
        values = dict(verified_at=now, expires_at=now + self.verification, client_hash=digest)
        if known or insert_once(conn, insert(verifications).values(
                dossier_code=code, conversation_id=conversation_id[:128], channel=channel_name(channel),
                **values)) is None:
            conn.execute(update(verifications).where(where).values(**values))

    def _known_owner(self, conn, conversation_id: str, channel: str, code: str) -> bool:
        """Whether this conversation has verified this dossier before (expired verifications count)."""
        return conn.execute(select(verifications.c.id).where(and_(
            verifications.c.dossier_code == code, verifications.c.conversation_id == conversation_id[:128],
            verifications.c.channel == channel_name(channel)))).first() is not None

    # -- escalating locks ------------------------------------------------------------------------
    @staticmethod
    def _lock_keys(conversation_id: str, channel: str, code: str, client: Optional[str], known: bool) -> List[str]:
        """The keys a lookup is held by and counted against: the conversation's, the client's (when the
        channel named one) and the dossier's; a conversation ``known`` to have verified the dossier before
        (_known_owner), its own only."""
        keys = [conversation_key(conversation_id, channel)]
        if known:
            return keys
        if client:
            keys.append(f"client:{client}")
        return keys + [f"code:{code}"]

    @staticmethod
    def _lock_rows(conn, keys: Sequence[str]) -> Dict[str, dict]:
        """The lock rows of ``keys``, after waiting for any other lookup on them to finish: otherwise parallel
        guesses would all read the same count and all be checked. SQLite's BEGIN IMMEDIATE already runs
        writers one at a time; PostgreSQL takes a transaction advisory lock per key (sorted: no deadlock)."""
        if conn.dialect.name == "postgresql":
            for key in sorted(keys):
                conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
        return {row["key"]: dict(row) for row in conn.execute(
            select(lookup_locks).where(lookup_locks.c.key.in_(list(keys)))).mappings()}

    def _ladder(self, key: str) -> Tuple[int, Sequence[dt.timedelta]]:
        """(failures per step, steps) of a lock key: the client address's looser ladder, else the settings'."""
        if scope_of(key) == "client":
            return client_ladder(self.lockout_failures, self.lockout_steps)
        return self.lockout_failures, self.lockout_steps

    def _register_failure(self, conn, keys: Sequence[str], rows: Dict[str, dict],
                          now: dt.datetime) -> Tuple[Optional[dt.datetime], str]:
        """Count a failed verification against each key; a key reaching its failures per step locks for its
        level's step and climbs a level (up to its last step, which repeats). Returns the latest lock set and
        its scope, or (None, '')."""
        latest: Optional[dt.datetime] = None
        scope = ""
        for key in keys:
            per_step, steps = self._ladder(key)
            level, failures = decayed(rows.get(key), now)
            level = min(level, len(steps) - 1)  # a row written under a longer ladder
            failures += 1
            until = None
            if failures >= per_step:
                until = now + steps[level]
                level, failures = min(level + 1, len(steps) - 1), 0
            values = dict(failures=failures, level=level, last_failure_at=now, locked_until=until)
            if key in rows or insert_once(conn, insert(lookup_locks).values(key=key, **values)) is None:
                conn.execute(update(lookup_locks).where(lookup_locks.c.key == key).values(**values))
            if until is not None and (latest is None or until > latest):
                latest, scope = until, scope_of(key)
        return latest, scope

    def is_locked(self, conversation_id: str, channel: str, code: Optional[str] = None,
                  client: Optional[str] = None) -> Optional[dt.datetime]:
        """Until when a conversation (and optionally a client digest and a code) is locked out, or None."""
        keys = [conversation_key(conversation_id, channel)] + ([f"client:{client}"] if client else []) + (
            [f"code:{code}"] if code else [])
        with self.engine.connect() as conn:  # a plain read: no lock on the keys (lookup takes them)
            rows = conn.execute(select(lookup_locks).where(lookup_locks.c.key.in_(keys))).mappings()
            return active_lock({row["key"]: dict(row) for row in rows}, self.clock())[0]

    def active_locks(self) -> List[dict]:
        """Locks in force, the one ending last first: key, scope, subject (code, 'channel:conversation' or
        client digest), level, failures, last_failure_at, locked_until."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(lookup_locks).where(lookup_locks.c.locked_until > self.clock())
                                .order_by(lookup_locks.c.locked_until.desc(), lookup_locks.c.key)).mappings().all()
        return [dict(row, scope=scope_of(row["key"]), subject=row["key"].split(":", 1)[-1]) for row in rows]

    def clear_lock(self, key: str) -> Optional[dict]:
        """Lift a lock and forget its failures and level (staff, once they know the citizen); the row as it
        was, or None when there was no such key."""
        with self.engine.begin() as conn:
            row = conn.execute(select(lookup_locks).where(lookup_locks.c.key == key)).mappings().first()
            if row is None:
                return None
            conn.execute(delete(lookup_locks).where(lookup_locks.c.key == key))
            return dict(row, scope=scope_of(key), subject=key.split(":", 1)[-1])

    # -- enumeration alerts ----------------------------------------------------------------------
    def _watch_enumeration(self, conn, client: str, now: dt.datetime) -> Optional[int]:
        """Queue a staff alert when ``client`` has failed on ``enumeration_codes`` distinct codes within an
        hour, at most one per client and hour; the new alert's id, or None."""
        since = now - ENUMERATION_WINDOW
        codes = conn.execute(select(func.count(distinct(lookup_audit.c.dossier_code))).where(and_(
            lookup_audit.c.client_hash == client, lookup_audit.c.at > since,
            lookup_audit.c.outcome.in_(FAILED)))).scalar_one()
        if codes < self.enumeration_codes:
            return None
        if conn.execute(select(lookup_alerts.c.id).where(and_(
                lookup_alerts.c.client_hash == client, lookup_alerts.c.raised_at > since))).first():
            return None
        return insert_once(conn, insert(lookup_alerts).values(
            client_hash=client, hour=now.replace(minute=0, second=0, microsecond=0), raised_at=now, codes=codes,
            state="pending", delivered_to="", attempts=0, next_attempt_at=now))

    def lookup_alerts(self, limit: int = 50) -> List[dict]:
        """Enumeration alerts, newest first (console and tests)."""
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(lookup_alerts).order_by(lookup_alerts.c.id.desc())
                                                  .limit(limit)).mappings()]

    @property
    def alert_queue(self) -> DeliveryQueue:
        """The alert queue (the deliverer's side)."""
        return DeliveryQueue(self.engine, lookup_alerts, lambda: self.clock())

    def due_lookup_alerts(self, limit: int = 50) -> List[dict]:
        """Enumeration alerts to send now, oldest first."""
        return self.alert_queue.due(limit)

    def claim_lookup_alert(self, alert_id: int, lease: dt.timedelta = dt.timedelta(minutes=5)) -> bool:
        """Take a due alert for sending, for ``lease``; False when another deliverer has it."""
        return self.alert_queue.claim(alert_id, lease)

    def finish_lookup_alert(self, alert_id: int, state: str, delivered_to: Sequence[str] = (),
                            note: Optional[str] = None) -> None:
        """Close an alert: 'sent' (every target has it) or 'skipped' (too old: ``note`` says why)."""
        self.alert_queue.finish(alert_id, state, delivered_to, note)

    def retry_lookup_alert(self, alert_id: int, delivered_to: Sequence[str], error: str, max_attempts: int = 6,
                           base_delay_s: float = 30.0) -> str:
        """Some target failed: 'pending' again after a backoff (for the missing targets), 'failed' at the end."""
        return self.alert_queue.retry(alert_id, delivered_to, error, max_attempts, base_delay_s)
