"""Double annotation: agreement numbers against scikit-learn and krippendorff on known labels,
blind records, disagreements and adjudication."""

from __future__ import annotations

import krippendorff
import numpy as np
import pytest
from app_helpers import Run, mcq
from sklearn.metrics import cohen_kappa_score

from annotation_app.errors import InvalidInput, PermissionDenied
from annotation_app.services import agreement, items, visibility

# Two annotators on ten items: kappa = 0.4 by hand (observed 0.7, chance 0.5).
A = list("AABBAABBAB")
B = list("AABBAABABA")


def test_kappa_and_alpha_match_the_libraries_for_two_annotators() -> None:
    labels = {i: {"x": a, "y": b} for i, (a, b) in enumerate(zip(A, B, strict=True))}
    result = agreement.agreement_scores("mcq", labels)
    assert result.kappa == pytest.approx(cohen_kappa_score(A, B)) == pytest.approx(0.4)
    data = np.array([[ord(c) for c in A], [ord(c) for c in B]], dtype=float)
    expected_alpha = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert result.alpha == pytest.approx(expected_alpha)
    assert result.percent == pytest.approx(0.7) and result.items == 10 and result.annotators == 2


def test_alpha_for_three_annotators_with_missing_labels() -> None:
    labels = {
        0: {"x": "合同", "y": "合同", "z": "合同"},
        1: {"x": "侵权", "y": "侵权"},
        2: {"x": "合同", "y": "侵权", "z": "合同"},
        3: {"y": "物权", "z": "物权"},
        4: {"x": "侵权"},  # one label: not counted
    }
    result = agreement.agreement_scores("classification", labels)
    code = {"合同": 0, "侵权": 1, "物权": 2}
    nan = np.nan
    data = np.array(
        [
            [code["合同"], code["侵权"], code["合同"], nan],
            [code["合同"], code["侵权"], code["侵权"], code["物权"]],
            [code["合同"], nan, code["合同"], code["物权"]],
        ]
    )
    assert result.kappa is None and result.items == 4 and result.annotators == 3
    assert result.alpha == pytest.approx(
        krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    )


def test_free_text_labels_compare_after_normalisation() -> None:
    labels = {0: {"x": "六年", "y": " 六年 "}, 1: {"x": "Six Years", "y": "six  years"}}
    assert agreement.agreement_scores("qa", labels).percent == 1.0


def test_blind_record_hides_gold_and_people() -> None:
    record = {**mcq(id="q"), "provenance": {"author": "ann1", "reviewer": "rev"}}
    assert visibility.blind_record(record) == {
        "id": "q",
        "task": "mcq",
        "language": "zh",
        "question": "合同何时成立？",
        "choices": ["承诺生效时", "要约发出时"],
    }


def test_assign_label_disagree_adjudicate(
    suite_id: int, item_pk: int, people: dict[str, int], act: Run
) -> None:
    with pytest.raises(PermissionDenied):
        act("ann1", agreement.assign, [item_pk], [people["ann2"], people["ann3"]])
    with pytest.raises(InvalidInput, match="1 problem"):
        act("rev", agreement.assign, [item_pk], [people["ann2"]])
    made = act("rev", agreement.assign, [item_pk], [people["ann2"], people["ann3"]])
    by_user = {a.annotator_id: a.id for a in made}
    with pytest.raises(PermissionDenied):
        act("ann3", agreement.submit_label, by_user[people["ann2"]], "A")
    with pytest.raises(InvalidInput):
        act("ann2", agreement.submit_label, by_user[people["ann2"]], "Z")
    act("ann2", agreement.submit_label, by_user[people["ann2"]], "a")
    act("ann3", agreement.submit_label, by_user[people["ann3"]], "B")
    [dispute] = act("rev", agreement.disagreements, suite_id)
    assert dispute.labels == {"ann2": "a", "ann3": "B"} and dispute.adjudicated is None
    [score] = act("rev", agreement.suite_agreement, suite_id)
    assert (score.task, score.items, score.percent) == ("mcq", 1, 0.0)
    act("rev", agreement.adjudicate, item_pk, "B", "B is right", 1)
    assert act("rev", items.get_item, item_pk).record["answer"] == "B"
    # Through the item edit path: the search text (input + answer) follows the new gold.
    assert act("rev", items.get_item, item_pk).search_text.endswith("\nB")
    [dispute] = act("rev", agreement.disagreements, suite_id)
    assert dispute.adjudicated == "B"
