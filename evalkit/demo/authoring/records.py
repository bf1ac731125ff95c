"""Item records as the generators write them: plain dicts in evalkit's item format."""

from __future__ import annotations

from typing import Any

from evalkit.suite.items import ITEM_ADAPTER, Item

Record = dict[str, Any]  # one item (or dialogue) as it is written, in key order
AUTHOR = "evalkit-demo"
PROVENANCE = {"author": AUTHOR, "reviewer": "evalkit-demo-review", "source": "generated"}
LETTERS = "ABCD"  # mcq answer letters, one per choice


def base_record(item_id: str, task: str, language: str, split: str, tags: list[str]) -> Record:
    """The fields every demo item starts with."""
    return {
        "id": item_id,
        "task": task,
        "language": language,
        "split": split,
        "tags": tags,
        "provenance": PROVENANCE,
    }


def as_items(records: list[Record]) -> list[Item]:
    """The records validated as evalkit items."""
    return [ITEM_ADAPTER.validate_python(r) for r in records]
