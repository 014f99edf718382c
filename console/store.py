"""The console's tables (review database): staff accounts, sessions, login failures, audit log,
staff answers (FAQ) and what staff decided about each group of unanswered questions."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Callable, List, Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (Boolean, Column, DateTime, Integer, MetaData, String, Table, Text, and_, delete, func,
                        insert, select, update)

from dossiers.db import create_tables, insert_once, make_engine

ROLES = ("viewer", "editor", "admin")  # each can do what the ones before it can

metadata = MetaData()

users_table = Table(
    "staff_users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("full_name", String(200), nullable=False, default=""),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime, nullable=False),
)

sessions_table = Table(
    "staff_sessions", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("expires_at", DateTime, nullable=False),
)

failures_table = Table(
    "staff_login_failures", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, index=True),
    Column("at", DateTime, nullable=False),
)

audit_table = Table(
    "staff_audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("username", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(200), nullable=False, default=""),
    Column("detail", Text, nullable=False, default="{}"),
)

faq_table = Table(
    "staff_faq", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("author", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
)

decisions_table = Table(
    "staff_question_decisions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("question_key", String(200), nullable=False, unique=True),  # folded text of one phrasing
    Column("decision", String(16), nullable=False),  # mapped | answered | dismissed
    Column("procedure_code", String(16), nullable=True),
    Column("faq_id", Integer, nullable=True),
    Column("username", String(64), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("exported", Boolean, nullable=False, default=False),
)


def _now() -> dt.datetime:
    return dt.datetime.now()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Staff:
    id: int
    username: str
    full_name: str
    role: str

    def can(self, role: str) -> bool:
        """True when this account's role is ``role`` or above."""
        return ROLES.index(self.role) >= ROLES.index(role)


class LoginThrottled(Exception):
    """Too many failed logins for this account or address; try again later."""


