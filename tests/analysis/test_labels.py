"""Suspected wrong gold answers, checked by simulation: planted errors are found, untouched
items are rarely flagged (the figures are in docs/analysis.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.planted import planted_rates, planted_suite, simulate
from evalkit.analysis.labels import agreement_suspects, suspected_label_errors

ITEMS, PLANTED, REPLICATIONS = 60, 6, 10


def _rates(root: Path, models: int, loglikelihood: bool) -> tuple[float, float, float]:
    return planted_rates(root, models, loglikelihood, REPLICATIONS, ITEMS, PLANTED)


@pytest.mark.parametrize("models", [4, 8])
def test_agreeing_strong_models_find_planted_wrong_golds(tmp_path: Path, models: int) -> None:
    recall, precision, false_rate = _rates(tmp_path, models, loglikelihood=False)
    assert recall >= 0.7
    assert precision >= 0.85
    assert false_rate <= 0.02


def test_confident_learning_finds_planted_wrong_golds_from_option_probabilities(
    tmp_path: Path,
) -> None:
    recall, precision, false_rate = _rates(tmp_path, 8, loglikelihood=True)
    assert recall >= 0.6
    assert precision >= 0.9
    assert false_rate <= 0.02


def test_planted_items_rank_first(tmp_path: Path) -> None:
    suite = planted_suite(tmp_path, ITEMS, PLANTED, seed=3)
    ranked = suspected_label_errors(simulate(suite, 8, seed=7))
    top = {s.item_id for s in ranked[:PLANTED]}
    assert len(top & suite.planted) >= PLANTED - 1
    for suspect in ranked:
        assert suspect.gold != suspect.suspected
        assert "gold is" in suspect.evidence


def test_weak_models_sharing_a_wrong_answer_are_no_evidence(tmp_path: Path) -> None:
    suite = planted_suite(tmp_path, 20, 0)
    matrix = simulate(suite, 6, seed=1)
    matrix.scores[:] = 0.0  # every model weak: a shared answer is a shared bias
    for m in range(6):
        matrix.answers[m] = ["D"] * len(matrix.items)
    matrix.scores[:, [j for j, i in enumerate(matrix.items) if i.answer == "D"]] = 1.0  # type: ignore[attr-defined]
    assert [s for s in agreement_suspects(matrix) if s.flagged] == []
