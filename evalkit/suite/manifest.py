"""The manifest of a published version, and the content hash that makes it tamper-evident."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from evalkit.suite.items import ItemBase
from evalkit.suite.spec import SuiteSpec

MANIFEST_FILE = "manifest.json"


def canonical_bytes(spec: SuiteSpec, items: Iterable[ItemBase]) -> bytes:
    """A serialisation that depends only on content: items sorted by id, keys sorted, every
    field present (so an omitted default and an explicit one hash the same)."""
    items = list(items)
    try:
        # Python-mode dumps are 4x faster and equal JSON-mode ones for JSON values...
        return _canonical(spec, [_hashed_record(item, "python") for item in items], False)
    except ValueError:  # ...and NaN or infinity in a record takes the way it always took
        return _canonical(spec, [_hashed_record(item, "json") for item in items], True)


def _canonical(spec: SuiteSpec, records: list[dict[str, Any]], allow_nan: bool) -> bytes:
    payload = {"suite": spec.model_dump(mode="json"), "items": sorted(records, key=_by_id)}
    return json.dumps(
        payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=allow_nan
    ).encode()


def _by_id(record: dict[str, Any]) -> str:
    return record["id"]


# Item fields added after suites were first published: left out of the hash while unset, so
# that versions published before them keep their content hash.
_ADDED_LATER = ("group",)


def _hashed_record(item: ItemBase, mode: Literal["python", "json"]) -> dict[str, Any]:
    record = item.model_dump(mode=mode)
    for name in _ADDED_LATER:
        if record.get(name) is None:
            record.pop(name, None)
    return record


def content_hash(spec: SuiteSpec, items: Iterable[ItemBase]) -> str:
    """`sha256:<hex>` over the canonical serialisation of a suite's spec and items."""
    return "sha256:" + hashlib.sha256(canonical_bytes(spec, items)).hexdigest()


def item_counts(items: Iterable[ItemBase]) -> dict[str, dict[str, int]]:
    """Items per task and split, e.g. {"mcq": {"dev": 4, "test": 20}}."""
    counts: dict[str, Counter[str]] = {}
    for item in items:
        counts.setdefault(item.task, Counter())[item.split] += 1  # type: ignore[attr-defined]
    return {task: dict(sorted(c.items())) for task, c in sorted(counts.items())}


def language_counts(items: Iterable[ItemBase]) -> dict[str, int]:
    return dict(sorted(Counter(item.language for item in items).items()))


class Manifest(BaseModel):
    """What a published version is: identity, lineage, counts and the content hash."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    manifest_format: Literal[1] = Field(default=1, description="Version of this file's layout.")
    name: str = Field(description="Suite name.")
    version: str = Field(description="This version: v1, v2, ...")
    parent: str | None = Field(description="The version this one was made from, if any.")
    created_at: datetime = Field(description="When it was published (UTC).")
    author: str = Field(min_length=1, description="Who published it.")
    changelog: str = Field(min_length=1, description="What changed and why.")
    item_counts: dict[str, dict[str, int]] = Field(description="Items per task and split.")
    languages: dict[str, int] = Field(description="Items per language.")
    content_hash: str = Field(pattern=r"^sha256:[0-9a-f]{64}$", description="Over spec + items.")
    suite: SuiteSpec = Field(description="The suite spec frozen with this version.")

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"