class ConsoleStore:
    def __init__(self, url: str, clock: Callable[[], dt.datetime] = _now, session_hours: int = 8,
                 max_failures: int = 5, lock_minutes: int = 15):
        self.engine = make_engine(url)
        create_tables(metadata, self.engine)
        self.clock = clock
        self.session_hours = session_hours
        self.max_failures, self.lock_minutes = max_failures, lock_minutes
        self.hasher = PasswordHasher()

    # Accounts ------------------------------------------------------------------------------------
    def create_user(self, username: str, password: str, role: str, full_name: str = "") -> int:
        username = username.strip().lower()
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if not username or len(username) > 64 or not username.replace(".", "").replace("_", "").isalnum():
            raise ValueError("username: letters, digits, '.' and '_' only")
        if len(password) < 10:
            raise ValueError("password: at least 10 characters")
        with self.engine.begin() as conn:
            new = insert_once(conn, insert(users_table).values(
                username=username, full_name=full_name.strip(), password_hash=self.hasher.hash(password), role=role,
                active=True, created_at=self.clock()))
        if new is None:
            raise ValueError(f"user {username} already exists")
        return new

    def users(self) -> List[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(users_table.c.id, users_table.c.username, users_table.c.full_name,
                                                         users_table.c.role, users_table.c.active,
                                                         users_table.c.created_at).order_by(users_table.c.username))
                    .mappings()]

    def set_role(self, user_id: int, role: str, active: bool) -> None:
        if role not in ROLES:
            raise ValueError("unknown role")
        with self.engine.begin() as conn:
            conn.execute(update(users_table).where(users_table.c.id == user_id).values(role=role, active=active))
            if not active:
                conn.execute(delete(sessions_table).where(sessions_table.c.user_id == user_id))

    def _failures(self, conn, keys: List[str]) -> int:
        since = self.clock() - dt.timedelta(minutes=self.lock_minutes)
        return max(conn.execute(select(func.count()).select_from(failures_table).where(and_(
            failures_table.c.key == key, failures_table.c.at >= since))).scalar_one() for key in keys)

    def login(self, username: str, password: str, address: str) -> Optional[str]:
        """A new session token for good credentials; None for bad ones. Raises LoginThrottled."""
        username = (username or "").strip().lower()
        keys = [f"user:{username}", f"addr:{address}"]
        with self.engine.begin() as conn:
            if self._failures(conn, keys) >= self.max_failures:
                raise LoginThrottled()
            row = conn.execute(select(users_table).where(users_table.c.username == username)).mappings().first()
        ok = False
        if row is not None and row["active"]:
            try:
                ok = self.hasher.verify(row["password_hash"], password or "")
            except (VerificationError, InvalidHashError):
                ok = False
        else:
            self.hasher.hash(password or "")  # the same work for unknown accounts: no timing hint
        with self.engine.begin() as conn:
            if not ok:
                conn.execute(insert(failures_table), [{"key": k, "at": self.clock()} for k in keys])
                return None
            conn.execute(delete(failures_table).where(failures_table.c.key == keys[0]))
            token = secrets.token_urlsafe(32)
            conn.execute(insert(sessions_table).values(
                token_hash=_token_hash(token), user_id=row["id"], csrf=secrets.token_urlsafe(32),
                expires_at=self.clock() + dt.timedelta(hours=self.session_hours)))
        self.audit(username, "login")
        return token

    def session(self, token: Optional[str]) -> Optional[tuple]:
        """(Staff, csrf token) of a live session, or None."""
        if not token:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(users_table, sessions_table.c.csrf).join(
                sessions_table, sessions_table.c.user_id == users_table.c.id).where(and_(
                    sessions_table.c.token_hash == _token_hash(token), sessions_table.c.expires_at > self.clock(),
                    users_table.c.active.is_(True)))).mappings().first()
        if row is None:
            return None
        return Staff(row["id"], row["username"], row["full_name"], row["role"]), row["csrf"]

    def logout(self, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(sessions_table).where(sessions_table.c.token_hash == _token_hash(token)))

    # Audit ---------------------------------------------------------------------------------------
    def audit(self, username: str, action: str, target: str = "", **detail) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(audit_table).values(at=self.clock(), username=username, action=action,
                                                    target=str(target)[:200],
                                                    detail=json.dumps(detail, ensure_ascii=False, default=str)))

    def audit_log(self, limit: int = 200) -> List[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(audit_table).order_by(audit_table.c.id.desc()).limit(limit))
                    .mappings()]

    def changes_since_export(self, actions=("map_question", "answer_question", "dismiss_question", "catalogue_edit",
                                            "reimport_accept")) -> List[dict]:
        """Content changes made since the last successful update of the assistant (the 'export' entry)."""
        with self.engine.connect() as conn:
            last = conn.execute(select(func.max(audit_table.c.id)).where(and_(
                audit_table.c.action == "export", audit_table.c.detail.like('%"ok": true%')))).scalar()
            query = select(audit_table).where(audit_table.c.action.in_(actions)).order_by(audit_table.c.id)
            if last:
                query = query.where(audit_table.c.id > last)
            return [dict(r) for r in conn.execute(query).mappings()]

    # Staff answers and decisions -------------------------------------------------------------------
    def add_faq(self, question: str, answer: str, author: str) -> int:
        question, answer = question.strip(), answer.strip()
        if not question or not answer:
            raise ValueError("question and answer are required")
        with self.engine.begin() as conn:
            return conn.execute(insert(faq_table).values(question=question, answer=answer, author=author,
                                                         created_at=self.clock(), active=True)).inserted_primary_key[0]

    def faqs(self, active_only: bool = True) -> List[dict]:
        query = select(faq_table).order_by(faq_table.c.id)
        if active_only:
            query = query.where(faq_table.c.active.is_(True))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def set_faq_active(self, faq_id: int, active: bool) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(faq_table).where(faq_table.c.id == faq_id).values(active=active))

    def decide(self, keys: List[str], decision: str, username: str, procedure_code: Optional[str] = None,
               faq_id: Optional[int] = None) -> None:
        """Record what staff decided for the phrasings of a group (replacing earlier decisions)."""
        with self.engine.begin() as conn:
            conn.execute(delete(decisions_table).where(decisions_table.c.question_key.in_(keys)))
            conn.execute(insert(decisions_table), [
                {"question_key": k[:200], "decision": decision, "procedure_code": procedure_code, "faq_id": faq_id,
                 "username": username, "at": self.clock(), "exported": False} for k in keys])

    def decisions(self) -> dict:
        """question key -> decision row."""
        with self.engine.connect() as conn:
            return {r["question_key"]: dict(r) for r in conn.execute(select(decisions_table)).mappings()}

    def mark_exported(self) -> int:
        with self.engine.begin() as conn:
            return conn.execute(update(decisions_table).where(decisions_table.c.exported.is_(False))
                                .values(exported=True)).rowcount
