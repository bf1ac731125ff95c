"""Shared test data for the app tests: a password, an MCQ record, the `act` signature."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PASSWORD = "correct horse"


def mcq(question: str = "合同何时成立？", answer: str = "A", **extra: Any) -> dict[str, Any]:
    return {
        "task": "mcq",
        "language": "zh",
        "question": question,
        "choices": ["承诺生效时", "要约发出时"],
        "answer": answer,
        **extra,
    }


Run = Callable[..., Any]  # act(username, service, *args)
