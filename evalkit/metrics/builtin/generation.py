"""Generation and dialogue: BLEU and chrF, computed by sacrebleu (corpus and per sentence)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from evalkit.metrics.registry import CorpusStatistics, metric
from evalkit.suite.items import ItemBase


def bleu_tokenizer(items: Sequence[ItemBase], tokenize: str | None = None) -> str:
    """`tokenize` if given, else sacrebleu's `zh` when the targets are Chinese, `13a` otherwise."""
    if tokenize is not None:
        return tokenize
    zh = sum(item.expected_language.startswith("zh") for item in items)
    return "zh" if zh * 2 > len(items) else "13a"


def _scorer(key: tuple[str, ...]) -> Any:
    """The sacrebleu scorer a key names: ("bleu", tokenize, "corpus"|"sentence") or ("chrf",)."""
    if key[0] == "chrf":
        return _chrf_scorer()
    return _bleu_scorer(key[1], sentence=key[2] == "sentence")


@lru_cache(maxsize=1 << 16)
def _reference_info(key: tuple[str, ...], references: tuple[str, ...]) -> Any:
    """sacrebleu's n-grams of one segment's references, extracted once per scorer: a run scores
    the same references for every model (sacrebleu itself redoes them on every call)."""
    scorer = _scorer(key)
    return scorer._extract_reference_info([scorer._preprocess_segment(r) for r in references])


def segment_statistics(
    key: tuple[str, ...], hypothesis: str, references: tuple[str, ...]
) -> list[int]:
    """sacrebleu's statistics of one segment, by the methods its corpus_score uses."""
    scorer = _scorer(key)
    info = _reference_info(key, references)
    return scorer._compute_segment_statistics(scorer._preprocess_segment(hypothesis), info)


def _signature(scorer: Any, items: Sequence[ItemBase]) -> str:
    """sacrebleu's signature, with the number of references as its corpus_score would set it."""
    widths = {len(item.reference_texts()) for item in items}
    scorer.num_refs = widths.pop() if len(widths) == 1 else -1
    return scorer.get_signature().format()


def _sacrebleu_statistics(
    key: tuple[str, ...], items: Sequence[ItemBase], outputs: Sequence[str]
) -> CorpusStatistics:
    # sacrebleu's own paired bootstrap works from these per-sentence statistics too.
    scorer = _scorer(key)
    stats = np.array(
        [
            segment_statistics(key, o, tuple(i.reference_texts()))
            for i, o in zip(items, outputs, strict=True)
        ],
        dtype=float,
    )
    return CorpusStatistics(
        stats,
        lambda s: float(scorer._compute_score_from_stats(list(s)).score),
        _signature(scorer, items),
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
    key = ("bleu", bleu_tokenizer(items, tokenize), "corpus")
    return _sacrebleu_statistics(key, items, outputs)


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
    return tuple(segment_statistics(("chrf",), output, references))


def _chrf_score(stats: Any) -> float:
    return float(_chrf_scorer()._compute_score_from_stats(list(stats)).score)


@metric("chrf", tasks=("generation", "dialogue"), kind="corpus")
def chrf(items: Sequence[ItemBase], outputs: Sequence[str]) -> CorpusStatistics:
    """Corpus chrF (sacrebleu) on a 0-100 scale."""
    stats = [
        chrf_segment_statistics(o, tuple(i.reference_texts()))
        for i, o in zip(items, outputs, strict=True)
    ]
    return CorpusStatistics(
        np.array(stats, dtype=float), _chrf_score, _signature(_chrf_scorer(), items)
    )


@metric("sentence_chrf", tasks=("generation", "dialogue"))
def sentence_chrf(item: ItemBase, output: str) -> float:
    """chrF of one output (0-1), for item drill-down."""
    return _chrf_score(chrf_segment_statistics(output, tuple(item.reference_texts()))) / 100
