"""Statistics: seeded bootstrap intervals, paired comparisons, McNemar's exact test."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evalkit.stats import bootstrap_ci, mcnemar_exact, paired_bootstrap


def test_bootstrap_ci_is_seeded_and_covers_the_mean() -> None:
    values = np.array([1, 0, 1, 1, 0, 1, 1, 1, 0, 1] * 10, dtype=float)
    a, b = bootstrap_ci(values, seed=0), bootstrap_ci(values, seed=0)
    assert a == b and a.value == pytest.approx(0.7) and a.low < 0.7 < a.high and a.n == 100
    # normal approximation of the mean's 95% interval: 0.7 +- 1.96 * sqrt(.21/100)
    half = 1.96 * math.sqrt(0.21 / 100)
    assert a.low == pytest.approx(0.7 - half, abs=0.03) and a.high == pytest.approx(
        0.7 + half, abs=0.03
    )
    other = bootstrap_ci(values, seed=1)  # another seed: the same interval, give or take
    assert abs(other.low - a.low) <= 0.02 and abs(other.high - a.high) <= 0.02


def test_nan_is_not_applicable_and_empty_is_nan() -> None:
    assert bootstrap_ci(np.array([1.0, np.nan, 0.0])).n == 2
    assert math.isnan(bootstrap_ci(np.array([np.nan])).value)


def test_mcnemar_exact_hand_computed() -> None:
    # 1 item only the baseline gets right, 7 only the candidate: p = 2 * (C(8,0)+C(8,1)) / 2^8
    baseline = np.array([1] * 1 + [0] * 7 + [1] * 5 + [0] * 3, dtype=bool)
    candidate = np.array([0] * 1 + [1] * 7 + [1] * 5 + [0] * 3, dtype=bool)
    assert mcnemar_exact(baseline, candidate) == pytest.approx(2 * (1 + 8) / 256)
    assert mcnemar_exact(baseline, baseline) == 1.0


def test_paired_bootstrap_detects_a_real_difference_only() -> None:
    rng = np.random.default_rng(0)
    base = rng.random(400) < 0.5
    better = base | (rng.random(400) < 0.3)  # strictly adds correct answers
    cmp = paired_bootstrap(base.astype(float), better.astype(float))
    assert cmp.difference > 0 and cmp.low > 0 and cmp.significant
    same = paired_bootstrap(base.astype(float), base.astype(float))
    assert same.difference == 0 and not same.significant


def test_multinomial_shortcut_equals_index_resampling() -> None:
    from evalkit.stats import bootstrap_distribution, resampled_means

    values = np.random.default_rng(3).integers(0, 4, 2000) / 3  # four levels, like token F1
    fast = resampled_means(values, 4000, seed=0)
    slow = bootstrap_distribution(len(values), lambda idx: values[idx].mean(axis=1), 4000, 1)
    assert np.quantile(fast, [0.025, 0.975]) == pytest.approx(
        np.quantile(slow, [0.025, 0.975]), abs=0.004
    )
