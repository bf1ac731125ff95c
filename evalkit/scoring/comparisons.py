"""Paired comparisons between models, corrected as one family, each with its power.

Which pairs: every model against the run's baseline, every model against its declared
`baseline`, and every SFT checkpoint against its starting model; on every suite, for every
compared metric and the score. Each comparison is the mean difference on the items both
models have, with a t interval and p-value from one cluster-robust standard error (Miller
2024, "Adding Error Bars to Evals"), so the interval excludes zero exactly when the raw p is
below alpha. Then:

- all of a summary's comparisons are one family: the p-values are adjusted together (Holm by
  default, Benjamini-Hochberg or none; statsmodels' `multipletests`), and "significant", the
  regression list and the gate use the adjusted value;
- each comparison's minimum detectable effect (MDE) is the smallest true difference it would
  detect with `power` (80%) at alpha, given its items and observed paired variance; a
  difference that is not significant and smaller than the MDE is "inconclusive": the suite
  cannot resolve it, which is not the same as "no change";
- for right/wrong metrics, McNemar's exact test is reported as a secondary test, labelled so.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evalkit.scoring.aggregate import headline_weights
from evalkit.scoring.config import ScoringConfig
from evalkit.scoring.table import SCORE, SuiteScores
from evalkit.stats import (
    adjust_p_values,
    mcnemar_exact,
    minimum_detectable_effect,
    paired_difference,
)

# Metrics whose per-item values are right (1) or wrong (0): McNemar applies.
BINARY_METRICS = frozenset({"accuracy", "exact_match", "format_adherence", "ll_accuracy"})


def comparison_pairs(
    models: list[dict[str, Any]], baseline: str, starting: dict[str, str]
) -> list[tuple[str, str]]:
    """(baseline, candidate) pairs: the run's baseline, declared baselines, starting models."""
    names = {m["name"] for m in models}
    pairs = {(baseline, m["name"]) for m in models if m["name"] != baseline}
    pairs |= {(m["baseline"], m["name"]) for m in models if m.get("baseline") in names}
    pairs |= {(start, sft) for sft, start in starting.items()}
    return sorted((a, b) for a, b in pairs if a != b)


def _is_binary(metric: str, a: np.ndarray, b: np.ndarray) -> bool:
    if metric in BINARY_METRICS:
        return True
    return bool(np.isin(a, (0.0, 1.0)).all() and np.isin(b, (0.0, 1.0)).all())


def compare(
    table: SuiteScores,
    baseline: str,
    candidate: str,
    metric: str,
    config: ScoringConfig,
) -> dict[str, Any] | None:
    """One paired comparison of `candidate` with `baseline` on a metric of one suite."""
    a, b = table.values(baseline, metric), table.values(candidate, metric)
    common = ~(np.isnan(a) | np.isnan(b))
    if not common.any():
        return None
    a, b = a[common], b[common]
    units = table.unit_array()
    clusters = None if units is None else units[common]
    weights = None
    if metric == SCORE:
        weights = headline_weights(np.asarray(table.tasks, dtype=object)[common], config.headline)
    c = paired_difference(a, b, clusters=clusters, weights=weights, alpha=config.alpha)
    result: dict[str, Any] = {
        "baseline": baseline,
        "candidate": candidate,
        "suite": table.suite,
        "metric": metric,
        "difference": c.difference,
        "low": c.low,
        "high": c.high,
        "se": c.se,
        "n": c.n,
        "units": c.units,
        "df": c.df,
        "p_value": c.p_value,
        "test": c.test,
        "identical": bool(np.array_equal(a, b)),
    }
    if _is_binary(metric, a, b):
        result["secondary"] = {
            "test": "McNemar exact (secondary)",
            "p_value": mcnemar_exact(a > 0.5, b > 0.5),
        }
    return result


def compare_models(
    tables: dict[str, SuiteScores],
    pairs: list[tuple[str, str]],
    config: ScoringConfig,
) -> list[dict[str, Any]]:
    """Every comparison of the summary, corrected as one family (see the module docstring)."""
    wanted = set(config.compare_metrics)
    comparisons = []
    for a, b in pairs:
        for table in tables.values():
            metrics = sorted(set(table.metrics(a)) | set(table.metrics(b)))
            for metric in metrics:
                if wanted and metric not in wanted:
                    continue
                result = compare(table, a, b, metric, config)
                if result is not None:
                    comparisons.append(result)
    return correct_family(comparisons, config)


def verdict(c: dict[str, Any]) -> str:
    """improved, regressed, identical, inconclusive (smaller than the MDE), not significant."""
    if c["identical"]:
        return "identical"
    if c["significant"]:
        return "improved" if c["difference"] > 0 else "regressed"
    if abs(c["difference"]) < c["mde"]:
        return "inconclusive"
    return "not significant"


def correct_family(
    comparisons: list[dict[str, Any]], config: ScoringConfig
) -> list[dict[str, Any]]:
    """Adjust all p-values together; add significance, the MDE and the verdict to each."""
    adjusted = adjust_p_values([c["p_value"] for c in comparisons], config.correction)
    for c, p in zip(comparisons, adjusted, strict=True):
        c["p_adjusted"] = float(p)
        c["significant"] = bool(p < config.alpha)
        se = c["se"] if c["se"] > 0 else 1.0 / max(c["units"], 1)  # at least one discordant unit
        mde = minimum_detectable_effect(se, max(c["df"], 1), config.alpha, config.power)
        c["mde"] = float(mde)
        c["verdict"] = verdict(c)
    return comparisons


def family_record(comparisons: list[dict[str, Any]], config: ScoringConfig) -> dict[str, Any]:
    """What the correction covered, for the summary and the report."""
    return {
        "correction": config.correction,
        "alpha": config.alpha,
        "power": config.power,
        "comparisons": len(comparisons),
        "significant": sum(c["significant"] for c in comparisons),
        "significant_raw": sum(c["p_value"] < config.alpha for c in comparisons),
    }
