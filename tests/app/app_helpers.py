"""Shared test data for the app tests: a password, the users, an MCQ record, `act`'s type,
and the mark that runs a test on both database backends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

BACKENDS = ("sqlite", "postgres")
# On a test or a module: run it on SQLite and on PostgreSQL (ids `[sqlite]`, `[postgres]`);
# conftest.py's `backend` fixture receives the name.
both_backends = pytest.mark.parametrize("backend", BACKENDS, indirect=True)

PASSWORD = "correct horse"
# name, role, active: every test database has these accounts.
USERS: tuple[tuple[str, str, bool], ...] = (
    ("admin", "admin", True),
    ("rev", "reviewer", True),
    ("rev2", "reviewer", True),
    ("ann1", "annotator", True),
    ("ann2", "annotator", True),
    ("ann3", "annotator", True),
    ("gone", "admin", False),
)


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
