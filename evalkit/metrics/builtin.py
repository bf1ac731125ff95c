"""The built-in metrics. Each is a small pure function registered by name."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from evalkit.metrics.answers import (
    extract_choice,
    extract_json_object,
    extract_label,
    follows_format,
)
from evalkit.metrics.registry import CorpusStatistics, metric
from evalkit.metrics.text import answer_tokens, is_cjk, normalize_answer
from evalkit.suite.items import ClassificationItem, ExtractionItem, ItemBase, MCQItem, QAItem
from evalkit.textnorm import normalize_text

# --- choice tasks --------------------------------------------------------------------------


def predicted_label(item: ItemBase, output: str) -> str | None:
    """The letter (mcq) or label (classification) an output picks, leniently."""
    if isinstance(item, MCQItem):
        return extract_choice(output, item.choices)
    if isinstance(item, ClassificationItem):
        return extract_label(output, item.labels)
    raise TypeError(f"{item.task} items have no choices")


def gold_label(item: ItemBase) -> str:
    return item.answer if isinstance(item, MCQItem) else item.label  # type: ignore[attr-defined]


@metric("accuracy", tasks=("mcq", "classification"))
def accuracy(item: ItemBase, output: str) -> float:
    """1 if the leniently extracted choice or label is the gold one."""
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


# --- question answering ---------------------------------------------------------------------


@metric("exact_match", tasks=("qa",))
def exact_match(item: ItemBase, output: str) -> float:
    """1 if the normalised output equals any normalised reference answer."""
    assert isinstance(item, QAItem)
    answer = normalize_answer(output)
    return float(any(answer == normalize_answer(ref) for ref in item.answers))


def token_f1_pair(prediction: str, reference: str) -> float:
    """SQuAD token F1; CJK text is compared character by character."""
    pred, ref = answer_tokens(prediction), answer_tokens(reference)
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


@metric("token_f1", tasks=("qa",))
def token_f1(item: ItemBase, output: str) -> float:
    """Token-level F1 against the best-matching reference answer."""
    assert isinstance(item, QAItem)
    return max(token_f1_pair(output, ref) for ref in item.answers)


# --- extraction ----------------------------------------------------------------------------

_NUMBER = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$|^[+-]?\d+(\.\d+)?$")


def normalize_value(value: Any) -> Any:
    """Compare values as a person would: numbers by value, text after NFKC/case/whitespace."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = normalize_text(value)
        if _NUMBER.match(text):
            return float(text.replace(",", ""))
        return text
    if isinstance(value, list):
        return [normalize_value(v) for v in value]
    if isinstance(value, dict):
        return {k: normalize_value(v) for k, v in value.items()}
    return value


def predicted_fields(output: str) -> dict[str, Any]:
    """The JSON object in an extraction output; empty when there is none (every gold missed)."""
    return extract_json_object(output) or {}


def field_outcomes(
    item: ExtractionItem, predicted: Mapping[str, Any]
) -> dict[str, tuple[int, int, int]]:
    """(true positive, false positive, false negative) per gold field of the item.

    A gold null means "not in the text": predicting null (or leaving it out) is right and not
    counted; predicting a value is a false positive.
    """
    outcomes = {}
    for name, gold in item.fields.items():
        guess = predicted.get(name)
        hit = (
            gold is not None
            and guess is not None
            and normalize_value(guess) == normalize_value(gold)
        )
        outcomes[name] = (
            int(hit),
            int(guess is not None and not hit),
            int(gold is not None and not hit),
        )
    return outcomes


def field_counts(item: ExtractionItem, predicted: Mapping[str, Any]) -> tuple[int, int, int]:
    """Summed field outcomes; a predicted field the item lacks counts as a false positive."""
    tp = fp = fn = 0
    for t, f, n in field_outcomes(item, predicted).values():
        tp, fp, fn = tp + t, fp + f, fn + n
    fp += sum(1 for name, v in predicted.items() if name not in item.fields and v is not None)
    return tp, fp, fn


def f1_from_counts(tp: int, fp: int, fn: int) -> float:
    if tp == 0:
        return 1.0 if fp == fn == 0 else 0.0
    return 2 * tp / (2 * tp + fp + fn)


@metric("field_f1", tasks=("extraction",))
def field_f1(item: ItemBase, output: str) -> float:
    """F1 of this item's extracted fields against the gold fields (values normalised)."""
    assert isinstance(item, ExtractionItem)
    return f1_from_counts(*field_counts(item, predicted_fields(output)))


@metric("field_f1_micro", tasks=("extraction",), kind="corpus")
def field_f1_micro(items: Sequence[ItemBase], outputs: Sequence[str]) -> CorpusStatistics:
    """Micro F1 over all gold fields of all items."""
    counts = [
        field_counts(i, predicted_fields(o))  # type: ignore[arg-type]
        for i, o in zip(items, outputs, strict=True)
    ]
    return CorpusStatistics(np.array(counts, dtype=float), lambda s: f1_from_counts(*s))


# --- generation ----------------------------------------------------------------------------


