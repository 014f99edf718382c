"""The console's tables (review database): staff accounts, sessions, login failures, audit log,
staff answers (FAQ) and what staff decided about each group of unanswered questions.

Failed logins are throttled per account *and* client together (a stranger's wrong passwords do not
lock the owner out from the owner's own address) and, more loosely, per client across accounts
(password spraying); locks grow with repeated failures. One account guessed from many addresses meets
a ceiling that cannot lock its owner out: past ``ACCOUNT_CEILING`` failures within the window it opens
only to clients that have logged into it before (``staff_known_clients``). Clients are named by a keyed
digest of their address (``Hasher.client_hash`` of ``client_key``: an IPv6 client by its /64), never the
address itself, in the throttle, the known clients and the audit log.

Each attempt checks the locks and records itself as a failure in one transaction (SQLite's BEGIN
IMMEDIATE, PostgreSQL advisory locks on its keys), before the password is checked outside it: parallel
guesses cannot all pass the check. A right password removes the failure it recorded.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)

from console.passwords import password_problem
from core.clock import now_local
from core.db import create_tables, insert_once, make_engine
from core.stores.faq import faq_metadata, faq_table

ROLES = ("viewer", "editor", "admin")  # each can do what the ones before it can
# Escalating locks: (failures within FAILURE_WINDOW, minutes locked after the latest of them); the
# highest step reached applies. Per account and client: 5 tries, then one per 15 min, per hour after
# 10, per day after 20. Per client across accounts, six times looser: an office behind one address
# mistypes too, but 30 wrong passwords a day for different accounts is spraying.
PAIR_STEPS: Tuple[Tuple[int, int], ...] = ((5, 15), (10, 60), (20, 24 * 60))
CLIENT_STEPS: Tuple[Tuple[int, int], ...] = ((30, 15), (60, 60), (120, 24 * 60))
FAILURE_WINDOW = dt.timedelta(hours=24)
# Per account from all clients: past this many failures within FAILURE_WINDOW only known clients get in.
ACCOUNT_CEILING = 50
KNOWN_PER_ACCOUNT = 20  # the clients remembered per account, the most recent first
REFUSED_RUN = dt.timedelta(hours=1)  # refused attempts this close together share one audit entry
KNOWN_FOR = dt.timedelta(days=180)  # a client not seen for this long is forgotten
NAME_MAX = 100  # a display name's length: what citizens read after "Cán bộ"

metadata = MetaData()

users_table = Table(
    "staff_users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("full_name", String(200), nullable=False, default=""),  # the display name citizens see
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

known_clients_table = Table(
    "staff_known_clients", metadata,
    Column("user_id", Integer, primary_key=True),
    Column("client", String(100), primary_key=True),  # the keyed digest of a client that logged in
    Column("last_login_at", DateTime, nullable=False),
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


_now = now_local  # the stores record naive Vietnam time


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def display_name(name: str) -> str:
    """A display name as staff typed it, cleaned (spaces trimmed and single); ValueError (a Vietnamese
    sentence for staff) when it is empty, longer than NAME_MAX or holds control or invisible characters."""
    cleaned = " ".join(str(name).split())
    if any(unicodedata.category(c).startswith("C") for c in str(name)):
        raise ValueError("Tên hiển thị không được chứa ký tự điều khiển hay ký tự ẩn.")
    if not 1 <= len(cleaned) <= NAME_MAX:
        raise ValueError(f"Tên hiển thị cần từ 1 đến {NAME_MAX} ký tự.")
    return cleaned


@dataclass(frozen=True)
class Staff:
    id: int
    username: str
    full_name: str  # the display name citizens see ("Cán bộ Nguyễn Thị Lan"); may be empty
    role: str

    def can(self, role: str) -> bool:
        """True when this account's role is ``role`` or above."""
        return ROLES.index(self.role) >= ROLES.index(role)


