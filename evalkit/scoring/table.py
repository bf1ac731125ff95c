"""Scored rows as arrays: per suite, one column per model × metric over the suite's items.

Aggregates and paired comparisons read these columns (NaN where a metric does not apply or
a model has no row), so that every statistic is a numpy operation on aligned items.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

SCORE = "score"  # the column of each item's single score


@dataclass
class SuiteScores:
    """Every scored value of one suite, items in a fixed order shared by all models."""

    suite: str
    item_ids: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    tags: list[list[str]] = field(default_factory=list)
    units: list[str] | None = None  # cluster id per item, None when items are their own units
    columns: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # model → metric →

    def mask(self, key: str, value: str) -> np.ndarray:
        """Items whose task, language or tag is `value`."""
        if key == "task":
            return np.array([t == value for t in self.tasks], dtype=bool)
        if key == "language":
            return np.array([lang == value for lang in self.languages], dtype=bool)
        return np.array([value in tags for tags in self.tags], dtype=bool)

    def values(self, model: str, metric: str) -> np.ndarray:
        """A model's values of a metric over the suite's items (all NaN if it has none)."""
        column = self.columns.get(model, {}).get(metric)
        return column if column is not None else np.full(len(self.item_ids), np.nan)

    def metrics(self, model: str) -> list[str]:
        return sorted(self.columns.get(model, {}))

    def unit_array(self) -> np.ndarray | None:
        return None if self.units is None else np.asarray(self.units, dtype=object)


def build_tables(rows: list[dict[str, Any]]) -> dict[str, SuiteScores]:
    """One SuiteScores per suite in `rows` (which hold every model's rows of that suite)."""
    tables: dict[str, SuiteScores] = {}
    positions: dict[str, dict[str, int]] = {}
    for row in rows:  # first pass: the items, in first-seen order
        suite = row["suite"]
        table = tables.get(suite)
        if table is None:
            table = tables[suite] = SuiteScores(suite)
            positions[suite] = {}
        if row["item_id"] not in positions[suite]:
            positions[suite][row["item_id"]] = len(table.item_ids)
            table.item_ids.append(row["item_id"])
            table.tasks.append(row["task"])
            table.languages.append(row["language"])
            table.tags.append(row["tags"])
            if "unit" in row:
                table.units = table.units or []
                table.units.append(row["unit"])
    for row in rows:  # second pass: the values
        table = tables[row["suite"]]
        k = positions[row["suite"]][row["item_id"]]
        columns = table.columns.setdefault(row["model"], {})
        for name, value in [*row["metrics"].items(), (SCORE, row["score"])]:
            if value is None:
                continue
            column = columns.get(name)
            if column is None:
                column = columns[name] = np.full(len(table.item_ids), np.nan)
            column[k] = value
    return tables
