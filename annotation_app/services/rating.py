"""Expert rating of a run's outputs, by the raters: their sets, their tasks, their ratings.

A rater sees an item (its input and reference) and an output, or two outputs as A and B, never
the models' names, in the order stored for them when the set was made (`rating_setup`), and
only their own ratings. Pointwise, each output is scored on every criterion of the suite's
rubric that rates the item's task, within the criterion's scale; pairwise, A, B or a tie. A
rating is given and revised only by its rater, until the set is closed; every rating and
revision is in the audit log with the state before and after. Set-up users follow, close and
export the sets in `rating_results`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from annotation_app.errors import InvalidInput, NotFound, PermissionDenied, RatingSetClosed
from annotation_app.models import RatingAssignment, RatingMode, RatingSet, RatingUnit, User, utcnow
from annotation_app.permissions import Action
from annotation_app.services import audit
from annotation_app.services.access import service
from evalkit.errors import Problem
from evalkit.suite.rubric import Criterion

CHOICES = ("A", "B", "tie")  # what a rater answers pairwise, as they see the outputs
MAX_COMMENT = 5000


@dataclass(frozen=True)
class RatingTask:
    """One output (pointwise) or two (pairwise) to rate, as its rater sees them: no model
    names, the outputs in the rater's order, their own rating only."""

    assignment_id: int
    set_id: int
    item_id: str
    task: str
    record: dict[str, Any]  # the item: its input and reference
    mode: str
    number: int  # pointwise: which of the item's outputs this is, for this rater (1, 2, ...)
    outputs: list[str | None]  # pointwise: [the output]; pairwise: [A, B]
    criteria: list[Criterion]  # pointwise: the rubric's criteria for the item's task
    scores: dict[str, int] | None
    choice: str | None  # pairwise: "A", "B" or "tie", as the rater saw the outputs
    comment: str | None
    rated_at: datetime | None
    closed: bool


@dataclass(frozen=True)
class MyRatingSet:
    """A set in which the user rates: how far they are."""

    id: int
    name: str
    suite: str
    mode: str
    tasks: int
    rated: int
    closed: bool


# --- helpers ----------------------------------------------------------------------------------


def load_set(db: Session, set_id: int) -> RatingSet:
    found = db.get(RatingSet, set_id)
    if found is None:
        raise NotFound("error.no_rating_set", set=str(set_id))
    return found


def criteria_for(rating_set: RatingSet, task: str) -> list[Criterion]:
    """The criteria of the set's rubric (as it was at set-up) that rate `task`."""
    return [c for c in map(Criterion.model_validate, rating_set.criteria) if task in c.tasks]


def _shown(assignment: RatingAssignment) -> list[str | None]:
    outputs = list(assignment.unit.outputs)
    return outputs[::-1] if assignment.flipped else outputs


def _choice(assignment: RatingAssignment) -> str | None:
    """The stored winner as the rater saw the outputs (A is model_b's when flipped)."""
    if assignment.winner is None or assignment.winner == "tie":
        return assignment.winner
    first = "b" if assignment.flipped else "a"
    return "A" if assignment.winner == first else "B"


def _winner(assignment: RatingAssignment, choice: str) -> str:
    if choice == "tie":
        return "tie"
    first, second = ("b", "a") if assignment.flipped else ("a", "b")
    return first if choice == "A" else second


def _number(db: Session, assignment: RatingAssignment) -> int:
    """Which of the item's outputs this is in the rater's order (1, 2, ...)."""
    query = (
        select(func.count())
        .select_from(RatingAssignment)
        .join(RatingUnit, RatingAssignment.unit_id == RatingUnit.id)
        .where(
            RatingAssignment.rater_id == assignment.rater_id,
            RatingUnit.set_id == assignment.unit.set_id,
            RatingUnit.item_id == assignment.unit.item_id,
            RatingAssignment.position < assignment.position,
        )
    )
    return int(db.scalar(query) or 0) + 1


def task_view(assignment: RatingAssignment, number: int) -> RatingTask:
    unit, rating_set = assignment.unit, assignment.unit.rating_set
    return RatingTask(
        assignment_id=assignment.id,
        set_id=rating_set.id,
        item_id=unit.item_id,
        task=unit.task,
        record=dict(unit.record),
        mode=rating_set.mode,
        number=number,
        outputs=_shown(assignment),
        criteria=criteria_for(rating_set, unit.task),
        scores=dict(assignment.scores) if assignment.scores is not None else None,
        choice=_choice(assignment),
        comment=assignment.comment,
        rated_at=assignment.rated_at,
        closed=rating_set.closed,
    )


def _own_open(db: Session, actor: User, assignment_id: int) -> RatingAssignment:
    assignment = db.get(RatingAssignment, assignment_id)
    if assignment is None:
        raise NotFound("error.no_rating_task", task=str(assignment_id))
    if assignment.rater_id != actor.id:
        raise PermissionDenied("error.not_your_rating_task", user=actor.username)
    if assignment.unit.rating_set.closed:
        raise RatingSetClosed("error.rating_set_closed", set=assignment.unit.rating_set.name)
    return assignment


