"""JSON in model output: strict JSON only (NaN, Infinity and -Infinity are not JSON)."""

from __future__ import annotations

import json
import re
from typing import Any

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
_MAX_STARTS = 20  # opening braces tried per candidate text


class NonFiniteNumber(ValueError):
    """A NaN or infinity constant, which Python's json accepts and JSON does not."""


def _reject_constant(name: str) -> Any:
    raise NonFiniteNumber(f"{name} is not valid JSON")


_STRICT = json.JSONDecoder(parse_constant=_reject_constant)


def loads_strict(text: str) -> Any:
    """`json.loads` that rejects NaN and infinities (raises ValueError)."""
    return _STRICT.decode(text)


def _object_end(candidate: str, start: int) -> int | None:
    """Where the brace-balanced object opening at `start` ends (strings respected)."""
    depth, in_string, escaped = 0, False, False
    for i in range(start, len(candidate)):
        ch = candidate[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def extract_json_object(output: str) -> dict[str, Any] | None:
    """The first JSON object in an output (inside a code fence or not), or None.

    An object holding NaN or an infinity is not JSON: it is skipped with everything inside it.
    """
    candidates = [m.group(1) for m in _FENCE.finditer(output)] + [output]
    for candidate in candidates:
        start = candidate.find("{")
        for _ in range(_MAX_STARTS):
            if start < 0:
                break
            try:
                value, _end = _STRICT.raw_decode(candidate, start)
            except NonFiniteNumber:
                end = _object_end(candidate, start)
                start = candidate.find("{", end if end is not None else len(candidate))
                continue
            except ValueError:
                start = candidate.find("{", start + 1)
                continue
            except RecursionError:  # nested thousands deep (a looping model): not an answer
                return None
            if isinstance(value, dict):
                return value
            start = candidate.find("{", start + 1)
    return None
