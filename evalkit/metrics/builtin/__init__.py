"""The built-in metrics, one module per task family; importing this package registers them.

The names other modules use are re-exported here, so `evalkit.metrics.builtin` stays the one
place to import them from.
"""

from evalkit.metrics.builtin.choice import (
    accuracy,
    gold_label,
    macro_f1,
    micro_f1,
    parsed_answer,
    predicted_label,
)
from evalkit.metrics.builtin.counts import f1_from_counts
from evalkit.metrics.builtin.extraction import (
    field_counts,
    field_f1,
    field_f1_micro,
    field_outcomes,
    normalize_value,
    predicted_fields,
    values_match,
)
from evalkit.metrics.builtin.generation import (
    bleu,
    bleu_tokenizer,
    chrf,
    chrf_segment_statistics,
    sentence_bleu,
    sentence_chrf,
)
from evalkit.metrics.builtin.qa import exact_match, token_f1
from evalkit.metrics.builtin.surface import format_adherence, language_match

__all__ = [
    "accuracy",
    "bleu",
    "bleu_tokenizer",
    "chrf",
    "chrf_segment_statistics",
    "exact_match",
    "f1_from_counts",
    "field_counts",
    "field_f1",
    "field_f1_micro",
    "field_outcomes",
    "format_adherence",
    "gold_label",
    "language_match",
    "macro_f1",
    "micro_f1",
    "normalize_value",
    "parsed_answer",
    "predicted_fields",
    "predicted_label",
    "sentence_bleu",
    "sentence_chrf",
    "token_f1",
    "values_match",
]
