"""Rating sets as the reviewers who set them up see them: progress, closing, rater
agreement and the export, a ratings file `evalkit score RUN ratings=FILE` reads.

Agreement per criterion is Krippendorff's alpha (the `krippendorff` package; ordinal for a
criterion's scale, nominal for pairwise choices) over the units rated by two raters or more,
with the share of those units on which every rater gave the same answer: the definitions
`evalkit score` reports for the exported file (`evalkit.judging.expert.rater_agreement`).

While a set is open, whoever rates in it sees neither its agreement nor its export: nobody sees
another rater's ratings while rating.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, cast

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from annotation_app.errors import InvalidTransition, PermissionDenied
from annotation_app.models import RatingAssignment, RatingMode, RatingSet, RatingUnit, User, utcnow
from annotation_app.permissions import Action
from annotation_app.services import audit
from annotation_app.services.access import service
from annotation_app.services.rating import criteria_for, load_set
from evalkit.judging.agreement import agreement
from evalkit.judging.ratings import PairRating, PointRating, write_ratings

PAIRWISE = "(pairwise)"  # the criterion under which pairwise choices are agreed on
WINNER_VALUE = {"a": 1.0, "tie": 0.5, "b": 0.0}  # a pairwise choice, coded for agreement
Winner = Literal["a", "b", "tie"]
Level = Literal["ordinal", "nominal"]


@dataclass(frozen=True)
class RatingSetView:
    """A rating set as the reviewers who set it up see it: what it rates, who rates, progress
    (counts only: the ratings themselves are in the export)."""

    id: int
    name: str
    run_id: str
    run_dir: str
    suite: str
    content_hash: str
    mode: str
    models: list[str]
    criteria: list[str]
    seed: int
    raters_per_unit: int
    items: int
    units: int
    progress: dict[str, tuple[int, int]]  # rater -> (rated, assigned)
    created_by: str
    created_at: datetime
    closed_at: datetime | None

    @property
    def rated(self) -> int:
        return sum(done for done, _ in self.progress.values())

    @property
    def assigned(self) -> int:
        return sum(total for _, total in self.progress.values())


@dataclass(frozen=True)
class CriterionAgreement:
    """Rater agreement on one criterion (or on the pairwise choices) of a set."""

    criterion: str
    level: str  # "ordinal" or "nominal"
    raters: int
    units: int  # units rated at least once
    shared: int  # units rated by two raters or more
    alpha: float | None  # Krippendorff's alpha; None where undefined
    exact: float | None  # share of shared units on which every rater agreed


def rater_agreement(
    criterion: str, level: Level, units: Mapping[Any, Mapping[str, float]]
) -> CriterionAgreement:
    """Agreement over {unit: {rater: value}}: alpha from a raters × units table with the
    missing ratings missing, undefined (None) without two raters on a unit or with one value
    only; exact agreement over the units two raters or more rated."""
    found = agreement(units, level)  # the definition evalkit score uses
    return CriterionAgreement(
        criterion,
        level,
        found.raters,
        found.units,
        found.units_rated_twice,
        found.alpha,
        found.exact_agreement,
    )


def set_view(db: Session, rating_set: RatingSet) -> RatingSetView:
    rows = db.execute(
        select(User.username, RatingAssignment.rated_at, RatingUnit.item_id)
        .join(RatingUnit, RatingAssignment.unit_id == RatingUnit.id)
        .join(User, RatingAssignment.rater_id == User.id)
        .where(RatingUnit.set_id == rating_set.id)
    ).all()
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for name, rated_at, _ in rows:
        counts[name][0] += rated_at is not None
        counts[name][1] += 1
    unit_count = db.scalar(
        select(func.count()).select_from(RatingUnit).where(RatingUnit.set_id == rating_set.id)
    )
    return RatingSetView(
        id=rating_set.id,
        name=rating_set.name,
        run_id=rating_set.run_id,
        run_dir=rating_set.run_dir,
        suite=rating_set.suite,
        content_hash=rating_set.content_hash,
        mode=rating_set.mode,
        models=list(rating_set.models),
        criteria=[c["name"] for c in rating_set.criteria],
        seed=rating_set.seed,
        raters_per_unit=rating_set.raters_per_unit,
        items=len({item_id for _, _, item_id in rows}),
        units=int(unit_count or 0),
        progress={name: (done, total) for name, (done, total) in sorted(counts.items())},
        created_by=rating_set.created_by.username,
        created_at=rating_set.created_at,
        closed_at=rating_set.closed_at,
    )


@service(Action.SET_UP_RATING)
def list_sets(db: Session, actor: User) -> list[RatingSetView]:
    """Every rating set, newest first, with each rater's progress."""
    return [set_view(db, s) for s in db.scalars(select(RatingSet).order_by(RatingSet.id.desc()))]


