"""Publishing approved items through evalkit's store; the result passes `evalkit suite validate`."""

from __future__ import annotations

import json

import pytest
from app_helpers import Run, mcq
from click.testing import CliRunner

from annotation_app.errors import InvalidInput, PermissionDenied
from annotation_app.services import items, publishing, review
from evalkit.cli import cli
from evalkit.errors import ImmutableError
from evalkit.suite.store import SuiteStore


def approve(act: Run, suite_id: int, record: dict) -> int:  # type: ignore[type-arg]
    pk = act("ann1", items.create_item, suite_id, record).item.id
    act("ann1", review.submit, pk, 1)
    act("rev", review.approve, pk, 2)
    return pk


def test_publish_approved_items_validates_and_diffs(
    suite_id: int, act: Run, store: SuiteStore
) -> None:
    approve(act, suite_id, mcq(id="q1"))
    act("ann1", items.create_item, suite_id, mcq(id="draft-only", question="还没审核的题目？"))
    with pytest.raises(PermissionDenied):
        act("ann1", publishing.publish, store, suite_id, "First.")
    with pytest.raises(InvalidInput):
        act("rev", publishing.publish, store, suite_id, "  ")
    v1 = act("rev", publishing.publish, store, suite_id, "第一版：合同成立。")
    assert v1.ref == "contracts@v1" and [i.id for i in v1.items] == ["q1"]
    line = json.loads((store.root / "contracts" / "v1" / "items.jsonl").read_text(encoding="utf-8"))
    assert line["provenance"] == {"author": "ann1", "reviewer": "rev"}
    result = CliRunner().invoke(cli, ["suite", "validate", str(store.root / "contracts" / "v1")])
    assert result.exit_code == 0, result.output
    assert "ok, contracts@v1, 1 items (mcq 1)" in result.stdout

    approve(
        act,
        suite_id,
        {
            "task": "qa",
            "id": "qa1",
            "language": "zh",
            "question": "诉讼时效一般是几年？",
            "answers": ["三年", "3年"],
        },
    )
    v2 = act("admin", publishing.publish, store, suite_id, "加一道问答题。")
    history = act("ann2", publishing.history, store, "contracts")
    assert [m.version for m in history] == ["v2", "v1"] and history[0].changelog == "加一道问答题。"
    diff = act("ann2", publishing.diff, store, "contracts", "v1", "v2")
    assert diff.added == ("qa1",) and diff.removed == () and v2.manifest.parent == "v1"
    with pytest.raises(ImmutableError, match="nothing to publish"):  # same content again
        act("rev", publishing.publish, store, suite_id, "Again.")


def test_publish_refuses_what_validate_would_refuse(
    suite_id: int, act: Run, store: SuiteStore
) -> None:
    with pytest.raises(InvalidInput) as nothing:
        act("rev", publishing.publish, store, suite_id, "Empty.")
    assert [p.reason for p in nothing.value.problems] == ["no approved items to publish"]
    approve(act, suite_id, mcq(id="q1", split="dev"))
    approve(act, suite_id, mcq(id="q2", question="合同何时成立?"))  # near-duplicate of q1
    with pytest.raises(InvalidInput) as caught:
        act("rev", publishing.publish, store, suite_id, "Dupes.")
    assert any("duplicate" in p.reason for p in caught.value.problems)
    assert store.versions("contracts") == []
