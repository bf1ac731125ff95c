"""Rules within the roles: four eyes, adjudication only of disagreements, provenance set by the
server, deactivated users and refusals in the audit log."""

from __future__ import annotations

import json
from typing import Any

import pytest
from app_helpers import Run, mcq
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from annotation_app.db import transaction
from annotation_app.errors import NotInDisagreement, NotLoggedIn, PermissionDenied
from annotation_app.models import AuditEntry, Item, User
from annotation_app.services import agreement, imports, items, publishing, review, users
from evalkit.suite.importing import ColumnMapping
from evalkit.suite.store import SuiteStore


def refusals(factory: sessionmaker[Session]) -> list[tuple[str, str, str]]:
    with factory() as db:
        rows = db.scalars(select(AuditEntry).where(AuditEntry.action == "access.refused"))
        return [(e.username, e.entity_key, e.after["error"]) for e in rows]


# --- four eyes ---------------------------------------------------------------------------


def test_a_reviewer_cannot_approve_their_own_rewrite(
    item_pk: int, suite_id: int, act: Run, factory: sessionmaker[Session]
) -> None:
    act("ann1", review.submit, item_pk, 1)
    act("rev", items.update_item, item_pk, mcq(question="审核员重写的题干？"), 2)
    assert act("rev", items.get_item, item_pk).status == "in_review"
    assert act("rev", review.review_queue, suite_id) == []  # not in rev's queue
    assert [r.item_id for r in act("rev2", review.review_queue, suite_id)] == ["q1"]
    with pytest.raises(PermissionDenied, match="You changed q1 since it was last approved"):
        act("rev", review.approve, item_pk, 3)
    with pytest.raises(PermissionDenied):
        act("rev", review.reject, item_pk, 3, "自己退回")
    assert refusals(factory) == [
        ("rev", "service:review.approve", "error.own_change"),
        ("rev", "service:review.reject", "error.own_change"),
    ]
    assert act("rev2", review.approve, item_pk, 3).status == "approved"


def test_any_change_since_the_last_approval_counts(item_pk: int, act: Run, suite_id: int) -> None:
    act("admin", items.update_item, item_pk, mcq(question="管理员改过？"), 1)  # a draft edit
    act("ann1", items.update_item, item_pk, mcq(question="作者又改了？"), 2)  # last editor: ann1
    act("ann1", review.submit, item_pk, 3)
    with pytest.raises(PermissionDenied, match="You changed"):
        act("admin", review.approve, item_pk, 4)  # whatever the role
    act("rev", review.approve, item_pk, 4)
    # After that approval, the earlier change is reviewed; a new edit is someone else's.
    act("ann1", items.update_item, item_pk, mcq(question="第二轮？"), 5)
    act("ann1", review.submit, item_pk, 6)
    assert [r.item_id for r in act("admin", review.review_queue, suite_id)] == ["q1"]
    assert act("admin", review.approve, item_pk, 7).record["provenance"]["reviewer"] == "admin"


def test_an_author_cannot_approve_whatever_their_role(suite_id: int, act: Run) -> None:
    pk = act("admin", items.create_item, suite_id, mcq(id="own")).item.id
    act("admin", review.submit, pk, 1)
    with pytest.raises(PermissionDenied, match="another reviewer must review it"):
        act("admin", review.approve, pk, 2)


# --- adjudication ------------------------------------------------------------------------


def _labelled(act: Run, people: dict[str, int], pk: int, labels: dict[str, str]) -> None:
    made = act("rev", agreement.assign, [pk], [people[name] for name in ("ann2", "ann3")])
    by_id = {people[name]: name for name in ("ann2", "ann3")}
    for a in made:
        if by_id[a.annotator_id] in labels:
            act(by_id[a.annotator_id], agreement.submit_label, a.id, labels[by_id[a.annotator_id]])


@pytest.mark.parametrize(
    "labels",
    [{}, {"ann2": "B"}, {"ann2": "b", "ann3": "B"}],
    ids=["not assigned or labelled", "one label", "labels agree"],
)
def test_adjudication_only_settles_a_disagreement(
    item_pk: int,
    act: Run,
    people: dict[str, int],
    factory: sessionmaker[Session],
    labels: dict[str, str],
) -> None:
    act("ann1", review.submit, item_pk, 1)
    act("rev", review.approve, item_pk, 2)
    if labels:
        _labelled(act, people, item_pk, labels)
    with pytest.raises(NotInDisagreement, match="not in disagreement"):
        act("rev", agreement.adjudicate, item_pk, "B", "override", 3)
    row = act("rev", items.get_item, item_pk)
    assert (row.record["answer"], row.status, row.version) == ("A", "approved", 3)
    assert refusals(factory) == [("rev", "service:agreement.adjudicate", "error.no_disagreement")]


