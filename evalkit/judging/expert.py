"""Expert ratings read back into a run's scores: `evalkit score RUN ratings=FILE`.

Every rating is checked against the run (its id, each suite version's content hash, the
models and items, the rubric's criteria and scales) before anything is scored; a file made
for another run or another suite version is refused with the file and line. Pointwise ratings
become the item metric `expert_<criterion>` (the experts' mean, scaled to 0..1); pairwise
ratings are win rates per model pair with bootstrap intervals. Rater agreement is Krippendorff's
alpha (the `krippendorff` package): ordinal for scales, nominal for pairwise choices.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from evalkit.errors import Problem, ProblemsFound
from evalkit.judging.agreement import agreement
from evalkit.judging.ratings import PairRating, PointRating, read_ratings
from evalkit.judging.scores import EXPERT_PREFIX
from evalkit.stats import bootstrap_ci
from evalkit.suite.store import SuiteVersion

WINNER_VALUE = {"a": 1.0, "tie": 0.5, "b": 0.0}  # model_a's side


@dataclass
class ExpertRatings:
    """The ratings of a run, checked, indexed for scoring."""

    points: list[PointRating] = field(default_factory=list)
    pairs: list[PairRating] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def metrics(self, model: str, suite: str, item_id: str) -> dict[str, float]:
        """`expert_<criterion>` for one model's answer: the raters' mean, scaled to 0..1."""
        return self._index.get((model, suite, item_id), {})

    def __post_init__(self) -> None:
        scores: dict[tuple[str, str, str], dict[str, list[float]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for r in self.points:
            low, high = r.scale
            scores[r.model, r.suite, r.item_id][r.criterion].append((r.score - low) / (high - low))
        self._index = {
            key: {EXPERT_PREFIX + c: float(np.mean(v)) for c, v in by.items()}
            for key, by in scores.items()
        }


def load_ratings(
    files: list[str], manifest: dict[str, Any], versions: dict[str, SuiteVersion]
) -> ExpertRatings:
    """Read and check every ratings file against the run; all problems at once."""
    models = {m["name"] for m in manifest["models"]}
    hashes = {s["name"] + "@" + s["version"]: s["content_hash"] for s in manifest["suites"]}
    problems: list[Problem] = []
    points: list[PointRating] = []
    pairs: list[PairRating] = []
    for name in files:
        for number, rating in enumerate(read_ratings(Path(name)), 1):
            where = f"{name}:{number}"
            reason = _mismatch(rating, manifest["run_id"], hashes, models, versions)
            if reason:
                problems.append(Problem(where, reason[0], reason[1]))
            elif isinstance(rating, PointRating):
                points.append(rating)
            else:
                pairs.append(rating)
    if problems:
        raise ProblemsFound(problems, f"{len(problems)} rating(s) do not belong to this run")
    return ExpertRatings(points, pairs, list(files))


def _mismatch(
    r: PointRating | PairRating,
    run_id: str,
    hashes: dict[str, str],
    models: set[str],
    versions: dict[str, SuiteVersion],
) -> tuple[str, str] | None:
    """(field, reason) why a rating does not belong to this run, or None."""
    if r.run_id != run_id:
        return "run_id", f"rates run {r.run_id!r}, not this run ({run_id!r})"
    if r.suite not in hashes:
        return "suite", f"{r.suite!r} is not a suite version of this run ({', '.join(hashes)})"
    if r.content_hash != hashes[r.suite]:
        return "content_hash", f"rates other content of {r.suite} than this run used"
    if r.item_id not in versions[r.suite].by_id:
        return "item_id", f"{r.item_id!r} is not an item of {r.suite}"
    named = [r.model] if isinstance(r, PointRating) else [r.model_a, r.model_b]
    for model in named:
        if model not in models:
            return "model", f"{model!r} is not a model of this run"
    if isinstance(r, PointRating):
        criterion = versions[r.suite].spec.effective_rubric.get(r.criterion)
        if criterion is None:
            return "criterion", f"{r.criterion!r} is not a criterion of {r.suite}'s rubric"
        low, high = criterion.scale
        if not low <= r.score <= high or tuple(r.scale) != criterion.scale:
            return "score", f"{r.score} is outside {r.criterion}'s scale {low}..{high}"
    return None


def rater_agreement(ratings: ExpertRatings) -> list[dict[str, Any]]:
    """Krippendorff's alpha per suite × criterion (ordinal) and for pairwise choices
    (nominal), over the units rated by two raters or more; with the share of units on which
    every rater agreed."""
    units: dict[tuple[str, str], dict[tuple[str, ...], dict[str, float]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for p in ratings.points:
        units[p.suite, p.criterion][(p.model, p.item_id)][p.rater] = float(p.score)
    for q in ratings.pairs:
        units[q.suite, "(pairwise)"][(q.model_a, q.model_b, q.item_id)][q.rater] = WINNER_VALUE[
            q.winner
        ]
    out = []
    for (suite, criterion), by_unit in sorted(units.items()):
        found = agreement(by_unit, "nominal" if criterion == "(pairwise)" else "ordinal")
        out.append({"suite": suite, "criterion": criterion, **vars(found)})
    return out


def pair_win_rates(ratings: ExpertRatings, resamples: int, seed: int) -> list[dict[str, Any]]:
    """Per suite and model pair: how often experts preferred model_a (ties half), with a
    bootstrap interval over the rated items (raters averaged per item)."""
    per_item: dict[tuple[str, str, str], dict[str, list[float]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for q in ratings.pairs:
        a, b, value = q.model_a, q.model_b, WINNER_VALUE[q.winner]
        if a > b:  # one orientation per pair
            a, b, value = b, a, 1.0 - value
        per_item[q.suite, a, b][q.item_id].append(value)
    out = []
    for (suite, a, b), items in sorted(per_item.items()):
        values = np.array([np.mean(v) for v in items.values()])
        e = bootstrap_ci(values, resamples, seed)
        out.append(
            {
                "suite": suite,
                "model_a": a,
                "model_b": b,
                "win_rate_a": e.value,
                "low": e.low,
                "high": e.high,
                "items": e.n,
            }
        )
    return out
