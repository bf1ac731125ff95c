"""One recipe per service for the access test: the state and the arguments with which the call
succeeds for any user whose role allows it (so a refusal can only come from the role check).

A recipe gets the world and the acting user's name (None: nobody signed in) and returns the
positional and keyword arguments that follow `db, actor`. For a user who will be refused, it
builds the same state as for an admin.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app_helpers import USERS, Run, mcq
from rating_helpers import MODELS, ScoredRun, setup
from sqlalchemy.orm import Session, sessionmaker

from annotation_app.db import transaction
from annotation_app.models import Assignment
from annotation_app.services import agreement, items, publishing, rating, rating_setup, review
from drafts import write_draft
from evalkit.suite.draft import read_draft
from evalkit.suite.importing import ColumnMapping
from evalkit.suite.store import SuiteStore

ACTIVE = {name for name, _, active in USERS if active}
Args = tuple[tuple[Any, ...], dict[str, Any]]
_serial = itertools.count(1)


@dataclass
class World:
    factory: sessionmaker[Session]
    act: Run
    store: SuiteStore
    ids: dict[str, int]
    suite_id: int
    run: ScoredRun

    def rating_set(self, raters: tuple[str, ...] = ("ann2", "ann3"), **choices: Any) -> int:
        """A rating set of the scored run, made by an admin, rated by `raters`."""
        ids = [self.ids[r] for r in raters]
        return self.act(
            "admin", rating_setup.create_set, self.run.store, setup(self.run, ids, **choices)
        ).id

    def rating_task(self, who: str | None, **choices: Any) -> int:
        """A task of a set given to `who` (an admin stands in for a refused user)."""
        rater = me(who)
        set_id = self.rating_set((rater,), **choices)
        return self.act(rater, rating.my_rating_tasks, set_id)[0].assignment_id

    def item(self, author: str = "ann1", **record: Any) -> int:
        record.setdefault("id", f"it{next(_serial)}")
        return self.act(author, items.create_item, self.suite_id, mcq(**record)).item.id

    def submitted(self, author: str) -> int:
        pk = self.item(author)
        self.act(author, review.submit, pk, 1)
        return pk

    def approved(self, author: str = "ann1", **record: Any) -> int:
        pk = self.item(author, **record)
        self.act(author, review.submit, pk, 1)
        self.act("rev2", review.approve, pk, 2)
        return pk

    def disputed(self) -> int:
        """An item by ann1 labelled A by ann2 and B by ann3."""
        pk = self.item("ann1")
        made = self.act("rev", agreement.assign, [pk], [self.ids["ann2"], self.ids["ann3"]])
        for a in made:
            who = "ann2" if a.annotator_id == self.ids["ann2"] else "ann3"
            self.act(who, agreement.submit_label, a.id, "A" if who == "ann2" else "B")
        return pk


def me(who: str | None) -> str:
    """The acting user when they are active; an admin stands in for a refused one."""
    return who if who in ACTIVE else "admin"


def other_than(who: str | None) -> str:
    """An annotator who is not `who` (to write what `who` reviews)."""
    return "ann2" if who == "ann1" else "ann1"


def _submit_label(w: World, who: str | None) -> Args:
    pk = w.item(other_than(who))
    labeller = w.ids[me(who)] if who in ACTIVE else w.ids["ann2"]
    with transaction(w.factory) as db:  # as if assigned while an annotator (then promoted)
        assignment = Assignment(item_pk=pk, annotator_id=labeller, assigned_by_id=w.ids["rev"])
        db.add(assignment)
        db.flush()
        assignment_id = assignment.id
    return (assignment_id, "A"), {}


def _diff(w: World, who: str | None) -> Args:
    w.approved(id="d1")
    w.act("rev", publishing.publish, w.store, w.suite_id, "v1")
    w.approved(id="d2", question="要约何时生效？")
    w.act("rev", publishing.publish, w.store, w.suite_id, "v2")
    return (w.store, "contracts", "v1", "v2"), {}


def _publish(w: World, who: str | None) -> Args:
    w.approved()
    return (w.store, w.suite_id, "First."), {}


def _from_version(w: World, who: str | None) -> Args:
    draft, problems = read_draft(write_draft(w.store.root.parent / f"draft{next(_serial)}"))
    assert draft is not None and not problems
    w.store.publish(draft, author="x", changelog="First.")
    return (w.store, "mini@v1"), {}


def _preview(w: World, who: str | None) -> Args:
    data = "question,A,B,answer\n合同何时成立？,承诺生效时,要约发出时,A\n".encode()
    mapping = ColumnMapping(
        columns={"question": "question", "choices": ["A", "B"], "answer": "answer"},
        defaults={"task": "mcq", "language": "zh"},
    )
    return (w.suite_id, "x.csv", data, mapping), {}


def _new_suite(w: World, who: str | None) -> Args:
    from annotation_app.services.suites import DEFAULT_TASKS

    return (w.store,), {
        "name": f"s{next(_serial)}",
        "description": "d",
        "guidelines": "g",
        "goals": [{"capability": "c", "description": "d"}],
        "tasks": {"mcq": DEFAULT_TASKS["mcq"]},
    }


def _rate_output(w: World, who: str | None) -> Args:
    scores = {"accuracy": 4, "fluency": 5, "relevance": 3}
    return (w.rating_task(who), scores, "清楚"), {}


def _rate_pair(w: World, who: str | None) -> Args:
    return (w.rating_task(who, mode="pair", models=list(MODELS[:2])), "tie"), {}


Recipe = Callable[[World, str | None], Args]

CASES: dict[str, Recipe] = {
    "agreement.adjudicate": lambda w, who: ((w.disputed(), "B", "B is right", 1), {}),
    "agreement.assign": lambda w, who: (([w.item()], [w.ids["ann2"], w.ids["ann3"]]), {}),
    "agreement.disagreements": lambda w, who: ((w.suite_id,), {}),
    "agreement.my_assignments": lambda w, who: ((w.suite_id,), {}),
    "agreement.submit_label": _submit_label,
    "agreement.suite_agreement": lambda w, who: ((w.suite_id,), {}),
    "audit.entries": lambda w, who: ((), {}),
    "audit.item_history": lambda w, who: ((w.item(),), {}),
    "health.act_on_flag": lambda w, who: ((w.approved(), "retire", "all right", "x@v1"), {}),
    "health.pending_decisions": lambda w, who: ((w.suite_id,), {}),
    "health.suite_health": lambda w, who: ((w.store, w.run.root, w.suite_id), {}),
    "imports.commit_import": lambda w, who: ((w.suite_id, [{**mcq(), "id": "imp1"}]), {}),
    "imports.preview_import": _preview,
    "items.create_item": lambda w, who: ((w.suite_id, mcq(id="new1")), {}),
    "items.get_item": lambda w, who: ((w.item(),), {}),
    "items.search_items": lambda w, who: ((w.suite_id, items.ItemFilter()), {}),
    "items.update_item": lambda w, who: ((w.item(me(who)), mcq(question="改过的？"), 1), {}),
    "publishing.diff": _diff,
    "rating.my_rating_sets": lambda w, who: ((), {}),
    "rating.my_rating_tasks": lambda w, who: ((w.rating_set(),), {}),
    "rating.rate_output": _rate_output,
    "rating.rate_pair": _rate_pair,
    "rating_results.close_set": lambda w, who: ((w.rating_set(),), {}),
    "rating_results.export_ratings": lambda w, who: ((w.rating_set(),), {}),
    "rating_results.list_sets": lambda w, who: ((), {}),
    "rating_results.set_agreement": lambda w, who: ((w.rating_set(),), {}),
    "rating_setup.create_set": lambda w, who: (
        (w.run.store, setup(w.run, [w.ids["ann2"], w.ids["ann3"]])),
        {},
    ),
    "rating_setup.inspect_run": lambda w, who: ((w.run.store, str(w.run.path)), {}),
    "rating_setup.list_runs": lambda w, who: ((w.run.root,), {}),
    "publishing.history": lambda w, who: ((w.store, "contracts"), {}),
    "publishing.publish": _publish,
    "review.approve": lambda w, who: ((w.submitted(other_than(who)), 2), {}),
    "review.reject": lambda w, who: ((w.submitted(other_than(who)), 2, "选项 B 也对"), {}),
    "review.review_queue": lambda w, who: ((w.suite_id,), {}),
    "review.submit": lambda w, who: ((w.item(me(who)), 1), {}),
    "suites.counts": lambda w, who: ((w.suite_id,), {}),
    "suites.create_from_version": _from_version,
    "suites.create_suite": _new_suite,
    "suites.get_suite": lambda w, who: ((w.suite_id,), {}),
    "suites.list_suites": lambda w, who: ((), {}),
    "suites.status_counts": lambda w, who: ((), {}),
    "suites.update_suite": lambda w, who: ((w.suite_id, {"description": "新的说明"}, 1), {}),
    "users.create_user": lambda w, who: (("李娜", "long enough", "annotator"), {}),
    "users.list_users": lambda w, who: ((), {}),
    "users.set_language": lambda w, who: (("zh",), {}),
    "users.update_user": lambda w, who: ((w.ids["ann3"],), {"role": "reviewer"}),
}