@service(Action.SET_UP_RATING)
def close_set(db: Session, actor: User, set_id: int) -> RatingSetView:
    """Make a set's ratings final: nobody rates or revises in it any more."""
    rating_set = load_set(db, set_id)
    if rating_set.closed:
        raise InvalidTransition("error.rating_set_closed_already", set=rating_set.name)
    # One UPDATE that only an open set matches: of two reviewers closing at once, the second
    # waits for the first's transaction, then matches nothing (PostgreSQL re-checks the WHERE
    # clause against the committed row; SQLite runs one write transaction at a time).
    closing = db.execute(
        update(RatingSet)
        .where(RatingSet.id == rating_set.id, RatingSet.closed_at.is_(None))
        .values(closed_at=utcnow(), closed_by_id=actor.id)
        .execution_options(synchronize_session=False)
    )
    if not closing.rowcount:  # type: ignore[attr-defined]
        raise InvalidTransition("error.rating_set_closed_already", set=rating_set.name)
    db.refresh(rating_set)
    view = set_view(db, rating_set)
    progress = {name: list(counts) for name, counts in view.progress.items()}
    audit.record(
        db,
        actor,
        "rating_set.close",
        "rating_set",
        rating_set.key,
        {"closed": False},
        {"closed": True, "progress": progress},
    )
    return view


def _not_rating_in(db: Session, actor: User, rating_set: RatingSet) -> None:
    """While a set is open, its raters see neither others' ratings nor numbers made of them."""
    if rating_set.closed:
        return
    query = (
        select(RatingAssignment.id)
        .join(RatingUnit, RatingAssignment.unit_id == RatingUnit.id)
        .where(RatingUnit.set_id == rating_set.id, RatingAssignment.rater_id == actor.id)
        .limit(1)
    )
    if db.scalar(query) is not None:
        raise PermissionDenied("error.rates_in_open_set", set=rating_set.name)


def _rated(db: Session, rating_set: RatingSet) -> list[tuple[RatingAssignment, str]]:
    query = (
        select(RatingAssignment, User.username)
        .join(RatingUnit, RatingAssignment.unit_id == RatingUnit.id)
        .join(User, RatingAssignment.rater_id == User.id)
        .where(RatingUnit.set_id == rating_set.id, RatingAssignment.rated_at.is_not(None))
        .order_by(RatingUnit.id, User.username)
    )
    return [(a, name) for a, name in db.execute(query)]


@service(Action.SET_UP_RATING)
def set_agreement(db: Session, actor: User, set_id: int) -> list[CriterionAgreement]:
    """Agreement per criterion (ordinal), or on the pairwise choices (nominal)."""
    rating_set = load_set(db, set_id)
    _not_rating_in(db, actor, rating_set)
    rated = _rated(db, rating_set)
    if rating_set.mode == RatingMode.PAIR.value:
        choices: dict[int, dict[str, float]] = defaultdict(dict)
        for a, name in rated:
            choices[a.unit_id][name] = WINNER_VALUE[a.winner or "tie"]
        return [rater_agreement(PAIRWISE, "nominal", choices)]
    out = []
    for criterion in (c["name"] for c in rating_set.criteria):
        scores: dict[int, dict[str, float]] = defaultdict(dict)
        for a, name in rated:
            if a.scores and criterion in a.scores:
                scores[a.unit_id][name] = float(a.scores[criterion])
        if scores:
            out.append(rater_agreement(criterion, "ordinal", scores))
    return out


@service(Action.SET_UP_RATING)
def export_ratings(db: Session, actor: User, set_id: int) -> list[PointRating | PairRating]:
    """The set's ratings as evalkit ratings records, for the run and suite version rated."""
    rating_set = load_set(db, set_id)
    _not_rating_in(db, actor, rating_set)
    out: list[PointRating | PairRating] = []
    for a, name in _rated(db, rating_set):
        unit, rated_at = a.unit, a.rated_at or utcnow()  # (only rated assignments are read)
        if rating_set.mode == RatingMode.PAIR.value:
            out.append(
                PairRating(
                    run_id=rating_set.run_id,
                    suite=rating_set.suite,
                    content_hash=rating_set.content_hash,
                    item_id=unit.item_id,
                    rater=name,
                    comment=a.comment,
                    rated_at=rated_at,
                    model_a=unit.models[0],
                    model_b=unit.models[1],
                    winner=cast(Winner, a.winner),
                )
            )
            continue
        out += [
            PointRating(
                run_id=rating_set.run_id,
                suite=rating_set.suite,
                content_hash=rating_set.content_hash,
                item_id=unit.item_id,
                rater=name,
                comment=a.comment,
                rated_at=rated_at,
                model=unit.models[0],
                criterion=c.name,
                score=(a.scores or {})[c.name],
                scale=c.scale,
            )
            for c in criteria_for(rating_set, unit.task)
        ]
    audit.record(
        db, actor, "rating_set.export", "rating_set", rating_set.key, None, {"ratings": len(out)}
    )
    return out


def ratings_file(ratings: list[PointRating | PairRating]) -> bytes:
    """The ratings file's bytes (evalkit's writer), for a download."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ratings.jsonl"
        write_ratings(path, ratings)
        return path.read_bytes()
