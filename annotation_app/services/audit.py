"""The audit log: who changed what, when, with the state before and after; refusals and failed
logins too."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotation_app.errors import NotFound
from annotation_app.models import AuditEntry, Item, User
from annotation_app.permissions import Action
from annotation_app.services.access import service
from annotation_app.services.visibility import HIDDEN_NAME, blind_state, is_blind

# Limits of the columns; a name typed at the login form can be anything.
_NAME_MAX, _KEY_MAX = 128, 200


def record(
    db: Session,
    actor: User | None,
    action: str,
    entity: str,
    key: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    *,
    username: str | None = None,
) -> AuditEntry:
    """Add an entry to the current transaction (it commits or rolls back with the change)."""
    entry = AuditEntry(
        user_id=actor.id if actor else None,
        username=(actor.username if actor else (username or "-"))[:_NAME_MAX],
        action=action,
        entity=entity,
        entity_key=key[:_KEY_MAX],
        before=before,
        after=after,
    )
    db.add(entry)
    return entry


@contextmanager
def apart(db: Session) -> Iterator[Session]:
    """A transaction of its own, for what must be kept although the caller's change is refused
    (the refusal, the conflicting attempt, a failed login).

    The caller's transaction is rolled back first: the caller is about to raise anyway, and on
    SQLite a second connection would otherwise wait for the write lock its own caller holds."""
    db.rollback()
    with Session(db.get_bind()) as side, side.begin():
        yield side


def record_apart(
    db: Session,
    actor: User | None,
    action: str,
    entity: str,
    key: str,
    *,
    username: str | None = None,
    **states: Any,
) -> None:
    """Commit an entry in its own transaction (see `apart`): ends the caller's transaction."""
    db.rollback()  # first, so that a user object of this session can be read again
    user_id, name = (actor.id, actor.username) if actor is not None else (None, username or "-")
    with apart(db) as side:
        entry = record(side, None, action, entity, key, states.get("before"), states.get("after"))
        entry.user_id, entry.username = user_id, name[:_NAME_MAX]


@dataclass(frozen=True)
class HistoryEntry:
    """An audit entry as a service returns it (a copy: changing it changes nothing)."""

    at: datetime
    username: str
    action: str
    entity_key: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def copy_entry(entry: AuditEntry) -> HistoryEntry:
    return HistoryEntry(
        entry.at, entry.username, entry.action, entry.entity_key, entry.before, entry.after
    )


def query_entries(
    db: Session,
    *,
    key: str | None = None,
    key_prefix: str | None = None,
    limit: int | None = 200,
) -> list[AuditEntry]:
    """Newest first."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if key is not None:
        query = query.where(AuditEntry.entity_key == key)
    if key_prefix:
        query = query.where(AuditEntry.entity_key.startswith(key_prefix, autoescape=True))
    return list(db.scalars(query))


@service(Action.VIEW_AUDIT)
def entries(
    db: Session, actor: User, *, key_prefix: str | None = None, limit: int = 200
) -> list[AuditEntry]:
    """Newest first; admins see everything."""
    return query_entries(db, key_prefix=key_prefix, limit=limit)


@service(Action.VIEW)
def item_history(db: Session, actor: User, item_pk: int) -> list[HistoryEntry]:
    """Every entry about one item, newest first. An annotator labelling the item blind sees
    who did what only for their own entries, and no gold, provenance or other labels."""
    row = db.get(Item, item_pk)
    if row is None:
        raise NotFound("error.no_item", item=str(item_pk))
    found = query_entries(db, key=row.key, limit=None)
    if not is_blind(db, actor, item_pk):
        return [copy_entry(e) for e in found]
    out = []
    for e in found:
        own = e.user_id == actor.id
        out.append(
            HistoryEntry(
                e.at,
                e.username if own else HIDDEN_NAME,
                e.action,
                e.entity_key,
                blind_state(e.before, own_label=own),
                blind_state(e.after, own_label=own),
            )
        )
    return out
