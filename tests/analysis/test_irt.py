"""The IRT fit (py-irt) recovers who is stronger and which items are harder, and refuses
with a reason when there are too few models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

from analysis.planted import planted_suite, simulate
from evalkit.analysis.irt import MIN_MODELS, fit_irt, irt_model_for


def test_irt_recovers_ability_order_and_item_difficulty(tmp_path: Path) -> None:
    suite = planted_suite(tmp_path, 60, 0)
    matrix = simulate(suite, 12, seed=5)  # abilities rise with the model index
    fit = fit_irt(matrix, epochs=600)
    assert fit.model_type == "2pl"
    theta = [fit.abilities[label] for label in matrix.labels]
    assert spearmanr(theta, range(12)).statistic >= 0.8
    share_right = {item.id: matrix.scores[:, j].mean() for j, item in enumerate(matrix.items)}
    fitted = sorted(fit.items)
    rho = spearmanr([fit.items[i].difficulty for i in fitted], [share_right[i] for i in fitted])
    assert rho.statistic <= -0.9  # harder items: fewer models right
    assert all(p.information >= 0 and p.discrimination > 0 for p in fit.items.values())
    # items everyone got right or wrong carry no information and are not fitted
    for item_id in fit.left_out:
        assert share_right[item_id] in (0.0, 1.0)
    assert set(fit.left_out) | set(fit.items) == set(share_right)


def test_the_model_is_the_richest_the_number_of_models_supports() -> None:
    assert irt_model_for(MIN_MODELS["1pl"] - 1) is None
    assert irt_model_for(MIN_MODELS["1pl"]) == "1pl"
    assert irt_model_for(MIN_MODELS["2pl"]) == "2pl"


def test_too_few_models_is_refused_with_the_reason(tmp_path: Path) -> None:
    matrix = simulate(planted_suite(tmp_path, 20, 0), 4, seed=0)
    with pytest.raises(ValueError, match=r"4 model\(s\), and a 1PL fit needs at least 5"):
        fit_irt(matrix)
    matrix.scores[:] = np.nan
    with pytest.raises(ValueError, match="0 model"):
        fit_irt(matrix, "1pl")
