"""Items: create and edit through evalkit's item model, optimistic locking, lookup and search
(blind for an annotator labelling the item), and the near-duplicate warning on save."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from annotation_app.errors import InvalidInput, NotFound
from annotation_app.models import ITEM_LANGUAGE_MAX, Item, Status, Suite, User, utcnow
from annotation_app.permissions import Action, require_edit_item
from annotation_app.services import audit
from annotation_app.services.access import service
from annotation_app.services.locking import check_version, flush_or_conflict
from annotation_app.services.visibility import (
    ItemView,
    blind_item_pks,
    is_blind,
    item_view,
)
from evalkit.errors import Problem
from evalkit.suite.checks import NEAR_DUPLICATE_THRESHOLD, similar_to
from evalkit.suite.items import ItemBase, item_to_record
from evalkit.suite.records import parse_item

FORM = "form"  # the `where` of problems found in a form
# What a record may claim about people; the server decides these (see `server_provenance`).
CLAIMABLE = ("author", "reviewer")


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
    if len(item.language) > ITEM_LANGUAGE_MAX:  # the pattern allows any number of subtags
        reason = f"at most {ITEM_LANGUAGE_MAX} characters (this has {len(item.language)})"
        raise InvalidInput([Problem(where, "language", reason)])
    return item


def server_provenance(
    record: dict[str, Any], author: str
) -> tuple[dict[str, Any], dict[str, str] | None]:
    """The record with the provenance the server sets (`author`, no reviewer: an unreviewed
    item), and what the record claimed otherwise about author or reviewer (None: nothing)."""
    given = record.get("provenance")
    given = dict(given) if isinstance(given, dict) else {}
    claimed = {
        k: str(given[k])
        for k in CLAIMABLE
        if given.get(k) and (k != "author" or str(given[k]) != author)
    }
    provenance = {k: v for k, v in given.items() if k not in CLAIMABLE}
    return {**record, "provenance": {**provenance, "author": author}}, claimed or None


def _search_text(item: ItemBase) -> str:
    return "\n".join([item.input_text(), *item.reference_texts()])


def new_item_row(suite: Suite, actor: User, item: ItemBase, status: Status) -> Item:
    """An unsaved row for a validated item."""
    row = Item(suite_id=suite.id, item_id=item.id, status=status.value, author_id=actor.id)
    apply_item(row, item, actor)
    return row


def apply_item(row: Item, item: ItemBase, actor: User) -> None:
    """Write a validated item into its row: the record and every column derived from it."""
    row.task = item.task
    row.language = item.language
    row.split = item.split
    row.tags = list(item.tags)
    row.record = item_to_record(item)
    row.search_text = _search_text(item)
    row.updated_by_id = actor.id
    row.updated_at = utcnow()


def new_item_id(suite: Suite, task: str) -> str:
    return f"{suite.name}-{task}-{uuid.uuid4().hex[:8]}"


def load_item(db: Session, item_pk: int) -> Item:
    """The row itself, for services that checked who may act (never returned to a page)."""
    row = db.get(Item, item_pk)
    if row is None:
        raise NotFound("error.no_item", item=str(item_pk))
    return row


def load_suite(db: Session, suite_id: int) -> Suite:
    suite = db.get(Suite, suite_id)
    if suite is None:
        raise NotFound("error.no_suite", suite=str(suite_id))
    return suite


@service(Action.VIEW)
def get_item(db: Session, actor: User, item_pk: int) -> ItemView:
    """One item as `actor` may see it (blind while they label it)."""
    row = load_item(db, item_pk)
    return item_view(row, is_blind(db, actor, row.id))


def _id_taken(db: Session, suite_id: int, item_id: str) -> bool:
    query = select(Item.id).where(Item.suite_id == suite_id, Item.item_id == item_id)
    return db.scalar(query) is not None


@service(Action.WRITE)
def create_item(
    db: Session,
    actor: User,
    suite_id: int,
    record: dict[str, Any],
    threshold: float = NEAR_DUPLICATE_THRESHOLD,
) -> SavedItem:
    """Save a new draft written by `actor` (who becomes its author). A blank id is generated."""
    suite = load_suite(db, suite_id)
    record, claimed = server_provenance(dict(record), actor.username)
    if not str(record.get("id") or "").strip():
        record["id"] = new_item_id(suite, str(record.get("task") or "item"))
    item = validate_record(record)
    if _id_taken(db, suite.id, item.id):
        raise InvalidInput(
            [Problem(FORM, "id", f"id {item.id!r} is already used in suite {suite.name!r}")]
        )
    row = new_item_row(suite, actor, item, Status.DRAFT)
    row.claimed_provenance = claimed
    db.add(row)
    db.flush()
    audit.record(db, actor, "item.create", "item", item_key(row, suite), None, row.snapshot())
    return SavedItem(row, near_duplicates(db, row, item, threshold))


def item_key(row: Item, suite: Suite | None = None) -> str:
    return f"item:{suite.name}/{row.item_id}" if suite is not None else row.key


# Editing content sends a reviewed item back for review.
STATUS_AFTER_EDIT = {
    Status.APPROVED.value: Status.REVISED.value,
    Status.REJECTED.value: Status.REVISED.value,
}


def mark_edited(row: Item) -> None:
    """After a change of content: a reviewed item needs reviewing again."""
    row.status = STATUS_AFTER_EDIT.get(row.status, row.status)
    if row.status == Status.REVISED.value:
        row.reviewer_id = None


@service(Action.WRITE)
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
    row = load_item(db, item_pk)
    require_edit_item(actor, row)
    author = row.record.get("provenance", {}).get("author") or row.author.username
    record, _ = server_provenance({**record, "id": row.item_id}, author)  # ids are stable
    check_version(db, actor, row, expected_version, record)
    item = validate_record(record)
    before = row.snapshot()
    if item_to_record(item) == row.record:
        return SavedItem(row, [])
    apply_item(row, item, actor)
    mark_edited(row)
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


@service(Action.VIEW)
def search_items(db: Session, actor: User, suite_id: int, filters: ItemFilter) -> list[ItemView]:
    """The suite's items matching `filters`, newest first. Items `actor` labels blind are
    searched and shown blind: their text search sees only the input, and they have no author."""
    query = (
        select(Item)
        .where(Item.suite_id == suite_id)
        .order_by(Item.updated_at.desc(), Item.id)
        .options(*(selectinload(r) for r in (Item.author, Item.reviewer, Item.updated_by)))
    )
    if filters.task:
        query = query.where(Item.task == filters.task)
    if filters.status:
        query = query.where(Item.status == filters.status)
    blind = blind_item_pks(db, actor)
    if filters.author:  # a blind item has no author to match
        query = query.join(User, Item.author_id == User.id).where(
            User.username == filters.author, Item.id.not_in(blind)
        )
    needle = filters.text.strip()
    if needle:
        # lower() on both sides: SQLite's LIKE ignores case (ASCII), PostgreSQL's does not.
        matches = Item.search_text.icontains(needle, autoescape=True) | Item.item_id.icontains(
            needle, autoescape=True
        )
        query = query.where(matches | Item.id.in_(blind))  # blind rows are matched below
    views = [item_view(row, row.id in blind) for row in db.scalars(query)]
    if needle:  # the search ignores case; so does this
        low = needle.casefold()
        views = [
            v
            for v in views
            if not v.blind or low in v.search_text.casefold() or low in v.item_id.casefold()
        ]
    if filters.tag:  # tags are a JSON list; filtering here is portable across databases
        views = [v for v in views if filters.tag in v.tags]
    return views
