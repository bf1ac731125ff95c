"""The procedures do what they claim, checked on simulated suites with a known truth.

Every simulation is seeded, so each is an exact regression check; the bounds leave at least
two simulation standard errors around the nominal rate (2,000 suites: the sd of a 95% coverage
is 0.005; of a 5% false-alarm rate, 0.005).
"""

from __future__ import annotations

import gc
from typing import Any

import numpy as np
from scipy.special import ndtri

from evalkit.stats import (
    Comparison,
    adjust_p_values,
    binary_difference_sd,
    bootstrap_ci,
    paired_difference,
    planned_mde,
    power_of_difference,
)

SUITES = 2000
N = 200


def paired_outcomes(
    rng: np.random.Generator, suites: int, n: int, only_baseline: float, only_candidate: float
) -> tuple[np.ndarray, np.ndarray]:
    """Right/wrong per item for two models: both right on 50%, one of them only on the given
    shares; the true difference is only_candidate - only_baseline."""
    u = rng.random((suites, n))
    both = 0.5
    baseline = u < both + only_baseline
    candidate = (u < both) | (
        (u >= both + only_baseline) & (u < both + only_baseline + only_candidate)
    )
    return baseline.astype(float), candidate.astype(float)


def compare(baseline: np.ndarray, candidate: np.ndarray, **options: Any) -> list[Comparison]:
    """paired_difference on each simulated suite (a row of each array)."""
    return [paired_difference(b, c, **options) for b, c in zip(baseline, candidate, strict=True)]


def equal_models(
    rng: np.random.Generator,
    suites: int,
    n: int,
    cluster_size: int = 1,
    model_by_cluster: float = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Two models of equal accuracy, correlated per item (a shared item difficulty); with
    `model_by_cluster`, each model is also better or worse on whole clusters (topics)."""
    clusters = n // cluster_size

    def per_cluster(sd: float) -> np.ndarray:
        return rng.normal(0, sd, (suites, clusters)).repeat(cluster_size, axis=1)

    shared = per_cluster(1.0 if cluster_size > 1 else 0.0) + rng.normal(size=(suites, n))
    a = shared + per_cluster(model_by_cluster) + rng.normal(0, 0.7, (suites, n))
    b = shared + per_cluster(model_by_cluster) + rng.normal(0, 0.7, (suites, n))
    return (a > -0.3).astype(float), (b > -0.3).astype(float)  # same law: equal accuracy


def test_bootstrap_ci_covers_the_true_accuracy_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(100)
    suites = (rng.random((SUITES, N)) < 0.6).astype(float)
    covered = [(e := bootstrap_ci(s, seed=i)).low <= 0.6 <= e.high for i, s in enumerate(suites)]
    assert 0.93 <= np.mean(covered) <= 0.97


def test_paired_difference_ci_covers_the_true_difference_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(101)
    baseline, candidate = paired_outcomes(rng, SUITES, N, 0.10, 0.15)  # true difference 0.05
    cmps = compare(baseline, candidate)
    assert 0.93 <= np.mean([c.low <= 0.05 <= c.high for c in cmps]) <= 0.97


def test_clustered_items_need_the_clustered_interval() -> None:
    # 40 clusters of 5 items sharing a cluster effect (items from one source document)
    rng = np.random.default_rng(102)
    size, spread = 5, 1.0
    threshold = -ndtri(0.6) * np.sqrt(1 + spread**2)  # P(correct) = 0.6 overall
    latent = rng.normal(0, spread, (SUITES, N // size)).repeat(size, axis=1)
    suites = (latent + rng.normal(size=(SUITES, N)) > threshold).astype(float)
    clusters = np.arange(N) // size
    plain = [(e := bootstrap_ci(s, seed=i)).low <= 0.6 <= e.high for i, s in enumerate(suites)]
    clustered = [
        (e := bootstrap_ci(s, seed=i, clusters=clusters)).low <= 0.6 <= e.high
        for i, s in enumerate(suites)
    ]
    assert np.mean(plain) < 0.88  # measured 0.82: too narrow
    assert 0.93 <= np.mean(clustered) <= 0.97


def test_clustered_paired_difference_covers_and_keeps_its_false_alarm_rate() -> None:
    rng = np.random.default_rng(103)
    baseline, candidate = equal_models(rng, SUITES, N, cluster_size=5, model_by_cluster=0.8)
    clusters = np.arange(N) // 5
    plain = compare(baseline, candidate)
    clustered = compare(baseline, candidate, clusters=clusters)
    assert np.mean([c.low <= 0 <= c.high for c in plain]) < 0.90  # measured 0.83: too narrow
    assert 0.93 <= np.mean([c.low <= 0 <= c.high for c in clustered]) <= 0.97
    assert 0.03 <= np.mean([c.p_value < 0.05 for c in clustered]) <= 0.07
    assert np.mean([c.p_value < 0.05 for c in plain]) > 0.1  # measured 0.17 false alarms


def test_false_alarm_rate_under_the_null_is_alpha() -> None:
    rng = np.random.default_rng(104)
    baseline, candidate = equal_models(rng, SUITES, N)
    p = np.array([c.p_value for c in compare(baseline, candidate)])
    assert 0.03 <= np.mean(p < 0.05) <= 0.07


def test_power_at_a_five_point_difference_matches_power_of_difference() -> None:
    rng = np.random.default_rng(105)
    n = 400
    baseline, candidate = paired_outcomes(rng, 3000, n, 0.10, 0.15)
    detected = np.mean([c.p_value < 0.05 for c in compare(baseline, candidate)])
    se = binary_difference_sd(0.25, difference=0.05) / np.sqrt(n)
    predicted = power_of_difference(0.05, se, n - 1)  # 0.52
    assert abs(detected - predicted) <= 0.03


def test_the_minimum_detectable_effect_is_detected_80_percent_of_the_time() -> None:
    rng = np.random.default_rng(106)
    n, discordance = 400, 0.3
    mde = planned_mde(n, binary_difference_sd(discordance))
    for _ in range(3):  # the sd depends a little on the difference itself
        mde = planned_mde(n, binary_difference_sd(discordance, difference=mde))
    half = discordance / 2
    baseline, candidate = paired_outcomes(rng, 3000, n, half - mde / 2, half + mde / 2)
    detected = np.mean([c.p_value < 0.05 for c in compare(baseline, candidate)])
    assert 0.775 <= detected <= 0.825


def test_holm_keeps_the_family_wise_error_rate_over_240_comparisons() -> None:
    rng = np.random.default_rng(107)
    runs, family = 200, 240
    any_rejected: dict[str, list[bool]] = {"holm": [], "bh": [], "none": []}
    gc.freeze()  # statsmodels' Holm calls gc.collect(): with the heap frozen it takes no time
    try:
        for _ in range(runs):
            baseline, candidate = equal_models(rng, family, N)
            p = [c.p_value for c in compare(baseline, candidate)]
            for method, outcomes in any_rejected.items():
                outcomes.append(bool(np.any(adjust_p_values(p, method) < 0.05)))
    finally:
        gc.unfreeze()
    rate = {method: np.mean(outcomes) for method, outcomes in any_rejected.items()}
    assert rate["holm"] <= 0.05 + 0.03  # 0.03: two simulation sd of a 5% rate over 200 runs
    assert rate["bh"] <= 0.05 + 0.03  # under the global null the FDR is the FWER
    assert rate["none"] >= 0.9  # 1 - 0.95^240: nearly every run raises a false alarm
