"""Double annotation: blind labels from two or more annotators, agreement, adjudication.

A label is the annotator's answer to the item: a letter for mcq, a label for classification,
free text for the other tasks (compared after evalkit's text normalisation). Agreement is
Cohen's kappa (scikit-learn) when two annotators labelled the same items, and Krippendorff's
alpha (nominal, the `krippendorff` package) for any number of annotators and missing labels.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from annotation_app.errors import InvalidInput, NotFound, NotInDisagreement, PermissionDenied
from annotation_app.models import Adjudication, Assignment, Item, Role, User, utcnow
from annotation_app.permissions import Action
from annotation_app.services import audit
from annotation_app.services.access import service
from annotation_app.services.items import (
    apply_item,
    item_key,
    load_item,
    mark_edited,
    validate_record,
)
from annotation_app.services.locking import check_version, flush_or_conflict
from annotation_app.services.review import content_editors
from annotation_app.services.visibility import AssignmentView, assignment_view
from evalkit.errors import Problem
from evalkit.suite.items import LETTERS
from evalkit.textnorm import normalize_text

MIN_ANNOTATORS = 2


def label_key(task: str, label: str) -> str:
    """Labels that mean the same compare equal: letters and labels verbatim, text normalised."""
    return (
        label.strip().upper()
        if task == "mcq"
        else (label.strip() if task == "classification" else normalize_text(label))
    )


def _annotator_problems(annotators: list[User | None]) -> list[Problem]:
    problems = []
    if len(annotators) < MIN_ANNOTATORS:
        problems.append(
            Problem("assignment", "annotators", f"choose at least {MIN_ANNOTATORS} annotators")
        )
    if any(a is None or not a.active for a in annotators):
        problems.append(Problem("assignment", "annotators", "an annotator does not exist"))
    for a in annotators:
        if a is not None and a.active and a.role != Role.ANNOTATOR.value:
            problems.append(
                Problem(
                    "assignment",
                    "annotators",
                    f"{a.username} is a {a.role}: reviewers and admins see gold answers, so "
                    "their labels would not be blind",
                )
            )
    return problems


def _knows_gold(db: Session, rows: list[Item], annotators: list[User]) -> list[Problem]:
    """Annotators who wrote or changed an item know its gold answer: their label is not blind."""
    editors = content_editors(db, [row.key for row in rows])
    return [
        Problem(
            "assignment",
            "annotators",
            f"{a.username} wrote or edited {row.item_id}; their label would not be blind",
        )
        for row in rows
        for a in annotators
        if a.id == row.author_id or a.id in editors[row.key]
    ]


@service(Action.ASSIGN)
def assign(
    db: Session, actor: User, item_pks: list[int], annotator_ids: list[int]
) -> list[Assignment]:
    """Give each item to each annotator for blind labelling (existing pairs are kept)."""
    annotators = [db.get(User, uid) for uid in dict.fromkeys(annotator_ids)]
    problems = _annotator_problems(annotators)
    if not item_pks:
        problems.append(Problem("assignment", "items", "choose at least one item"))
    if problems:
        raise InvalidInput(problems)
    people = [a for a in annotators if a is not None]
    wanted = list(dict.fromkeys(item_pks))
    rows = [load_item(db, item_pk) for item_pk in wanted]
    problems = _knows_gold(db, rows, people)
    if problems:
        raise InvalidInput(problems)
    created = []
    query = select(Assignment.item_pk, Assignment.annotator_id).where(
        Assignment.item_pk.in_(wanted)
    )
    existing = {(item_pk, annotator_id) for item_pk, annotator_id in db.execute(query)}
    for row in rows:
        for annotator in people:
            if (row.id, annotator.id) in existing:
                continue
            assignment = Assignment(
                item_pk=row.id, annotator_id=annotator.id, assigned_by_id=actor.id
            )
            db.add(assignment)
            created.append(assignment)
        audit.record(
            db,
            actor,
            "item.assign",
            "item",
            item_key(row),
            None,
            {"annotators": [a.username for a in people]},
        )
    db.flush()
    return created


@service(Action.LABEL)
def my_assignments(db: Session, actor: User, suite_id: int) -> list[AssignmentView]:
    """The actor's assignments in a suite, unlabelled first; the items blind."""
    query = (
        select(Assignment)
        .join(Item, Assignment.item_pk == Item.id)
        .where(Assignment.annotator_id == actor.id, Item.suite_id == suite_id)
        .order_by(Assignment.labelled_at.is_not(None), Assignment.id)
    )
    return [assignment_view(a) for a in db.scalars(query)]


