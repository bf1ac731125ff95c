"""Paired comparison of two models on the same items: difference, cluster-robust SE, t test.

Follows Miller (2024), "Adding Error Bars to Evals": the CLT standard error of the mean paired
difference, clustered when items share a source. The interval and the p-value come
from the same t statistic, so the interval excludes 0 exactly when p < alpha.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import numpy as np

from evalkit.stats.bootstrap import prepare, unit_sums

_NAN = float("nan")


@dataclass(frozen=True)
class Comparison:
    """Candidate minus baseline on paired items.

    `n` counts the items both models have a value for, `units` the independent units (clusters,
    or items when unclustered); `df` = units - 1 is the t distribution's degrees of freedom.
    Whether a difference is significant is decided after multiple-comparison correction.
    """

    difference: float
    low: float
    high: float
    p_value: float
    se: float
    n: int
    units: int
    df: int
    test: str


def paired_difference(
    baseline: np.ndarray,
    candidate: np.ndarray,
    *,
    clusters: Iterable[Hashable] | None = None,
    weights: np.ndarray | None = None,
    alpha: float = 0.05,
) -> Comparison:
    """Weighted mean of candidate - baseline over items where neither is NaN, with a t test.

    se^2 = G / (G - 1) * sum_g (sum_{i in g} w_i (x_i - d))^2 / (sum w)^2, the CR1 cluster-robust
    sandwich of an intercept-only weighted regression (each item its own cluster when `clusters`
    is None, which gives s / sqrt(n)). CI: d +- t_{1 - alpha/2, G-1} * se; p: two-sided, t_{G-1}.
    """
    from scipy.special import stdtr, stdtrit

    a = np.asarray(baseline, dtype=float)
    b = np.asarray(candidate, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"baseline {a.shape} and candidate {b.shape} must be equal 1-d shapes")
    keep, codes, w = prepare(b, clusters, weights, others=(a,))
    x = (b - a)[keep]
    n = len(x)
    test = "paired t" if clusters is None else "paired t, clustered SE"
    if n == 0:
        return Comparison(_NAN, _NAN, _NAN, 1.0, _NAN, 0, 0, 0, test)
    sums, totals = unit_sums(x, codes, w)
    units = len(sums)
    total = float(totals.sum())
    if total <= 0:
        raise ValueError("weights of the paired items sum to 0")
    d = float(sums.sum() / total)
    if units == 1:
        return Comparison(d, _NAN, _NAN, 1.0, _NAN, n, 1, 0, test)
    df = units - 1
    residual = sums - d * totals  # per unit: sum_{i in g} w_i (x_i - d)
    se = math.sqrt(units / df * float(residual @ residual)) / total
    if se == 0:
        return Comparison(d, d, d, 0.0 if d != 0 else 1.0, 0.0, n, units, df, test)
    half = float(stdtrit(df, 1 - alpha / 2)) * se
    p = float(2 * stdtr(df, -abs(d) / se))
    return Comparison(d, d - half, d + half, min(p, 1.0), se, n, units, df, test)


def mcnemar_exact(baseline_correct: np.ndarray, candidate_correct: np.ndarray) -> float:
    """Two-sided exact McNemar p-value from paired right/wrong outcomes (a binomial test)."""
    from scipy.stats import binomtest

    a = np.asarray(baseline_correct, dtype=bool)
    b = np.asarray(candidate_correct, dtype=bool)
    only_baseline = int(np.sum(a & ~b))
    only_candidate = int(np.sum(~a & b))
    discordant = only_baseline + only_candidate
    if discordant == 0:
        return 1.0
    return float(binomtest(min(only_baseline, only_candidate), discordant, 0.5).pvalue)
