from __future__ import annotations

from pathlib import Path

from drafts import ITEMS, SPEC, write_draft
from evalkit.suite.diff import FieldChange, diff_versions
from evalkit.suite.draft import read_draft
from evalkit.suite.store import SuiteStore


def test_diff_lists_added_removed_and_changed_fields(tmp_path: Path) -> None:
    store = SuiteStore(tmp_path / "suites")
    draft, _ = read_draft(write_draft(tmp_path / "a"))
    v1 = store.publish(draft, author="a", changelog="one")  # type: ignore[arg-type]
    new_items = [
        {**ITEMS[0], "answer": "A", "tags": ["offer"]},
        ITEMS[1],
        {
            "id": "e2",
            "task": "extraction",
            "language": "en",
            "provenance": {"author": "b"},
            "text": "Lessor: Oak Estates; Lessee: Pine Cafe.",
            "fields": {"lessor": "Oak Estates"},
        },
    ]
    spec = {**SPEC, "guidelines": "# Guidelines\nOne correct answer per item. Cite the statute."}
    draft2, _ = read_draft(write_draft(tmp_path / "b", spec, new_items))
    v2 = store.publish(draft2, author="a", changelog="two")  # type: ignore[arg-type]
    diff = diff_versions(v1, v2)
    assert diff.added == ("e2",) and diff.removed == ("e1",)
    assert [c.id for c in diff.changed] == ["m1"]
    assert sorted(diff.changed[0].changes, key=lambda c: c.path) == [
        FieldChange("answer", "B", "A"),
        FieldChange("tags", [], ["offer"]),
    ]
    assert [c.path for c in diff.spec_changes] == ["guidelines"]
    assert diff_versions(v2, v2).is_empty