def _check_label(record: Mapping[str, Any], label: str) -> list[Problem]:
    if not label.strip():
        return [Problem("label", "label", "must not be blank")]
    task = record.get("task")
    if task == "mcq":
        letters = LETTERS[: len(record.get("choices", []))]
        if label.strip().upper() not in letters:
            return [Problem("label", "label", f"{label!r} is not one of {', '.join(letters)}")]
    if task == "classification" and label.strip() not in record.get("labels", []):
        return [Problem("label", "label", f"{label!r} is not one of {record.get('labels')}")]
    return []


@service(Action.LABEL)
def submit_label(db: Session, actor: User, assignment_id: int, label: str) -> AssignmentView:
    """Record the actor's label on their own assignment."""
    assignment = db.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound("error.no_assignment", assignment=str(assignment_id))
    if assignment.annotator_id != actor.id:
        raise PermissionDenied("error.not_your_assignment")
    problems = _check_label(assignment.item.record, label)
    if problems:
        raise InvalidInput(problems)
    before = {"label": assignment.label}
    assignment.label = label.strip()
    assignment.labelled_at = utcnow()
    audit.record(
        db,
        actor,
        "item.label",
        "item",
        item_key(assignment.item),
        before,
        {"label": assignment.label},
    )
    return assignment_view(assignment)


@dataclass(frozen=True)
class Agreement:
    """Agreement on one task's doubly-annotated items."""

    task: str
    items: int  # items with at least two labels
    annotators: int
    percent: float | None  # share of items whose labels all agree
    kappa: float | None  # Cohen's kappa, when exactly two annotators
    alpha: float | None  # Krippendorff's alpha (nominal)