def bleu_tokenizer(items: Sequence[ItemBase], tokenize: str | None = None) -> str:
    """`tokenize` if given, else sacrebleu's `zh` when the targets are Chinese, `13a` otherwise."""
    if tokenize is not None:
        return tokenize
    zh = sum(item.expected_language.startswith("zh") for item in items)
    return "zh" if zh * 2 > len(items) else "13a"


def _references(items: Sequence[ItemBase]) -> list[list[str]]:
    """sacrebleu's layout: one list per reference slot, padded with None where an item has fewer."""
    refs = [item.reference_texts() for item in items]
    width = max(len(r) for r in refs)
    return [[r[k] if k < len(r) else None for r in refs] for k in range(width)]  # type: ignore[misc]


def _sacrebleu_statistics(
    scorer: Any, items: Sequence[ItemBase], outputs: Sequence[str]
) -> CorpusStatistics:
    # sacrebleu's own paired bootstrap works from these per-sentence statistics too.
    stats = np.array(
        scorer._extract_corpus_statistics(list(outputs), _references(items)), dtype=float
    )
    return CorpusStatistics(
        stats,
        lambda s: float(scorer._compute_score_from_stats(list(s)).score),
        scorer.get_signature().format(),
    )


@lru_cache(maxsize=32)
def _bleu_scorer(tokenize: str, sentence: bool) -> Any:
    from sacrebleu.metrics import BLEU

    # effective_order: sentence BLEU without it is 0 whenever a 4-gram is missing.
    return BLEU(tokenize=tokenize, effective_order=sentence)


@metric("bleu", tasks=("generation", "dialogue"), kind="corpus")
def bleu(
    items: Sequence[ItemBase], outputs: Sequence[str], *, tokenize: str | None = None
) -> CorpusStatistics:
    """Corpus BLEU (sacrebleu) on a 0-100 scale; tokenizer zh for Chinese targets."""
    scorer = _bleu_scorer(bleu_tokenizer(items, tokenize), sentence=False)
    return _sacrebleu_statistics(scorer, items, outputs)


@metric("sentence_bleu", tasks=("generation", "dialogue"))
def sentence_bleu(item: ItemBase, output: str, *, tokenize: str | None = None) -> float:
    """BLEU of one output (0-1, sacrebleu with effective order), for item drill-down."""
    scorer = _bleu_scorer(bleu_tokenizer([item], tokenize), sentence=True)
    return float(scorer.sentence_score(output, item.reference_texts()).score) / 100


@lru_cache(maxsize=1)
def _chrf_scorer() -> Any:
    from sacrebleu.metrics import CHRF

    return CHRF()


@lru_cache(maxsize=1 << 18)
def chrf_segment_statistics(output: str, references: tuple[str, ...]) -> tuple[float, ...]:
    """sacrebleu's chrF statistics for one output; shared by the sentence and corpus scores,
    which would otherwise each compute them."""
    refs = [[r] for r in references]
    return tuple(_chrf_scorer()._extract_corpus_statistics([output], refs)[0])


def _chrf_score(stats: Any) -> float:
    return float(_chrf_scorer()._compute_score_from_stats(list(stats)).score)


@metric("chrf", tasks=("generation", "dialogue"), kind="corpus")
def chrf(items: Sequence[ItemBase], outputs: Sequence[str]) -> CorpusStatistics:
    """Corpus chrF (sacrebleu) on a 0-100 scale."""
    stats = [
        chrf_segment_statistics(o, tuple(i.reference_texts()))
        for i, o in zip(items, outputs, strict=True)
    ]
    width = max(len(i.reference_texts()) for i in items)
    signature = _chrf_scorer().get_signature().format().replace("nrefs:1", f"nrefs:{width}")
    return CorpusStatistics(np.array(stats, dtype=float), _chrf_score, signature)


@metric("sentence_chrf", tasks=("generation", "dialogue"))
def sentence_chrf(item: ItemBase, output: str) -> float:
    """chrF of one output (0-1), for item drill-down."""
    return _chrf_score(chrf_segment_statistics(output, tuple(item.reference_texts()))) / 100


# --- format --------------------------------------------------------------------------------


@metric("language_match", tasks=("qa", "generation", "dialogue"))
def language_match(item: ItemBase, output: str) -> float | None:
    """1 if a free-text answer is written in the language asked (Chinese vs Latin script)."""
    letters = [ch for ch in output if ch.isalpha()]
    if not letters:
        return None  # nothing to judge: a number, or an empty answer
    cjk = sum(1 for ch in letters if is_cjk(ch)) / len(letters)
    expected = item.expected_language
    if expected.startswith(("zh", "ja", "ko")):
        return float(cjk >= 0.5)
    if expected in ("en", "fr", "de", "es", "it", "pt", "nl"):
        return float(cjk < 0.2)
    return None  # a script check says nothing reliable about other languages


@metric(
    "format_adherence",
    tasks=("mcq", "classification", "extraction", "qa", "generation", "dialogue"),
)
def format_adherence(item: ItemBase, output: str) -> float | None:
    """1 if the whole output meets the item's strict format spec; None without a spec."""
    ok = follows_format(item, output)
    return None if ok is None else float(ok)
