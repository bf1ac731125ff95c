"""Logging in: password (argon2id) and single sign-on, with failed logins throttled, locked out
and audited.

- Each failure counts against the user name typed, whether or not an account has it; after
  MAX_FAILURES within WINDOW the name is locked for LOCK_TIME (also for the right password).
  The counter is in the database (`login_throttle`), so it holds across restarts and processes;
  a successful login clears it.
- Unknown name, wrong password, deactivated or single-sign-on-only account: the same message,
  and the same work (one argon2 verification, against a dummy hash when there is no account),
  so neither the answer nor the time tells whether a name exists.
- Failed logins, lockouts and refused single sign-ons are written to the audit log in their own
  transaction (the caller's rolls back with the raised error).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from annotation_app.errors import LoginLocked, NotLoggedIn
from annotation_app.models import LoginThrottle, User, utcnow
from annotation_app.security import (
    hash_password,
    needs_rehash,
    normalize_username,
    username_key,
    verify_password,
)
from annotation_app.services import audit

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)  # failures older than this are forgotten
LOCK_TIME = timedelta(minutes=15)
Clock = Callable[[], datetime]


def _key(name: str) -> str:
    return username_key(name)[:200]


def locked_until(db: Session, name: str, now: datetime) -> datetime | None:
    """When the lock on this user name ends, or None when it is not locked."""
    until = db.scalar(select(LoginThrottle.locked_until).where(LoginThrottle.key == _key(name)))
    if until is None or until <= now.timestamp():
        return None
    return datetime.fromtimestamp(until, now.tzinfo)


def _count_failure(side: Session, key: str, now: float) -> LoginThrottle:
    """Add one failure to the name's counter (a new window when the last one expired), with
    one atomic UPDATE, or insert the counter."""
    expired = LoginThrottle.window_start < now - WINDOW.total_seconds()
    bumped = side.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == key)
        .values(
            failures=case((expired, 1), else_=LoginThrottle.failures + 1),
            window_start=case((expired, now), else_=LoginThrottle.window_start),
        )
        .execution_options(synchronize_session=False)
    )
    if not bumped.rowcount:  # type: ignore[attr-defined]
        side.add(LoginThrottle(key=key, failures=1, window_start=now))
        side.flush()  # IntegrityError when another process inserted it meanwhile
    row = side.get(LoginThrottle, key, populate_existing=True)
    assert row is not None
    return row


def _record_failure(db: Session, name: str, user: User | None, now: datetime) -> None:
    """Count and audit a failed login in a transaction of its own; lock the name at
    MAX_FAILURES."""
    key, stamp = _key(name), now.timestamp()
    user_id = user.id if user is not None else None
    for attempt in range(2):
        try:
            with audit.apart(db) as side:
                row = _count_failure(side, key, stamp)
                entries: list[tuple[str, dict[str, Any] | None]] = [("login.failed", None)]
                if row.failures >= MAX_FAILURES:
                    row.locked_until = stamp + LOCK_TIME.total_seconds()
                    row.failures, row.window_start = 0, stamp
                    entries.append(("login.locked", {"after_failures": MAX_FAILURES}))
                for action, after in entries:
                    entry = audit.record(side, None, action, "login", f"login:{name}", None, after)
                    entry.user_id, entry.username = user_id, name[:128]
            return
        except IntegrityError:  # the counter was created concurrently: count again
            if attempt:
                raise


def authenticate(db: Session, username: str, password: str, *, clock: Clock = utcnow) -> User:
    """The active user with this name and password. Every failure is NotLoggedIn with one
    message ("Wrong user name or password."); a locked name is LoginLocked."""
    name = normalize_username(username.strip())
    now = clock()
    until = locked_until(db, name, now)
    if until is not None:
        audit.record_apart(
            db, None, "login.refused_locked", "login", f"login:{name}", username=name
        )
        minutes = max(1, math.ceil((until - now).total_seconds() / 60))
        raise LoginLocked("error.login_locked", minutes=minutes)
    user = db.scalar(select(User).where(User.username_key == _key(name)))
    # Exactly one argon2 verification on every path (dummy hash without an account).
    matches = verify_password(user.password_hash if user is not None else None, password)
    if user is None or not matches or not user.active:
        _record_failure(db, name, user, now)
        raise NotLoggedIn("error.login_failed")
    db.execute(delete(LoginThrottle).where(LoginThrottle.key == _key(name)))
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    audit.record(db, user, "login.ok", "login", f"login:{user.username}", None, None)
    return user


def sso_user(db: Session, email: str | None) -> User:
    """The account for a single-sign-on identity: its username is the e-mail address."""
    user = None
    if email:
        user = db.scalar(select(User).where(User.username_key == _key(email)))
    if user is None or not user.active:
        audit.record_apart(
            db, None, "login.sso_refused", "login", f"login:{email or '-'}", username=email
        )
        raise NotLoggedIn("error.sso_unknown", email=email or "-")
    return user
