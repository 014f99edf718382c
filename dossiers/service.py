"""The dossier service: store, status lookup with identity check, lockout, audit, notice outbox.

A plain module (no Rasa imports). SQLite by default, PostgreSQL by URL; the schema is migrated with
Alembic on first use. Personal numbers are only ever stored as keyed hashes (core.privacy);
server-side verifications, escalating locks and enumeration alerts are in dossiers.guard.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Callable, Iterable, List, Optional, Sequence

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.engine import Connection, Engine

from core.clock import now_local
from core.db import insert_once, make_engine
from core.privacy import Hasher, mask_name
from core.vocabulary import FINAL_STATUSES, WAITING_ON_CITIZEN, status_name
from dossiers import migrate
from dossiers.calendar import WorkingCalendar
from dossiers.codes import check_code
from dossiers.guard import LookupGuard, active_lock, channel_name
from dossiers.models import DossierRecord, DossierView, LookupResult, TimeLimits, UpsertResult
from dossiers.outbox import NoticeOutbox
from dossiers.schema import dossiers, financial_notices, lookup_audit, status_history, supplements


class NewRows:
    """New dossiers of a batch and what hangs off them, inserted with one statement per table."""

    def __init__(self):
        self.tables = {dossiers: [], status_history: [], supplements: [], financial_notices: []}

    def add(self, dossier, history, supplement, financial) -> None:
        """Queue the rows of one new dossier (supplement and financial notice may be None)."""
        for table, row in ((dossiers, dossier), (status_history, history), (supplements, supplement),
                           (financial_notices, financial)):
            if row is not None:
                self.tables[table].append(row)

    def flush(self, conn: Connection) -> None:
        """Insert what is queued, one statement per table."""
        for table, rows in self.tables.items():  # dossiers first: the others refer to them
            if rows:
                conn.execute(insert(table), rows)
                rows.clear()


class DossierService(NoticeOutbox, LookupGuard):
    """Dossiers, status lookups and notices over one SQL database."""

    def __init__(self, url: str, hasher: Hasher, calendar: WorkingCalendar, time_limits: Optional[TimeLimits] = None,
                 clock: Callable[[], dt.datetime] = now_local, lockout_failures: int = 5,
                 lockout_steps_minutes: Sequence[int] = (15, 60, 1440), verification_minutes: int = 30,
                 enumeration_codes_per_hour: int = 8):
        if not lockout_steps_minutes:
            raise ValueError("lockout_steps_minutes needs at least one step")
        self.url = url
        self.hasher = hasher
        self.calendar = calendar
        self.time_limits = time_limits
        self.clock = clock
        self.lockout_failures = lockout_failures
        self.lockout_steps = [dt.timedelta(minutes=m) for m in lockout_steps_minutes]
        self.verification = dt.timedelta(minutes=verification_minutes)
        self.enumeration_codes = enumeration_codes_per_hour
        self._engine: Optional[Engine] = None

    @classmethod
    def from_settings(cls, settings, time_limits: Optional[TimeLimits] = None, **kw) -> DossierService:
        """The service as the settings configure it."""
        return cls(
            settings.storage.database_url,
            Hasher.configured(settings),
            WorkingCalendar.load(settings.office.calendar_file),
            time_limits=time_limits,
            lockout_failures=settings.dossiers.lockout_failures,
            lockout_steps_minutes=settings.dossiers.lockout_steps_minutes,
            verification_minutes=settings.dossiers.verification_minutes,
            enumeration_codes_per_hour=settings.dossiers.enumeration_codes_per_hour,
            **kw,
        )

    @property
    def engine(self) -> Engine:
        """The engine; the schema is migrated to the latest revision on first use."""
        if self._engine is None:
            if self.url.startswith("sqlite:///"):
                Path(self.url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
            engine = make_engine(self.url)
            migrate.upgrade(engine)
            self._engine = engine
        return self._engine

    def close(self) -> None:
        """Release the database connections."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # -- writing -------------------------------------------------------------------------------
    def compute_due(self, procedure_code: str, channel: str, received_at: dt.datetime) -> Optional[dt.datetime]:
        """Due time from the procedure's time limit for the channel, when the record states one."""
        if self.time_limits is None:
            return None
        limit = self.time_limits(procedure_code, channel)
        if not limit:
            return None
        try:
            return self.calendar.due(received_at, *limit)
        except ValueError:
            return None

    def upsert(self, record: DossierRecord, source: str = "import") -> UpsertResult:
        """Create or update a dossier from a snapshot; idempotent. Queues notices on a status change."""
        return self.upsert_many([record], source)[0]

    def upsert_many(self, records: Iterable[DossierRecord], source: str = "import",
                    batch: int = 500) -> List[UpsertResult]:
        """Upsert records in transactions of ``batch``; a bad record raises ValueError before any write.
        New dossiers of a batch are inserted together; known ones are compared and updated one by one."""
        records = list(records)
        for record in records:
            problems = record.problems()
            if problems:
                raise ValueError(f"{record.code}: " + "; ".join(problems))
        results: List[UpsertResult] = []
        for start in range(0, len(records), batch):
            chunk = records[start:start + batch]
            codes = [check_code(r.code).code for r in chunk]
            with self.engine.begin() as conn:
                now = self.clock()
                known = set(conn.execute(select(dossiers.c.code).where(dossiers.c.code.in_(set(codes)))).scalars())
                pending = NewRows()
                for record, code in zip(chunk, codes):
                    if code in known:
                        pending.flush(conn)
                        results.append(self._upsert(conn, record, source, now))
                    else:
                        pending.add(*self._new_rows(record, code, source, now))
                        known.add(code)
                        results.append(UpsertResult(code, "created"))
                pending.flush(conn)
        return results

    def _new_rows(self, record: DossierRecord, code: str, source: str, now: dt.datetime):
        """Rows for a dossier not yet stored: (dossier, history, supplement or None, financial notice or None)."""
        status_at = record.status_at or record.received_at
        salt = self.hasher.new_salt()
        phone_hash, phone_last = self.hasher.number_hashes(salt, record.phone)
        id_hash, id_last = self.hasher.number_hashes(salt, record.citizen_id)
        dossier = dict(
            code=code, procedure_code=record.procedure_code, procedure_name=record.procedure_name,
            channel=record.channel, received_at=record.received_at,
            due_at=record.due_at or self.compute_due(record.procedure_code, record.channel, record.received_at),
            current_step=record.current_step, handling_unit=record.handling_unit, result_pickup=record.result_pickup,
            salt=salt, applicant_name_masked=mask_name(record.applicant_name),
            name_hash=self.hasher.name_hash(salt, record.applicant_name), phone_hash=phone_hash,
            phone_last_hash=phone_last, id_hash=id_hash, id_last_hash=id_last, status_code=record.status_code,
            status_at=status_at, source=source, updated_at=now)
        history = dict(dossier_code=code, status_code=record.status_code, at=status_at,
                       handling_unit=record.handling_unit or "", step=record.current_step or "")
        supplement = None
        if record.supplement_items:
            supplement = dict(dossier_code=code, requested_at=record.supplement_requested_at or status_at,
                              items=record.supplement_items, deadline=record.supplement_deadline, resolved_at=None)
        financial = None
        if record.financial_amount_vnd is not None or record.financial_description:
            financial = dict(dossier_code=code, issued_at=record.financial_issued_at or status_at,
                             amount_vnd=record.financial_amount_vnd, description=record.financial_description,
                             paid_at=record.financial_paid_at)
        return dossier, history, supplement, financial

    def _upsert(self, conn: Connection, record: DossierRecord, source: str, now: dt.datetime) -> UpsertResult:
        """Update a stored dossier from a snapshot (new dossiers go through _new_rows in upsert_many)."""
        code = check_code(record.code).code
        status_at = record.status_at or record.received_at
        due = record.due_at or self.compute_due(record.procedure_code, record.channel, record.received_at)
        row = conn.execute(select(dossiers).where(dossiers.c.code == code)).mappings().one()
        values = dict(procedure_code=record.procedure_code, procedure_name=record.procedure_name,
                      channel=record.channel, received_at=record.received_at, due_at=due,
                      result_pickup=record.result_pickup)
        salt = row["salt"]
        if record.phone:
            values["phone_hash"], values["phone_last_hash"] = self.hasher.number_hashes(salt, record.phone)
        if record.citizen_id:
            values["id_hash"], values["id_last_hash"] = self.hasher.number_hashes(salt, record.citizen_id)
        if record.applicant_name:
            values["applicant_name_masked"] = mask_name(record.applicant_name)
            values["name_hash"] = self.hasher.name_hash(salt, record.applicant_name)
        newer = status_at >= row["status_at"]
        if newer:  # an older snapshot only adds to the history
            values.update(status_code=record.status_code, status_at=status_at, current_step=record.current_step,
                          handling_unit=record.handling_unit)
        changed = newer and record.status_code != row["status_code"]
        differs = any(row[k] != v for k, v in values.items())
        if differs:
            conn.execute(update(dossiers).where(dossiers.c.code == code).values(source=source, updated_at=now,
                                                                                **values))
        action = "updated" if differs else "unchanged"
        history_added = self._add_history(conn, code, record.status_code, status_at, record.handling_unit,
                                          record.current_step)
        self._add_supplement(conn, code, record)
        self._add_financial(conn, code, record)
        notices = 0
        if changed and history_added:
            notices = self._queue_notices(conn, code, record.status_code, status_at, history_added, now)
        return UpsertResult(code, action, changed, notices)

    def _add_history(self, conn, code, status, at, unit, step) -> Optional[int]:
        exists = conn.execute(select(status_history.c.id).where(and_(
            status_history.c.dossier_code == code, status_history.c.status_code == status,
            status_history.c.at == at))).first()
        if exists:
            return None
        return insert_once(conn, insert(status_history).values(
            dossier_code=code, status_code=status, at=at, handling_unit=unit or "", step=step or ""))

    def _add_supplement(self, conn, code, record: DossierRecord) -> None:
        if not record.supplement_items:
            if record.status_code != 5:  # a later status resolves open supplement requests
                conn.execute(update(supplements).where(and_(supplements.c.dossier_code == code,
                                                            supplements.c.resolved_at.is_(None)))
                             .values(resolved_at=record.status_at or self.clock()))
            return
        requested = record.supplement_requested_at or record.status_at or record.received_at
        exists = conn.execute(select(supplements.c.id).where(and_(
            supplements.c.dossier_code == code, supplements.c.requested_at == requested))).first()
        if exists:
            conn.execute(update(supplements).where(supplements.c.id == exists[0]).values(
                items=record.supplement_items, deadline=record.supplement_deadline))
        else:
            insert_once(conn, insert(supplements).values(
                dossier_code=code, requested_at=requested, items=record.supplement_items,
                deadline=record.supplement_deadline))

    def _add_financial(self, conn, code, record: DossierRecord) -> None:
        if record.financial_amount_vnd is None and not record.financial_description:
            return
        issued = record.financial_issued_at or record.status_at or record.received_at
        exists = conn.execute(select(financial_notices.c.id).where(and_(
            financial_notices.c.dossier_code == code, financial_notices.c.issued_at == issued))).first()
        values = dict(amount_vnd=record.financial_amount_vnd, description=record.financial_description,
                      paid_at=record.financial_paid_at)
        if exists:
            conn.execute(update(financial_notices).where(financial_notices.c.id == exists[0]).values(**values))
        else:
            insert_once(conn, insert(financial_notices).values(dossier_code=code, issued_at=issued, **values))

    # -- reading ------------------------------------------------------------------------------
    def count(self) -> int:
        """How many dossiers are stored."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(dossiers)).scalar_one())

    def view(self, code: str, now: Optional[dt.datetime] = None) -> Optional[DossierView]:
        """A dossier as shown to its verified applicant (or to staff); None when unknown."""
        check = check_code(code)
        if not check.ok:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(dossiers).where(dossiers.c.code == check.code)).mappings().first()
            if row is None:
                return None
            return self._view(conn, row, now or self.clock())

    def _view(self, conn, row, now) -> DossierView:
        code = row["code"]
        history = [dict(r) for r in conn.execute(
            select(status_history.c.status_code, status_history.c.at, status_history.c.handling_unit,
                   status_history.c.step).where(status_history.c.dossier_code == code)
            .order_by(status_history.c.at)).mappings()]
        status = row["status_code"]
        open_supp = [] if status != 5 else [dict(r) for r in conn.execute(
            select(supplements.c["items"], supplements.c.requested_at, supplements.c.deadline)
            .where(and_(supplements.c.dossier_code == code, supplements.c.resolved_at.is_(None)))
            .order_by(supplements.c.requested_at)).mappings()]
        unpaid = [] if status != 6 else [dict(r) for r in conn.execute(
            select(financial_notices.c.amount_vnd, financial_notices.c.description, financial_notices.c.issued_at)
            .where(and_(financial_notices.c.dossier_code == code, financial_notices.c.paid_at.is_(None)))
            .order_by(financial_notices.c.issued_at)).mappings()]
        finished = None
        if status in FINAL_STATUSES:
            finished = min((h["at"] for h in history if h["status_code"] in FINAL_STATUSES), default=row["status_at"])
        due = row["due_at"]
        left, late = None, False
        if due is not None and status not in WAITING_ON_CITIZEN:  # the clock stops while waiting on the citizen
            reference = finished or now
            late = reference > due
            if finished is None:
                left = self.calendar.working_days_left(now, due)
                if late:
                    left = min(-1, left)
            elif late:
                left = min(-1, -self.calendar.working_days_between(due.date(), finished.date()))
        return DossierView(
            code=code, procedure_code=row["procedure_code"], procedure_name=row["procedure_name"],
            channel=row["channel"], applicant=row["applicant_name_masked"], status_code=status,
            status_name=status_name(status), status_at=row["status_at"], current_step=row["current_step"],
            handling_unit=row["handling_unit"], received_at=row["received_at"], due_at=due,
            result_pickup=row["result_pickup"], finished_at=finished, working_days_left=left, late=late,
            open_supplements=open_supp, unpaid_notices=unpaid,
            history=history)

    # -- lookup with identity check --------------------------------------------------------------
    def lookup(self, conversation_id: str, channel: str, code_text: str, verification: str,
               client: Optional[str] = None) -> LookupResult:
        """Status of a dossier for a citizen who proves it is theirs with the last digits of the
        applicant's phone or citizen ID. An unknown code and a wrong verification get the same result.
        ``client`` is the keyed digest of the client address the channel saw (None: the conversation
        stands for it). Failures lock escalating steps per conversation, client and dossier; a success
        is recorded on the server (verified_code). Every lookup is audited with the client's digest;
        many codes failing from one client queue a staff alert (dossiers.guard)."""
        now = self.clock()
        check = check_code(code_text)
        digest = self.client_digest(conversation_id, channel, client)
        with self.engine.begin() as conn:
            if not check.ok:
                self._audit(conn, now, conversation_id, channel, check.code or (code_text or "")[:80], "invalid",
                            digest)
                return LookupResult("invalid", problem=check.problem)
            code = check.code
            known = self._known_owner(conn, conversation_id, channel, code)
            keys = self._lock_keys(conversation_id, channel, code, digest if client else None, known)
            rows = self._lock_rows(conn, keys)
            until, scope = active_lock(rows, now)
            if until:
                self._audit(conn, now, conversation_id, channel, code, "locked", digest)
                self._watch_enumeration(conn, digest, now)
                return LookupResult("locked", locked_until=until, code=code, lock_scope=scope)
            row = conn.execute(select(dossiers).where(dossiers.c.code == code)).mappings().first()
            verified = row is not None and any(
                self.hasher.matches_last(row["salt"], row[col], verification or "")
                for col in ("phone_last_hash", "id_last_hash"))
            if not verified:
                until, scope = self._register_failure(conn, keys, rows, now)
                self._audit(conn, now, conversation_id, channel, code, "locked" if until else "denied", digest)
                self._watch_enumeration(conn, digest, now)
                return LookupResult("locked" if until else "denied", locked_until=until, code=code, lock_scope=scope)
            # A success clears no failures: a guesser could otherwise reset its count with its own dossier.
            self._record_verification(conn, conversation_id, channel, code, now, known, digest)
            self._audit(conn, now, conversation_id, channel, code, "ok", digest)
            return LookupResult("ok", view=self._view(conn, row, now), code=code)

    @staticmethod
    def _audit(conn, now, conversation_id, channel, code, outcome, client_hash) -> None:
        conn.execute(insert(lookup_audit).values(at=now, conversation_id=conversation_id[:128],
                                                 channel=channel_name(channel), dossier_code=code[:80],
                                                 outcome=outcome, client_hash=client_hash))

    def audit_log(self, limit: int = 100) -> List[dict]:
        """The latest lookups, newest first."""
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(
                select(lookup_audit).order_by(lookup_audit.c.id.desc()).limit(limit)).mappings()]
