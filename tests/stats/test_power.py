"""Power analysis: the minimum detectable effect and the power of a two-sided paired t test."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from evalkit.stats import (
    binary_difference_sd,
    items_for_mde,
    minimum_detectable_effect,
    planned_mde,
    power_of_difference,
)


def test_minimum_detectable_effect_formula() -> None:
    mde = minimum_detectable_effect(0.02, 99)
    assert mde == pytest.approx((stats.t.ppf(0.975, 99) + stats.t.ppf(0.8, 99)) * 0.02)
    # many units: the familiar (1.96 + 0.84) * se
    assert minimum_detectable_effect(1.0, 10**6) == pytest.approx(1.96 + 0.8416, abs=1e-3)
    assert minimum_detectable_effect(0.02, 99, alpha=0.01, power=0.9) > mde
    assert math.isnan(minimum_detectable_effect(0.02, 0))


def test_power_equals_noncentral_t_and_reaches_the_target_at_the_mde() -> None:
    se, df = 0.03, 150
    critical = stats.t.ppf(0.975, df)
    expected = stats.nct.sf(critical, df, 0.05 / se) + stats.nct.cdf(-critical, df, 0.05 / se)
    assert power_of_difference(0.05, se, df) == pytest.approx(expected, rel=1e-9)
    assert power_of_difference(-0.05, se, df) == pytest.approx(expected, rel=1e-9)
    assert power_of_difference(0.0, se, df) == pytest.approx(0.05, abs=1e-9)  # the false alarms
    for df in (30, 300, 3000):
        mde = minimum_detectable_effect(se, df)
        assert power_of_difference(mde, se, df) == pytest.approx(0.8, abs=0.005)


def test_binary_difference_sd() -> None:
    assert binary_difference_sd(0.25) == pytest.approx(0.5)
    # +1 on 15%, -1 on 10%: variance 0.25 - 0.05^2
    assert binary_difference_sd(0.25, difference=0.05) == pytest.approx(math.sqrt(0.2475))
    with pytest.raises(ValueError):
        binary_difference_sd(1.2)
    with pytest.raises(ValueError):
        binary_difference_sd(0.1, difference=0.2)


def test_planned_mde_and_items_for_mde_agree() -> None:
    sd = binary_difference_sd(0.3)
    assert planned_mde(400, sd) == pytest.approx(minimum_detectable_effect(sd / 20, 399))
    assert planned_mde(1, sd) == math.inf
    for target in (0.2, 0.05, 0.03, 0.01):
        n = items_for_mde(target, sd)
        assert planned_mde(n, sd) <= target < planned_mde(n - 1, sd)
    # the textbook normal approximation n = ((1.96 + 0.84) sd / mde)^2, give or take a few
    assert items_for_mde(0.05, sd) == pytest.approx((2.8016 * sd / 0.05) ** 2, abs=3)
    assert items_for_mde(0.05, 0.0) == 2
    with pytest.raises(ValueError):
        items_for_mde(0.0, sd)
