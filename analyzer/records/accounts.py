"""Clinic accounts, roles and the audit trail, in the records database (tables from migration 0004).

- `users`: local accounts. Passwords are hashed with Argon2id (argon2-cffi, its default parameters; old hashes are
  re-hashed on the next sign-in when the parameters change). Roles: `clinician` (everything but deleting patients and
  managing accounts) and `admin`.
- `audit_log`: who signed in, failed to sign in, opened, exported or deleted which patient, and when. Rows are never
  deleted with a patient: the clinic needs the trail, so `patient_id` keeps the id as it was (README, Privacy).

The app and `runform users` go through these functions; the role check for deleting a patient is here
(`delete_patient_as`), not only in the app's buttons.
"""
from __future__ import annotations

import csv
import getpass
import io
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Integer, String, Text, func, select, text
from sqlalchemy.orm import Mapped, mapped_column

from analyzer.core.errors import InputError
from analyzer.records.db import Database
from analyzer.records.models import Base

ROLES = ("clinician", "admin")
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
MIN_PASSWORD = 8
DEFAULT_IDLE_MIN = 30.0  # signed out after 30 minutes without a click
DEFAULT_MAX_HOURS = 8.0  # and after 8 hours in any case (a working day)
LOCKOUT_FAILURES = 5  # failed sign-ins on one name ...
LOCKOUT_WINDOW_S = 15 * 60.0  # ... within 15 minutes lock it for the rest of the window
AUDIT_COLUMNS = ("id", "at_utc", "username", "action", "patient_id", "detail", "remote")

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("runform: no such user")  # unknown names cost the same time as wrong passwords


class User(Base):
    __tablename__ = "users"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_utc: Mapped[str] = mapped_column(String(32))
    password_changed_utc: Mapped[str] = mapped_column(String(32))
    last_sign_in_utc: Mapped[str | None] = mapped_column(String(32))


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at_utc: Mapped[str] = mapped_column(String(32), index=True)
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(32))
    patient_id: Mapped[str | None] = mapped_column(String(64), index=True)  # as it was: no FK, kept after deletion
    detail: Mapped[str | None] = mapped_column(Text)
    remote: Mapped[str | None] = mapped_column(String(64))


class PermissionDenied(InputError):
    """The signed-in account's role does not allow this."""


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in account, or the workstation's own user when sign-in is off."""
    username: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _db(db: Database | None) -> Database:
    from analyzer.records.store import get_db

    return get_db(db)


def local_actor() -> Actor:
    """The single user of a workstation app run with `--no-sign-in`, and of the command line: the OS account."""
    try:
        name = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in this environment
        name = "unknown"
    return Actor(f"local:{name}", "admin")


def check_username(username: str) -> str:
    name = str(username).strip()
    if not USERNAME_RE.match(name):
        raise InputError(f"user name {username!r} is not valid.",
                         "Use 1-64 letters, digits, '.', '_', '-' or '@', starting with a letter or digit.")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InputError(f"role {role!r} is not one of {', '.join(ROLES)}.", "Use --role clinician or --role admin.")
    return role


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"the password is shorter than {MIN_PASSWORD} characters.", "Choose a longer one.")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# ---- accounts ----------------------------------------------------------------------------------------------------
def has_users(db: Database | None = None) -> bool:
    with _db(db).session() as s:
        return (s.scalar(select(func.count()).select_from(User)) or 0) > 0


_ACCOUNTS_LOCK = 0x52554E5553455253  # "RUNUSERS": PostgreSQL advisory lock held while accounts change


