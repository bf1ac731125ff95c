"""The joint-MAP IRT fit behind anchor subsets agrees with py-irt's, and is deterministic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from analysis.planted import planted_suite, simulate
from evalkit.analysis.irt import fit_irt
from evalkit.analysis.irt_map import fit_irt_map


def test_map_fit_ranks_items_and_models_as_py_irt_does(tmp_path: Path) -> None:
    matrix = simulate(planted_suite(tmp_path, 60, 0), 12, seed=5)  # abilities rise with index
    for model_type in ("1pl", "2pl"):
        ours, reference = fit_irt_map(matrix, model_type), fit_irt(matrix, model_type, epochs=600)
        shared = sorted(reference.items)
        rho = spearmanr(
            [ours.items[i].difficulty for i in shared],
            [reference.items[i].difficulty for i in shared],
        ).statistic
        assert rho >= 0.95, (model_type, rho)
        theta = [ours.abilities[label] for label in matrix.labels]
        assert spearmanr(theta, range(12)).statistic >= 0.8
    # items every model got right are fitted too, easier than any item someone missed
    right = np.nanmean(matrix.scores, axis=0)
    fit = fit_irt_map(matrix, "1pl")
    assert set(fit.items) == {item.id for item in matrix.items} and not fit.left_out
    easiest = min(fit.items[i.id].difficulty for j, i in enumerate(matrix.items) if right[j] < 1)
    assert all(
        fit.items[i.id].difficulty < easiest for j, i in enumerate(matrix.items) if right[j] == 1
    )
    assert fit_irt_map(matrix, "2pl") == fit_irt_map(matrix, "2pl")
