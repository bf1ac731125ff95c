"""Extraction: values compared strictly by type; unreadable output earns nothing; JSON is JSON."""

from __future__ import annotations

from typing import Any

import pytest

from evalkit.metrics.answers import extract_json_object, follows_format, format_failure
from evalkit.metrics.builtin import (
    field_counts,
    field_outcomes,
    normalize_value,
    predicted_fields,
    values_match,
)
from evalkit.metrics.registry import get_metric
from evalkit.suite.items import ITEM_ADAPTER


def extraction(fields: dict[str, Any], **extra: Any) -> Any:
    return ITEM_ADAPTER.validate_python(
        {
            "id": "x",
            "task": "extraction",
            "text": "t",
            "fields": fields,
            "language": "en",
            "provenance": {"author": "t"},
            **extra,
        }
    )


field_f1 = get_metric("field_f1").fn


@pytest.mark.parametrize(
    ("predicted", "gold", "match"),
    [
        (True, True, True),
        (1, True, False),  # a bool equals only a bool
        (True, 1, False),
        (0, False, False),
        (False, 0, False),
        ("true", True, False),
        (3, 3.0, True),  # numbers by value
        (3.0, 3, True),
        (2.5, 2, False),
        ("1,200,000", 1200000, True),  # a numeric string matches a number of its value
        (1200000, "1,200,000", True),
        ("３", 3, True),  # after NFKC
        ("-2.50", -2.5, True),
        ("1,200,000", "1200000", False),  # two strings compare as text
        ("3", "3.0", False),
        ("1.2 million", 1200000, False),
        ("ACME  Ltd", "Acme Ltd", True),  # text after NFKC, case-folding, whitespace
        ("Ａｃｍｅ Ltd", "acme ltd", True),
        ("Acme", "Acme Ltd", False),
        (["a", "B"], ["A", "b"], True),  # lists element by element, in order
        (["b", "a"], ["a", "b"], False),
        ([1, True], [1, 1], False),
        ([1, 2], [1, 2, 3], False),
        ({"amount": "3", "unit": "Days"}, {"amount": 3, "unit": "days"}, True),
        ({"amount": 3}, {"amount": 3, "unit": "days"}, False),
        (None, None, True),
        (None, "x", False),
    ],
)
def test_values_match_strictly_by_type(predicted: Any, gold: Any, match: bool) -> None:
    assert values_match(predicted, gold) is match


def test_normalize_value_is_tagged_by_type() -> None:
    assert normalize_value(True) != normalize_value(1)
    assert normalize_value(3) == normalize_value(3.0)
    assert normalize_value(" ACME  Ltd ") == ("text", "acme ltd", None)


def test_bool_fields_are_not_numbers() -> None:
    item = extraction({"signed": True, "renewals": 1})
    assert field_f1(item, '{"signed": true, "renewals": 1}') == 1.0
    assert field_f1(item, '{"signed": 1, "renewals": true}') == 0.0


def test_all_null_gold_needs_a_readable_json_object() -> None:
    item = extraction({"currency": None, "deadline": None})
    assert field_f1(item, "{}") == 1.0
    assert field_f1(item, '{"currency": null}') == 1.0
    assert field_f1(item, 'Here: {"currency": null, "deadline": null}') == 1.0
    assert field_f1(item, '{"currency": "USD"}') == 0.0
    assert field_f1(item, "There is no currency or deadline in the text.") == 0.0
    assert field_f1(item, "") == 0.0


def test_unreadable_output_earns_nothing_for_any_item() -> None:
    item = extraction({"party": "Acme", "currency": None})
    assert predicted_fields("not json") is None
    assert field_outcomes(item, None) == {"party": (0, 0, 1), "currency": (0, 0, 1)}
    assert field_counts(item, None) == (0, 0, 2)
    assert field_f1(item, "party: Acme") == 0.0
    micro = get_metric("field_f1_micro").fn([item, item], ['{"party": "acme"}', "Acme"])
    assert micro.value == pytest.approx(2 * 1 / (2 * 1 + 0 + 2))


@pytest.mark.parametrize(
    "output",
    [
        '{"amount": NaN}',
        '{"amount": Infinity}',
        '{"amount": -Infinity, "party": {"name": "Acme"}}',  # nor the object inside it
        '```json\n{"amount": NaN}\n```',
    ],
)
def test_nan_and_infinity_are_not_json(output: str) -> None:
    assert extract_json_object(output) is None
    item = extraction(
        {"amount": 1},
        format={"kind": "json_schema", "json_schema": {"type": "object"}},
    )
    assert follows_format(item, output) is False
    assert field_f1(item, output) == 0.0


def test_a_valid_object_after_an_invalid_one_is_found() -> None:
    assert extract_json_object('{"a": NaN} then {"b": 2}') == {"b": 2}
    assert extract_json_object('{"a": "{NaN}", "b": 1}') == {"a": "{NaN}", "b": 1}
    assert extract_json_object('[{"a": 1}]') == {"a": 1}


def test_format_failure_for_json() -> None:
    schema = {"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}}
    item = extraction({"a": 1}, format={"kind": "json_schema", "json_schema": schema})
    assert format_failure(item, '{"a": 1}') is None
    assert format_failure(item, '{"a": NaN}') == "no JSON object"
    assert format_failure(item, 'Sure: {"a": 1}') == "JSON with extra text around it"
    assert format_failure(item, '{"a": "x"}') == "JSON that breaks the schema"
    assert format_failure(item, "   ") == "empty output"


def test_json_nested_thousands_deep_is_no_answer() -> None:
    from evalkit.metrics.answers import extract_json_object

    assert extract_json_object('{"a": ' * 5000) is None  # a looping model, not a crash
