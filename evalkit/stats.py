"""Confidence intervals and paired comparisons, seeded so two runs give the same numbers.

- `bootstrap_ci`: percentile bootstrap over items for any statistic of per-item values.
- `paired_bootstrap`: difference of two models on the same items, its CI and a two-sided p.
- `mcnemar_exact`: McNemar's exact (binomial) test on paired right/wrong outcomes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

DEFAULT_RESAMPLES = 1000
_BATCH = 200  # resamples drawn at once: bounds memory to BATCH x n indices


@dataclass(frozen=True)
class Estimate:
    """A statistic with its 95% (or 1 - alpha) bootstrap interval."""

    value: float
    low: float
    high: float
    n: int


@dataclass(frozen=True)
class Comparison:
    """Candidate minus baseline on the same items."""

    difference: float
    low: float
    high: float
    p_value: float
    n: int
    test: str  # "paired bootstrap" or "McNemar exact"

    @property
    def significant(self) -> bool:
        return self.p_value < 0.05


def _resample_indices(n: int, resamples: int, seed: int):
    rng = np.random.default_rng(seed)
    for start in range(0, resamples, _BATCH):
        yield rng.integers(0, n, size=(min(_BATCH, resamples - start), n))


def bootstrap_distribution(
    n: int,
    statistic: Callable[[np.ndarray], np.ndarray],
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> np.ndarray:
    """`statistic` applied to resampled index matrices (one row per resample)."""
    return np.concatenate([statistic(idx) for idx in _resample_indices(n, resamples, seed)])


_MAX_LEVELS = 512


def resampled_means(values: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """Means of `resamples` bootstrap resamples of `values`.

    Resampling n items with replacement is the same as drawing how many times each distinct
    value is picked from a multinomial; per-item metrics take few distinct values (right or
    wrong, F1 fractions), so this costs O(resamples x levels) instead of O(resamples x n).
    """
    n = len(values)
    levels, counts = np.unique(values, return_counts=True)
    if len(levels) <= _MAX_LEVELS:
        rng = np.random.default_rng(seed)
        draws = rng.multinomial(n, counts / n, size=resamples)
        return draws @ levels / n
    return bootstrap_distribution(n, lambda idx: values[idx].mean(axis=1), resamples, seed)


def bootstrap_ci(
    values: np.ndarray, resamples: int = DEFAULT_RESAMPLES, seed: int = 0, alpha: float = 0.05
) -> Estimate:
    """Mean of `values` with a percentile bootstrap interval; NaN values are left out."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    n = len(values)
    if n == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    means = resampled_means(values, resamples, seed)
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return Estimate(float(values.mean()), float(low), float(high), n)


def paired_bootstrap(
    baseline: np.ndarray,
    candidate: np.ndarray,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    alpha: float = 0.05,
) -> Comparison:
    """Mean difference (candidate - baseline) over paired items, its CI and two-sided p-value.

    The p-value is the share of resampled differences at least as far from the observed one
    as the observed one is from zero (the bootstrap distribution shifted to the null).
    """
    a, b = np.asarray(baseline, dtype=float), np.asarray(candidate, dtype=float)
    keep = ~(np.isnan(a) | np.isnan(b))
    diffs = (b - a)[keep]
    n = len(diffs)
    if n == 0:
        return Comparison(float("nan"), float("nan"), float("nan"), 1.0, 0, "paired bootstrap")
    observed = float(diffs.mean())
    dist = resampled_means(diffs, resamples, seed)
    low, high = np.quantile(dist, [alpha / 2, 1 - alpha / 2])
    p = float(np.mean(np.abs(dist - observed) >= abs(observed) - 1e-12)) if observed else 1.0
    return Comparison(
        observed, float(low), float(high), max(p, 1 / (resamples + 1)), n, "paired bootstrap"
    )


def mcnemar_exact(baseline_correct: np.ndarray, candidate_correct: np.ndarray) -> float:
    """Two-sided exact McNemar p-value from paired right/wrong outcomes."""
    from scipy.stats import binomtest

    a = np.asarray(baseline_correct, dtype=bool)
    b = np.asarray(candidate_correct, dtype=bool)
    only_baseline = int(np.sum(a & ~b))
    only_candidate = int(np.sum(~a & b))
    discordant = only_baseline + only_candidate
    if discordant == 0:
        return 1.0
    return float(binomtest(min(only_baseline, only_candidate), discordant, 0.5).pvalue)
