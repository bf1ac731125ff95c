"""The audit log: who changed what, when, with the state before and after."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotation_app.models import AuditEntry, User
from annotation_app.permissions import Action, require


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
        username=actor.username if actor else (username or "-"),
        action=action,
        entity=entity,
        entity_key=key,
        before=before,
        after=after,
    )
    db.add(entry)
    return entry


def record_apart(
    db: Session, actor: User, action: str, entity: str, key: str, **states: Any
) -> None:
    """Commit an entry in its own transaction, for attempts whose change is refused
    (a conflicting save): the attempt is kept even though the change rolls back."""
    with Session(db.get_bind()) as side, side.begin():
        record(side, actor, action, entity, key, states.get("before"), states.get("after"))


def entries(
    db: Session, actor: User, *, key_prefix: str | None = None, limit: int = 200
) -> list[AuditEntry]:
    """Newest first; admins see everything."""
    require(actor, Action.VIEW_AUDIT)
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if key_prefix:
        query = query.where(AuditEntry.entity_key.startswith(key_prefix, autoescape=True))
    return list(db.scalars(query))


def item_history(db: Session, actor: User, key: str) -> list[AuditEntry]:
    """Every entry about one item (any logged-in user may see an item's history)."""
    require(actor, Action.VIEW)
    query = select(AuditEntry).where(AuditEntry.entity_key == key).order_by(AuditEntry.id.desc())
    return list(db.scalars(query))
