"""The expert ratings file: what the annotation app exports and `evalkit score` reads back.

JSON lines, one rating each, self-describing: which run, suite version (by content hash),
item and model were rated, by whom, how, and when. Pointwise ratings score one model's output
on one rubric criterion; pairwise ratings say which of two models' outputs is better (or a
tie). A file for another run or another suite version is refused by the reader of the run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

RATINGS_FORMAT: Literal["evalkit.ratings/1"] = "evalkit.ratings/1"


class _Rating(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["evalkit.ratings/1"] = RATINGS_FORMAT
    run_id: str = Field(min_length=1, description="The run whose outputs were rated.")
    suite: str = Field(min_length=1, description="Suite version rated: NAME@vN.")
    content_hash: str = Field(min_length=1, description="That version's content hash.")
    item_id: str = Field(min_length=1)
    rater: str = Field(min_length=1, description="User name of the expert.")
    comment: str | None = Field(default=None, description="Optional free text.")
    rated_at: datetime


class PointRating(_Rating):
    """One model's output scored on one rubric criterion."""

    kind: Literal["point"] = "point"
    model: str = Field(min_length=1)
    criterion: str = Field(min_length=1)
    score: int
    scale: tuple[int, int] = Field(description="The criterion's scale when rated.")


class PairRating(_Rating):
    """Two models' outputs on one item, compared: which is better, or a tie."""

    kind: Literal["pair"] = "pair"
    model_a: str = Field(min_length=1)
    model_b: str = Field(min_length=1)
    winner: Literal["a", "b", "tie"]


Rating = Annotated[PointRating | PairRating, Field(discriminator="kind")]
RATING_ADAPTER: TypeAdapter[Rating] = TypeAdapter(Rating)


def write_ratings(path: Path, ratings: Iterable[PointRating | PairRating]) -> None:
    """Write ratings as JSON lines (UTF-8, Chinese as text)."""
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for rating in ratings:
            record = rating.model_dump(mode="json")
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def read_ratings(path: Path) -> list[PointRating | PairRating]:
    """Every rating of a ratings file; a bad line is a located error (FILE:LINE: FIELD)."""
    from evalkit.errors import ProblemsFound
    from evalkit.files import jsonl_lines, problems_from_validation

    ratings: list[PointRating | PairRating] = []
    problems = []
    for line in jsonl_lines(path, "ratings file"):
        if line.problem is not None:
            problems.append(line.problem)
            continue
        from pydantic import ValidationError

        try:
            ratings.append(RATING_ADAPTER.validate_python(line.value))
        except ValidationError as e:
            problems += problems_from_validation(e, line.where)
    if problems:
        raise ProblemsFound(problems, f"{path}: {len(problems)} problem(s); nothing was read")
    return ratings
