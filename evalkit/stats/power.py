"""Power analysis for paired differences (Miller 2024, "Adding Error Bars to Evals").

The minimum detectable effect of a two-sided t test at level alpha with power 1 - beta is
(t_{1 - alpha/2, df} + t_{1 - beta, df}) * se: after a run, from the comparison's se and df;
before one, from the number of paired units and the sd of their differences.
"""

from __future__ import annotations

import math


def minimum_detectable_effect(se: float, df: int, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest true difference a two-sided t test at `alpha` detects with probability `power`."""
    from scipy.special import stdtrit

    if df < 1 or not math.isfinite(se):
        return math.nan
    return float(stdtrit(df, 1 - alpha / 2) + stdtrit(df, power)) * se


def power_of_difference(effect: float, se: float, df: int, alpha: float = 0.05) -> float:
    """Probability that a two-sided t test at `alpha` rejects when the true difference is `effect`.

    Exact under the noncentral t distribution with noncentrality effect / se (se taken as the
    true standard error); NaN when df < 1 or se is not finite.
    """
    from scipy.special import nctdtr, stdtrit

    if df < 1 or not math.isfinite(se) or not math.isfinite(effect):
        return math.nan
    if se == 0:
        return 1.0 if effect != 0 else 0.0
    critical = float(stdtrit(df, 1 - alpha / 2))
    shift = abs(effect) / se
    return float(1 - nctdtr(df, shift, critical) + nctdtr(df, shift, -critical))


def planned_mde(units: int, sd: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """Minimum detectable effect of `units` paired units whose differences have sd `sd`.

    Infinite below 2 units (no variance can be estimated from one).
    """
    if units < 2:
        return math.inf
    return minimum_detectable_effect(sd / math.sqrt(units), units - 1, alpha, power)


def binary_difference_sd(discordance: float, *, difference: float = 0.0) -> float:
    """Sd of a paired right/wrong difference (-1, 0 or +1 per item).

    The models disagree on a share `discordance` of items; the sd is
    sqrt(discordance - difference^2), sqrt(discordance) when the true difference is 0.
    """
    if not 0 <= discordance <= 1 or abs(difference) > discordance:
        raise ValueError(
            f"need 0 <= discordance <= 1 and |difference| <= discordance, "
            f"got {discordance} and {difference}"
        )
    return math.sqrt(discordance - difference**2)


def items_for_mde(mde: float, sd: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Smallest number of paired units n (at least 2) with planned_mde(n, sd) <= mde."""
    if not mde > 0 or not sd >= 0:
        raise ValueError(f"need mde > 0 and sd >= 0, got {mde} and {sd}")
    high = 2
    while planned_mde(high, sd, alpha, power) > mde:
        high *= 2
    low = high // 2  # planned_mde(low) > mde unless high == 2
    if high == 2:
        return 2
    while high - low > 1:  # planned_mde falls as n grows
        middle = (low + high) // 2
        if planned_mde(middle, sd, alpha, power) <= mde:
            high = middle
        else:
            low = middle
    return high
