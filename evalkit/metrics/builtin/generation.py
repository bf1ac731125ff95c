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
