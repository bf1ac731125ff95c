"""Turning raw records (parsed JSON, table rows) into items, with every problem located."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from evalkit.errors import Problem
from evalkit.files import TYPE_ERRORS, describe_error, kind_of
from evalkit.suite.items import (
    FORMAT_KINDS,
    ITEM_ADAPTER,
    SKIP_ENCODABLE_CHECK,
    TASK_TYPES,
    UNENCODABLE,
    ItemBase,
)


def _field_path(loc: tuple[int | str, ...]) -> str:
    """Dotted path for a pydantic error location, without the union tags it inserts."""
    parts = list(loc)
    if parts and parts[0] in TASK_TYPES:
        parts = parts[1:]
    out: list[str] = []
    for i, part in enumerate(parts):
        if i > 0 and parts[i - 1] == "format" and part in FORMAT_KINDS:
            continue  # the format spec's discriminator tag
        if isinstance(part, int):
            out.append(f"[{part}]")
        else:
            out.append(("." if out else "") + part)
    return "".join(out) or "-"


_PATTERN_HINTS = {
    "id": "must start with a letter or digit and use only letters, digits and . _ : - "
    "(at most 128 characters)",
    "language": "must be a language code such as 'en', 'zh' or 'zh-Hant'",
    "answer_language": "must be a language code such as 'en', 'zh' or 'zh-Hant'",
}


def _did_you_mean(value: object, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(str(value), known, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def problems_from_validation_error(
    error: ValidationError, where: str | Callable[[tuple[int | str, ...]], str]
) -> list[Problem]:
    """One Problem per pydantic error, phrased for a person who wrote the file.

    `where` is the location, or a function from an error's field location to one (so that a
    YAML file can point at the line of the offending key).
    """
    problems = []
    for err in error.errors(include_url=False):
        kind, loc, msg = err["type"], err["loc"], err["msg"]
        field = _field_path(loc)
        if kind == "union_tag_invalid":
            tag = err["ctx"]["tag"]
            if "format" in loc:
                field = f"{field}.kind" if field != "-" else "format.kind"
                reason = (
                    f"unknown format kind {tag!r}; expected one of {', '.join(FORMAT_KINDS)}"
                    + _did_you_mean(tag, FORMAT_KINDS)
                )
            else:
                field = "task"
                reason = (
                    f"unknown task type {tag!r}; expected one of {', '.join(TASK_TYPES)}"
                    + _did_you_mean(tag, TASK_TYPES)
                )
        elif kind == "union_tag_not_found":
            field = "format.kind" if "format" in loc else "task"
            reason = "missing"
        elif kind == UNENCODABLE:
            field, reason = err["ctx"]["field"], err["ctx"]["reason"]
        elif kind == "string_unicode":
            reason = "cannot be written as UTF-8 (a lone surrogate)"
        elif kind == "missing":
            reason = "missing"
        elif kind == "extra_forbidden":
            reason = "unknown field"
        elif kind == "value_error":
            reason = msg.removeprefix("Value error, ")
        elif kind == "string_pattern_mismatch" and field in _PATTERN_HINTS:
            reason = f"{_PATTERN_HINTS[field]}, got {err['input']!r}"
        elif kind in ("model_type", "model_attributes_type", "dict_type") and not loc:
            reason = f"expected a JSON object, got {kind_of(err['input'])}"
        elif kind in TYPE_ERRORS:  # "expected text, got a number"
            reason = describe_error(err)
        else:
            reason = msg[0].lower() + msg[1:] if msg else kind
        problems.append(Problem(where if isinstance(where, str) else where(loc), field, reason))
    return problems


@dataclass(frozen=True)
class LocatedItem:
    """An item and where it was read from, for messages that point at the line."""

    item: ItemBase
    where: str


def parse_item(
    record: Any, where: str, utf8_clean: bool = False
) -> tuple[ItemBase | None, list[Problem]]:
    """Validate one raw record as an item; return the item or the problems, never raise.

    `utf8_clean`: the record was parsed from UTF-8 text holding no surrogate escape, so it
    cannot hold a lone surrogate and the item's (costly) text walk is skipped.
    """
    context = {SKIP_ENCODABLE_CHECK: True} if utf8_clean else None
    try:
        return ITEM_ADAPTER.validate_python(record, context=context), []
    except ValidationError as e:
        return None, problems_from_validation_error(e, where)
