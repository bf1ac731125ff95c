"""The review workflow: draft → in review → approved / rejected (with comment) → revised.

Four eyes: nobody approves or rejects an item they wrote, or whose content they changed since it
was last approved (an edit, an import, an adjudication), whatever their role.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotation_app.errors import InvalidInput, InvalidTransition, PermissionDenied
from annotation_app.models import AuditEntry, Item, Status, User, utcnow
from annotation_app.permissions import Action, require_edit_item
from annotation_app.services import audit
from annotation_app.services.access import service
from annotation_app.services.items import item_key, load_item
from annotation_app.services.locking import check_version, flush_or_conflict
from evalkit.errors import Problem

# step -> (statuses it starts from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({Status.DRAFT.value, Status.REVISED.value}), Status.IN_REVIEW.value),
    "approve": (frozenset({Status.IN_REVIEW.value}), Status.APPROVED.value),
    "reject": (frozenset({Status.IN_REVIEW.value}), Status.REJECTED.value),
}
# Audit actions that change an item's content (its record).
CONTENT_ACTIONS = ("item.create", "item.import", "item.update", "item.adjudicate")


def content_editors(db: Session, keys: list[str]) -> dict[str, set[int]]:
    """Per item key: the users who changed the item's content since it was last approved."""
    out: dict[str, set[int]] = {key: set() for key in keys}
    if not keys:
        return out
    rows = db.execute(
        select(AuditEntry.entity_key, AuditEntry.user_id, AuditEntry.action)
        .where(
            AuditEntry.entity_key.in_(keys),
            AuditEntry.action.in_([*CONTENT_ACTIONS, "item.approve"]),
        )
        .order_by(AuditEntry.id)
    )
    for key, user_id, action in rows:
        if action == "item.approve":
            out[key].clear()
        elif user_id is not None:
            out[key].add(user_id)
    return out


def require_four_eyes(db: Session, actor: User, row: Item) -> None:
    """Refuse the author, and anyone who changed the content under review."""
    if row.author_id == actor.id:
        raise PermissionDenied("error.own_review", item=row.item_id)
    if actor.id in content_editors(db, [row.key])[row.key]:
        raise PermissionDenied("error.own_change", item=row.item_id)


def _step(db: Session, actor: User, row: Item, step: str, expected_version: int) -> None:
    sources, target = TRANSITIONS[step]
    check_version(db, actor, row, expected_version, {"step": step})
    if row.status not in sources:
        raise InvalidTransition("error.transition", item=row.item_id, status=row.status, step=step)
    row.status = target
    row.updated_by_id = actor.id
    row.updated_at = utcnow()


@service(Action.WRITE)
def submit(db: Session, actor: User, item_pk: int, expected_version: int) -> Item:
    """Send a draft or revised item to review."""
    row = load_item(db, item_pk)
    require_edit_item(actor, row)
    before = row.snapshot()
    _step(db, actor, row, "submit", expected_version)
    row.review_comment = None
    flush_or_conflict(db, actor, row, {"step": "submit"})
    audit.record(db, actor, "item.submit", "item", item_key(row), before, row.snapshot())
    return row


@service(Action.REVIEW)
def approve(db: Session, actor: User, item_pk: int, expected_version: int) -> Item:
    """A reviewer who neither wrote nor changed the item approves; its provenance names them."""
    row = load_item(db, item_pk)
    require_four_eyes(db, actor, row)
    before = row.snapshot()
    _step(db, actor, row, "approve", expected_version)
    row.reviewer_id = actor.id
    row.review_comment = None
    row.record = {
        **row.record,
        "provenance": {**row.record.get("provenance", {}), "reviewer": actor.username},
    }
    flush_or_conflict(db, actor, row, {"step": "approve"})
    audit.record(db, actor, "item.approve", "item", item_key(row), before, row.snapshot())
    return row


@service(Action.REVIEW)
def reject(db: Session, actor: User, item_pk: int, expected_version: int, comment: str) -> Item:
    """Send an item back to its author with a comment saying what to change."""
    if not comment.strip():
        raise InvalidInput([Problem("review", "comment", "say why the item is rejected")])
    row = load_item(db, item_pk)
    require_four_eyes(db, actor, row)
    before = row.snapshot()
    _step(db, actor, row, "reject", expected_version)
    row.reviewer_id = actor.id
    row.review_comment = comment.strip()
    flush_or_conflict(db, actor, row, {"step": "reject", "comment": comment})
    audit.record(db, actor, "item.reject", "item", item_key(row), before, row.snapshot())
    return row


@service(Action.REVIEW)
def review_queue(db: Session, actor: User, suite_id: int) -> list[Item]:
    """Items waiting for review that `actor` may review (did not write or change), oldest
    first."""
    query = (
        select(Item)
        .where(
            Item.suite_id == suite_id,
            Item.status == Status.IN_REVIEW.value,
            Item.author_id != actor.id,
        )
        .order_by(Item.updated_at, Item.id)
    )
    rows = list(db.scalars(query))
    editors = content_editors(db, [row.key for row in rows])
    return [row for row in rows if actor.id not in editors[row.key]]
