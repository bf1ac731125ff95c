"""bootstrap_ci: seeded percentile intervals of a weighted, clustered mean; its fast paths."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evalkit.stats import bootstrap as bootstrap_module
from evalkit.stats import bootstrap_ci, resampled_means


def naive_cluster_bootstrap(
    values: np.ndarray, clusters: np.ndarray, weights: np.ndarray, resamples: int, seed: int
) -> np.ndarray:
    """Reference: draw G cluster ids with replacement, pool their items, take the weighted mean."""
    ids = np.unique(clusters)
    members = [np.flatnonzero(clusters == g) for g in ids]
    rng = np.random.default_rng(seed)
    out = np.empty(resamples)
    for r in range(resamples):
        picked = np.concatenate([members[g] for g in rng.integers(0, len(ids), len(ids))])
        out[r] = np.sum(weights[picked] * values[picked]) / np.sum(weights[picked])
    return out


def test_bootstrap_ci_is_seeded_and_covers_the_mean() -> None:
    values = np.array([1, 0, 1, 1, 0, 1, 1, 1, 0, 1] * 10, dtype=float)
    a, b = bootstrap_ci(values, seed=0), bootstrap_ci(values, seed=0)
    assert a == b and a.value == pytest.approx(0.7) and a.low < 0.7 < a.high
    assert (a.n, a.units) == (100, 100)
    # normal approximation of the mean's 95% interval: 0.7 +- 1.96 * sqrt(.21/100)
    half = 1.96 * math.sqrt(0.21 / 100)
    assert a.low == pytest.approx(0.7 - half, abs=0.03)
    assert a.high == pytest.approx(0.7 + half, abs=0.03)
    other = bootstrap_ci(values, seed=1)  # another seed: the same interval, give or take
    assert abs(other.low - a.low) <= 0.02 and abs(other.high - a.high) <= 0.02


def test_clustered_and_weighted_calls_are_seeded() -> None:
    rng = np.random.default_rng(5)
    values, clusters = rng.random(300), rng.integers(0, 40, 300)
    weights = rng.random(300) + 0.5
    first = bootstrap_ci(values, seed=3, clusters=clusters, weights=weights)
    assert first == bootstrap_ci(values, seed=3, clusters=clusters, weights=weights)
    assert first != bootstrap_ci(values, seed=4, clusters=clusters, weights=weights)


def test_nan_is_dropped_with_its_cluster_and_weight_and_empty_is_nan() -> None:
    assert bootstrap_ci(np.array([1.0, np.nan, 0.0])).n == 2
    empty = bootstrap_ci(np.array([np.nan]))
    assert all(math.isnan(x) for x in (empty.value, empty.low, empty.high))
    assert (empty.n, empty.units) == (0, 0)
    values = np.array([1.0, np.nan, 0.0, 1.0, np.nan, 1.0])
    clusters = np.array(["a", "b", "a", "c", "c", "d"])  # cluster b has only a NaN
    weights = np.array([1.0, 100.0, 2.0, 1.0, 100.0, 1.0])
    with_nan = bootstrap_ci(values, seed=2, clusters=clusters, weights=weights)
    keep = ~np.isnan(values)
    clean = bootstrap_ci(values[keep], seed=2, clusters=clusters[keep], weights=weights[keep])
    assert with_nan == clean and (clean.n, clean.units) == (4, 3)
    assert clean.value == pytest.approx((1 + 0 + 1 + 1) / (1 + 2 + 1 + 1))


def test_weighted_mean_is_the_macro_average_over_tasks() -> None:
    rng = np.random.default_rng(7)
    sizes, accuracies = [30, 120, 50], [0.9, 0.4, 0.6]  # tasks of different sizes
    per_task = [(rng.random(k) < p).astype(float) for k, p in zip(sizes, accuracies, strict=True)]
    values = np.concatenate(per_task)
    weights = np.concatenate([np.full(k, 1 / (len(sizes) * k)) for k in sizes])
    est = bootstrap_ci(values, weights=weights)
    assert est.value == pytest.approx(np.mean([t.mean() for t in per_task]))
    assert est.low < est.value < est.high and est.units == sum(sizes)


def test_cluster_fast_path_matches_resampling_whole_clusters() -> None:
    rng = np.random.default_rng(11)
    clusters = np.repeat(np.arange(60), 4)
    values = (rng.random(240) < 0.3 + 0.4 * rng.random(60).repeat(4)).astype(float)
    weights = np.ones(240)
    # a few distinct (S, W) pairs: the multinomial over pairs
    fast = bootstrap_module.resampled_ratios(
        *bootstrap_module.unit_sums(values, clusters, None), 4000, seed=0
    )
    slow = naive_cluster_bootstrap(values, clusters, weights, 4000, seed=1)
    assert np.quantile(fast, [0.025, 0.5, 0.975]) == pytest.approx(
        np.quantile(slow, [0.025, 0.5, 0.975]), abs=0.006
    )
    # graded values and weights: every (S, W) pair distinct
    values, weights = rng.random(240), rng.random(240) + 0.2
    sums, totals = bootstrap_module.unit_sums(values, clusters, weights)
    fast = bootstrap_module.resampled_ratios(sums, totals, 4000, seed=0)
    slow = naive_cluster_bootstrap(values, clusters, weights, 4000, seed=1)
    assert np.quantile(fast, [0.025, 0.5, 0.975]) == pytest.approx(
        np.quantile(slow, [0.025, 0.5, 0.975]), abs=0.005
    )


def test_index_path_for_many_clusters_matches_resampling_whole_clusters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bootstrap_module, "_MAX_LEVELS", 4)  # force the index path
    rng = np.random.default_rng(12)
    clusters = np.repeat(np.arange(50), 3)
    values, weights = rng.random(150), rng.random(150) + 0.2
    est = bootstrap_ci(values, 4000, seed=0, clusters=clusters, weights=weights)
    slow = naive_cluster_bootstrap(values, clusters, weights, 4000, seed=1)
    assert (est.low, est.high) == pytest.approx(tuple(np.quantile(slow, [0.025, 0.975])), abs=0.005)


def test_multinomial_shortcut_equals_index_resampling() -> None:
    values = np.random.default_rng(3).integers(0, 4, 2000) / 3  # four levels, like token F1
    fast = resampled_means(values, 4000, seed=0)
    idx = np.random.default_rng(1).integers(0, len(values), (4000, len(values)))
    slow = values[idx].mean(axis=1)
    assert np.quantile(fast, [0.025, 0.975]) == pytest.approx(
        np.quantile(slow, [0.025, 0.975]), abs=0.004
    )


def test_unclustered_unweighted_path_equals_unit_weights_and_singleton_clusters() -> None:
    values = (np.random.default_rng(4).random(500) < 0.55).astype(float)
    plain = bootstrap_ci(values, seed=9)
    assert bootstrap_ci(values, seed=9, weights=np.ones(500)) == plain
    assert bootstrap_ci(values, seed=9, clusters=range(500)) == plain


def test_bad_clusters_or_weights_raise() -> None:
    with pytest.raises(ValueError, match="clusters"):
        bootstrap_ci(np.ones(3), clusters=[1, 2])
    with pytest.raises(ValueError, match="weights"):
        bootstrap_ci(np.ones(3), weights=np.array([1.0, -1.0, 1.0]))