def score_problems(
    where: str, criteria: list[Criterion], scores: Mapping[str, object]
) -> list[Problem]:
    """Every criterion rated, with a whole number on its scale; no other criterion."""
    names = {c.name for c in criteria}
    problems = [
        Problem(where, name, "not a criterion of this item") for name in scores if name not in names
    ]
    for c in criteria:
        value, (low, high) = scores.get(c.name), c.scale
        if value is None:
            problems.append(Problem(where, c.name, "not rated"))
        elif isinstance(value, bool) or not isinstance(value, int):
            problems.append(Problem(where, c.name, f"{value!r} is not a whole number"))
        elif not low <= value <= high:
            problems.append(Problem(where, c.name, f"{value} is outside the scale {low}..{high}"))
    return problems


def _comment(comment: str | None) -> tuple[str | None, list[Problem]]:
    text = (comment or "").strip()
    if len(text) > MAX_COMMENT:
        return None, [Problem("rating", "comment", f"longer than {MAX_COMMENT} characters")]
    return text or None, []


def _state(a: RatingAssignment) -> dict[str, Any] | None:
    if a.rated_at is None:
        return None
    return {"scores": a.scores, "winner": a.winner, "comment": a.comment}


def _still_open(db: Session, rating_set: RatingSet) -> None:
    """Refuse a rating when the set was closed after the rater's task was loaded: the rating
    is written first, then the set is read again, locked against closing until this
    transaction ends (PostgreSQL: FOR SHARE, which also waits for a close in progress; SQLite:
    the write holds the database's lock, so the read is current)."""
    db.flush()
    closed_at = db.scalar(
        select(RatingSet.closed_at).where(RatingSet.id == rating_set.id).with_for_update(read=True)
    )
    if closed_at is not None:
        raise RatingSetClosed("error.rating_set_closed", set=rating_set.name)


def _save(
    db: Session, actor: User, a: RatingAssignment, before: dict[str, Any] | None
) -> RatingTask:
    a.rated_at = utcnow()
    unit = a.unit
    _still_open(db, unit.rating_set)
    audit.record(
        db,
        actor,
        "rating.revise" if before else "rating.rate",
        "rating",
        f"{unit.rating_set.key}/{unit.item_id}",
        before,
        {"models": unit.models, **(_state(a) or {})},
    )
    db.flush()
    return task_view(a, _number(db, a))


# --- raters -----------------------------------------------------------------------------------


@service(Action.RATE)
def my_rating_sets(db: Session, actor: User) -> list[MyRatingSet]:
    """The sets in which the actor rates, newest first, with their own progress."""
    rows = db.execute(
        select(RatingSet, RatingAssignment.rated_at)
        .join(RatingUnit, RatingUnit.set_id == RatingSet.id)
        .join(RatingAssignment, RatingAssignment.unit_id == RatingUnit.id)
        .where(RatingAssignment.rater_id == actor.id)
        .order_by(RatingSet.id.desc())
    ).all()
    counts: dict[int, list[int]] = {}
    sets: dict[int, RatingSet] = {}
    for rating_set, rated_at in rows:
        sets[rating_set.id] = rating_set
        count = counts.setdefault(rating_set.id, [0, 0])
        count[0] += 1
        count[1] += rated_at is not None
    return [
        MyRatingSet(s.id, s.name, s.suite, s.mode, counts[s.id][0], counts[s.id][1], s.closed)
        for s in sets.values()
    ]


@service(Action.RATE)
def my_rating_tasks(db: Session, actor: User, set_id: int) -> list[RatingTask]:
    """The actor's tasks in a set, in their own shuffled order; blind."""
    query = (
        select(RatingAssignment)
        .join(RatingUnit, RatingAssignment.unit_id == RatingUnit.id)
        .where(RatingAssignment.rater_id == actor.id, RatingUnit.set_id == set_id)
        .order_by(RatingAssignment.position)
    )
    out: list[RatingTask] = []
    for a in db.scalars(query):
        same_item = out and out[-1].item_id == a.unit.item_id
        out.append(task_view(a, out[-1].number + 1 if same_item else 1))
    return out


@service(Action.RATE)
def rate_output(
    db: Session, actor: User, assignment_id: int, scores: Mapping[str, object], comment: str = ""
) -> RatingTask:
    """Score one output on each of its criteria (a revision replaces the rater's own rating)."""
    a = _own_open(db, actor, assignment_id)
    where = f"{a.unit.item_id} · {_number(db, a)}"
    if a.unit.rating_set.mode != RatingMode.POINT.value:
        raise InvalidInput([Problem(where, "scores", "this task compares two outputs")])
    text, problems = _comment(comment)
    criteria = criteria_for(a.unit.rating_set, a.unit.task)
    problems = score_problems(where, criteria, scores) + problems
    if problems:
        raise InvalidInput(problems)
    before = _state(a)
    a.scores = {c.name: cast(int, scores[c.name]) for c in criteria}
    a.winner, a.comment = None, text
    return _save(db, actor, a, before)


@service(Action.RATE)
def rate_pair(
    db: Session, actor: User, assignment_id: int, choice: str, comment: str = ""
) -> RatingTask:
    """Say which of the two outputs, as shown, is better ("A", "B") or "tie"."""
    a = _own_open(db, actor, assignment_id)
    if a.unit.rating_set.mode != RatingMode.PAIR.value:
        problem = Problem(a.unit.item_id, "choice", "this task scores one output on criteria")
        raise InvalidInput([problem])
    text, problems = _comment(comment)
    if choice not in CHOICES:
        problems.append(Problem(a.unit.item_id, "choice", f"{choice!r} is not one of A, B, tie"))
    if problems:
        raise InvalidInput(problems)
    before = _state(a)
    a.winner, a.scores, a.comment = _winner(a, choice), None, text
    return _save(db, actor, a, before)
