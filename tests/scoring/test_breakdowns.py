"""The per-label report equals scikit-learn's, unreadable answers counted as misses."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.metrics import precision_recall_fscore_support

from evalkit.scoring.breakdowns import NO_ANSWER, answer_report, label_report
from evalkit.suite.items import ITEM_ADAPTER


class _Suite:
    def __init__(self, items: list[Any]) -> None:
        self.by_id = {i.id: i for i in items}


def test_label_report_equals_scikit_learn_on_random_labels() -> None:
    rng = np.random.default_rng(3)
    labels = ["违约", "不违约", "无法判断", "other"]
    gold = rng.choice(labels[:3], 400)  # "other" is predicted but never gold
    items, rows = [], []
    for k, g in enumerate(gold):
        items.append(
            ITEM_ADAPTER.validate_python(
                {
                    "id": f"c{k}",
                    "task": "classification",
                    "language": "zh",
                    "provenance": {"author": "t"},
                    "text": f"条款 {k}",
                    "labels": labels,
                    "label": str(g),
                }
            )
        )
        roll = rng.random()
        answer = str(g) if roll < 0.55 else None if roll < 0.7 else str(rng.choice(labels))
        rows.append(
            {
                "model": "m",
                "suite": "s@v1",
                "item_id": f"c{k}",
                "task": "classification",
                "output": "…",
                "answer": answer,
                "answer_reason": None if answer else "hedge",
            }
        )
    report = {r["label"]: r for r in label_report(rows, {"s@v1": _Suite(items)})}
    predicted = [r["answer"] or NO_ANSWER for r in rows]
    gold_labels = sorted(set(gold))
    p, r, f, s = precision_recall_fscore_support(
        list(gold), predicted, labels=gold_labels, zero_division=0
    )
    for k, label in enumerate(gold_labels):
        got = report[label]
        assert (got["precision"], got["recall"], got["f1"]) == pytest.approx((p[k], r[k], f[k]))
        assert got["support"] == s[k]
    for average in ("micro", "macro"):
        expected = precision_recall_fscore_support(
            list(gold), predicted, labels=gold_labels, average=average, zero_division=0
        )[:3]
        got = report[f"({average})"]
        assert (got["precision"], got["recall"], got["f1"]) == pytest.approx(expected)
    unreadable = answer_report(rows)[0]
    assert unreadable["unreadable"] == sum(a is None for a in (r["answer"] for r in rows))
    assert unreadable["reasons"] == {"hedge": unreadable["unreadable"]}
