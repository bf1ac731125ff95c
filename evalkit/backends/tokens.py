"""Token-level details shared by engines: stop sequences and the context/continuation boundary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def truncate_at_stop(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    """Cut `text` at the earliest stop sequence (excluded), as vLLM does; report whether it cut."""
    cut = min((i for i in (text.find(s) for s in stops if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def continuation_split(
    tokenizer: Any, context_ids: list[int], continuation: str
) -> tuple[list[int], int]:
    """Token ids of context + continuation, and how many belong to the continuation.

    The continuation is tokenised on its own and appended, so its tokens are the same whatever
    the context; a leading space belongs to the continuation (" B" after "Answer:"), which is
    how a model sees an answer follow a prompt. Both engines use this, so their scores agree.
    """
    continuation_ids = tokenizer(continuation, add_special_tokens=False)["input_ids"]
    if not continuation_ids:
        raise ValueError(f"continuation {continuation!r} has no tokens")
    return list(context_ids) + list(continuation_ids), len(continuation_ids)
