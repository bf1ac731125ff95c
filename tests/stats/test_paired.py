"""paired_difference against hand computation, scipy's paired t test and statsmodels' clustered
OLS; McNemar's exact test by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from evalkit.stats import adjust_p_values, mcnemar_exact, paired_difference


def test_hand_computed_paired_t() -> None:
    baseline = np.array([1, 0, 1, 1, 0], dtype=float)
    candidate = np.array([1, 1, 1, 0, 1], dtype=float)
    # differences 0, 1, 0, -1, 1: mean 0.2, sample variance 2.8 / 4 = 0.7, se = sqrt(0.7 / 5)
    cmp = paired_difference(baseline, candidate)
    se = math.sqrt(0.7 / 5)
    half = stats.t.ppf(0.975, 4) * se
    assert cmp.difference == pytest.approx(0.2) and cmp.se == pytest.approx(se)
    assert (cmp.low, cmp.high) == pytest.approx((0.2 - half, 0.2 + half))
    assert cmp.p_value == pytest.approx(2 * stats.t.sf(0.2 / se, 4))
    assert (cmp.n, cmp.units, cmp.df, cmp.test) == (5, 5, 4, "paired t")


@pytest.mark.parametrize("seed", range(5))
def test_unclustered_equals_scipy_ttest_rel(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 30 + 40 * seed
    baseline = (rng.random(n) < 0.6).astype(float) if seed % 2 else rng.random(n)
    candidate = np.clip(baseline + rng.normal(0.05, 0.3, n), 0, 1)
    cmp = paired_difference(baseline, candidate, alpha=0.1 if seed == 4 else 0.05)
    ref = stats.ttest_rel(candidate, baseline)
    ci = ref.confidence_interval(confidence_level=0.9 if seed == 4 else 0.95)
    assert cmp.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert (cmp.low, cmp.high) == pytest.approx((ci.low, ci.high), rel=1e-9)


@pytest.mark.parametrize("weighted", [False, True])
def test_clustered_se_equals_statsmodels_cluster_robust_regression(weighted: bool) -> None:
    # statsmodels' CRV1 factor is G/(G-1) * (N-1)/(N-K); with an intercept only K = 1, so it is
    # exactly our G/(G-1), and with use_t it tests on G - 1 degrees of freedom, as we do.
    rng = np.random.default_rng(1)
    n = 90
    groups = rng.integers(0, 15, n)
    baseline = rng.random(n)
    candidate = baseline + rng.normal(0.1, 0.3, n) + 0.2 * np.sin(groups)
    weights = rng.random(n) + 0.2 if weighted else None
    cmp = paired_difference(baseline, candidate, clusters=groups, weights=weights)
    model = (
        sm.WLS(candidate - baseline, np.ones(n), weights=weights)
        if weighted
        else sm.OLS(candidate - baseline, np.ones(n))
    )
    fit = model.fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    assert cmp.difference == pytest.approx(fit.params[0], rel=1e-12)
    assert cmp.se == pytest.approx(fit.bse[0], rel=1e-9)
    assert cmp.p_value == pytest.approx(fit.pvalues[0], rel=1e-9)
    assert (cmp.low, cmp.high) == pytest.approx(tuple(fit.conf_int()[0]), rel=1e-9)
    assert (cmp.units, cmp.df, cmp.test) == (15, 14, "paired t, clustered SE")


def test_weighted_difference_is_the_macro_average_of_task_differences() -> None:
    rng = np.random.default_rng(2)
    sizes = [20, 200, 60]
    tasks = np.repeat(np.arange(3), sizes)
    baseline = (rng.random(sum(sizes)) < 0.5).astype(float)
    candidate = (rng.random(sum(sizes)) < 0.6).astype(float)
    weights = 1 / (len(sizes) * np.array(sizes)[tasks])
    cmp = paired_difference(baseline, candidate, weights=weights)
    per_task = [candidate[tasks == t].mean() - baseline[tasks == t].mean() for t in range(3)]
    assert cmp.difference == pytest.approx(np.mean(per_task))


def test_nan_items_are_dropped_with_their_cluster_and_weight() -> None:
    baseline = np.array([1.0, 0.0, np.nan, 1.0, 0.0, 1.0, 0.0])
    candidate = np.array([1.0, 1.0, 1.0, np.nan, 1.0, 0.0, 1.0])
    clusters = ["a", "a", "b", "c", "d", "d", "e"]  # b and c hold only dropped items
    weights = np.array([1.0, 2.0, 50.0, 50.0, 1.0, 3.0, 1.0])
    keep = [0, 1, 4, 5, 6]
    full = paired_difference(baseline, candidate, clusters=clusters, weights=weights)
    clean = paired_difference(
        baseline[keep], candidate[keep], clusters=[clusters[i] for i in keep], weights=weights[keep]
    )
    assert full == clean and (full.n, full.units) == (5, 3)


def test_interval_excludes_zero_exactly_when_p_is_below_alpha() -> None:
    rng = np.random.default_rng(3)
    for _ in range(300):
        n = int(rng.integers(5, 60))
        baseline = rng.random(n)
        candidate = baseline + rng.normal(rng.normal(0, 0.1), 0.3, n)
        clusters = rng.integers(0, max(2, n // 4), n)
        for alpha, cmp in (
            (0.05, paired_difference(baseline, candidate)),
            (0.1, paired_difference(baseline, candidate, clusters=clusters, alpha=0.1)),
        ):
            assert (cmp.low > 0 or cmp.high < 0) == (cmp.p_value < alpha)


def test_p_values_are_not_floored_and_survive_correction() -> None:
    # a bootstrap p cannot fall below 1/(resamples+1); a t-test p can, so a clear difference
    # survives Holm's correction over a family of 240 comparisons
    rng = np.random.default_rng(4)
    baseline = (rng.random(500) < 0.5).astype(float)
    candidate = np.maximum(baseline, rng.random(500) < 0.3)
    cmp = paired_difference(baseline, candidate)
    assert cmp.p_value < 1e-12
    family = np.concatenate([[cmp.p_value], rng.random(239)])
    assert adjust_p_values(family, "holm")[0] < 1e-9


def test_degenerate_cases() -> None:
    empty = paired_difference(np.array([np.nan]), np.array([1.0]))
    assert math.isnan(empty.difference) and empty.p_value == 1.0 and empty.n == 0
    same = paired_difference(np.ones(10), np.ones(10))  # se 0, no difference
    assert (same.difference, same.low, same.high, same.p_value, same.se) == (0, 0, 0, 1.0, 0)
    shift = paired_difference(np.zeros(10), np.ones(10))  # se 0, every item better
    assert (shift.low, shift.high, shift.p_value) == (1.0, 1.0, 0.0)
    one = paired_difference(np.zeros(4), np.array([0, 1, 1, 0.0]), clusters=[7] * 4)
    assert one.difference == 0.5 and one.p_value == 1.0 and math.isnan(one.low)
    assert (one.units, one.df) == (1, 0)


def test_mismatched_inputs_raise() -> None:
    with pytest.raises(ValueError):
        paired_difference(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="clusters"):
        paired_difference(np.ones(3), np.ones(3), clusters=[1, 2])


def test_mcnemar_exact_hand_computed() -> None:
    # 1 item only the baseline gets right, 7 only the candidate: p = 2 * (C(8,0)+C(8,1)) / 2^8
    baseline = np.array([1] * 1 + [0] * 7 + [1] * 5 + [0] * 3, dtype=bool)
    candidate = np.array([0] * 1 + [1] * 7 + [1] * 5 + [0] * 3, dtype=bool)
    assert mcnemar_exact(baseline, candidate) == pytest.approx(2 * (1 + 8) / 256)
    assert mcnemar_exact(baseline, baseline) == 1.0
