"""What changed between two suite versions: items added, removed, and changed field by field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evalkit.suite.store import SuiteVersion


@dataclass(frozen=True)
class FieldChange:
    path: str  # dotted path: "answer", "choices[2]", "provenance.reviewer", "tasks.mcq.prompt"
    old: Any
    new: Any


@dataclass(frozen=True)
class ItemChange:
    id: str
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True)
class SuiteDiff:
    old_ref: str
    new_ref: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[ItemChange, ...]
    spec_changes: tuple[FieldChange, ...]

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.spec_changes)


_MISSING = object()


def field_changes(old: Any, new: Any, path: str = "") -> list[FieldChange]:
    """Leaf-level differences between two JSON-like values."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in [*old, *(k for k in new if k not in old)]:
            sub = f"{path}.{key}" if path else str(key)
            out += field_changes(old.get(key, _MISSING), new.get(key, _MISSING), sub)
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        out = []
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            out += field_changes(a, b, f"{path}[{i}]")
        return out
    if old == new:
        return []
    return [
        FieldChange(path or "-", None if old is _MISSING else old, None if new is _MISSING else new)
    ]


def diff_versions(old: SuiteVersion, new: SuiteVersion) -> SuiteDiff:
    """Compare two loaded versions (usually of the same suite)."""
    old_items, new_items = old.by_id, new.by_id
    changed = []
    for item_id in new_items.keys() & old_items.keys():
        changes = field_changes(
            old_items[item_id].model_dump(mode="json"), new_items[item_id].model_dump(mode="json")
        )
        if changes:
            changed.append(ItemChange(item_id, tuple(changes)))
    return SuiteDiff(
        old_ref=old.ref,
        new_ref=new.ref,
        added=tuple(i for i in new_items if i not in old_items),
        removed=tuple(i for i in old_items if i not in new_items),
        changed=tuple(sorted(changed, key=lambda c: c.id)),
        spec_changes=tuple(
            field_changes(old.spec.model_dump(mode="json"), new.spec.model_dump(mode="json"))
        ),
    )
