"""Decontamination before shipping: training records that share a test item's own text are
dropped, by the same rule `evalkit contamination` checks."""

from __future__ import annotations

from evalkit.contamination import (
    DEFAULT_BOILERPLATE,
    DEFAULT_N,
    ngram_set,
    ngram_tokens,
    record_text,
    template_grams,
)
from evalkit.demo.authoring.records import Record, as_items


def decontaminate(
    training: list[Record], suite_records: list[Record], n: int = DEFAULT_N
) -> list[Record]:
    """Training records that share no n-gram of a test item's own text (the suite's template
    wording aside) and contain no test item shorter than n tokens; order kept."""
    tests = [i for i in as_items(suite_records) if i.split == "test"]
    grams = [ngram_set(ngram_tokens(i.input_text()), n) for i in tests]
    own = set().union(*grams) - template_grams(grams, DEFAULT_BOILERPLATE)
    short = [
        " ".join(ngram_tokens(i.input_text()))
        for i in tests
        if len(ngram_tokens(i.input_text())) < n
    ]
    kept = []
    for record in training:
        tokens = ngram_tokens(record_text(record))
        stream = " " + " ".join(tokens) + " "
        if ngram_set(tokens, n) & own or any(f" {s} " in stream for s in short):
            continue
        kept.append(record)
    return kept
