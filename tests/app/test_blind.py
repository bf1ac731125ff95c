"""Blind labelling: an annotator assigned to an item never gets its gold answer or another
annotator's label from any service; reviewers and admins see everything."""

from __future__ import annotations

from typing import Any

import pytest
from app_helpers import Run, mcq
from sqlalchemy.orm import Session, sessionmaker

from annotation_app.errors import InvalidInput
from annotation_app.permissions import SERVICES, Action
from annotation_app.services import agreement, audit, items, publishing, review, suites, users
from evalkit.suite.store import SuiteStore

GOLD = "十二年零三个月"  # the qa item's gold answer: appears nowhere else
PEER = "同伴的答案"  # ann3's label
MINE = "我的答案"  # ann2's label

READS = {Action.VIEW, Action.LABEL}


def qa(**extra: Any) -> dict[str, Any]:
    return {
        "task": "qa",
        "language": "zh",
        "question": "这份合同的期限是多长？",
        "answers": [GOLD],
        "format": {"kind": "regex", "pattern": ".+"},
        "provenance": {"author": "ann1", "source": "原创"},
        **extra,
    }


@pytest.fixture
def blind_item(suite_id: int, act: Run, people: dict[str, int]) -> int:
    """ann1's qa item, rejected once with a comment naming the answer, assigned to ann2 and
    ann3; ann3 has labelled it."""
    pk = act("ann1", items.create_item, suite_id, qa(id="qa1")).item.id
    act("ann1", review.submit, pk, 1)
    act("rev", review.reject, pk, 2, f"答案应为{GOLD}")
    made = act("rev", agreement.assign, [pk], [people["ann2"], people["ann3"]])
    peer = next(a for a in made if a.annotator_id == people["ann3"])
    act("ann3", agreement.submit_label, peer.id, PEER)
    return pk


def _reads_as(act: Run, who: str, suite_id: int, pk: int, store: SuiteStore) -> dict[str, Any]:
    """What every reading service returns to `who`."""
    mine = act(who, agreement.my_assignments, suite_id)
    out: dict[str, Any] = {
        "items.get_item": act(who, items.get_item, pk),
        "items.search_items": [
            act(who, items.search_items, suite_id, items.ItemFilter(**f))
            for f in ({}, {"text": "合同"}, {"status": "rejected"}, {"task": "qa"})
        ],
        "audit.item_history": act(who, audit.item_history, pk),
        "agreement.my_assignments": mine,
        "publishing.history": act(who, publishing.history, store, "contracts"),
        "suites.counts": act(who, suites.counts, suite_id),
        "suites.get_suite": act(who, suites.get_suite, suite_id).spec_record(),
        "suites.list_suites": [s.spec_record() for s in act(who, suites.list_suites)],
        "suites.status_counts": act(who, suites.status_counts),
        "users.list_users": act(who, users.list_users),
    }
    if mine:
        out["agreement.submit_label"] = act(who, agreement.submit_label, mine[0].id, MINE)
    return out


def test_every_reading_service_hides_gold_and_peers_from_the_blind_annotator(
    blind_item: int, suite_id: int, act: Run, store: SuiteStore
) -> None:
    reads = _reads_as(act, "ann2", suite_id, blind_item, store)
    readers = {name for name, action in SERVICES.items() if action in READS}
    assert readers - set(reads) == {"publishing.diff"}  # tested below, with two versions
    shown = repr(reads)
    for secret in (GOLD, PEER, "'author'", "'regex'", "原创"):
        assert secret not in shown, secret
    about_item = repr({k: v for k, v in reads.items() if k != "users.list_users"})
    assert "ann1" not in about_item and "ann3" not in about_item  # author, peer
    assert MINE in repr(act("ann2", audit.item_history, blind_item))  # their own label: yes
    view = reads["items.get_item"]
    assert view.blind and view.record == {
        "id": "qa1",
        "task": "qa",
        "language": "zh",
        "split": "test",
        "tags": [],
        "question": "这份合同的期限是多长？",
    }
    assert view.author == "-" and view.review_comment is None and view.author_id is None


def test_blind_text_search_does_not_match_the_gold_answer(
    blind_item: int, suite_id: int, act: Run
) -> None:
    def found(who: str, **f: str) -> list[str]:
        return [v.item_id for v in act(who, items.search_items, suite_id, items.ItemFilter(**f))]

    assert found("ann2", text=GOLD) == [] and found("ann2", author="ann1") == []
    assert found("ann2", text="期限") == ["qa1"] and found("ann2", text="qa1") == ["qa1"]
    assert found("rev", text=GOLD) == ["qa1"] and found("ann1", author="ann1") == ["qa1"]


def test_reviewers_and_the_unassigned_see_everything(
    blind_item: int, suite_id: int, act: Run, store: SuiteStore
) -> None:
    for who in ("rev", "admin", "ann1"):  # ann1 wrote the item and is not assigned
        shown = repr(_reads_as(act, who, suite_id, blind_item, store))
        assert GOLD in shown and "原创" in shown, who
    history = repr(act("rev", audit.item_history, blind_item))
    assert PEER in history and "ann3" in history


def test_only_annotators_who_do_not_know_the_gold_can_be_assigned(
    item_pk: int, act: Run, people: dict[str, int]
) -> None:
    with pytest.raises(InvalidInput) as caught:
        act("rev", agreement.assign, [item_pk], [people["ann1"], people["rev2"]])
    reasons = " ".join(p.reason for p in caught.value.problems)
    assert "rev2 is a reviewer" in reasons
    with pytest.raises(InvalidInput, match="1 problem"):  # ann1 wrote it
        act("rev", agreement.assign, [item_pk], [people["ann1"], people["ann2"]])
    act("rev", items.update_item, item_pk, mcq(question="审核员改过？"), 1)
    act("rev", agreement.assign, [item_pk], [people["ann2"], people["ann3"]])


def test_a_version_diff_hides_the_blind_items_gold_change(
    suite_id: int, act: Run, people: dict[str, int], store: SuiteStore
) -> None:
    pk = act("ann1", items.create_item, suite_id, mcq(id="m1")).item.id
    act("ann1", review.submit, pk, 1)
    act("rev2", review.approve, pk, 2)
    act("rev", publishing.publish, store, suite_id, "v1")
    made = act("rev", agreement.assign, [pk], [people["ann2"], people["ann3"]])
    for a in made:
        who = "ann2" if a.annotator_id == people["ann2"] else "ann3"
        act(who, agreement.submit_label, a.id, "A" if who == "ann2" else "B")
    act("rev", agreement.adjudicate, pk, "B", "B is right", 3)
    row = act("rev", items.get_item, pk)
    assert (row.record["answer"], row.status) == ("B", "revised")  # gold changed: review again
    act("ann1", review.submit, pk, row.version)
    act("rev2", review.approve, pk, row.version + 1)
    act("rev", publishing.publish, store, suite_id, "v2")

    def paths(who: str) -> list[str]:
        diff = act(who, publishing.diff, store, "contracts", "v1", "v2")
        return [f.path for c in diff.changed for f in c.changes]

    assert paths("rev") == ["answer"] and paths("ann1") == ["answer"]
    assert paths("ann2") == []


def test_services_return_copies_not_rows(
    blind_item: int, act: Run, factory: sessionmaker[Session]
) -> None:
    """A page changing what it was shown changes nothing in the database."""
    view = act("ann2", items.get_item, blind_item)
    view.record["question"] = "改了"
    assert act("rev", items.get_item, blind_item).record["question"] == "这份合同的期限是多长？"
