"""What the parser reads from an output: an answer, or the reason there is none."""

from __future__ import annotations

from dataclasses import dataclass

EMPTY_OUTPUT = "empty output"
NO_ANSWER = "no answer found"
SEVERAL_ANSWERS = "several answers"
HEDGE = "hedge"
NEGATED = "negated"

NO_ANSWER_REASONS: tuple[str, ...] = (EMPTY_OUTPUT, NO_ANSWER, SEVERAL_ANSWERS, HEDGE, NEGATED)


@dataclass(frozen=True)
class ParsedAnswer:
    """A letter ("A".."Z") or a label as spelled in the item's label list; or, when `value`
    is None, one of `NO_ANSWER_REASONS` saying why no answer was read."""

    value: str | None
    reason: str | None

    def __post_init__(self) -> None:
        if (self.value is None) == (self.reason is None):
            raise ValueError("a parsed answer has either a value or a reason, not both")
        if self.reason is not None and self.reason not in NO_ANSWER_REASONS:
            raise ValueError(f"unknown reason {self.reason!r} (reasons: {NO_ANSWER_REASONS})")

    @property
    def readable(self) -> bool:
        """Whether an answer was read (it may still be the wrong one)."""
        return self.value is not None


def answer(value: str) -> ParsedAnswer:
    """An answer was read."""
    return ParsedAnswer(value, None)


def unreadable(reason: str) -> ParsedAnswer:
    """No answer was read, for `reason` (one of `NO_ANSWER_REASONS`)."""
    return ParsedAnswer(None, reason)
