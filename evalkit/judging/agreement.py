"""Agreement of raters on the same units: Krippendorff's alpha (the `krippendorff` package)
and the share of units on which every rater agreed. One definition for `evalkit score` and
the annotation app."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Level = Literal["nominal", "ordinal", "interval"]


@dataclass(frozen=True)
class Agreement:
    raters: int
    units: int  # units rated at all
    units_rated_twice: int  # units rated by two raters or more: what alpha is computed over
    alpha: float | None  # undefined without two raters on a unit, or with one value only
    exact_agreement: float | None  # share of the units rated twice on which all agreed


def agreement(units: Mapping[Any, Mapping[str, float]], level: Level) -> Agreement:
    """Agreement over {unit: {rater: value}}, from a raters × units table in which a rater's
    missing ratings are missing."""
    raters = sorted({r for by in units.values() for r in by})
    rated = [by for by in units.values() if by]
    shared = [by for by in rated if len(by) >= 2]
    values = {v for by in shared for v in by.values()}
    alpha = None
    if shared and len(values) >= 2:
        import krippendorff
        import numpy as np

        table = np.array([[by.get(r, np.nan) for by in rated] for r in raters], dtype=float)
        found = float(krippendorff.alpha(reliability_data=table, level_of_measurement=level))
        alpha = None if math.isnan(found) else found
    exact = sum(len(set(by.values())) == 1 for by in shared) / len(shared) if shared else None
    return Agreement(len(raters), len(rated), len(shared), alpha, exact)
