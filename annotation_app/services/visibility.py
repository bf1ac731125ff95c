"""What a user is shown of items, labels and accounts: plain copies, blind where they must be.

An annotator assigned to label an item (double annotation) labels it blind: every service that
returns that item to them (lookup, search, history, version diffs, their assignments) gives it
without the gold answer, the answer format, the provenance, the review comment and the author,
and without other annotators' labels. Reviewers and admins see everything (they review, assign
and adjudicate), and only annotators can be assigned.

Services return copies (frozen dataclasses), never database rows, for what they show: a copy
can be blinded without any risk of the change being saved.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotation_app.models import Assignment, Item, User
from annotation_app.permissions import Action, allowed
from evalkit.suite.diff import ItemChange, SuiteDiff
from evalkit.suite.records import parse_item

# The gold answer of each task type.
GOLD_FIELDS: dict[str, tuple[str, ...]] = {
    "mcq": ("answer",),
    "classification": ("label",),
    "extraction": ("fields",),
    "qa": ("answers",),
    "generation": ("references",),
    "dialogue": ("references",),
}
# Hidden from a blind annotator whatever the task: who wrote and approved the item, and the
# format spec (a choice format can list the one accepted answer).
ALWAYS_HIDDEN = ("provenance", "format")
# The parts of an audit state a blind annotator may see (a whitelist: new keys stay hidden).
_BLIND_STATE_KEYS = frozenset({"item_id", "status", "version"})
HIDDEN_NAME = "-"


def hidden_fields(task: str) -> frozenset[str]:
    return frozenset({*GOLD_FIELDS.get(task, ()), *ALWAYS_HIDDEN})


def blind_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """The item as an annotator labels it: no gold answer, format, author or reviewer."""
    hidden = hidden_fields(str(record.get("task")))
    out = {k: v for k, v in record.items() if k not in hidden}
    if record.get("task") == "extraction":
        out["field_names"] = list(record.get("fields") or {})
    return out


def blind_text(record: Mapping[str, Any]) -> str:
    """What a blind annotator's text search looks in: the input, never the references."""
    item, _ = parse_item(dict(record), "-")
    return item.input_text() if item is not None else ""


def blind_item_pks(db: Session, user: User, item_pks: list[int] | None = None) -> set[int]:
    """The items (of `item_pks`, or all) that `user` sees blind: assigned to them for labelling,
    while they are not a reviewer."""
    if allowed(user, Action.REVIEW):
        return set()
    query = select(Assignment.item_pk).where(Assignment.annotator_id == user.id)
    if item_pks is not None:
        query = query.where(Assignment.item_pk.in_(item_pks))
    return set(db.scalars(query))


def is_blind(db: Session, user: User, item_pk: int) -> bool:
    return bool(blind_item_pks(db, user, [item_pk]))


@dataclass(frozen=True)
class ItemView:
    """An item as shown to one user; `blind` when it is shown without gold and people."""

    id: int
    key: str
    item_id: str
    suite_id: int
    task: str
    language: str
    split: str
    tags: list[str]
    record: dict[str, Any]
    search_text: str
    status: str
    review_comment: str | None
    author_id: int | None
    author: str
    reviewer: str | None
    updated_by: str
    updated_at: datetime
    version: int
    blind: bool


def item_view(row: Item, blind: bool) -> ItemView:
    if blind:
        record = blind_record(row.record)
        text, comment = blind_text(row.record), None
        author_id, author, reviewer, editor = None, HIDDEN_NAME, None, HIDDEN_NAME
    else:
        record, text, comment = copy.deepcopy(row.record), row.search_text, row.review_comment
        author_id, author = row.author_id, row.author.username
        reviewer = row.reviewer.username if row.reviewer else None
        editor = row.updated_by.username
    return ItemView(
        id=row.id,
        key=row.key,
        item_id=row.item_id,
        suite_id=row.suite_id,
        task=row.task,
        language=row.language,
        split=row.split,
        tags=list(row.tags or []),
        record=record,
        search_text=text,
        status=row.status,
        review_comment=comment,
        author_id=author_id,
        author=author,
        reviewer=reviewer,
        updated_by=editor,
        updated_at=row.updated_at,
        version=row.version,
        blind=blind,
    )


@dataclass(frozen=True)
class AssignmentView:
    """One of my assignments: the item blind, my label."""

    id: int
    item_pk: int
    item_id: str
    task: str
    record: dict[str, Any]
    label: str | None
    labelled_at: datetime | None


def assignment_view(assignment: Assignment) -> AssignmentView:
    item = assignment.item
    return AssignmentView(
        id=assignment.id,
        item_pk=item.id,
        item_id=item.item_id,
        task=item.task,
        record=blind_record(item.record),
        label=assignment.label,
        labelled_at=assignment.labelled_at,
    )


@dataclass(frozen=True)
class UserInfo:
    """An account as other users see it (never the password hash)."""

    id: int
    username: str
    display_name: str
    role: str
    language: str
    active: bool


def user_info(user: User) -> UserInfo:
    return UserInfo(
        user.id, user.username, user.display_name, user.role, user.language, user.active
    )


def blind_state(state: Mapping[str, Any] | None, own_label: bool) -> dict[str, Any] | None:
    """An audit state (before/after) as a blind annotator sees it: the item's id, status,
    version and blind record; a label only when it is their own."""
    if state is None:
        return None
    if "task" in state:  # the state is a record (an attempted save)
        return blind_record(state)
    out = {k: v for k, v in state.items() if k in _BLIND_STATE_KEYS}
    if isinstance(state.get("record"), Mapping):
        out["record"] = blind_record(state["record"])
    if own_label and "label" in state:
        out["label"] = state["label"]
    return out or None


def _path_root(path: str) -> str:
    return path.split(".", 1)[0].split("[", 1)[0]


def blind_diff(diff: SuiteDiff, blind_tasks: Mapping[str, str]) -> SuiteDiff:
    """A version diff without the changes to hidden fields of the items (id -> task) that the
    viewer labels blind."""
    changed = []
    for change in diff.changed:
        if change.id in blind_tasks:
            hidden = hidden_fields(blind_tasks[change.id])
            kept = tuple(f for f in change.changes if _path_root(f.path) not in hidden)
            if kept:
                changed.append(ItemChange(change.id, kept))
        else:
            changed.append(change)
    return SuiteDiff(
        diff.old_ref, diff.new_ref, diff.added, diff.removed, tuple(changed), diff.spec_changes
    )
