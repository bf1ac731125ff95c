"""Classical test theory per item: difficulty, discrimination, and what they flag.

- **Difficulty**: the share of models right (the mean of the item's 0-1 scores), the
  classical p-value of an item (Crocker & Algina 1986, ch. 14).
- **Discrimination**: the corrected item-total (item-rest) correlation: Pearson's r between
  the models' scores on the item and their mean score on every other item. Near zero or
  negative, the item does not rank models the way the rest of the suite does: it measures
  something else, or its gold answer is wrong. It is flagged only with at least
  `MIN_MODELS_DISCRIMINATION` models: with fewer, r is mostly noise.
- **No information**: every model gives the same score; the item cannot separate models.
- **Format failures concentrated on the item**: models that keep the answer format elsewhere
  all break it here, which points at the item's format spec rather than at the models.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from evalkit.analysis.responses import ResponseMatrix

MIN_MODELS_DISCRIMINATION = 5
LOW_DISCRIMINATION = 0.1  # below this r an item is flagged (negative below 0)
FORMAT_COMPLIANT = 0.8  # a model's format adherence elsewhere that counts as keeping the format
FORMAT_BREAKERS = 0.75  # share of such models that break the format on the item to flag it


@dataclass
class ItemStats:
    item_id: str
    task: str
    language: str
    tags: list[str]
    models: int  # models with a score on the item
    difficulty: float  # share right (mean score)
    discrimination: float  # item-rest correlation, NaN when undefined
    flags: list[dict[str, Any]] = field(default_factory=list)  # {"flag", "evidence", ...}
    irt: dict[str, float] | None = None  # difficulty, discrimination, information (IRT fit)


def item_rest_correlation(scores: np.ndarray, j: int) -> float:
    """Pearson r between column j and each model's mean on the other columns (NaN-aware)."""
    item = scores[:, j]
    rest = np.delete(scores, j, axis=1)
    rest_mean = row_means(rest) if rest.shape[1] else np.full(len(item), math.nan)
    keep = ~np.isnan(item) & ~np.isnan(rest_mean)
    if keep.sum() < 3 or np.std(item[keep]) == 0 or np.std(rest_mean[keep]) == 0:
        return math.nan
    return float(np.corrcoef(item[keep], rest_mean[keep])[0, 1])


def row_means(scores: np.ndarray) -> np.ndarray:
    """Each row's mean over its non-NaN entries; NaN for a row with none (no warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(scores, axis=1)


def _format_flag(matrix: ResponseMatrix, j: int) -> dict[str, Any] | None:
    formats = matrix.formats
    column = formats[:, j]
    if np.isnan(column).all():
        return None
    task = matrix.items[j].task
    same_task = [k for k, it in enumerate(matrix.items) if it.task == task and k != j]
    if not same_task:
        return None
    elsewhere = row_means(formats[:, same_task])
    compliant = [m for m in range(len(column)) if elsewhere[m] >= FORMAT_COMPLIANT]
    compliant = [m for m in compliant if not math.isnan(column[m])]
    breakers = [m for m in compliant if column[m] < 1]
    if len(compliant) < 2 or len(breakers) < FORMAT_BREAKERS * len(compliant):
        return None
    names = ", ".join(matrix.labels[m] for m in breakers)
    return {
        "flag": "format_failures",
        "evidence": f"{len(breakers)} of {len(compliant)} models that keep the answer format on "
        f"other {task} items break it here ({names}): check the item's format spec",
        "models": [matrix.labels[m] for m in breakers],
    }


def item_statistics(matrix: ResponseMatrix) -> list[ItemStats]:
    """Difficulty, discrimination and flags for every test item."""
    out = []
    n_models = len(matrix.respondents)
    for j, item in enumerate(matrix.items):
        column = matrix.scores[:, j]
        answered = column[~np.isnan(column)]
        difficulty = float(answered.mean()) if answered.size else math.nan
        r = item_rest_correlation(matrix.scores, j)
        stats = ItemStats(
            item.id, item.task, item.language, list(item.tags), int(answered.size), difficulty, r
        )
        if answered.size >= 2 and np.all(answered == answered[0]):
            what = "right" if answered[0] >= 1 else "wrong" if answered[0] <= 0 else "equal"
            stats.flags.append(
                {
                    "flag": "no_information",
                    "evidence": f"all {answered.size} models {what} "
                    f"(score {answered[0]:.2f}): the item separates no models",
                }
            )
        elif n_models >= MIN_MODELS_DISCRIMINATION and r == r and r < LOW_DISCRIMINATION:
            kind = "negative_discrimination" if r < 0 else "low_discrimination"
            stats.flags.append(
                {
                    "flag": kind,
                    "evidence": f"item-rest correlation {r:+.2f} over {answered.size} models: "
                    "models that do well on the rest of the suite do not do better here",
                }
            )
        flag = _format_flag(matrix, j)
        if flag is not None:
            stats.flags.append(flag)
        out.append(stats)
    return out