class LoginThrottled(Exception):
    """Too many failed logins for this account from this client, from this client at all, or for this
    account from everywhere while this client is not one it knows."""

    def __init__(self, until: dt.datetime, retry_after: dt.timedelta, scope: str):
        super().__init__(f"locked until {until:%Y-%m-%d %H:%M} ({scope})")
        self.until, self.retry_after, self.scope = until, retry_after, scope  # 'account' | 'client' | 'ceiling'


class WrongPassword(Exception):
    """The current password given to change it is not the account's password."""


class ConsoleStore:
    def __init__(self, url: str, clock: Callable[[], dt.datetime] = _now, session_hours: int = 8,
                 pair_steps: Sequence[Tuple[int, int]] = PAIR_STEPS,
                 client_steps: Sequence[Tuple[int, int]] = CLIENT_STEPS, account_ceiling: int = ACCOUNT_CEILING):
        self.engine = make_engine(url)
        create_tables(metadata, self.engine)
        create_tables(faq_metadata, self.engine)
        self.clock = clock
        self.session_hours = session_hours
        self.pair_steps, self.client_steps = tuple(pair_steps), tuple(client_steps)
        self.account_ceiling = account_ceiling
        self.hasher = PasswordHasher()

    # Accounts ------------------------------------------------------------------------------------
    def create_user(self, username: str, password: str, role: str, full_name: str = "") -> int:
        """A new account's id; ValueError (a Vietnamese sentence for staff) for a bad name, role, display name
        (``full_name``: optional) or password."""
        username = username.strip().lower()
        full_name = display_name(full_name) if full_name.strip() else ""
        if role not in ROLES:
            raise ValueError(f"Quyền phải là một trong: {', '.join(ROLES)}.")
        if not username or len(username) > 64 or not username.replace(".", "").replace("_", "").isalnum():
            raise ValueError("Tên đăng nhập chỉ gồm chữ, số, dấu '.' và '_' (tối đa 64 ký tự).")
        problem = password_problem(password, username)
        if problem:
            raise ValueError(problem)
        password_hash = self.hasher.hash(password)  # before the transaction: argon2 must not hold the write lock
        with self.engine.begin() as conn:
            new = insert_once(conn, insert(users_table).values(
                username=username, full_name=full_name, password_hash=password_hash, role=role,
                active=True, created_at=self.clock()))
        if new is None:
            raise ValueError(f"Tài khoản {username} đã có.")
        return new

    def user_id(self, username: str) -> Optional[int]:
        """The id of the account ``username``, or None."""
        with self.engine.connect() as conn:
            return conn.execute(select(users_table.c.id).where(
                users_table.c.username == username.strip().lower())).scalar()

    def users(self) -> List[dict]:
        with self.engine.connect() as conn:
            return [
                dict(r)
                for r in conn.execute(
                    select(
                        users_table.c.id,
                        users_table.c.username,
                        users_table.c.full_name,
                        users_table.c.role,
                        users_table.c.active,
                        users_table.c.created_at,
                    ).order_by(users_table.c.username)
                ).mappings()
            ]

    def set_display_name(self, user_id: int, name: str, by: str) -> str:
        """Set an account's display name (checked by ``display_name``) and audit it; returns the name kept.
        ValueError (Vietnamese) for an unknown account or a refused name."""
        name = display_name(name)
        with self.engine.begin() as conn:
            row = conn.execute(select(users_table.c.username, users_table.c.full_name).where(
                users_table.c.id == user_id)).first()
            if row is None:
                raise ValueError("Không có tài khoản này.")
            conn.execute(update(users_table).where(users_table.c.id == user_id).values(full_name=name))
        self.audit(by, "display_name", row.username, old=row.full_name, new=name)
        return name

    def display_names(self, usernames: Sequence[str]) -> dict:
        """username -> display name, for the accounts among ``usernames`` that have one."""
        wanted = sorted({u for u in usernames if u})
        if not wanted:
            return {}
        with self.engine.connect() as conn:
            return {r.username: r.full_name for r in conn.execute(select(
                users_table.c.username, users_table.c.full_name).where(and_(
                    users_table.c.username.in_(wanted), users_table.c.full_name != "")))}

    def set_role(self, user_id: int, role: str, active: bool) -> None:
        if role not in ROLES:
            raise ValueError("unknown role")
        with self.engine.begin() as conn:
            conn.execute(update(users_table).where(users_table.c.id == user_id).values(role=role, active=active))
            if not active:
                conn.execute(delete(sessions_table).where(sessions_table.c.user_id == user_id))

    # Logins and passwords ------------------------------------------------------------------------
    @staticmethod
    def _keys(username: str, client: str) -> Tuple[str, str, str]:
        """Throttle keys: this account from this client, this client for any account, this account from anywhere."""
        return f"pair:{username[:64]}|{client[:100]}", f"client:{client[:100]}", f"account:{username[:64]}"

    def _locked(self, conn, keys: Sequence[str], now: dt.datetime) -> Optional[LoginThrottled]:
        """The lock on this account from this client (or on the client) now in force, or None."""
        found = None
        for key, steps, scope in zip(keys, (self.pair_steps, self.client_steps), ("account", "client")):
            count, last = conn.execute(select(func.count(), func.max(failures_table.c.at)).where(and_(
                failures_table.c.key == key, failures_table.c.at >= now - FAILURE_WINDOW))).one()
            minutes = max((m for n, m in steps if count >= n), default=None)
            if minutes is not None and last + dt.timedelta(minutes=minutes) > now:
                until = last + dt.timedelta(minutes=minutes)
                if found is None or until > found.until:
                    found = LoginThrottled(until, until - now, scope)
        return found

    def _ceiling(self, conn, account_key: str, user_id: Optional[int], client: str,
                 now: dt.datetime) -> Optional[LoginThrottled]:
        """The account's ceiling when it has ``account_ceiling`` failures within the window and ``client``
        has never logged into it; it lifts when the oldest of those failures leaves the window."""
        oldest = conn.execute(select(failures_table.c.at).where(and_(
            failures_table.c.key == account_key, failures_table.c.at >= now - FAILURE_WINDOW)).order_by(
            failures_table.c.at.desc()).offset(self.account_ceiling - 1).limit(1)).scalar()
        if oldest is None:
            return None
        if user_id is not None and conn.execute(select(known_clients_table.c.user_id).where(and_(
                known_clients_table.c.user_id == user_id, known_clients_table.c.client == client[:100]))).first():
            return None
        until = oldest + FAILURE_WINDOW
        return LoginThrottled(until, until - now, "ceiling")

    def _attempt(self, conn, username: str, user_id: Optional[int], client: str) -> Tuple[Optional[LoginThrottled],
                                                                                            List[int]]:
        """Check the locks and, when none holds, count this attempt as a failure ahead of the password check,
        in the caller's transaction: (the lock in force, []) or (None, the failure rows to drop if it succeeds).

        SQLite's BEGIN IMMEDIATE (core.db.make_engine) already runs these transactions one at a time;
        PostgreSQL takes a transaction advisory lock per key (sorted: no deadlock)."""
        keys = self._keys(username, client)
        if conn.dialect.name == "postgresql":
            for key in sorted(keys):
                conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
        now = self.clock()
        locked = self._locked(conn, keys, now) or self._ceiling(conn, keys[2], user_id, client, now)
        if locked:
            return locked, []
        conn.execute(delete(failures_table).where(failures_table.c.at < now - FAILURE_WINDOW))
        return None, [conn.execute(insert(failures_table).values(key=key, at=now)).inserted_primary_key[0]
                      for key in keys]

    def _succeeded(self, conn, username: str, client: str, held: Sequence[int]) -> None:
        """A right password: drop the failures this attempt recorded ahead and those of this account and client."""
        conn.execute(delete(failures_table).where(or_(failures_table.c.id.in_(list(held)),
                                                      failures_table.c.key == self._keys(username, client)[0])))

    def _remember(self, conn, user_id: int, client: str) -> None:
        """Note that ``client`` logged into the account (it passes the account's ceiling); keep the latest few."""
        now, client = self.clock(), client[:100]
        known = known_clients_table.c
        if not conn.execute(update(known_clients_table).where(and_(known.user_id == user_id, known.client == client))
                            .values(last_login_at=now)).rowcount:
            insert_once(conn, insert(known_clients_table).values(user_id=user_id, client=client, last_login_at=now))
        keep = select(known.client).where(known.user_id == user_id).order_by(known.last_login_at.desc()).limit(
            KNOWN_PER_ACCOUNT)
        conn.execute(delete(known_clients_table).where(and_(known.user_id == user_id, or_(
            known.last_login_at < now - KNOWN_FOR, known.client.not_in(keep)))))

    def _verify(self, row, password: str) -> Optional[str]:
        """None when ``password`` is this account's; else why not (unknown_user, inactive, wrong_password)."""
        if row is None or not row["active"]:
            self.hasher.hash(password or "")  # the same work as a check: no timing hint about the account
            return "unknown_user" if row is None else "inactive"
        try:
            return None if self.hasher.verify(row["password_hash"], password or "") else "wrong_password"
        except (VerificationError, InvalidHashError):
            return "wrong_password"

    def login(self, username: str, password: str, client: str) -> Optional[str]:
        """A new session token for good credentials; None for bad ones. Raises LoginThrottled.

        ``client`` names where the attempt came from in the throttle and the audit log: pass a keyed
        digest of the client key (``Hasher.client_hash``), not the address. Every attempt is audited.
        Blocking (argon2, the database): call it from a worker thread in an async server.
        """
        username = (username or "").strip().lower()
        with self.engine.begin() as conn:
            row = conn.execute(select(users_table).where(users_table.c.username == username)).mappings().first()
            locked, held = self._attempt(conn, username, row["id"] if row else None, client)
        if locked:
            self._audit_refused(username, "login_failed", client, locked.scope)
            raise locked
        reason = self._verify(row, password)  # outside the transaction: argon2 must not hold the write lock
        if reason:
            self.audit(username, "login_failed", reason=reason, client=client)
            return None
        token = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            self._succeeded(conn, username, client, held)
            self._remember(conn, row["id"], client)
            conn.execute(insert(sessions_table).values(
                token_hash=_token_hash(token), user_id=row["id"], csrf=secrets.token_urlsafe(32),
                expires_at=self.clock() + dt.timedelta(hours=self.session_hours)))
        self.audit(username, "login", client=client)
        return token

    def change_password(self, user_id: int, current: str, new: str, client: str, keep_token: str = "") -> int:
        """Change one's own password; the account's other sessions end (their number is returned).

        Raises LoginThrottled, WrongPassword (counted like a failed login: a stolen session must not
        guess the password) or ValueError (a Vietnamese sentence) for a refused new password.
        """
        with self.engine.connect() as conn:
            row = conn.execute(select(users_table).where(users_table.c.id == user_id)).mappings().first()
        if row is None:
            raise ValueError("Không có tài khoản này.")
        problem = "Mật khẩu mới phải khác mật khẩu hiện tại." if new == current else password_problem(
            new, row["username"])
        if problem:
            raise ValueError(problem)
        with self.engine.begin() as conn:
            locked, held = self._attempt(conn, row["username"], user_id, client)
        if locked:
            self._audit_refused(row["username"], "password_change_failed", client, locked.scope)
            raise locked
        if self._verify(row, current):
            self.audit(row["username"], "password_change_failed", reason="wrong_password", client=client)
            raise WrongPassword()
        new_hash = self.hasher.hash(new)
        with self.engine.begin() as conn:
            self._succeeded(conn, row["username"], client, held)
            conn.execute(update(users_table).where(users_table.c.id == user_id).values(password_hash=new_hash))
            ended = conn.execute(delete(sessions_table).where(and_(
                sessions_table.c.user_id == user_id, sessions_table.c.token_hash != _token_hash(keep_token)))).rowcount
        self.audit(row["username"], "password_change", row["username"], client=client, sessions_ended=ended)
        return ended

    def reset_password(self, user_id: int, new: str, by: str) -> int:
        """Set another account's password (an admin, or the CLI); all its sessions end, its locks and its
        ceiling lift and its known clients are forgotten (a fresh start after an attack).

        Returns the number of sessions ended; ValueError (Vietnamese) for an unknown account or a
        refused password.
        """
        with self.engine.connect() as conn:
            username = conn.execute(select(users_table.c.username).where(users_table.c.id == user_id)).scalar()
        if username is None:
            raise ValueError("Không có tài khoản này.")
        problem = password_problem(new, username)
        if problem:
            raise ValueError(problem)
        new_hash = self.hasher.hash(new)
        with self.engine.begin() as conn:
            conn.execute(update(users_table).where(users_table.c.id == user_id).values(password_hash=new_hash))
            ended = conn.execute(delete(sessions_table).where(sessions_table.c.user_id == user_id)).rowcount
            conn.execute(delete(failures_table).where(or_(
                failures_table.c.key.startswith(f"pair:{username}|", autoescape=True),
                failures_table.c.key == self._keys(username, "")[2])))
            conn.execute(delete(known_clients_table).where(known_clients_table.c.user_id == user_id))
        self.audit(by, "password_reset", username, sessions_ended=ended)
        return ended

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
        """Add an entry to the audit log (``username`` may be one typed at the login form: cut to fit)."""
        with self.engine.begin() as conn:
            conn.execute(insert(audit_table).values(at=self.clock(), username=username[:64], action=action,
                                                    target=str(target)[:200],
                                                    detail=json.dumps(detail, ensure_ascii=False, default=str)))

    def _audit_refused(self, username: str, action: str, client: str, scope: str) -> None:
        """Audit an attempt refused by a lock. A run of them (same account, client and lock, each within
        REFUSED_RUN of the last) is one entry that counts the further attempts ("repeats", "last_at"), so a
        client hammering a locked account cannot flood the log and push older entries off the page."""
        now, username = self.clock(), username[:64]
        with self.engine.begin() as conn:
            last = conn.execute(select(audit_table.c.id, audit_table.c.at, audit_table.c.detail).where(and_(
                audit_table.c.username == username, audit_table.c.action == action)).order_by(
                audit_table.c.id.desc()).limit(1)).first()
            detail = json.loads(last.detail) if last else {}
            if detail.get("reason") == "throttled" and detail.get("client") == client and \
                    detail.get("scope") == scope and \
                    (dt.datetime.fromisoformat(detail["last_at"]) if "last_at" in detail else last.at) >= \
                    now - REFUSED_RUN:
                detail.update(repeats=detail.get("repeats", 0) + 1, last_at=now.isoformat())
                conn.execute(update(audit_table).where(audit_table.c.id == last.id).values(
                    detail=json.dumps(detail, ensure_ascii=False)))
                return
        self.audit(username, action, reason="throttled", client=client, scope=scope)

    def audit_log(self, limit: int = 200, offset: int = 0) -> List[dict]:
        """Audit entries, the newest first: ``limit`` of them after skipping ``offset``."""
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(audit_table).order_by(audit_table.c.id.desc())
                                                  .offset(offset).limit(limit)).mappings()]

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

    def faqs(self, active_only: bool = True, limit: Optional[int] = None, offset: int = 0,
             newest_first: bool = False) -> List[dict]:
        """Staff answers (the active ones only, by default), oldest first unless ``newest_first``."""
        query = select(faq_table).order_by(faq_table.c.id.desc() if newest_first else faq_table.c.id)
        if limit is not None:
            query = query.offset(offset).limit(limit)
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
            for start in range(0, len(keys), 500):  # within every database's limit of bound parameters
                conn.execute(delete(decisions_table).where(decisions_table.c.question_key.in_(keys[start:start + 500])))
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
