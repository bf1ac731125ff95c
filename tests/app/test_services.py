"""The service layer on real SQLite and PostgreSQL databases: roles, workflow, locking, audit,
import. (Migrations: test_migrations.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import PASSWORD, Run, both_backends, mcq
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from annotation_app.db import transaction
from annotation_app.errors import (
    EditConflict,
    InvalidInput,
    InvalidTransition,
    NotLoggedIn,
    PermissionDenied,
)
from annotation_app.models import AuditEntry, Item, User
from annotation_app.services import audit, imports, items, locking, review, suites, users
from evalkit.suite.importing import ColumnMapping
from evalkit.suite.store import SuiteStore

pytestmark = both_backends


def audit_actions(factory: sessionmaker[Session], key: str) -> list[tuple[str, str]]:
    with factory() as db:
        rows = db.scalars(
            select(AuditEntry).where(AuditEntry.entity_key == key).order_by(AuditEntry.id)
        )
        return [(e.username, e.action) for e in rows]


def test_passwords_are_hashed_and_login_fails_alike(
    factory: sessionmaker[Session], people: dict[str, int]
) -> None:
    with transaction(factory) as db:
        user = db.get(User, people["ann1"])
        assert user is not None and user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        assert users.authenticate(db, "ANN1", PASSWORD).id == people["ann1"]
        with pytest.raises(NotLoggedIn) as wrong_password:
            users.authenticate(db, "ann1", "wrong password")
        with pytest.raises(NotLoggedIn) as no_user:
            users.authenticate(db, "nobody", PASSWORD)
        assert str(wrong_password.value) == str(no_user.value) == "Wrong user name or password."


def test_deactivated_user_is_logged_out(
    factory: sessionmaker[Session], people: dict[str, int], act: Run
) -> None:
    act("admin", users.update_user, people["ann2"], active=False)
    with transaction(factory) as db, pytest.raises(NotLoggedIn):
        users.current_user(db, people["ann2"])
    with pytest.raises(PermissionDenied, match="cannot change your own role"):
        act("admin", users.update_user, people["admin"], role="annotator")


@pytest.mark.parametrize(
    ("who", "fn", "args"),
    [
        ("ann1", users.create_user, ("x.y", "longenough", "admin")),
        ("rev", users.create_user, ("x.y", "longenough", "admin")),
        ("ann1", suites.update_suite, (0, {}, 1)),
        ("ann1", review.review_queue, (0,)),
        ("ann1", audit.entries, ()),
        ("rev", audit.entries, ()),
    ],
)
def test_roles_are_checked_by_the_services(
    people: dict[str, int], act: Run, who: str, fn, args
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied, match=r"needs the (admin|reviewer) role"):
        act(who, fn, *args)


def test_annotator_edits_only_own_items_and_cannot_approve(
    item_pk: int, act: Run, factory: sessionmaker[Session]
) -> None:
    with pytest.raises(PermissionDenied, match="annotators edit only their own items"):
        act("ann2", items.update_item, item_pk, mcq(question="改了"), 1)
    with pytest.raises(PermissionDenied, match="needs the reviewer role"):
        act("ann2", review.approve, item_pk, 1)
    act("ann1", review.submit, item_pk, 1)
    with pytest.raises(PermissionDenied, match="another reviewer must review it"):
        # a reviewer's own item is not theirs to approve either
        act(
            "rev",
            review.approve,
            act("rev", items.create_item, _suite(factory), mcq("自己写的？")).item.id,
            1,
        )


def _suite(factory: sessionmaker[Session]) -> int:
    with factory() as db:
        return db.scalar(select(Item.suite_id))  # type: ignore[return-value]


def test_review_workflow_with_audit(item_pk: int, act: Run, factory: sessionmaker[Session]) -> None:
    with pytest.raises(InvalidTransition, match="is draft"):
        act("rev", review.approve, item_pk, 1)
    act("ann1", review.submit, item_pk, 1)
    with pytest.raises(InvalidInput):
        act("rev", review.reject, item_pk, 2, "  ")
    rejected = act("rev", review.reject, item_pk, 2, "选项 B 也对")
    assert (rejected.status, rejected.review_comment) == ("rejected", "选项 B 也对")
    revised = act("ann1", items.update_item, item_pk, mcq(question="合同通常何时成立？"), 3).item
    assert revised.status == "revised"
    act("ann1", review.submit, item_pk, 4)
    approved = act("rev", review.approve, item_pk, 5)
    assert approved.status == "approved" and approved.record["provenance"] == {
        "author": "ann1",
        "reviewer": "rev",
    }
    assert act("rev", suites.status_counts)[approved.suite_id] == {"approved": 1}
    assert audit_actions(factory, "item:contracts/q1") == [
        ("ann1", "item.create"),
        ("ann1", "item.submit"),
        ("rev", "item.reject"),
        ("ann1", "item.update"),
        ("ann1", "item.submit"),
        ("rev", "item.approve"),
    ]
    with factory() as db:
        update = db.scalar(select(AuditEntry).where(AuditEntry.action == "item.update"))
        assert update is not None
        assert update.before["record"]["question"] == "合同何时成立？"
        assert update.after["record"]["question"] == "合同通常何时成立？"
        assert update.before["status"] == "rejected" and update.after["status"] == "revised"


def test_invalid_item_is_not_saved_and_every_field_is_named(
    suite_id: int, act: Run, factory
) -> None:  # type: ignore[no-untyped-def]
    bad = mcq(answer="C", language="Chinese", tags=["x", "x"])
    with pytest.raises(InvalidInput) as caught:
        act("ann1", items.create_item, suite_id, bad)
    fields = {(p.field, p.reason) for p in caught.value.problems}
    assert ("answer", "answer 'C' is not among the choices' letters A, B") in fields
    assert any(f == "language" and "language code" in r for f, r in fields)
    assert ("tags", "tags repeat") in fields
    with factory() as db:
        assert db.scalar(select(Item.id)) is None


def test_second_concurrent_save_is_refused_and_kept(item_pk: int, act: Run, factory) -> None:  # type: ignore[no-untyped-def]
    # ann1 and rev both opened version 1; rev saves first.
    act("rev", items.update_item, item_pk, mcq(question="审核员的版本"), 1)
    with pytest.raises(EditConflict) as caught:
        act("ann1", items.update_item, item_pk, mcq(question="作者的版本"), 1)
    conflict = caught.value
    assert conflict.by == "rev" and conflict.current_version == 2
    assert conflict.current["record"]["question"] == "审核员的版本"
    assert conflict.attempted["question"] == "作者的版本"
    assert "rev saved item:contracts/q1" in str(conflict) and "nothing was overwritten" in str(
        conflict
    )
    with factory() as db:
        row = db.get(Item, item_pk)
        assert row.record["question"] == "审核员的版本" and row.version == 2
        kept = db.scalar(select(AuditEntry).where(AuditEntry.action == "item.conflict"))
        assert (
            kept is not None and kept.username == "ann1" and kept.after["question"] == "作者的版本"
        )


def test_race_between_check_and_write_is_caught_by_the_version_counter(
    item_pk: int, factory: sessionmaker[Session], act: Run
) -> None:
    """Both saves pass the version check; the second UPDATE matches no row (the counter moved
    on) and is refused instead of overwriting."""
    with transaction(factory) as db:
        actor = db.query(User).filter_by(username="ann1").one()
        row = items.load_item(db, item_pk)
        locking.check_version(db, actor, row, 1, {})
        row.record = {**row.record, "question": "作者的版本"}
        act("rev", items.update_item, item_pk, mcq(question="审核员的版本"), 1)  # commits first
        with pytest.raises(EditConflict) as caught:
            locking.flush_or_conflict(db, actor, row, {"question": "作者的版本"})
    assert caught.value.by == "rev" and caught.value.current["record"]["question"] == "审核员的版本"
    with factory() as db:
        assert db.get(Item, item_pk).record["question"] == "审核员的版本"


def test_near_duplicate_warning_on_save(suite_id: int, act: Run) -> None:
    act("ann1", items.create_item, suite_id, mcq(id="a", question="合同在承诺生效时成立吗？"))
    saved = act(
        "ann2", items.create_item, suite_id, mcq(id="b", question="合同在承诺生效时成立吗?")
    )
    assert [d.item_id for d in saved.near_duplicates] == ["a"]
    other = act(
        "ann2", items.create_item, suite_id, mcq(id="c", question="违约金过高可以请求调整吗？")
    )
    assert other.near_duplicates == []


def test_search_and_filter(suite_id: int, act: Run) -> None:
    act("ann1", items.create_item, suite_id, mcq(id="a", question="要约何时生效？", tags=["要约"]))
    act(
        "ann2",
        items.create_item,
        suite_id,
        mcq(id="b", question="What is an offer?", language="en"),
    )

    def ids(**kw: str) -> list[str]:
        return sorted(
            r.item_id for r in act("rev", items.search_items, suite_id, items.ItemFilter(**kw))
        )

    assert ids(text="何时生效") == ["a"]
    assert ids(text="offer") == ["b"]
    assert ids(text="OFFER") == ["b"]  # case is ignored on every database
    assert ids(text="_") == ids(text="%") == []  # LIKE's wildcards are plain characters
    assert ids(tag="要约") == ["a"]
    assert ids(author="ann2") == ["b"]
    assert ids(status="draft") == ["a", "b"]
    assert ids(task="qa") == []


def test_import_preview_lists_bad_rows_and_imports_good(
    suite_id: int, act: Run, tmp_path: Path
) -> None:
    data = (
        "question,A,B,answer\n"
        "合同何时成立？,承诺生效时,要约发出时,A\n"
        "坏的一行,甲,乙,E\n"
        '"多行\n题干",是,否,B\n'
    ).encode()
    mapping = ColumnMapping(
        columns={"question": "question", "choices": ["A", "B"], "answer": "answer"},
        defaults={"task": "mcq", "language": "zh"},
    )
    preview = act("ann1", imports.preview_import, suite_id, "题库.csv", data, mapping)
    assert [w for w, _ in preview.records] == ["题库.csv:2", "题库.csv:4"]
    assert [str(p) for p in preview.problems] == [
        "题库.csv:3: answer: answer 'E' is not among the choices' letters A, B"
    ]
    saved = act("ann1", imports.commit_import, suite_id, [r for _, r in preview.records])
    assert [r.status for r in saved] == ["draft", "draft"]
    assert saved[0].record["provenance"] == {"author": "ann1"}
    again = act("ann1", imports.preview_import, suite_id, "题库.csv", data, mapping)
    assert again.records == [] and any("already in suite" in p.reason for p in again.problems)
    with pytest.raises(InvalidInput):
        act("ann1", imports.preview_import, suite_id, "x.pdf", b"%PDF", mapping)


def test_suite_name_already_published_is_refused(
    act: Run, people: dict[str, int], store: SuiteStore
) -> None:
    from drafts import write_draft
    from evalkit.suite.draft import read_draft

    draft, problems = read_draft(write_draft(store.root.parent / "draft"))
    assert draft is not None and not problems
    store.publish(draft, author="x", changelog="First.")
    with pytest.raises(InvalidInput, match="1 problem"):
        act(
            "admin",
            suites.create_suite,
            store,
            name="mini",
            description="d",
            guidelines="g",
            goals=[{"capability": "c", "description": "d"}],
            tasks={"mcq": suites.DEFAULT_TASKS["mcq"]},
        )
    suite = act("admin", suites.create_from_version, store, "mini@v1")
    found = act("admin", items.search_items, suite.id, items.ItemFilter())
    assert sorted(r.item_id for r in found) == ["e1", "m1", "m2"]
    assert {r.status for r in found} == {"approved"}


def test_text_longer_than_its_column_is_refused_field_by_field(suite_id: int, act: Run) -> None:
    """SQLite would store it and PostgreSQL refuse it with an internal error: the services
    check the columns' lengths first."""
    with pytest.raises(InvalidInput) as caught:
        act("admin", users.create_user, "long.name", PASSWORD, "annotator", "名" * 201)
    assert [(p.field, p.reason) for p in caught.value.problems] == [
        ("display_name", "at most 200 characters (this has 201)")
    ]
    language = "-".join(["en", *["abcdefgh"] * 4])  # a valid language tag of 38 characters
    with pytest.raises(InvalidInput) as caught:
        act("ann1", items.create_item, suite_id, mcq(id="long", language=language))
    assert [(p.field, p.reason) for p in caught.value.problems] == [
        ("language", "at most 32 characters (this has 38)")
    ]
    assert act("ann1", items.create_item, suite_id, mcq(id="ok", language="zh-Hans-CN")).item.id
