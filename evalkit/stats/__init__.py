"""Statistics for comparing models: bootstrap intervals, paired t tests, correction, power.

Follows Miller (2024), "Adding Error Bars to Evals: A Statistical Approach to Language Model
Evaluations": paired differences with (clustered) CLT standard errors, and power analysis.
Results are seeded where random, so two runs give the same numbers. scipy and statsmodels load
inside the functions that need them, so importing this package stays light.

- `bootstrap_ci`: percentile bootstrap of a (weighted, clustered) mean.
- `paired_difference`: candidate - baseline, cluster-robust SE, one t test for CI and p.
- `mcnemar_exact`: McNemar's exact test on paired right/wrong outcomes (a secondary test).
- `adjust_p_values`: Holm or Benjamini-Hochberg correction over a family of comparisons.
- `minimum_detectable_effect`, `power_of_difference`, `planned_mde`, `binary_difference_sd`,
  `items_for_mde`: power analysis.
"""

from evalkit.stats.bootstrap import DEFAULT_RESAMPLES, Estimate, bootstrap_ci, resampled_means
from evalkit.stats.correction import CORRECTIONS, adjust_p_values
from evalkit.stats.paired import Comparison, mcnemar_exact, paired_difference
from evalkit.stats.power import (
    binary_difference_sd,
    items_for_mde,
    minimum_detectable_effect,
    planned_mde,
    power_of_difference,
)

__all__ = [
    "CORRECTIONS",
    "DEFAULT_RESAMPLES",
    "Comparison",
    "Estimate",
    "adjust_p_values",
    "binary_difference_sd",
    "bootstrap_ci",
    "items_for_mde",
    "mcnemar_exact",
    "minimum_detectable_effect",
    "paired_difference",
    "planned_mde",
    "power_of_difference",
    "resampled_means",
]
