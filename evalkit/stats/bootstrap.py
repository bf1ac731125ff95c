"""Percentile bootstrap of a (weighted, clustered) mean, seeded so two runs give the same numbers.

Resampling n items with replacement only decides how often each item is picked, a multinomial
draw; per-item metrics take few distinct values (right or wrong, F1 fractions), so drawing
counts per distinct value costs O(resamples x levels) instead of O(resamples x n). With clusters
or weights the same holds for the distinct (S, W) pairs of units; with many distinct values,
units are resampled by index in batches.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import numpy as np

DEFAULT_RESAMPLES = 1000
_BATCH = 200  # resamples drawn at once on the slow paths: bounds memory to BATCH x n
_MAX_LEVELS = 512  # up to this many distinct values (or (S, W) pairs), draw counts per value


@dataclass(frozen=True)
class Estimate:
    """A mean with its 1 - alpha percentile bootstrap interval.

    `n` counts the non-NaN items; `units` counts what was resampled: clusters, or items when
    unclustered.
    """

    value: float
    low: float
    high: float
    n: int
    units: int


def _index_batches(rng: np.random.Generator, n: int, resamples: int) -> Iterable[np.ndarray]:
    for start in range(0, resamples, _BATCH):
        yield rng.integers(0, n, size=(min(_BATCH, resamples - start), n))


def resampled_means(values: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """Means of `resamples` bootstrap resamples of `values` (no NaN)."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    rng = np.random.default_rng(seed)
    levels, counts = np.unique(values, return_counts=True)
    if len(levels) <= _MAX_LEVELS:
        return rng.multinomial(n, counts / n, size=resamples) @ levels / n
    # index resampling, as before the multinomial shortcut: the same numbers as earlier versions
    return np.concatenate([values[idx].mean(axis=1) for idx in _index_batches(rng, n, resamples)])


def resampled_ratios(sums: np.ndarray, totals: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """sum(c_g * S_g) / sum(c_g * W_g) for `resamples` bootstrap draws c of the G units.

    `sums` holds S_g (the weighted sum of a unit's values), `totals` W_g (its summed weight).
    Units that share an (S, W) pair are pooled and their counts drawn together.
    """
    units = len(sums)
    rng = np.random.default_rng(seed)
    pairs, counts = np.unique(sums + 1j * totals, return_counts=True)  # sorted by (S, W)
    if len(pairs) <= _MAX_LEVELS:
        draws = rng.multinomial(units, counts / units, size=resamples)
        numerator, denominator = draws @ pairs.real, draws @ pairs.imag
    else:
        both = np.column_stack([sums, totals])
        summed = np.concatenate(
            [both[idx].sum(axis=1) for idx in _index_batches(rng, units, resamples)]
        )
        numerator, denominator = summed[:, 0], summed[:, 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        return numerator / denominator


def cluster_codes(clusters: Iterable[Hashable]) -> tuple[np.ndarray, int]:
    """Integer code per item (0..G-1, in order of first appearance) and the number of clusters G."""
    index: dict[Hashable, int] = {}
    codes = np.array([index.setdefault(c, len(index)) for c in clusters], dtype=np.intp)
    return codes, len(index)


def prepare(
    values: np.ndarray,
    clusters: Iterable[Hashable] | None,
    weights: np.ndarray | None,
    others: tuple[np.ndarray, ...] = (),
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Drop items whose value (or any of `others`) is NaN, with their cluster ids and weights.

    Checks that the arrays have one entry per item and that weights are finite and >= 0.
    """
    n = len(values)
    keep = ~np.isnan(values)
    for other in others:
        keep &= ~np.isnan(other)
    codes = None
    if clusters is not None:
        ids = list(clusters)
        if len(ids) != n:
            raise ValueError(f"clusters has {len(ids)} entries for {n} values")
        codes = cluster_codes(ids[i] for i in np.flatnonzero(keep))[0]
    if weights is not None:
        weights = np.asarray(weights, dtype=float)
        if weights.shape != (n,):
            raise ValueError(f"weights has shape {weights.shape} for {n} values")
        if not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise ValueError("weights must be finite and non-negative")
        weights = weights[keep]
    return keep, codes, weights


def unit_sums(
    values: np.ndarray, codes: np.ndarray | None, weights: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """S_g = sum of w_i * x_i and W_g = sum of w_i per unit (each item its own unit if no codes)."""
    w = np.ones(len(values)) if weights is None else weights
    if codes is None:
        return w * values, w
    units = int(codes.max()) + 1 if len(codes) else 0
    return (
        np.bincount(codes, weights=w * values, minlength=units),
        np.bincount(codes, weights=w, minlength=units),
    )


def bootstrap_ci(
    values: np.ndarray,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    alpha: float = 0.05,
    *,
    clusters: Iterable[Hashable] | None = None,
    weights: np.ndarray | None = None,
) -> Estimate:
    """(Weighted) mean of `values` with a percentile bootstrap interval; NaN values are left out.

    `clusters` gives each value's cluster id: whole clusters are resampled (items that share a
    source document are not independent; Miller 2024). `weights` weigh the values,
    e.g. 1 / (T * n_task) for a macro average over T tasks. Each resample's estimate is
    sum(c_g * S_g) / sum(c_g * W_g), c_g being how often unit g was drawn.
    """
    values = np.asarray(values, dtype=float)
    keep, codes, w = prepare(values, clusters, weights)
    values = values[keep]
    n = len(values)
    units = n if codes is None else (int(codes.max()) + 1 if n else 0)
    if n == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0, 0)
    if codes is None and w is None:
        value = float(values.mean())
        means = resampled_means(values, resamples, seed)
    else:
        sums, totals = unit_sums(values, codes, w)
        value = float(sums.sum() / totals.sum()) if totals.sum() > 0 else float("nan")
        means = resampled_ratios(sums, totals, resamples, seed)
    if np.all(np.isnan(means)):
        return Estimate(value, float("nan"), float("nan"), n, units)
    low, high = np.nanquantile(means, [alpha / 2, 1 - alpha / 2])
    return Estimate(value, float(low), float(high), n, units)
