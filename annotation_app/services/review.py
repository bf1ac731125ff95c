"""The review workflow: draft → in review → approved / rejected (with comment) → revised."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotation_app.errors import InvalidInput, InvalidTransition, PermissionDenied
from annotation_app.models import Item, Status, User, utcnow
from annotation_app.permissions import Action, require, require_edit_item
from annotation_app.services import audit
from annotation_app.services.items import check_version, flush_or_conflict, get_item, item_key
from evalkit.errors import Problem

# step -> (statuses it starts from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({Status.DRAFT.value, Status.REVISED.value}), Status.IN_REVIEW.value),
    "approve": (frozenset({Status.IN_REVIEW.value}), Status.APPROVED.value),
    "reject": (frozenset({Status.IN_REVIEW.value}), Status.REJECTED.value),
}


def _step(db: Session, actor: User, row: Item, step: str, expected_version: int) -> None:
    sources, target = TRANSITIONS[step]
    check_version(db, actor, row, expected_version, {"step": step})
    if row.status not in sources:
        raise InvalidTransition("error.transition", item=row.item_id, status=row.status, step=step)
    row.status = target
    row.updated_by_id = actor.id
    row.updated_at = utcnow()


def submit(db: Session, actor: User, item_pk: int, expected_version: int) -> Item:
    """Send a draft or revised item to review."""
    row = get_item(db, actor, item_pk)
    require_edit_item(actor, row)
    before = row.snapshot()
    _step(db, actor, row, "submit", expected_version)
    row.review_comment = None
    flush_or_conflict(db, actor, row, {"step": "submit"})
    audit.record(db, actor, "item.submit", "item", item_key(row), before, row.snapshot())
    return row


def _require_not_author(actor: User, row: Item) -> None:
    if row.author_id == actor.id:
        raise PermissionDenied("error.own_review", item=row.item_id)


def approve(db: Session, actor: User, item_pk: int, expected_version: int) -> Item:
    """A reviewer other than the author approves; the item's provenance names the reviewer."""
    require(actor, Action.REVIEW)
    row = get_item(db, actor, item_pk)
    _require_not_author(actor, row)
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


def reject(db: Session, actor: User, item_pk: int, expected_version: int, comment: str) -> Item:
    """Send an item back to its author with a comment saying what to change."""
    require(actor, Action.REVIEW)
    if not comment.strip():
        raise InvalidInput([Problem("review", "comment", "say why the item is rejected")])
    row = get_item(db, actor, item_pk)
    _require_not_author(actor, row)
    before = row.snapshot()
    _step(db, actor, row, "reject", expected_version)
    row.reviewer_id = actor.id
    row.review_comment = comment.strip()
    flush_or_conflict(db, actor, row, {"step": "reject", "comment": comment})
    audit.record(db, actor, "item.reject", "item", item_key(row), before, row.snapshot())
    return row


def review_queue(db: Session, actor: User, suite_id: int) -> list[Item]:
    """Items waiting for review that `actor` did not write, oldest first."""
    require(actor, Action.REVIEW)
    query = (
        select(Item)
        .where(
            Item.suite_id == suite_id,
            Item.status == Status.IN_REVIEW.value,
            Item.author_id != actor.id,
        )
        .order_by(Item.updated_at, Item.id)
    )
    return list(db.scalars(query))
