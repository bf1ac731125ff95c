"""F1 from true positive, false positive and false negative counts."""

from __future__ import annotations


def f1_from_counts(tp: float, fp: float, fn: float) -> float:
    """2·tp / (2·tp + fp + fn); 1.0 when there was nothing to find and nothing was found."""
    if tp == 0:
        return 1.0 if fp == fn == 0 else 0.0
    return 2 * tp / (2 * tp + fp + fn)
