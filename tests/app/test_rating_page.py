"""The Rate outputs page through AppTest: a reviewer sets a rating set up from the runs
folder, an annotator rates blind (a refused rating keeps what they entered), the reviewer
exports the ratings file evalkit reads and closes the set."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import Run
from page_helpers import login, texts
from rating_helpers import MODELS, ScoredRun, setup
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from streamlit.testing.v1 import AppTest

from annotation_app.models import RatingAssignment, RatingSet
from annotation_app.services import rating, rating_setup
from evalkit.judging.ratings import PointRating, read_ratings

PAGE = "views/rate.py"


@pytest.fixture
def rate_env(
    monkeypatch: pytest.MonkeyPatch, db_url: str, run: ScoredRun, people: dict[str, int]
) -> ScoredRun:
    monkeypatch.setenv("EVALKIT_APP_DB", db_url)
    monkeypatch.setenv("EVALKIT_SUITES_DIR", str(run.store.root))
    monkeypatch.setenv("EVALKIT_RUNS_DIR", str(run.root))
    return run


def open_page(username: str) -> AppTest:
    at = login(username)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def everything(at: AppTest) -> str:
    """Every text on the page, widget labels and options included."""
    shown = [texts(at)]
    for kind in ("radio", "selectbox", "multiselect", "text_area", "button"):
        for widget in getattr(at, kind):
            shown.append(str(widget.label))
            shown += [str(o) for o in getattr(widget, "options", [])]
    return "\n".join(shown)


def set_up(at: AppTest, run: ScoredRun, people: dict[str, int]) -> None:
    at.selectbox(key="rate-run-choice").select(str(run.path)).run()
    at.button(key="rate-load").click().run()
    assert not at.error, texts(at)
    assert r"Run run\-2026: 3 model(s), suite version(s) advice@v1." in texts(at)
    assert at.multiselect(key="rate-tasks-advice@v1").value == ["generation", "dialogue"]
    at.multiselect(key="rate-models").set_value(list(MODELS[:2]))
    at.multiselect(key="rate-raters").set_value([people["ann1"], people["ann2"]])
    at.button(key="rate-create").click().run()
    assert not at.exception and not at.error, texts(at)


def test_set_up_rate_blind_export_close(
    rate_env: ScoredRun,
    people: dict[str, int],
    act: Run,
    factory: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    reviewer = open_page("rev")
    assert [t.label for t in reviewer.tabs] == ["My ratings", "Set up", "Rating sets"]
    set_up(reviewer, rate_env, people)
    assert reviewer.success[0].value.endswith("8 output(s) or pair(s), 16 rating(s) to give.")
    with factory() as db:
        set_id = db.scalars(select(RatingSet.id)).one()

    annotator = open_page("ann1")
    assert not annotator.tabs  # an annotator rates; setting up is not theirs
    shown = everything(annotator)
    assert "Input" in shown and "Reference answer" in shown and "**accuracy** (1–5)" in shown
    assert all(m not in shown for m in MODELS)  # blind
    tasks = act("ann1", rating.my_rating_tasks, set_id)
    first = tasks[0]
    assert annotator.selectbox(key=f"rate-item-{set_id}").value == 0  # the first item, its
    assert f"### {first.item_id}" in [m.value for m in annotator.markdown]  # outputs in order
    # Saving without every criterion: refused, located, and what was chosen stays.
    annotator.radio(key=f"score-{first.assignment_id}-accuracy").set_value(4)
    annotator.button(key=f"save-{first.assignment_id}").click().run()
    assert annotator.error[0].value == "2 problem(s); nothing was saved."
    assert f"{first.item_id} · 1" in texts(annotator) and "not rated" in texts(annotator)
    assert annotator.radio(key=f"score-{first.assignment_id}-accuracy").value == 4
    for criterion, score in (("fluency", 5), ("relevance", 3)):
        annotator.radio(key=f"score-{first.assignment_id}-{criterion}").set_value(score)
    annotator.text_area(key=f"comment-{first.assignment_id}").input("术语准确")
    annotator.button(key=f"save-{first.assignment_id}").click().run()
    assert not annotator.error and annotator.success[0].value == "Rating saved.", texts(annotator)
    assert "#### Output 1 · ✓ rated" in [m.value for m in annotator.markdown]
    with factory() as db:
        saved = db.get(RatingAssignment, first.assignment_id)
        assert saved is not None and saved.scores == {"accuracy": 4, "fluency": 5, "relevance": 3}
    # The item's second output rated too: the page goes on to the next item.
    second = tasks[1]
    assert (second.item_id, second.number) == (first.item_id, 2)
    for criterion in ("accuracy", "fluency", "relevance"):
        annotator.radio(key=f"score-{second.assignment_id}-{criterion}").set_value(2)
    annotator.button(key=f"save-{second.assignment_id}").click().run()
    assert annotator.selectbox(key=f"rate-item-{set_id}").value == 1, texts(annotator)
    assert f"### {tasks[2].item_id}" in [m.value for m in annotator.markdown]

    reviewer = open_page("rev")
    reviewer.button(key=f"rate-export-button-{set_id}").click().run()
    assert not reviewer.error, texts(reviewer)
    data, count = reviewer.session_state[f"rate-export-{set_id}"]
    assert count == 6 and reviewer.get("download_button")
    command = f"evalkit score {rate_env.path.resolve()} ratings=ratings-set{set_id}.jsonl"
    assert command in [c.value for c in reviewer.code]
    path = tmp_path / "ratings.jsonl"
    path.write_bytes(data)
    ratings = read_ratings(path)
    assert {(r.rater, r.item_id) for r in ratings} == {("ann1", first.item_id)}
    assert sorted(str(r.comment) for r in ratings) == ["None"] * 3 + ["术语准确"] * 3
    assert all(isinstance(r, PointRating) and r.model in MODELS[:2] for r in ratings)
    reviewer.button(key=f"rate-close-{set_id}").click().run()
    assert "Closed " in texts(reviewer)

    annotator = open_page("ann1")
    assert "This set is closed: its ratings are final." in texts(annotator)
    annotator.selectbox(key=f"rate-item-{set_id}").set_value(0).run()
    assert annotator.radio(key=f"score-{first.assignment_id}-fluency").value == 5  # kept
    assert annotator.button(key=f"save-{first.assignment_id}").disabled


def test_a_folder_that_is_not_a_run_is_one_line(
    rate_env: ScoredRun, tmp_path: Path, people: dict[str, int]
) -> None:
    at = open_page("admin")
    at.text_input(key="rate-run-path").input(str(tmp_path)).run()
    at.button(key="rate-load").click().run()
    assert [e.value for e in at.error] == [
        f"Cannot rate this run: {tmp_path}: not a run folder (no manifest.json)"
    ]
    at.sidebar.selectbox(key="language_choice").select("zh").run()
    at.switch_page(PAGE).run()
    assert at.title[0].value == "模型输出评分"
    assert [t.label for t in at.tabs] == ["我的评分", "创建评分", "评分集"]


def test_rating_the_last_pair_stays_on_it(
    rate_env: ScoredRun, people: dict[str, int], act: Run, factory: sessionmaker[Session]
) -> None:
    choice = setup(rate_env, [people["ann2"]], mode="pair", models=list(MODELS[1:]), items=["g2"])
    made = act("admin", rating_setup.create_set, rate_env.store, choice)
    [task] = act("ann2", rating.my_rating_tasks, made.id)
    at = open_page("ann2")
    assert [m.value for m in at.markdown if m.value.startswith("####")] == [
        "#### Output A",
        "#### Output B",
    ]
    at.radio(key=f"choice-{task.assignment_id}").set_value("B").run()
    at.button(key=f"save-{task.assignment_id}").click().run()
    assert not at.exception and at.success[0].value == "Rating saved.", texts(at)
    assert at.selectbox(key=f"rate-item-{made.id}").value == 0
    assert at.radio(key=f"choice-{task.assignment_id}").value == "B"
    with factory() as db:
        saved = db.get(RatingAssignment, task.assignment_id)
        assert saved is not None and saved.winner == ("a" if saved.flipped else "b")
