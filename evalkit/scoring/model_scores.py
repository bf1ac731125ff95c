"""Everything about one model that needs no other model: the part of scoring done in parallel.

Per model: its item rows (written as JSON lines to a file of their own, which scoring joins
into results.jsonl), its values as arrays for the comparisons, its corpus metrics, its
aggregates with intervals, and its label, field and unreadable-answer breakdowns.
Comparisons between models are the parent's work; rows never travel between processes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.judging.expert import ExpertRatings
from evalkit.judging.scores import judgment_summary
from evalkit.scoring.aggregate import AGGREGATES, aggregate
from evalkit.scoring.breakdowns import (
    answer_report,
    error_report,
    field_report,
    label_report,
)
from evalkit.scoring.config import ScoringConfig
from evalkit.scoring.corpus import corpus_metrics
from evalkit.scoring.items import MetricPlan, Units, score_model_rows
from evalkit.scoring.table import SuiteScores, build_tables
from evalkit.suite.store import SuiteVersion


@dataclass
class ModelScores:
    """One model's scored rows and every number computed from them alone."""

    results: Path  # the model's rows of results.jsonl
    tables: dict[str, SuiteScores]  # its values per suite, for comparisons
    corpus: list[dict[str, Any]] = field(default_factory=list)
    aggregates: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by_suite, ...
    labels: list[dict[str, Any]] = field(default_factory=list)
    fields: list[dict[str, Any]] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    judged: list[dict[str, Any]] = field(default_factory=list)  # judge answers per criterion
    dev_rows: int = 0  # generations of dev items, left out


def score_model(
    run_dir: Path,
    model: str,
    versions: dict[str, SuiteVersion],
    plan: MetricPlan,
    units: Units,
    config: ScoringConfig,
    resamples: int,
    seed: int,
    results: Path,
    ratings: ExpertRatings | None = None,
) -> ModelScores:
    """Score one model's generations and compute everything that depends on it alone; its
    rows go to the file `results`."""
    rows, dev = score_model_rows(run_dir, model, versions, plan, units, ratings)
    with results.open("w", encoding="utf-8") as f:
        f.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    tables = build_tables(rows)
    return ModelScores(
        results=results,
        tables=tables,
        corpus=corpus_metrics(rows, versions, plan, resamples, seed, config.alpha),
        aggregates={
            name: aggregate(tables, by, config.headline, resamples, seed, config.alpha)
            for name, by in AGGREGATES.items()
        },
        labels=label_report(rows, versions),
        fields=field_report(rows, versions),
        answers=answer_report(rows),
        errors=error_report(rows),
        judged=judgment_summary(rows),
        dev_rows=dev,
    )