def _finite(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def agreement_scores(task: str, labels: Mapping[Any, Mapping[str, str]]) -> Agreement:
    """Scores for {item: {annotator: label}}; items with fewer than two labels do not count."""
    units = {
        item: {who: label_key(task, lab) for who, lab in by.items()}
        for item, by in labels.items()
        if len(by) >= MIN_ANNOTATORS
    }
    raters = sorted({who for by in units.values() for who in by})
    if not units:
        return Agreement(task, 0, len(raters), None, None, None)
    percent = sum(len(set(by.values())) == 1 for by in units.values()) / len(units)
    kappa = None
    if len(raters) == 2:
        from sklearn.metrics import cohen_kappa_score

        a, b = raters
        pairs = [(by[a], by[b]) for by in units.values() if a in by and b in by]
        if pairs:
            import warnings

            with warnings.catch_warnings():  # one category only: kappa is undefined (nan)
                warnings.simplefilter("ignore", RuntimeWarning)
                kappa = _finite(cohen_kappa_score([p[0] for p in pairs], [p[1] for p in pairs]))
    alpha = None
    values = sorted({lab for by in units.values() for lab in by.values()})
    if len(values) > 1:
        import krippendorff
        import numpy as np

        code = {v: i for i, v in enumerate(values)}
        matrix = np.full((len(raters), len(units)), np.nan)
        for j, by in enumerate(units.values()):
            for who, lab in by.items():
                matrix[raters.index(who), j] = code[lab]
        alpha = _finite(krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal"))
    elif values:
        alpha = 1.0  # every label identical: perfect agreement (alpha's formula is 0/0)
    return Agreement(task, len(units), len(raters), percent, kappa, alpha)


def _labels_by_item(db: Session, suite_id: int) -> dict[int, tuple[Item, dict[str, str]]]:
    rows = db.execute(
        select(Assignment, Item, User)
        .join(Item, Assignment.item_pk == Item.id)
        .join(User, Assignment.annotator_id == User.id)
        .where(Item.suite_id == suite_id, Assignment.label.is_not(None))
    ).all()
    out: dict[int, tuple[Item, dict[str, str]]] = {}
    for assignment, item, user in rows:
        out.setdefault(item.id, (item, {}))[1][user.username] = assignment.label or ""
    return out


@service(Action.ASSIGN)
def suite_agreement(db: Session, actor: User, suite_id: int) -> list[Agreement]:
    """Agreement per task type of the suite."""
    per_task: dict[str, dict[int, dict[str, str]]] = defaultdict(dict)
    for item_pk, (item, by) in _labels_by_item(db, suite_id).items():
        per_task[item.task][item_pk] = by
    return [agreement_scores(task, labels) for task, labels in sorted(per_task.items())]


@dataclass(frozen=True)
class Disagreement:
    item: Item
    labels: dict[str, str]  # annotator -> label
    adjudicated: str | None


def in_disagreement(task: str, labels: dict[str, str]) -> bool:
    """At least two labels, and they do not all agree."""
    return len(labels) >= MIN_ANNOTATORS and len({label_key(task, v) for v in labels.values()}) > 1


@service(Action.ADJUDICATE)
def disagreements(db: Session, actor: User, suite_id: int) -> list[Disagreement]:
    """Items whose annotators' labels differ, for a reviewer to adjudicate."""
    query = (
        select(Adjudication.item_pk, Adjudication.label)
        .join(Item, Item.id == Adjudication.item_pk)
        .where(Item.suite_id == suite_id)
    )
    decided = {item_pk: label for item_pk, label in db.execute(query)}
    out = []
    for item_pk, (item, by) in _labels_by_item(db, suite_id).items():
        if in_disagreement(item.task, by):
            out.append(Disagreement(item, dict(sorted(by.items())), decided.get(item_pk)))
    return sorted(out, key=lambda d: (d.adjudicated is not None, d.item.item_id))


def _labels_of(db: Session, item_pk: int) -> dict[int, str]:
    query = select(Assignment.annotator_id, Assignment.label).where(
        Assignment.item_pk == item_pk, Assignment.label.is_not(None)
    )
    return {annotator_id: label or "" for annotator_id, label in db.execute(query)}


@service(Action.ADJUDICATE)
def adjudicate(
    db: Session, actor: User, item_pk: int, label: str, note: str, expected_version: int
) -> Adjudication:
    """Settle a disagreement (refused with NotInDisagreement for any other item). For mcq and
    classification the decision becomes the item's gold answer through the locked, audited
    edit path (a reviewed item goes back to review); other tasks record it beside the item."""
    row = load_item(db, item_pk)
    labels = _labels_of(db, row.id)
    if not in_disagreement(row.task, {str(k): v for k, v in labels.items()}):
        raise NotInDisagreement("error.no_disagreement", item=row.item_id, labels=len(labels))
    if actor.id in labels:
        raise PermissionDenied("error.own_label", item=row.item_id)
    problems = _check_label(row.record, label)
    if problems:
        raise InvalidInput(problems)
    decided = label.strip().upper() if row.task == "mcq" else label.strip()
    check_version(db, actor, row, expected_version, {"adjudication": decided})  # before writing
    existing = db.scalar(select(Adjudication).where(Adjudication.item_pk == item_pk))
    before = {"adjudication": existing.label if existing else None, "record": row.record}
    gold = {"mcq": "answer", "classification": "label"}.get(row.task)
    if gold and row.record.get(gold) != decided:
        # The edit path every item change takes: validated, derived columns (search) updated.
        # Changed content is not reviewed content: the reviewer leaves the provenance.
        provenance = {k: v for k, v in row.record["provenance"].items() if k != "reviewer"}
        record = {**row.record, gold: decided, "provenance": provenance}
        apply_item(row, validate_record(record), actor)
        mark_edited(row)
    # The item's version moves with every adjudication, first: of two reviewers settling the
    # same item at once, the second UPDATE matches no row and is refused before it writes.
    row.updated_by_id, row.updated_at = actor.id, utcnow()
    flag_modified(row, "updated_at")  # an UPDATE (and a new version) even within one second
    flush_or_conflict(db, actor, row, {"adjudication": decided})
    if existing is None:
        existing = Adjudication(item_pk=item_pk, label=decided, note=note, by_id=actor.id)
        db.add(existing)
    else:
        existing.label, existing.note, existing.by_id, existing.at = (
            decided,
            note,
            actor.id,
            utcnow(),
        )
    audit.record(
        db,
        actor,
        "item.adjudicate",
        "item",
        item_key(row),
        before,
        {"adjudication": decided, "note": note, "record": row.record},
    )
    return existing
