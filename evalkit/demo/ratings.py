"""The demo's expert ratings: written by the evalkit developers for the demo models' answers on
demo-writing, and applied to a run only where the run's answer is the one that was rated.

`evalkit/demo/data/demo_ratings.jsonl` holds one record per model and item: the answer as it
was rated and a score per criterion of the default rubric, on its 1-5 scale. A run of other
checkpoints (the `--fast` schedule, another recipe) gives other answers, and those are left
unrated rather than scored with ratings meant for different text. The ratings that apply are
written in the app's export format (`evalkit.judging.ratings`) into the run folder, where
`evalkit score RUN ratings=[...]` reads them like any expert's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from evalkit.demo.paths import DEMO_RATINGS_FILE, WRITING_SUITE
from evalkit.judging.ratings import PointRating, write_ratings
from evalkit.scoring.run_folder import generations_path, read_manifest

RATER = "demo-expert"  # the evalkit developers, rating as the demo's domain expert
SCALE = (1, 5)
RATED_AT = datetime(2026, 12, 2, tzinfo=timezone.utc)


@dataclass(frozen=True)
class DemoRatings:
    path: Path  # the ratings file written into the run folder
    applied: int  # answers rated
    answers: int  # answers the run has on demo-writing


def _rated(path: Path) -> dict[tuple[str, str], dict]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            out[(record["model"], record["item_id"])] = record
    return out


def stamp_ratings(run_dir: Path, source: Path = DEMO_RATINGS_FILE) -> DemoRatings:
    """The demo's ratings of this run's demo-writing answers, for the answers that match."""
    manifest = read_manifest(run_dir)
    suite = next(s for s in manifest["suites"] if s["name"] == WRITING_SUITE)
    ref = f"{suite['name']}@{suite['version']}"
    rated = _rated(source)
    ratings: list[PointRating] = []
    answers = 0
    for model in manifest["models"]:
        name = model["name"]
        path = generations_path(run_dir, name, ref)
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            generation = json.loads(line)
            answers += 1
            record = rated.get((name, generation["item_id"]))
            if record is None or record["output"] != generation.get("output"):
                continue
            for criterion, score in record["scores"].items():
                ratings.append(
                    PointRating(
                        run_id=run_dir.name,
                        suite=ref,
                        content_hash=suite["content_hash"],
                        item_id=generation["item_id"],
                        rater=RATER,
                        comment=record.get("comment"),
                        rated_at=RATED_AT,
                        model=name,
                        criterion=criterion,
                        score=score,
                        scale=SCALE,
                    )
                )
    out = run_dir / "demo_ratings.jsonl"
    write_ratings(out, ratings)
    applied = len({(r.model, r.item_id) for r in ratings})
    return DemoRatings(out, applied, answers)
