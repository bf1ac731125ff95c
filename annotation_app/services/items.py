"""Items: create and edit through evalkit's item model, optimistic locking, search, and the
near-duplicate warning on save."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from annotation_app.errors import EditConflict, InvalidInput, NotFound
from annotation_app.models import Item, Status, Suite, User, utcnow
from annotation_app.permissions import Action, require, require_edit_item
from annotation_app.services import audit
from evalkit.errors import Problem
from evalkit.suite.checks import NEAR_DUPLICATE_THRESHOLD, similar_to
from evalkit.suite.items import ItemBase, item_to_record
from evalkit.suite.records import parse_item

FORM = "form"  # the `where` of problems found in a form


@dataclass(frozen=True)
class NearDuplicate:
    item_id: str
    similarity: float


@dataclass(frozen=True)
class SavedItem:
    """The saved row, and items whose text is suspiciously similar (a warning, not an error)."""

    item: Item
    near_duplicates: list[NearDuplicate] = field(default_factory=list)


def validate_record(record: dict[str, Any], where: str = FORM) -> ItemBase:
    """The record as an evalkit item, or InvalidInput with every problem by field."""
    item, problems = parse_item(record, where)
    if item is None:
        raise InvalidInput(problems)
    return item


def _search_text(item: ItemBase) -> str:
    return "\n".join([item.input_text(), *item.reference_texts()])


def new_item_row(suite: Suite, actor: User, item: ItemBase, status: Status) -> Item:
    """An unsaved row for a validated item."""
    row = Item(suite_id=suite.id, item_id=item.id, status=status.value, author_id=actor.id)
    apply_item(row, item, actor)
    return row


def apply_item(row: Item, item: ItemBase, actor: User) -> None:
    """Write a validated item into its row: the record and every column derived from it."""
    row.task = item.task  # type: ignore[attr-defined]
    row.language = item.language
    row.split = item.split
    row.tags = list(item.tags)
    row.record = item_to_record(item)
    row.search_text = _search_text(item)
    row.updated_by_id = actor.id
    row.updated_at = utcnow()


def new_item_id(suite: Suite, task: str) -> str:
    return f"{suite.name}-{task}-{uuid.uuid4().hex[:8]}"


def get_item(db: Session, actor: User, item_pk: int) -> Item:
    require(actor, Action.VIEW)
    row = db.get(Item, item_pk)
    if row is None:
        raise NotFound("error.no_item", item=str(item_pk))
    return row


def _id_taken(db: Session, suite_id: int, item_id: str) -> bool:
    query = select(Item.id).where(Item.suite_id == suite_id, Item.item_id == item_id)
    return db.scalar(query) is not None


def create_item(
    db: Session,
    actor: User,
    suite_id: int,
    record: dict[str, Any],
    threshold: float = NEAR_DUPLICATE_THRESHOLD,
) -> SavedItem:
    """Save a new draft written by `actor` (who becomes its author). A blank id is generated."""
    require(actor, Action.WRITE)
    suite = db.get(Suite, suite_id)
    if suite is None:
        raise NotFound("error.no_suite", suite=str(suite_id))
    record = dict(record)
    if not str(record.get("id") or "").strip():
        record["id"] = new_item_id(suite, str(record.get("task") or "item"))
    record["provenance"] = {**(record.get("provenance") or {}), "author": actor.username}
    record["provenance"].pop("reviewer", None)
    item = validate_record(record)
    if _id_taken(db, suite.id, item.id):
        raise InvalidInput(
            [Problem(FORM, "id", f"id {item.id!r} is already used in suite {suite.name!r}")]
        )
    row = new_item_row(suite, actor, item, Status.DRAFT)
    db.add(row)
    db.flush()
    audit.record(db, actor, "item.create", "item", item_key(row, suite), None, row.snapshot())
    return SavedItem(row, near_duplicates(db, row, item, threshold))


def item_key(row: Item, suite: Suite | None = None) -> str:
    return f"item:{(suite or row.suite).name}/{row.item_id}"


def conflict(db: Session, actor: User, row: Item, attempted: dict[str, Any]) -> EditConflict:
    """The refusal for a stale save; the attempt is kept in the audit log, so nothing is lost."""
    db.refresh(row)
    audit.record_apart(db, actor, "item.conflict", "item", item_key(row), after=attempted)
    return EditConflict(
        what=item_key(row),
        current=row.snapshot(),
        current_version=row.version,
        by=row.updated_by.username,
        at=str(row.updated_at),
        attempted=attempted,
    )


def check_version(
    db: Session, actor: User, row: Item, expected: int, attempted: dict[str, Any]
) -> None:
    if row.version != expected:
        raise conflict(db, actor, row, attempted)


def flush_or_conflict(db: Session, actor: User, row: Item, attempted: dict[str, Any]) -> None:
    """Flush; if another session updated the row in between, refuse (the UPDATE matched no row
    because its version counter moved on)."""
    try:
        db.flush()
    except StaleDataError:
        db.rollback()
        fresh = db.get(Item, row.id)
        assert fresh is not None
        raise conflict(db, actor, fresh, attempted) from None


# Editing content sends a reviewed item back for review.
_STATUS_AFTER_EDIT = {
    Status.APPROVED.value: Status.REVISED.value,
    Status.REJECTED.value: Status.REVISED.value,
}


def update_item(
    db: Session,
    actor: User,
    item_pk: int,
    record: dict[str, Any],
    expected_version: int,
    threshold: float = NEAR_DUPLICATE_THRESHOLD,
) -> SavedItem:
    """Save an edit made on version `expected_version`; a newer version in the database means
    someone else saved meanwhile, and the edit is refused (EditConflict), not merged."""
    row = get_item(db, actor, item_pk)
    require_edit_item(actor, row)
    record = dict(record)
    record["id"] = row.item_id  # ids are stable; a new id is a new item
    old_provenance = row.record.get("provenance", {})
    record["provenance"] = {
        **(record.get("provenance") or {}),
        "author": old_provenance.get("author", row.author.username),
    }
    record["provenance"].pop("reviewer", None)  # changed content is not reviewed content
    check_version(db, actor, row, expected_version, record)
    item = validate_record(record)
    before = row.snapshot()
    if item_to_record(item) == row.record:
        return SavedItem(row, [])
    apply_item(row, item, actor)
    row.status = _STATUS_AFTER_EDIT.get(row.status, row.status)
    if row.status == Status.REVISED.value:
        row.reviewer_id = None
    flush_or_conflict(db, actor, row, record)
    audit.record(db, actor, "item.update", "item", item_key(row), before, row.snapshot())
    return SavedItem(row, near_duplicates(db, row, item, threshold))


def near_duplicates(
    db: Session, row: Item, item: ItemBase, threshold: float = NEAR_DUPLICATE_THRESHOLD
) -> list[NearDuplicate]:
    """Other items of the suite whose input text is at least `threshold` similar (evalkit's
    character n-gram TF-IDF, which needs no word segmentation for Chinese)."""
    others = db.execute(
        select(Item.item_id, Item.record).where(Item.suite_id == row.suite_id, Item.id != row.id)
    ).all()
    texts, ids = [], []
    for other_id, other_record in others:
        other, _ = parse_item(other_record, other_id)
        if other is not None:
            texts.append(other.input_text())
            ids.append(other_id)
    found = [
        NearDuplicate(ids[j], round(sim, 3))
        for j, sim in similar_to(item.input_text(), texts, threshold)
    ]
    return sorted(found, key=lambda d: -d.similarity)


@dataclass(frozen=True)
class ItemFilter:
    """Search and filters for the item list; empty fields do not filter."""

    text: str = ""
    task: str = ""
    tag: str = ""
    status: str = ""
    author: str = ""


def search_items(db: Session, actor: User, suite_id: int, filters: ItemFilter) -> list[Item]:
    require(actor, Action.VIEW)
    query = select(Item).where(Item.suite_id == suite_id).order_by(Item.updated_at.desc(), Item.id)
    if filters.text.strip():
        needle = filters.text.strip()
        query = query.where(
            Item.search_text.contains(needle, autoescape=True)
            | Item.item_id.contains(needle, autoescape=True)
        )
    if filters.task:
        query = query.where(Item.task == filters.task)
    if filters.status:
        query = query.where(Item.status == filters.status)
    if filters.author:
        query = query.join(User, Item.author_id == User.id).where(User.username == filters.author)
    rows = list(db.scalars(query))
    if filters.tag:  # tags are a JSON list; filtering here is portable across databases
        rows = [r for r in rows if filters.tag in (r.tags or [])]
    return rows
