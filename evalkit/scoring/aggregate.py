"""Means with bootstrap intervals per model × suite, and × task, tag and language.

The suite's headline score is either micro (the mean over its items, each item scored by its
task's primary metric) or macro (the mean of the per-task means, so that every task weighs the
same whatever its size); `headline=` chooses, micro by default. Every other aggregate is the
mean over the items a metric applies to. Intervals resample clusters when items are clustered.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evalkit.scoring.table import SCORE, SuiteScores
from evalkit.stats import Estimate, bootstrap_ci

# The summary's aggregate lists and the grouping each is over.
AGGREGATES: dict[str, str | None] = {
    "by_suite": None,
    "by_task": "task",
    "by_tag": "tag",
    "by_language": "language",
}


def headline_weights(tasks: np.ndarray, headline: str) -> np.ndarray | None:
    """Per-item weights of the suite score over these items: None for micro (equal weights);
    for macro 1 / (number of tasks x items of the item's task)."""
    if headline == "micro":
        return None
    names, inverse, counts = np.unique(tasks, return_inverse=True, return_counts=True)
    return 1.0 / (len(names) * counts[inverse])


def estimate_record(e: Estimate) -> dict[str, float | int]:
    return {"value": e.value, "low": e.low, "high": e.high, "n": e.n, "units": e.units}


def _estimate(
    values: np.ndarray,
    units: np.ndarray | None,
    weights: np.ndarray | None,
    resamples: int,
    seed: int,
    alpha: float,
) -> Estimate:
    keep = ~np.isnan(values)
    return bootstrap_ci(
        values[keep],
        resamples,
        seed,
        alpha,
        clusters=None if units is None else units[keep],
        weights=None if weights is None else weights[keep],
    )


def aggregate_suite(
    table: SuiteScores,
    by: str | None,
    headline: str,
    resamples: int,
    seed: int,
    alpha: float,
) -> list[dict[str, Any]]:
    """Every metric's mean and interval for each model, over the whole suite (`by` None) or
    per task, tag or language."""
    groups: list[tuple[str | None, np.ndarray]] = (
        [(None, np.ones(len(table.item_ids), bool))] if by is None else [*table.groups(by)]
    )
    units = table.unit_array()
    tasks = np.asarray(table.tasks, dtype=object)
    out = []
    for model in table.columns:
        for value, mask in groups:
            metrics = {}
            for name in table.metrics(model):
                column = table.values(model, name)[mask]
                if np.isnan(column).all():
                    continue  # a metric that applies to none of the group's items is left out
                weights = None
                if name == SCORE and by is None and headline == "macro":
                    present = ~np.isnan(column)
                    weights = np.zeros(len(column))
                    weights[present] = headline_weights(tasks[mask][present], headline)
                group_units = None if units is None else units[mask]
                e = _estimate(column, group_units, weights, resamples, seed, alpha)
                metrics[name] = estimate_record(e)
            if metrics:
                record: dict[str, Any] = {"model": model, "suite": table.suite}
                if by is not None:
                    record[by] = value
                out.append({**record, "metrics": metrics})
    return out


def aggregate(
    tables: dict[str, SuiteScores],
    by: str | None,
    headline: str,
    resamples: int,
    seed: int,
    alpha: float,
) -> list[dict[str, Any]]:
    """`aggregate_suite` over every suite, sorted by model, suite and group."""
    out = [
        r
        for table in tables.values()
        for r in aggregate_suite(table, by, headline, resamples, seed, alpha)
    ]
    return sort_aggregates(out, by)


def sort_aggregates(records: list[dict[str, Any]], by: str | None) -> list[dict[str, Any]]:
    """Aggregate records in a stable order: by model, suite and group."""
    keys = ("model", "suite", by) if by else ("model", "suite")
    return sorted(records, key=lambda r: tuple(str(r[k]) for k in keys))
