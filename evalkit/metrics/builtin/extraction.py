"""Extraction (slot filling): predicted JSON fields against gold fields, strictly by type.

Values match (`values_match`) when:
- both are booleans and equal: a bool never equals a number (True != 1, False != 0);
- both are numbers (int or float, not bool) of equal value (3 == 3.0);
- one is a number and the other a numeric string of the same value: digits with an optional
  sign, thousands commas and decimals, after NFKC ("1,200,000" == 1200000, "３" == 3), since
  models often quote numbers. Two strings compare as text ("3" != "3.0");
- both are strings equal after NFKC, case-folding and whitespace collapsing;
- both are lists of the same length matching element by element, or objects with the same
  keys matching value by value.

A gold null means "not in the text": predicting null or leaving the field out is right and
not counted. An output without a readable JSON object earns nothing: every gold field,
null ones included, counts as missed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from evalkit.metrics.answers import extract_json_object
from evalkit.metrics.builtin.counts import f1_from_counts
from evalkit.metrics.registry import CorpusStatistics, metric
from evalkit.suite.items import ExtractionItem, ItemBase
from evalkit.textnorm import normalize_text

_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")


def _number(text: str) -> int | float | None:
    if not _NUMBER.fullmatch(text):
        return None
    plain = text.replace(",", "")
    return float(plain) if "." in plain else int(plain)


def normalize_value(value: Any) -> Any:
    """A value's comparable form, tagged by type: ("bool", b), ("number", n),
    ("text", normalised text, numeric value or None), ("list", ...), ("object", ...);
    None stays None. Compare two values with `values_match`."""
    if value is None:
        return None
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        return ("number", value)
    if isinstance(value, str):
        text = normalize_text(value)
        return ("text", text, _number(text))
    if isinstance(value, list):
        return ("list", tuple(normalize_value(v) for v in value))
    if isinstance(value, dict):
        return ("object", tuple(sorted((str(k), normalize_value(v)) for k, v in value.items())))
    return ("other", value)


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    kinds = {a[0], b[0]}
    if kinds == {"text", "number"}:
        text, number = (a, b) if a[0] == "text" else (b, a)
        return text[2] is not None and text[2] == number[1]
    if a[0] != b[0]:
        return False
    if a[0] == "text":
        return bool(a[1] == b[1])
    if a[0] in ("list", "object"):
        if len(a[1]) != len(b[1]):
            return False
        if a[0] == "object" and [k for k, _ in a[1]] != [k for k, _ in b[1]]:
            return False
        pairs = zip(a[1], b[1], strict=True)
        if a[0] == "object":
            return all(_same(x[1], y[1]) for x, y in pairs)
        return all(_same(x, y) for x, y in pairs)
    return bool(a[1] == b[1])


def values_match(predicted: Any, gold: Any) -> bool:
    """Whether a predicted value matches a gold one (rules in the module docstring)."""
    return _same(normalize_value(predicted), normalize_value(gold))


def predicted_fields(output: str) -> dict[str, Any] | None:
    """The JSON object in an extraction output; None when there is none (nothing is earned)."""
    return extract_json_object(output)


def field_outcomes(
    item: ExtractionItem, predicted: Mapping[str, Any] | None
) -> dict[str, tuple[int, int, int]]:
    """(true positive, false positive, false negative) per gold field of the item.

    A gold null predicted as null (or left out) is right and not counted; a value predicted
    for it is a false positive. Without a JSON object (`predicted` None) every field, null
    ones included, is a false negative.
    """
    if predicted is None:
        return {name: (0, 0, 1) for name in item.fields}
    outcomes = {}
    for name, gold in item.fields.items():
        guess = predicted.get(name)
        hit = gold is not None and guess is not None and values_match(guess, gold)
        outcomes[name] = (
            int(hit),
            int(guess is not None and not hit),
            int(gold is not None and not hit),
        )
    return outcomes


def field_counts(item: ExtractionItem, predicted: Mapping[str, Any] | None) -> tuple[int, int, int]:
    """Summed field outcomes; a predicted field the item lacks counts as a false positive."""
    tp = fp = fn = 0
    for t, f, n in field_outcomes(item, predicted).values():
        tp, fp, fn = tp + t, fp + f, fn + n
    if predicted is not None:
        fp += sum(1 for name, v in predicted.items() if name not in item.fields and v is not None)
    return tp, fp, fn


@metric("field_f1", tasks=("extraction",))
def field_f1(item: ItemBase, output: str) -> float:
    """F1 of this item's extracted fields against the gold fields (values compared by type)."""
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
