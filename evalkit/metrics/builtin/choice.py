"""Choice tasks (multiple choice, classification): accuracy, macro F1 and micro F1.

All three read the answer with `parsed_answer` (see `evalkit.metrics.answers`); an output
from which no answer can be read scores as wrong, and is a miss rather than a prediction.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from evalkit.metrics.answers import ParsedAnswer, parse_choice, parse_label
from evalkit.metrics.builtin.counts import f1_from_counts
from evalkit.metrics.registry import CorpusStatistics, metric
from evalkit.suite.items import ClassificationItem, ItemBase, MCQItem


@lru_cache(maxsize=1 << 18)
def _parsed(output: str, options: tuple[str, ...], task: str) -> ParsedAnswer:
    return parse_choice(output, options) if task == "mcq" else parse_label(output, options)


def parsed_answer(item: ItemBase, output: str) -> ParsedAnswer:
    """The answer read from an output for an mcq or classification item (memoised)."""
    if isinstance(item, MCQItem):
        return _parsed(output, tuple(item.choices), "mcq")
    if isinstance(item, ClassificationItem):
        return _parsed(output, tuple(item.labels), "classification")
    raise TypeError(f"{item.task} items have no choices")


def predicted_label(item: ItemBase, output: str) -> str | None:
    """The letter (mcq) or label (classification) an output picks; None when unreadable."""
    return parsed_answer(item, output).value


def gold_label(item: ItemBase) -> str:
    """The gold letter (mcq) or label (classification)."""
    if isinstance(item, MCQItem):
        return item.answer
    if isinstance(item, ClassificationItem):
        return item.label
    raise TypeError(f"{item.task} items have no choices")


@metric("accuracy", tasks=("mcq", "classification"))
def accuracy(item: ItemBase, output: str) -> float:
    """1 if the answer read from the output is the gold one; an unreadable answer is wrong."""
    return float(predicted_label(item, output) == gold_label(item))


@metric("macro_f1", tasks=("mcq", "classification"), kind="corpus")
def macro_f1(items: Sequence[ItemBase], outputs: Sequence[str]) -> CorpusStatistics:
    """Macro-averaged F1 over gold labels; an unreadable answer counts as wrong."""
    labels = sorted({gold_label(i) for i in items})
    index = {label: k for k, label in enumerate(labels)}
    width = len(labels) + 1  # last column: a prediction outside the gold labels, or none
    stats = np.zeros((len(items), len(labels) * width))
    for row, (item, output) in enumerate(zip(items, outputs, strict=True)):
        predicted = index.get(predicted_label(item, output) or "", len(labels))
        stats[row, index[gold_label(item)] * width + predicted] = 1

    def reduce(summed: np.ndarray) -> float:
        confusion = summed.reshape(len(labels), width)
        tp = np.diag(confusion[:, : len(labels)])
        gold, predicted = confusion.sum(axis=1), confusion[:, : len(labels)].sum(axis=0)
        denominator = gold + predicted
        f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
        return float(f1.mean())

    return CorpusStatistics(stats, reduce)


@metric("micro_f1", tasks=("mcq", "classification"), kind="corpus")
def micro_f1(items: Sequence[ItemBase], outputs: Sequence[str]) -> CorpusStatistics:
    """Micro-averaged F1 over the gold labels (scikit-learn's, with `labels=` the gold set).

    Equals accuracy unless answers are unreadable: those count as missed, not as predictions.
    """
    labels = {gold_label(i) for i in items}
    stats = np.zeros((len(items), 3))  # true positive, false positive, false negative
    for row, (item, output) in enumerate(zip(items, outputs, strict=True)):
        predicted, gold = predicted_label(item, output), gold_label(item)
        hit = predicted == gold
        stats[row] = (hit, not hit and predicted in labels, not hit)
    return CorpusStatistics(stats, lambda s: f1_from_counts(*s))
