"""Corpus-level metrics (BLEU, chrF, macro and micro F1) per model × suite × task, with CIs.

A corpus metric is computed from additive per-item statistics (sacrebleu's approach), so its
interval resamples summed statistics of items — or of clusters, when items are clustered —
instead of recomputing the metric from text.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evalkit.metrics.registry import CorpusStatistics
from evalkit.scoring.items import MetricPlan
from evalkit.suite.store import SuiteVersion

_RESAMPLED_CELLS = 2_000_000  # resamples x units drawn at once: bounds memory


def corpus_ci(
    statistics: CorpusStatistics,
    resamples: int,
    seed: int,
    units: list[str] | None = None,
    alpha: float = 0.05,
) -> tuple[float, float]:
    """Percentile interval of a corpus metric: each resample sums resampled units' statistics."""
    stats = statistics.stats
    if units is not None:  # one row of summed statistics per cluster
        ids, inverse = np.unique(np.asarray(units, dtype=object), return_inverse=True)
        summed = np.zeros((len(ids), stats.shape[1]))
        np.add.at(summed, inverse, stats)
        stats = summed
    n = len(stats)
    rng = np.random.default_rng(seed)
    batch = max(1, min(200, _RESAMPLED_CELLS // n))
    scores: list[float] = []
    for start in range(0, resamples, batch):
        size = min(batch, resamples - start)
        # how often each unit is drawn in each resample: one bincount over all of them
        picks = rng.integers(0, n, (size, n)) + (np.arange(size) * n)[:, None]
        counts = np.bincount(picks.ravel(), minlength=size * n).reshape(size, n)
        scores.extend(statistics.reduce(total) for total in counts @ stats)
    low, high = np.quantile(scores, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def corpus_metrics(
    rows: list[dict[str, Any]],
    versions: dict[str, SuiteVersion],
    plan: MetricPlan,
    resamples: int,
    seed: int,
    alpha: float = 0.05,
) -> list[dict[str, Any]]:
    """Every corpus metric of every model × suite × task in `rows`, with its interval."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for row in rows:
        if row["output"] is not None:
            groups.setdefault((row["model"], row["suite"], row["task"]), []).append(row)
    out = []
    for (model, suite, task), members in sorted(groups.items()):
        version = versions[suite]
        items = [version.by_id[r["item_id"]] for r in members]
        outputs = [r["output"] for r in members]
        units = [r["unit"] for r in members] if "unit" in members[0] else None
        metrics = plan[suite, task]
        for m in metrics.corpus:
            statistics = m.fn(items, outputs, **metrics.options.get(m.name, {}))
            low, high = corpus_ci(statistics, resamples, seed, units, alpha)
            out.append(
                {
                    "model": model,
                    "suite": suite,
                    "task": task,
                    "metric": m.name,
                    "value": statistics.value,
                    "signature": statistics.signature,
                    "low": low,
                    "high": high,
                    "n": len(items),
                }
            )
    return out
