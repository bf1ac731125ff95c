"""Expert rating on real SQLite: blind assignment, each rater's own stored order, rating and
revision, bad input refused with nothing lost, the export read back by evalkit, and agreement
numbers against `krippendorff.alpha`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import krippendorff
import numpy as np
import pytest
from app_helpers import Run
from rating_helpers import MODELS, OPEN_ENDED_IDS, ScoredRun, scored_run, setup
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from annotation_app.errors import (
    BadRunFolder,
    InvalidInput,
    NotLoggedIn,
    PermissionDenied,
    RatingSetClosed,
)
from annotation_app.models import AuditEntry, RatingAssignment, RatingSet, RatingUnit
from annotation_app.services import rating, rating_results, rating_setup
from evalkit.judging.ratings import PairRating, PointRating, read_ratings
from evalkit.scoring import score_run
from evalkit.scoring.config import ScoringConfig
from evalkit.scoring.run_folder import read_manifest, recorded_scoring
from evalkit.suite.store import SuiteStore

ALL_THREE = {"accuracy": 4, "fluency": 5, "relevance": 3}


def _ids(people: dict[str, int], *names: str) -> list[int]:
    return [people[n] for n in names]


def _audit(factory: sessionmaker[Session], action: str) -> list[AuditEntry]:
    with factory() as db:
        return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_inspect_lists_models_suites_and_open_ended_criteria(run: ScoredRun, act: Run) -> None:
    [found] = act("rev", rating_setup.list_runs, run.root)
    assert (found.name, found.scored) == ("run-2026", True)
    info = act("rev", rating_setup.inspect_run, run.store, str(run.path))
    assert info.run_id == "run-2026" and info.models == list(MODELS)
    [suite] = info.suites
    assert suite.ref == "advice@v1" and suite.content_hash == run.version.manifest.content_hash
    assert suite.items == {"mcq": ["m1"], "generation": ["g1", "g2", "g3"], "dialogue": ["d1"]}
    assert suite.criteria["generation"] == ["accuracy", "fluency", "relevance"]
    assert suite.criteria["mcq"] == []


def test_each_unit_goes_to_n_raters_blind_in_an_order_of_their_own(
    run: ScoredRun, act: Run, people: dict[str, int], factory: sessionmaker[Session]
) -> None:
    raters = _ids(people, "ann1", "ann2", "ann3")
    made = act("rev", rating_setup.create_set, run.store, setup(run, raters))
    # The open-ended items only, by default; two models: 8 units, each to 2 of the 3 raters.
    assert (made.items, made.units, made.assigned) == (4, 8, 16)
    assert sorted(total for _, total in made.progress.values()) == [4, 6, 6]
    with factory() as db:
        units = db.scalars(select(RatingUnit).where(RatingUnit.set_id == made.id)).all()
        assert sorted({u.item_id for u in units}) == sorted(OPEN_ENDED_IDS)
        for unit in units:
            raters_of_unit = db.scalars(
                select(RatingAssignment.rater_id).where(RatingAssignment.unit_id == unit.id)
            ).all()
            assert len(set(raters_of_unit)) == 2
    orders = {}
    for name in ("ann1", "ann2", "ann3"):
        tasks = act(name, rating.my_rating_tasks, made.id)
        assert all(m not in repr(tasks) for m in MODELS)  # blind: no model name anywhere
        assert all(t.scores is None and t.criteria for t in tasks)
        # An item's two outputs come together, numbered 1 and 2 for this rater.
        assert [t.number for t in tasks] == [1, 2] * (len(tasks) // 2)
        orders[name] = [(t.item_id, t.outputs[0]) for t in tasks]
        assert act(name, rating.my_rating_tasks, made.id) == tasks  # stored: stable
    shared = [set(orders["ann1"]) & set(orders[n]) for n in ("ann2", "ann3")]
    assert any(
        [o for o in orders["ann1"] if o in s] != [o for o in orders[n] if o in s]
        for s, n in zip(shared, ("ann2", "ann3"), strict=True)
    ), "every rater got the same order"
    # The same seed makes the same orders again; the stored set keeps its own.
    again = act("rev", rating_setup.create_set, run.store, setup(run, raters))
    for name in ("ann1", "ann2", "ann3"):
        tasks = act(name, rating.my_rating_tasks, again.id)
        assert [(t.item_id, t.outputs[0]) for t in tasks] == orders[name]
    [created] = _audit(factory, "rating_set.create")[:1]
    assert created.after is not None and created.after["models"] == list(MODELS[:2])


def test_sample_and_chosen_items(run: ScoredRun, act: Run, people: dict[str, int]) -> None:
    raters = _ids(people, "ann1", "ann2")
    sampled = act("rev", rating_setup.create_set, run.store, setup(run, raters, sample=2, seed=7))
    assert sampled.items == 2
    again = act("rev", rating_setup.create_set, run.store, setup(run, raters, sample=2, seed=7))
    first = {t.item_id for t in act("ann1", rating.my_rating_tasks, sampled.id)}
    assert first == {t.item_id for t in act("ann1", rating.my_rating_tasks, again.id)}
    chosen = act("rev", rating_setup.create_set, run.store, setup(run, raters, items=["g2"]))
    assert chosen.items == 1 and chosen.units == 2


def test_pairwise_sides_are_shuffled_per_rater_and_stored_by_model(
    run: ScoredRun, act: Run, people: dict[str, int], factory: sessionmaker[Session]
) -> None:
    raters = _ids(people, "ann1", "ann2")
    made = act(
        "rev",
        rating_setup.create_set,
        run.store,
        setup(run, raters, mode="pair", models=[MODELS[0], MODELS[2]]),
    )
    assert made.units == 4 and made.assigned == 8
    flips = []
    for name in ("ann1", "ann2"):
        for task in act(name, rating.my_rating_tasks, made.id):
            with factory() as db:
                a = db.get(RatingAssignment, task.assignment_id)
                assert a is not None
                first, second = a.unit.outputs
                flipped = a.flipped
            assert task.outputs == ([second, first] if flipped else [first, second])
            assert task.outputs[0] is not None and "回答1" in (task.outputs[1 if flipped else 0])
            act(name, rating.rate_pair, task.assignment_id, "A")
            with factory() as db:
                a = db.get(RatingAssignment, task.assignment_id)
                assert a is not None and a.winner == ("b" if flipped else "a")
            again = act(name, rating.my_rating_tasks, made.id)
            assert next(t for t in again if t.assignment_id == task.assignment_id).choice == "A"
            flips.append(flipped)
    assert True in flips and False in flips  # both sides occur (seed 0)
    exported = act("rev", rating_results.export_ratings, made.id)
    assert len(exported) == 8 and all(isinstance(r, PairRating) for r in exported)
    assert {(r.model_a, r.model_b) for r in exported} == {(MODELS[0], MODELS[2])}


def test_rate_and_revise_own_rating_only_while_open(
    run: ScoredRun, act: Run, people: dict[str, int], factory: sessionmaker[Session]
) -> None:
    made = act("rev", rating_setup.create_set, run.store, setup(run, _ids(people, "ann1", "ann2")))
    mine = act("ann1", rating.my_rating_tasks, made.id)[0]
    theirs = act("ann2", rating.my_rating_tasks, made.id)[0]
    saved = act("ann1", rating.rate_output, mine.assignment_id, ALL_THREE, " 很好 ")
    assert saved.scores == ALL_THREE and saved.comment == "很好" and saved.rated_at
    revised = act("ann1", rating.rate_output, mine.assignment_id, {**ALL_THREE, "fluency": 2})
    assert revised.scores == {**ALL_THREE, "fluency": 2} and revised.comment is None
    [rated] = _audit(factory, "rating.rate")
    [revision] = _audit(factory, "rating.revise")
    assert rated.username == "ann1" and rated.after is not None
    assert rated.after["models"] in ([MODELS[0]], [MODELS[1]])
    assert revision.before == {"scores": ALL_THREE, "winner": None, "comment": "很好"}
    # Nobody else sees it while rating; nobody else may rate it.
    assert all(t.scores is None for t in act("ann2", rating.my_rating_tasks, made.id))
    with pytest.raises(PermissionDenied, match="given to another rater"):
        act("ann2", rating.rate_output, mine.assignment_id, ALL_THREE)
    with pytest.raises(NotLoggedIn):
        act("gone", rating.rate_output, mine.assignment_id, ALL_THREE)
    # A rating off the scale, or not on every criterion: located, all at once; nothing saved.
    with pytest.raises(InvalidInput) as bad:
        act("ann2", rating.rate_output, theirs.assignment_id, {"accuracy": 6, "fluency": 0})
    where = f"{theirs.item_id} · {theirs.number}"
    assert [str(p) for p in bad.value.problems] == [
        f"{where}: accuracy: 6 is outside the scale 1..5",
        f"{where}: fluency: 0 is outside the scale 1..5",
        f"{where}: relevance: not rated",
    ]
    with pytest.raises(InvalidInput, match="1 problem"):
        act("ann2", rating.rate_pair, theirs.assignment_id, "A")  # a pointwise task
    # Closed: final; the ratings given stay.
    act("rev", rating_results.close_set, made.id)
    with pytest.raises(RatingSetClosed):
        act("ann1", rating.rate_output, mine.assignment_id, ALL_THREE)
    assert act("ann1", rating.my_rating_tasks, made.id)[0].scores == {**ALL_THREE, "fluency": 2}
    refused = [e.after for e in _audit(factory, "access.refused")]
    assert [r["error"] for r in refused if r] == [
        "error.not_your_rating_task",
        "error.not_logged_in",
        "error.rating_set_closed",
    ]


def test_raters_of_an_open_set_see_neither_agreement_nor_export(
    run: ScoredRun, act: Run, people: dict[str, int]
) -> None:
    made = act("admin", rating_setup.create_set, run.store, setup(run, _ids(people, "rev", "ann1")))
    for fn in (rating_results.set_agreement, rating_results.export_ratings):
        with pytest.raises(PermissionDenied, match="shown once it is closed"):
            act("rev", fn, made.id)
        act("admin", fn, made.id)  # not a rater of the set
    act("admin", rating_results.close_set, made.id)
    assert act("rev", rating_results.export_ratings, made.id) == []


def _bad_run(act: Run, run: ScoredRun, path: Path, match: str) -> None:
    with pytest.raises(BadRunFolder, match=match):
        act("rev", rating_setup.inspect_run, run.store, str(path))
    with pytest.raises(BadRunFolder, match=match):
        act("rev", rating_setup.create_set, run.store, setup(run, [1], run_dir=str(path)))


def test_bad_run_folders_are_refused_in_one_line(
    run: ScoredRun, act: Run, tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    _bad_run(act, run, tmp_path, r"not a run folder \(no manifest.json\)")
    unscored = scored_run(tmp_path / "a", scored=False)
    _bad_run(act, run, unscored.path, "summary.json: missing; score the run first")
    changed = scored_run(tmp_path / "b")
    manifest = json.loads((changed.path / "manifest.json").read_text(encoding="utf-8"))
    manifest["suites"][0]["content_hash"] = "sha256:" + "0" * 64  # another version's content
    (changed.path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    _bad_run(act, run, changed.path, r"suites\[0\]\.content_hash: advice@v1 in .* is not the")
    with pytest.raises(BadRunFolder, match=r"no suite 'advice' in .*empty \(suites: none\)"):
        act("rev", rating_setup.inspect_run, SuiteStore(tmp_path / "empty"), str(run.path))
    with factory() as db:
        assert db.scalar(select(RatingSet.id)) is None


def test_set_up_choices_are_checked_all_at_once(
    run: ScoredRun, act: Run, people: dict[str, int]
) -> None:
    with pytest.raises(InvalidInput) as bad:
        act(
            "rev",
            rating_setup.create_set,
            run.store,
            setup(
                run,
                [people["ann1"], people["gone"]],
                mode="pair",
                models=[MODELS[0], "gpt-5"],
                raters_per_unit=3,
            ),
        )
    assert [(p.field, p.reason) for p in bad.value.problems] == [
        ("models", f"'gpt-5' is not a model of the run ({', '.join(MODELS)})"),
        ("raters", "a rater does not exist or is deactivated"),
        (
            "raters_per_unit",
            "3 rater(s) per output, but 1 rater(s) chosen: choose at least as many raters",
        ),
    ]
    with pytest.raises(InvalidInput) as bad:
        act(
            "rev",
            rating_setup.create_set,
            run.store,
            setup(run, [people["ann1"]], items=["m1", "zz"]),
        )
    assert [p.reason for p in bad.value.problems] == [
        "'zz' is not a test item of advice@v1",
        "m1 (mcq): no criterion of the rubric rates mcq",
    ]


def test_export_round_trips_and_evalkit_scores_it(
    run: ScoredRun, act: Run, people: dict[str, int], tmp_path: Path
) -> None:
    made = act("rev", rating_setup.create_set, run.store, setup(run, _ids(people, "ann1", "ann2")))
    for name, accuracy in (("ann1", 4), ("ann2", 2)):
        for task in act(name, rating.my_rating_tasks, made.id):
            scores = {**ALL_THREE, "accuracy": accuracy + task.number % 2}
            act(name, rating.rate_output, task.assignment_id, scores, "理由：<b>好</b>")
    exported = act("rev", rating_results.export_ratings, made.id)
    assert len(exported) == 16 * 3 and all(isinstance(r, PointRating) for r in exported)
    first = exported[0]
    assert isinstance(first, PointRating)
    assert (first.run_id, first.suite) == ("run-2026", "advice@v1")
    assert first.content_hash == run.version.manifest.content_hash
    assert first.rater in {"ann1", "ann2"} and first.scale == (1, 5)
    path = tmp_path / "ratings.jsonl"
    path.write_bytes(rating_results.ratings_file(exported))
    assert read_ratings(path) == exported
    # `evalkit score RUN ratings=FILE` takes it (on a copy: scoring writes into the run).
    copy = shutil.copytree(run.path, tmp_path / "copy")
    config = ScoringConfig(**recorded_scoring(read_manifest(copy)), ratings=[str(path)])
    summary = score_run(copy, resamples=50, config=config)
    assert summary["experts"]["ratings"] == len(exported)
    page = {a.criterion: a for a in act("rev", rating_results.set_agreement, made.id)}
    for record in summary["experts"]["agreement"]:
        assert page[record["criterion"]].alpha == pytest.approx(record["alpha"], nan_ok=True)
        assert page[record["criterion"]].exact == pytest.approx(record["exact_agreement"])


# Three raters, six units, some ratings missing (NaN), on a 1-5 scale.
TABLE = [
    [1, 2, 3, 3, np.nan, 5],
    [1, 2, 4, 3, 2, np.nan],
    [np.nan, 3, 4, 3, 2, 4],
]


@pytest.mark.parametrize("level", ["ordinal", "nominal"])
def test_agreement_is_krippendorffs_alpha_with_missing_ratings(level: str) -> None:
    units = {
        j: {f"r{i}": float(row[j]) for i, row in enumerate(TABLE) if not np.isnan(row[j])}
        for j in range(6)
    }
    found = rating_results.rater_agreement("accuracy", level, units)  # type: ignore[arg-type]
    expected = krippendorff.alpha(reliability_data=np.array(TABLE), level_of_measurement=level)
    assert found.alpha == pytest.approx(expected)
    assert (found.raters, found.units, found.shared) == (3, 6, 6)
    assert found.exact == pytest.approx(3 / 6)  # units 0, 3 and 4
    one_value = rating_results.rater_agreement("x", level, {0: {"a": 3.0, "b": 3.0}, 1: {"a": 2.0}})
    assert (one_value.alpha, one_value.exact, one_value.shared) == (None, 1.0, 1)


def test_set_agreement_per_criterion_and_pairwise(
    run: ScoredRun, act: Run, people: dict[str, int]
) -> None:
    raters = _ids(people, "ann1", "ann2", "ann3")
    made = act("rev", rating_setup.create_set, run.store, setup(run, raters, items=["g1", "g2"]))
    given: dict[tuple[str, str], dict[str, int]] = {}
    for name in ("ann1", "ann2", "ann3"):
        for task in act(name, rating.my_rating_tasks, made.id):
            if (name, task.item_id) == ("ann3", "g2"):
                continue  # missing ratings
            score = {"ann1": 2, "ann2": 3, "ann3": 2}[name] + task.number
            act(name, rating.rate_output, task.assignment_id, {**ALL_THREE, "accuracy": score})
            given[name, f"{task.item_id}/{task.outputs[0]}"] = {"accuracy": score}
    units = sorted({unit for _, unit in given})
    table = np.array(
        [
            [given.get((n, u), {}).get("accuracy", np.nan) for u in units]
            for n in ("ann1", "ann2", "ann3")
        ],
        dtype=float,
    )
    scores = {a.criterion: a for a in act("rev", rating_results.set_agreement, made.id)}
    assert list(scores) == ["accuracy", "fluency", "relevance"]
    assert scores["accuracy"].alpha == pytest.approx(
        krippendorff.alpha(reliability_data=table, level_of_measurement="ordinal")
    )
    assert scores["fluency"].alpha is None and scores["fluency"].exact == 1.0
    pair = act(
        "rev",
        rating_setup.create_set,
        run.store,
        setup(run, raters[:2], mode="pair", models=list(MODELS[:2])),
    )
    for name, choice in (("ann1", "A"), ("ann2", "tie")):
        for task in act(name, rating.my_rating_tasks, pair.id):
            act(name, rating.rate_pair, task.assignment_id, choice)
    [nominal] = act("rev", rating_results.set_agreement, pair.id)
    assert (nominal.criterion, nominal.level, nominal.shared, nominal.exact) == (
        "(pairwise)",
        "nominal",
        4,
        0.0,
    )
