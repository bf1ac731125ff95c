"""Strict format adherence: whether the whole output meets the item's format spec, and why not.

Separate from correctness on purpose: a model can know the answer and still not follow the
format, and that is worth knowing separately.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from evalkit.metrics.answers.choice import parse_choice
from evalkit.metrics.answers.label import parse_label
from evalkit.metrics.answers.structured import extract_json_object, loads_strict
from evalkit.suite.items import (
    ChoiceFormat,
    ClassificationItem,
    ItemBase,
    JsonSchemaFormat,
    MCQItem,
    RegexFormat,
)


@lru_cache(maxsize=1024)
def _validator(schema_json: str) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(schema_json))


def follows_format(item: ItemBase, output: str) -> bool | None:
    """Whether the whole output meets the item's format spec; None if it has none.

    A JSON schema spec needs the whole output to be strict JSON (no NaN or infinities).
    """
    spec = item.format
    answer = output.strip()
    if spec is None:
        return None
    if isinstance(spec, ChoiceFormat):
        if spec.case_sensitive:
            return answer in spec.choices
        return answer.casefold() in {c.casefold() for c in spec.choices}
    if isinstance(spec, RegexFormat):
        return re.fullmatch(spec.pattern, answer) is not None
    if isinstance(spec, JsonSchemaFormat):
        try:
            value = loads_strict(answer)
        except ValueError:
            return False
        return _validator(json.dumps(spec.json_schema, sort_keys=True)).is_valid(value)
    raise TypeError(f"unknown format spec {spec!r}")  # pragma: no cover


def _picks_a_choice(item: ItemBase, spec: ChoiceFormat, answer: str) -> bool:
    if isinstance(item, MCQItem):
        return parse_choice(answer, item.choices).readable
    if isinstance(item, ClassificationItem):
        return parse_label(answer, item.labels).readable
    return parse_label(answer, spec.choices).readable


def format_failure(item: ItemBase, output: str) -> str | None:
    """Why an output fails its item's format spec, in a few words; None if it does not fail."""
    if follows_format(item, output) in (None, True):
        return None
    spec, answer = item.format, output.strip()
    if not answer:
        return "empty output"
    if isinstance(spec, ChoiceFormat):
        picked = _picks_a_choice(item, spec, answer)
        return "a choice, with extra text" if picked else "not one of the choices"
    if isinstance(spec, RegexFormat):
        return "does not match the pattern"
    if extract_json_object(output) is None:
        return "no JSON object"
    try:
        loads_strict(answer)
    except ValueError:
        return "JSON with extra text around it"
    return "JSON that breaks the schema"
