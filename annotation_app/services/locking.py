"""Optimistic locking, the same for items and suites: an edit names the version it was made
on; a newer version in the database refuses the edit with `EditConflict` (showing the other
person's version and keeping the attempt in the audit log) instead of overwriting it.

A conflicting write never waits: the version check happens before anything is written, and the
UPDATE itself carries the version (SQLAlchemy's `version_id_col`), so a write that lost the race
matches no row and is refused at once. Nothing here waits on a lock its own transaction holds:
the caller's transaction is rolled back before the attempt is recorded.

The same holds on PostgreSQL (READ COMMITTED): an UPDATE of a row that another open transaction
changed waits for that transaction only, then re-checks its WHERE clause against the committed
row, so the version no longer matches and the save is refused; a lock held longer than
`db.LOCK_WAIT_MS` refuses it too, as SQLite's busy timeout does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.exc import StaleDataError

from annotation_app.errors import EditConflict
from annotation_app.models import Item, Suite, User
from annotation_app.services import audit

Versioned = Item | Suite


def _entity(row: Versioned) -> str:
    return "item" if isinstance(row, Item) else "suite"


def conflict(db: Session, actor: User, row: Versioned, attempted: dict[str, Any]) -> EditConflict:
    """The refusal for a stale save, with what is in the database now; the attempt is kept in
    the audit log, so nothing is lost. Ends (rolls back) the caller's transaction."""
    # The primary key without touching the database (the session may be in a failed flush).
    pk, entity = instance_state(row).identity, _entity(row)
    db.rollback()
    fresh: Versioned | None = db.get(Item, pk) if isinstance(row, Item) else db.get(Suite, pk)
    assert fresh is not None  # rows are never deleted
    key, current, version = fresh.key, fresh.snapshot(), fresh.version
    by = fresh.updated_by.username if fresh.updated_by is not None else "-"
    at = str(fresh.updated_at)
    audit.record_apart(db, actor, f"{entity}.conflict", entity, key, after=attempted)
    return EditConflict(
        what=key, current=current, current_version=version, by=by, at=at, attempted=attempted
    )


def check_version(
    db: Session, actor: User, row: Versioned, expected: int, attempted: dict[str, Any]
) -> None:
    """Refuse before writing anything when the row is no longer at version `expected`."""
    if row.version != expected:
        raise conflict(db, actor, row, attempted)


def _is_busy(error: OperationalError) -> bool:
    """The write waited `db.LOCK_WAIT_MS` for another transaction: SQLite's "database is
    locked", PostgreSQL's lock_timeout (SQLSTATE 55P03, lock_not_available)."""
    orig = error.orig
    if "55P03" in (getattr(orig, "sqlstate", None), getattr(orig, "pgcode", None)):
        return True
    text = str(orig).lower()
    return "locked" in text or "busy" in text


def flush_or_conflict(db: Session, actor: User, row: Versioned, attempted: dict[str, Any]) -> None:
    """Flush; if another session updated the row in between (the UPDATE matched no row because
    the version counter moved on), or holds the database busy, refuse."""
    try:
        db.flush()
    except StaleDataError:
        raise conflict(db, actor, row, attempted) from None
    except OperationalError as e:
        if not _is_busy(e):
            raise
        raise conflict(db, actor, row, attempted) from None
