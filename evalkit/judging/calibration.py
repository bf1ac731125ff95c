"""Judge calibration: does the LLM judge agree with the team's own experts?

For every rubric criterion with both a judge score and an expert score on the same answers
(model × item): Spearman's rank correlation and Krippendorff's alpha (interval, judge and
expert mean as two raters), each with a bootstrap interval over the answers; the judge's bias
(mean judge minus expert, on the criterion's own scale); and the answers on which they differ
most. A judge rated on fewer than `min_items` answers, or with alpha below `min_alpha`, is
"not validated", and every judge-based number says so.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evalkit.judging.scores import EXPERT_PREFIX, JUDGE_PREFIX
from evalkit.scoring.table import SuiteScores
from evalkit.suite.store import SuiteVersion

MAX_RESAMPLES = 500  # alpha and Spearman per resample: enough for a 95% interval
WORST = 5  # disagreements listed per criterion


def _alpha(judge: np.ndarray, expert: np.ndarray) -> float | None:
    import krippendorff

    if len(judge) < 2 or np.ptp(np.concatenate([judge, expert])) == 0:
        return None
    return float(
        krippendorff.alpha(
            reliability_data=np.vstack([judge, expert]), level_of_measurement="interval"
        )
    )


def _spearman(judge: np.ndarray, expert: np.ndarray) -> float | None:
    from scipy.stats import spearmanr

    if len(judge) < 3 or np.ptp(judge) == 0 or np.ptp(expert) == 0:
        return None
    return float(spearmanr(judge, expert).statistic)


def _interval(
    statistic: Any, judge: np.ndarray, expert: np.ndarray, resamples: int, seed: int
) -> tuple[float | None, float | None]:
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(min(resamples, MAX_RESAMPLES)):
        idx = rng.integers(0, len(judge), len(judge))
        value = statistic(judge[idx], expert[idx])
        if value is not None and not np.isnan(value):
            values.append(value)
    if len(values) < 20:
        return None, None
    low, high = np.quantile(values, [0.025, 0.975])
    return float(low), float(high)


def calibrate(
    tables: dict[str, SuiteScores],
    versions: dict[str, SuiteVersion],
    min_items: int,
    min_alpha: float,
    resamples: int,
    seed: int,
) -> list[dict[str, Any]]:
    """One record per suite × criterion where judge and experts scored the same answers."""
    out = []
    for suite, table in tables.items():
        for criterion in versions[suite].spec.effective_rubric.criteria:
            low, high = criterion.scale
            span = high - low
            judge, expert, which = [], [], []
            for model in table.columns:
                j = table.values(model, JUDGE_PREFIX + criterion.name)
                e = table.values(model, EXPERT_PREFIX + criterion.name)
                both = ~(np.isnan(j) | np.isnan(e))
                judge += list(low + span * j[both])
                expert += list(low + span * e[both])
                which += [(model, table.item_ids[k]) for k in np.flatnonzero(both)]
            if not judge:
                continue
            j_arr, e_arr = np.array(judge), np.array(expert)
            alpha = _alpha(j_arr, e_arr)
            spearman = _spearman(j_arr, e_arr)
            worst = np.argsort(-np.abs(j_arr - e_arr), kind="stable")[:WORST]
            out.append(
                {
                    "suite": suite,
                    "criterion": criterion.name,
                    "scale": [low, high],
                    "n": len(judge),
                    "alpha": alpha,
                    "alpha_ci": _interval(_alpha, j_arr, e_arr, resamples, seed),
                    "spearman": spearman,
                    "spearman_ci": _interval(_spearman, j_arr, e_arr, resamples, seed),
                    "bias": float(np.mean(j_arr - e_arr)),
                    "validated": len(judge) >= min_items
                    and alpha is not None
                    and alpha >= min_alpha,
                    "disagreements": [
                        {
                            "model": which[k][0],
                            "item_id": which[k][1],
                            "judge": float(j_arr[k]),
                            "expert": float(e_arr[k]),
                        }
                        for k in worst
                    ],
                }
            )
    return out
