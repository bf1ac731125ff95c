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

    def groups(self, key: str) -> list[tuple[str, np.ndarray]]:
        """(value, mask of its items) for each task, language or tag of the suite, sorted."""
        members: dict[str, list[int]] = {}
        for k in range(len(self.item_ids)):
            values = self.tags[k] if key == "tag" else [getattr(self, key + "s")[k]]
            for value in values:
                members.setdefault(value, []).append(k)
        out = []
        for value, indices in sorted(members.items()):
            mask = np.zeros(len(self.item_ids), dtype=bool)
            mask[indices] = True
            out.append((value, mask))
        return out

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


def merge_tables(parts: list[dict[str, SuiteScores]]) -> dict[str, SuiteScores]:
    """Each suite's tables from several models' scoring as one, items aligned by id."""
    merged: dict[str, SuiteScores] = {}
    for tables in parts:
        for suite, table in tables.items():
            into = merged.get(suite)
            if into is None:
                merged[suite] = SuiteScores(
                    suite,
                    list(table.item_ids),
                    list(table.tasks),
                    list(table.languages),
                    list(table.tags),
                    None if table.units is None else list(table.units),
                    dict(table.columns),
                )
            elif table.item_ids == into.item_ids:
                into.columns.update(table.columns)
            else:
                _add_aligned(into, table)
    return merged


def _add_aligned(into: SuiteScores, table: SuiteScores) -> None:
    """Add `table`'s columns to `into`, whose items are in another order or differ."""
    position = {item: k for k, item in enumerate(into.item_ids)}
    for k, item in enumerate(table.item_ids):
        if item not in position:
            position[item] = len(into.item_ids)
            into.item_ids.append(item)
            into.tasks.append(table.tasks[k])
            into.languages.append(table.languages[k])
            into.tags.append(table.tags[k])
            if into.units is not None and table.units is not None:
                into.units.append(table.units[k])
    n = len(into.item_ids)
    for columns in into.columns.values():
        for name, column in columns.items():
            if len(column) < n:
                columns[name] = np.concatenate([column, np.full(n - len(column), np.nan)])
    where = np.array([position[item] for item in table.item_ids])
    for model, columns in table.columns.items():
        aligned = into.columns.setdefault(model, {})
        for name, column in columns.items():
            full = np.full(n, np.nan)
            full[where] = column
            aligned[name] = full
