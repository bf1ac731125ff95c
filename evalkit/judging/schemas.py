"""JSON schemas a judge's output is constrained to, where its engine can (vLLM's structured
outputs, an OpenAI-compatible server's response_format).

The schemas say what the prompts ask for: per criterion an object with a whole-number
`score` in the criterion's scale and a `reason`; for a pair, a `winner` of "A", "B" or "tie"
and a `reason`. The score or winner comes before its reason, and each reason is capped in
characters so that the whole object fits the judge's token budget even at one token per
character: a small judge that loops inside a string ("1.1.1.1...") would otherwise spend the
budget there and leave the later criteria unscored. The schema is passed as JSON text with
its property order kept (the order the judge writes in); it is part of every judgement's
cache key.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from evalkit.suite.rubric import Criterion

_OVERHEAD_TOKENS = 16  # braces, whitespace, the end of the output
_PER_ENTRY_TOKENS = 24  # '"accuracy": {"score": 4, "reason": "' and its closing
_REASON_CHARS = (40, 300)  # the cap on a reason, whatever the budget


def reason_chars(entries: int, max_new_tokens: int) -> int:
    """The longest reason that lets `entries` scored entries fit `max_new_tokens` tokens."""
    spare = max_new_tokens - _OVERHEAD_TOKENS - _PER_ENTRY_TOKENS * entries
    low, high = _REASON_CHARS
    return max(low, min(high, spare // max(entries, 1)))


def _text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, ensure_ascii=False, separators=(",", ":"))


def _closed(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _reason(chars: int) -> dict[str, Any]:
    return {"type": "string", "maxLength": chars}


def rubric_schema(criteria: Sequence[Criterion], max_new_tokens: int) -> str:
    """One entry per criterion: {"score": a whole number of its scale, "reason": text}."""
    reason = _reason(reason_chars(len(criteria), max_new_tokens))
    return _text(
        _closed(
            {
                c.name: _closed(
                    {
                        "score": {
                            "type": "integer",
                            "enum": list(range(c.scale[0], c.scale[1] + 1)),
                        },
                        "reason": reason,
                    }
                )
                for c in criteria
            }
        )
    )


def pairwise_schema(max_new_tokens: int) -> str:
    """{"winner": "A", "B" or "tie", "reason": text}."""
    winner = {"type": "string", "enum": ["A", "B", "tie"]}
    return _text(_closed({"winner": winner, "reason": _reason(reason_chars(1, max_new_tokens))}))
