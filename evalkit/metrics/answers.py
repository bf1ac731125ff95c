"""Reading an answer out of free model output: lenient for correctness, strict for format.

Correctness uses lenient extraction ("B", "(B)", "Answer: B", "答案：B", or the full text of
choice B all count as B); format adherence uses the item's strict format spec. They are
reported as separate numbers on purpose: a model can know the answer and still not follow
the format, and that is worth knowing separately.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from evalkit.suite.items import ChoiceFormat, ItemBase, JsonSchemaFormat, RegexFormat
from evalkit.textnorm import normalize_text

_ANSWER_CUE = re.compile(
    r"(?:answer|option|choice|答案|选项|选择|正确答案)\s*(?:is|是|为|應為|应为)?\s*[:：]?\s*"
    r"[\(（\[]?\s*([a-z])\b",
)
_BRACKETED = re.compile(r"[\(（\[]\s*([a-z])\s*[\)）\]]")
# A bare leading letter counts only when punctuation or the end follows ("B." "B)" "B"),
# so that the article in "A counter-offer..." is not read as choice A.
_LEADING = re.compile(r"^\s*([a-z])\s*(?:[\.\)．、:：]|$)")


def extract_choice(output: str, choices: list[str]) -> str | None:
    """The letter an output picks among `choices` (A, B, ...), or None if it picks none."""
    letters = "abcdefghijklmnopqrstuvwxyz"[: len(choices)]
    text = normalize_text(output)
    for pattern in (_ANSWER_CUE, _LEADING, _BRACKETED):
        match = pattern.search(text)
        if match and match.group(1) in letters:
            return match.group(1).upper()
    normalized = [normalize_text(c) for c in choices]
    if text in normalized:  # the whole answer is one choice's text
        return letters[normalized.index(text)].upper()
    found = [(text.find(c), -len(c), i) for i, c in enumerate(normalized) if c and c in text]
    return letters[min(found)[2]].upper() if found else None


def extract_label(output: str, labels: list[str]) -> str | None:
    """The label an output names: an exact match first, else the earliest label mentioned."""
    text = normalize_text(output).strip(" .。!！\"'`")
    by_norm = {normalize_text(label): label for label in labels}
    if text in by_norm:
        return by_norm[text]
    found = []
    for norm, label in by_norm.items():
        # Latin labels must stand as whole words ("law" must not match "governing_law").
        pattern = re.escape(norm) if not norm.isascii() else rf"(?<![\w]){re.escape(norm)}(?![\w])"
        match = re.search(pattern, text)
        if match:
            found.append((match.start(), -len(norm), label))
    return min(found)[2] if found else None


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def extract_json_object(output: str) -> dict[str, Any] | None:
    """The first JSON object in an output (inside a code fence or not), or None."""
    candidates = [m.group(1) for m in _FENCE.finditer(output)] + [output]
    decoder = json.JSONDecoder()
    for candidate in candidates:
        for start in [i for i, ch in enumerate(candidate) if ch == "{"][:20]:
            try:
                value, _ = decoder.raw_decode(candidate[start:])
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    return None


@lru_cache(maxsize=1024)
def _validator(schema_json: str) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(schema_json))


def follows_format(item: ItemBase, output: str) -> bool | None:
    """Whether the whole output meets the item's format spec; None if it has none."""
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
            value = json.loads(answer)
        except json.JSONDecodeError:
            return False
        return _validator(json.dumps(spec.json_schema, sort_keys=True)).is_valid(value)
    raise TypeError(f"unknown format spec {spec!r}")  # pragma: no cover


def format_failure(item: ItemBase, output: str) -> str | None:
    """Why an output fails its item's format spec, in a few words; None if it does not fail."""
    if follows_format(item, output) in (None, True):
        return None
    spec, answer = item.format, output.strip()
    if not answer:
        return "empty output"
    if isinstance(spec, ChoiceFormat):
        picked = extract_label(answer, spec.choices) is not None
        return "a choice, with extra text" if picked else "not one of the choices"
    if isinstance(spec, RegexFormat):
        return "does not match the pattern"
    found = extract_json_object(output)
    if found is None:
        return "no JSON object"
    try:
        json.loads(answer)
    except json.JSONDecodeError:
        return "JSON with extra text around it"
    return "JSON that breaks the schema"
