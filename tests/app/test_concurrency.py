"""Concurrent edits from threads, each with its own session on one database (as Streamlit
serves several people), on SQLite and on PostgreSQL: suite settings and items are versioned
alike. Every losing writer gets EditConflict without waiting out a lock, no write overwrites
one it did not see, no internal error, and every refused attempt is kept in the audit log."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from app_helpers import Run, both_backends, mcq
from rating_helpers import ScoredRun, setup
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from annotation_app.db import LOCK_WAIT_MS, transaction
from annotation_app.errors import (
    EditConflict,
    InvalidInput,
    InvalidTransition,
    RatingSetClosed,
    SaveConflict,
)
from annotation_app.models import AuditEntry, Item, Suite, User
from annotation_app.services import agreement, items, rating, rating_results, rating_setup, suites

THREADS = 6
ROUNDS = 4
# A write stuck behind a lock waits out db.LOCK_WAIT_MS (10 s) before it fails; one refused at
# once, or after the other's short transaction, takes well under a second. Half the lock wait
# tells the two apart on a loaded 2-core CI machine too (a 1 s bound failed there at 1.05 s).
LIMIT_S = LOCK_WAIT_MS / 1000 / 2

pytestmark = both_backends


@dataclass
class Attempt:
    writer: str
    expected: int  # the version the writer loaded
    outcome: str  # "saved", "conflict", or the unexpected error
    seconds: float


def race(
    factory: sessionmaker[Session],
    save: Callable[[Session, User, int, str], None],
    current: Callable[[Session], int],
    *,
    fresh: bool,
) -> list[Attempt]:
    """THREADS writers, ROUNDS each; `fresh`: each loads the version just before saving (a
    real race), else all save on version 1 (a stale page)."""
    attempts: list[Attempt] = []
    start = threading.Barrier(THREADS)

    def writer(n: int) -> None:
        start.wait()
        for r in range(ROUNDS):
            value = f"writer {n} round {r} 的修改"
            t0 = time.perf_counter()
            expected = 1
            try:
                with transaction(factory) as db:
                    actor = db.scalars(select(User).where(User.username == "admin")).one()
                    expected = current(db) if fresh else 1
                    save(db, actor, expected, value)
                outcome = "saved"
            except EditConflict:
                outcome = "conflict"
            except Exception as e:  # the test counts these: there must be none
                outcome = f"{type(e).__name__}: {e}"
            attempts.append(Attempt(value, expected, outcome, time.perf_counter() - t0))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return attempts


def check(attempts: list[Attempt], final_version: int, kept: int, *, fresh: bool) -> None:
    errors = [a.outcome for a in attempts if a.outcome not in ("saved", "conflict")]
    assert errors == []
    saved = [a for a in attempts if a.outcome == "saved"]
    # No silent overwrite: each save replaced a different version, the one it had loaded.
    assert len({a.expected for a in saved}) == len(saved) == final_version - 1
    assert len(saved) >= 1 and (fresh or len(saved) == 1)
    assert kept == len(attempts) - len(saved)  # every refused attempt is in the audit log
    assert max(a.seconds for a in attempts) < LIMIT_S


def conflicts(factory: sessionmaker[Session], action: str) -> int:
    with factory() as db:
        return int(db.scalar(select(func.count()).where(AuditEntry.action == action)) or 0)


@pytest.mark.parametrize("fresh", [False, True], ids=["stale page", "load then save"])
def test_concurrent_suite_settings_edits(
    factory: sessionmaker[Session], suite_id: int, fresh: bool
) -> None:
    def save(db: Session, actor: User, version: int, value: str) -> None:
        suites.update_suite(db, actor, suite_id, {"description": value}, version)

    def current(db: Session) -> int:
        return int(db.get(Suite, suite_id).version)  # type: ignore[union-attr]

    attempts = race(factory, save, current, fresh=fresh)
    with factory() as db:
        suite = db.get(Suite, suite_id)
        assert suite is not None
        final_version, description = suite.version, suite.description
    check(attempts, final_version, conflicts(factory, "suite.conflict"), fresh=fresh)
    last = max((a for a in attempts if a.outcome == "saved"), key=lambda a: a.expected)
    assert description == last.writer


@pytest.mark.parametrize("fresh", [False, True], ids=["stale page", "load then save"])
def test_concurrent_item_edits(factory: sessionmaker[Session], item_pk: int, fresh: bool) -> None:
    def save(db: Session, actor: User, version: int, value: str) -> None:
        items.update_item(db, actor, item_pk, mcq(question=value), version)

    def current(db: Session) -> int:
        return int(db.get(Item, item_pk).version)  # type: ignore[union-attr]

    attempts = race(factory, save, current, fresh=fresh)
    with factory() as db:
        row = db.get(Item, item_pk)
        assert row is not None
        final_version, question = row.version, row.record["question"]
    check(attempts, final_version, conflicts(factory, "item.conflict"), fresh=fresh)
    last = max((a for a in attempts if a.outcome == "saved"), key=lambda a: a.expected)
    assert question == last.writer


def test_a_stale_adjudication_is_refused_at_once(
    item_pk: int, act: Run, people: dict[str, int], factory: sessionmaker[Session]
) -> None:
    made = act("rev", agreement.assign, [item_pk], [people["ann2"], people["ann3"]])
    for a, label in zip(sorted(made, key=lambda a: a.annotator_id), "AB", strict=True):
        who = "ann2" if a.annotator_id == people["ann2"] else "ann3"
        act(who, agreement.submit_label, a.id, label)
    act("ann1", items.update_item, item_pk, mcq(question="作者改过？"), 1)  # now version 2
    t0 = time.perf_counter()
    with pytest.raises(EditConflict) as caught:
        act("rev", agreement.adjudicate, item_pk, "B", "B is right", 1)
    assert time.perf_counter() - t0 < LIMIT_S
    assert caught.value.current_version == 2 and caught.value.by == "ann1"
    assert conflicts(factory, "item.conflict") == 1
    with factory() as db:  # nothing of the refused adjudication was written
        assert db.get(Item, item_pk).record["answer"] == "A"  # type: ignore[union-attr]


def test_a_writer_behind_another_open_write_gets_the_conflict_without_a_lock_wait(
    factory: sessionmaker[Session], suite_id: int, act: Run
) -> None:
    """One request holds the write lock for a while; a second edit of the same settings (same
    loaded version) waits only for that, then is refused, not overwritten."""
    holding = threading.Event()
    outcome: dict[str, Any] = {}

    def slow_first() -> None:
        with transaction(factory) as db:
            actor = db.scalars(select(User).where(User.username == "admin")).one()
            suites.update_suite(db, actor, suite_id, {"description": "先保存的"}, 1)
            holding.set()
            time.sleep(0.3)  # the transaction stays open, holding SQLite's write lock

    first = threading.Thread(target=slow_first)
    first.start()
    holding.wait()
    t0 = time.perf_counter()
    try:
        act("admin", suites.update_suite, suite_id, {"description": "后保存的"}, 1)
        outcome["result"] = "saved"
    except EditConflict as e:
        outcome["result"] = e.current["description"]
    first.join()
    assert outcome["result"] == "先保存的" and time.perf_counter() - t0 < LIMIT_S


def test_two_reviewers_adjudicating_at_once_cannot_both_succeed(
    item_pk: int, act: Run, people: dict[str, int], factory: sessionmaker[Session]
) -> None:
    made = act("rev", agreement.assign, [item_pk], [people["ann2"], people["ann3"]])
    for a in made:
        who = "ann2" if a.annotator_id == people["ann2"] else "ann3"
        act(who, agreement.submit_label, a.id, "A" if who == "ann2" else "B")
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def settle(who: str, label: str) -> None:
        start.wait()
        try:
            act(who, agreement.adjudicate, item_pk, label, f"{who} decides", 1)
            outcomes.append("saved")
        except EditConflict:
            outcomes.append("conflict")
        except Exception as e:
            outcomes.append(f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=settle, args=a) for a in (("rev", "A"), ("rev2", "A"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "saved"]  # same gold: still one decision wins


def test_creating_the_same_item_at_once_saves_one(suite_id: int, act: Run) -> None:
    outcomes: list[str] = []
    start = threading.Barrier(THREADS)

    def create(n: int) -> None:
        start.wait()
        try:
            act(f"ann{n % 3 + 1}", items.create_item, suite_id, mcq(id="same", question=f"{n}?"))
            outcomes.append("saved")
        except (InvalidInput, SaveConflict) as e:
            outcomes.append(type(e).__name__)
        except Exception as e:
            outcomes.append(f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=create, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("saved") == 1
    assert set(outcomes) <= {"saved", "InvalidInput", "SaveConflict"}


@pytest.mark.parametrize("first", ["close", "rate"])
def test_a_set_being_closed_and_a_rating_being_saved_wait_for_each_other(
    first: str, run: ScoredRun, act: Run, people: dict[str, int], factory: sessionmaker[Session]
) -> None:
    """A set closed while a rating is being saved either refuses the rating (the close came
    first) or counts it (the rating came first); it never gets a rating after its close."""
    made = act("rev", rating_setup.create_set, run.store, setup(run, [people["ann1"]]))
    tasks = act("ann1", rating.my_rating_tasks, made.id)
    task = tasks[0]
    scores = {"accuracy": 4, "fluency": 5, "relevance": 3}
    holding = threading.Event()

    def hold_open(who: str, step: Callable[[Session, User], object]) -> None:
        with transaction(factory) as db:
            step(db, db.scalars(select(User).where(User.username == who)).one())
            db.flush()
            holding.set()
            time.sleep(0.3)  # the transaction stays open, its writes not yet committed

    if first == "close":
        args: tuple[Any, ...] = ("rev", lambda db, a: rating_results.close_set(db, a, made.id))
    else:
        args = ("ann1", lambda db, a: rating.rate_output(db, a, task.assignment_id, scores))
    holder = threading.Thread(target=hold_open, args=args)
    holder.start()
    holding.wait()
    t0 = time.perf_counter()
    try:
        if first == "close":
            with pytest.raises(RatingSetClosed):
                act("ann1", rating.rate_output, task.assignment_id, scores)
        else:
            act("rev", rating_results.close_set, made.id)
    finally:
        holder.join()
    assert time.perf_counter() - t0 < LIMIT_S
    with factory() as db:
        [closing] = db.scalars(select(AuditEntry).where(AuditEntry.action == "rating_set.close"))
    rated = 0 if first == "close" else 1
    assert closing.after == {"closed": True, "progress": {"ann1": [rated, len(tasks)]}}
    now = act("ann1", rating.my_rating_tasks, made.id)[0]
    assert now.closed and (now.scores == scores if rated else now.scores is None)


def test_two_reviewers_closing_a_set_at_once_close_it_once(
    run: ScoredRun, act: Run, people: dict[str, int], factory: sessionmaker[Session]
) -> None:
    """The second close waits for the first and is refused as closed already: one close in
    the audit log, by whoever came first."""
    made = act("rev", rating_setup.create_set, run.store, setup(run, [people["ann1"]]))
    holding = threading.Event()

    def hold_open() -> None:
        with transaction(factory) as db:
            rev = db.scalars(select(User).where(User.username == "rev")).one()
            rating_results.close_set(db, rev, made.id)
            holding.set()
            time.sleep(0.3)  # closed, not yet committed

    holder = threading.Thread(target=hold_open)
    holder.start()
    holding.wait()
    t0 = time.perf_counter()
    try:
        with pytest.raises(InvalidTransition):
            act("rev2", rating_results.close_set, made.id)
    finally:
        holder.join()
    assert time.perf_counter() - t0 < LIMIT_S
    with factory() as db:
        closes = db.scalars(select(AuditEntry).where(AuditEntry.action == "rating_set.close"))
        assert [c.username for c in closes] == ["rev"]