def _lock_accounts(s) -> None:
    """Serialise account changes across processes for the rest of the transaction, so that "no account yet", "not the
    last admin" and "name not taken (any case)" stay true until the change commits. PostgreSQL: a transaction-level
    advisory lock; SQLite: a no-op write, which takes the database's write lock (other writers wait)."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ACCOUNTS_LOCK})
    else:
        s.execute(text("UPDATE users SET id = id WHERE 0"))


def add_user(username: str, password: str, role: str = "clinician", *, actor: Actor | None = None,
             first_only: bool = False, db: Database | None = None) -> Actor:
    """Create an account. `first_only`: only if no account exists yet (the app's first-run step), checked in the
    same transaction as the insert."""
    name, role = check_username(username), check_role(role)
    check_password(password)
    dbx = _db(db)
    with dbx.session() as s, s.begin():
        _lock_accounts(s)
        if first_only and (s.scalar(select(func.count()).select_from(User)) or 0) > 0:
            raise PermissionDenied("an account exists already.", "Sign in, or ask an admin for an account.")
        if s.scalar(select(User).where(func.lower(User.username) == name.lower())) is not None:
            raise InputError(f"user {name!r} exists already.", "Pick another name, or `runform users reset-password`.")
        now = _now()
        s.add(User(username=name, role=role, password_hash=hash_password(password), created_utc=now,
                   password_changed_utc=now))
    audit(actor.username if actor else name, "user_added", detail=f"{name} ({role})", db=dbx)
    return Actor(name, role)


def list_users(db: Database | None = None) -> list[dict[str, Any]]:
    with _db(db).session() as s:
        return [{"username": u.username, "role": u.role, "created_utc": u.created_utc,
                 "last_sign_in_utc": u.last_sign_in_utc} for u in s.scalars(select(User).order_by(User.username))]


def _get(s, username: str) -> User:
    u = s.scalar(select(User).where(User.username == str(username).strip()))
    if u is None:
        raise InputError(f"no user {username!r}.", "List accounts with `runform users list`.")
    return u


def remove_user(username: str, *, actor: Actor | None = None, db: Database | None = None) -> None:
    """Delete an account. The last admin cannot be removed (nobody could manage accounts or delete patients)."""
    dbx = _db(db)
    with dbx.session() as s, s.begin():
        _lock_accounts(s)
        u = _get(s, username)
        if u.role == "admin":
            admins = s.scalar(select(func.count()).select_from(User).where(User.role == "admin")) or 0
            if admins <= 1:
                raise InputError(f"{u.username} is the only admin.", "Add another admin first.")
        name = u.username
        s.delete(u)
    audit((actor or local_actor()).username, "user_removed", detail=name, db=dbx)


def reset_password(username: str, password: str, *, actor: Actor | None = None, db: Database | None = None) -> None:
    check_password(password)
    dbx = _db(db)
    with dbx.session() as s, s.begin():
        u = _get(s, username)
        u.password_hash = hash_password(password)
        u.password_changed_utc = _now()
        name = u.username
    audit((actor or local_actor()).username, "password_reset", detail=name, db=dbx)


def recent_failures(username: str, within_s: float = LOCKOUT_WINDOW_S, db: Database | None = None) -> int:
    since = (datetime.now(timezone.utc) - timedelta(seconds=within_s)).isoformat(timespec="seconds")
    with _db(db).session() as s:
        return s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.username == username, AuditEntry.action == "sign_in_failed", AuditEntry.at_utc >= since)) or 0


def authenticate(username: str, password: str, *, remote: str | None = None,
                 db: Database | None = None) -> Actor | None:
    """The account for these credentials, or None. Both outcomes are written to the audit log. After
    LOCKOUT_FAILURES failed attempts on one name within LOCKOUT_WINDOW_S, that name is refused (even with the right
    password) until the window has passed: password guessing through the sign-in form is slowed to a crawl."""
    dbx = _db(db)
    name = str(username).strip()
    if name and recent_failures(name[:64], db=dbx) >= LOCKOUT_FAILURES:
        audit(name[:64], "sign_in_locked", remote=remote, db=dbx)
        return None
    with dbx.session() as s, s.begin():
        u = s.scalar(select(User).where(User.username == name)) if name else None
        ok = verify_password(u.password_hash if u else _DUMMY_HASH, password) and u is not None
        if ok:
            u.last_sign_in_utc = _now()
            if _hasher.check_needs_rehash(u.password_hash):
                u.password_hash = hash_password(password)
            actor = Actor(u.username, u.role)
    if not ok:
        audit(name[:64] or None, "sign_in_failed", remote=remote, db=dbx)
        return None
    audit(actor.username, "sign_in", remote=remote, db=dbx)
    return actor


def require_admin(actor: Actor | None, what: str) -> Actor:
    if actor is None or not actor.is_admin:
        raise PermissionDenied(f"only an admin can {what}.", "Ask an admin, or sign in as one.")
    return actor


def delete_patient_as(actor: Actor | None, patient_id: str, *, remote: str | None = None,
                      db: Database | None = None):
    """Delete a patient (analyzer.records.delete_patient) on behalf of `actor`: admins only. The refusal and the
    deletion are both audited; the audit rows keep the patient id."""
    from analyzer.records.store import check_patient_id, delete_patient

    pid = check_patient_id(patient_id)
    if actor is None or not actor.is_admin:
        audit(actor.username if actor else None, "delete_refused", patient_id=pid, remote=remote, db=db)
        require_admin(actor, "delete a patient")
    rep = delete_patient(pid, db=db)
    audit(actor.username, "delete", patient_id=pid, detail=f"{rep.sessions} session(s)", remote=remote, db=db)
    return rep


# ---- audit -------------------------------------------------------------------------------------------------------
def audit(username: str | None, action: str, *, patient_id: str | None = None, detail: str | None = None,
          remote: str | None = None, db: Database | None = None) -> None:
    with _db(db).session() as s, s.begin():
        s.add(AuditEntry(at_utc=_now(), username=username, action=action, patient_id=patient_id,
                         detail=detail, remote=remote))


def audit_entries(limit: int | None = None, *, patient_id: str | None = None,
                  db: Database | None = None) -> list[dict[str, Any]]:
    """Newest first."""
    q = select(AuditEntry).order_by(AuditEntry.id.desc())
    if patient_id is not None:
        q = q.where(AuditEntry.patient_id == patient_id)
    if limit is not None:
        q = q.limit(limit)
    with _db(db).session() as s:
        return [{c: getattr(e, c) for c in AUDIT_COLUMNS} for e in s.scalars(q)]


def _cell(v: Any) -> Any:
    """A spreadsheet must not run a cell as a formula (a user name like `=HYPERLINK(...)`)."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return "" if v is None else v


def audit_csv(rows: list[dict[str, Any]] | None = None, db: Database | None = None) -> str:
    rows = audit_entries(db=db) if rows is None else rows
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(AUDIT_COLUMNS)
    for r in rows:
        w.writerow([_cell(r.get(c)) for c in AUDIT_COLUMNS])
    return buf.getvalue()


def write_audit_csv(path: str | Path, db: Database | None = None) -> int:
    """Write the whole audit log as CSV (private file). Returns the number of entries."""
    from analyzer.core.results import private_file

    rows = audit_entries(db=db)
    p = Path(path)
    p.write_text(audit_csv(rows), encoding="utf-8")
    private_file(p)
    return len(rows)


# ---- browser sessions --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SessionPolicy:
    idle_s: float = DEFAULT_IDLE_MIN * 60
    max_s: float = DEFAULT_MAX_HOURS * 3600

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "SessionPolicy":
        import os

        e = os.environ if env is None else env

        def num(key: str, default: float) -> float:
            try:
                v = float(e.get(key, "") or default)
            except ValueError:
                return default
            return v if v > 0 else default

        return cls(num("RUNFORM_SESSION_IDLE_MIN", DEFAULT_IDLE_MIN) * 60,
                   num("RUNFORM_SESSION_MAX_HOURS", DEFAULT_MAX_HOURS) * 3600)

    def expired(self, signed_in_at: float, last_seen: float, now: float) -> str | None:
        """Why a browser session has ended, or None while it is still valid."""
        if now - signed_in_at >= self.max_s:
            return f"signed out after {self.max_s / 3600:g} hours"
        if now - last_seen >= self.idle_s:
            return f"signed out after {self.idle_s / 60:g} minutes without activity"
        return None