def test_adjudication_sends_a_changed_gold_back_to_review(
    item_pk: int, act: Run, people: dict[str, int]
) -> None:
    act("ann1", review.submit, item_pk, 1)
    act("rev2", review.approve, item_pk, 2)
    _labelled(act, people, item_pk, {"ann2": "A", "ann3": "B"})
    act("rev", agreement.adjudicate, item_pk, "B", "B is right", 3)
    row = act("rev", items.get_item, item_pk)
    assert (row.record["answer"], row.status) == ("B", "revised")
    assert "reviewer" not in row.record["provenance"]
    act("ann1", review.submit, item_pk, row.version)
    with pytest.raises(PermissionDenied, match="You changed"):  # the adjudicator changed it
        act("rev", review.approve, item_pk, row.version + 1)
    act("rev2", review.approve, item_pk, row.version + 1)


def test_an_annotator_promoted_since_labelling_cannot_adjudicate_it(
    item_pk: int, act: Run, people: dict[str, int]
) -> None:
    _labelled(act, people, item_pk, {"ann2": "A", "ann3": "B"})
    act("admin", users.update_user, people["ann2"], role="reviewer")
    with pytest.raises(PermissionDenied, match="You labelled q1"):
        act("ann2", agreement.adjudicate, item_pk, "A", "mine", 1)


# --- provenance --------------------------------------------------------------------------

CLAIM = {"author": "boss", "reviewer": "boss", "source": "CAIL 2019"}


def test_create_sets_provenance_from_the_signed_in_user(suite_id: int, act: Run) -> None:
    saved = act("ann1", items.create_item, suite_id, mcq(id="c1", provenance=CLAIM)).item
    assert saved.record["provenance"] == {"author": "ann1", "source": "CAIL 2019"}
    assert saved.claimed_provenance == {"author": "boss", "reviewer": "boss"}
    edited = act("ann1", items.update_item, saved.id, mcq(provenance=CLAIM), 1).item
    assert edited.record["provenance"] == {"author": "ann1", "source": "CAIL 2019"}


def test_import_never_takes_author_or_reviewer_from_the_file(
    suite_id: int, act: Run, store: SuiteStore, factory: sessionmaker[Session]
) -> None:
    rows = [
        {**mcq(id="f1"), "provenance": CLAIM},
        {**mcq(id="f2", question="要约何时生效？"), "provenance": {"author": "ann1"}},
        {**mcq(id="f3", question="承诺何时生效？")},
    ]
    data = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode()
    mapping = ColumnMapping(defaults={"provenance": {"author": "mapping-boss"}})
    preview = act("ann2", imports.preview_import, suite_id, "claims.jsonl", data, mapping)
    assert not preview.problems
    saved = act("ann2", imports.commit_import, suite_id, [r for _, r in preview.records])
    assert [r.record["provenance"] for r in saved] == [
        {"author": "ann2", "source": "CAIL 2019"},
        {"author": "ann2"},
        {"author": "ann2"},
    ]
    assert [r.claimed_provenance for r in saved] == [
        {"author": "boss", "reviewer": "boss"},
        {"author": "ann1"},
        None,
    ]
    # A forged commit (not from a preview) is treated alike, and the audit log keeps the claim.
    forged: dict[str, Any] = {**mcq(id="f4", question="违约金？"), "provenance": CLAIM}
    [row] = act("ann2", imports.commit_import, suite_id, [forged])
    assert row.record["provenance"]["author"] == "ann2" and row.author_id != 0
    with factory() as db:
        entry = db.scalar(select(AuditEntry).where(AuditEntry.entity_key == "item:contracts/f4"))
        assert entry is not None and entry.after["claimed_provenance"]["author"] == "boss"
    act("ann2", review.submit, row.id, 1)
    act("rev", review.approve, row.id, 2)
    version = act("rev", publishing.publish, store, suite_id, "v1")
    assert version.by_id["f4"].provenance.model_dump(exclude_none=True) == {
        "author": "ann2",
        "reviewer": "rev",
        "source": "CAIL 2019",
    }


# --- no user, deactivated user -----------------------------------------------------------


def test_a_user_deactivated_during_a_session_is_refused_at_the_next_call(
    factory: sessionmaker[Session], people: dict[str, int], act: Run
) -> None:
    with transaction(factory) as db:
        ann1 = db.get(User, people["ann1"])
        users.set_language(db, ann1, "zh")  # active: allowed
    with transaction(factory) as db:
        stale = db.get(User, people["ann1"])
        act("admin", users.update_user, people["ann1"], active=False)  # another request
        with pytest.raises(NotLoggedIn, match="Please log in"):
            users.set_language(db, stale, "en")
    with factory() as db:
        assert db.get(User, people["ann1"]).language == "zh"  # type: ignore[union-attr]
        assert db.scalar(select(Item.id)) is None
    assert refusals(factory) == [("ann1", "service:users.set_language", "error.not_logged_in")]
