"""Suite health: reviewers see what the stored runs flag in the latest published version,
revise or retire the flagged items, and the next version's changelog carries the evidence;
after a run of that version, the fixed item is no longer flagged."""

from __future__ import annotations

from pathlib import Path

import pytest
from analysis.planted import PlantedSuite, planted_suite, scored_run
from app_helpers import Run
from page_helpers import login, texts
from streamlit.testing.v1 import AppTest

from annotation_app.errors import PermissionDenied
from annotation_app.models import Status
from annotation_app.services import health, items, publishing, review, suites
from evalkit.suite.store import SuiteStore

PAGE = "views/health.py"


@pytest.fixture
def planted(tmp_path: Path, store: SuiteStore, act: Run, people: dict[str, int]) -> PlantedSuite:
    """The planted suite published in the app's store, curated in the app from that version,
    and two scored runs of 4 simulated models each in the runs folder."""
    suite = planted_suite(store.root, 60, 6, seed=11)
    act("admin", suites.create_from_version, store, "planted@v1")
    runs = tmp_path / "reports"
    scored_run(runs / "run-a", suite, [f"a{k}" for k in range(4)], seed=1)
    scored_run(runs / "run-b", suite, [f"b{k}" for k in range(4)], seed=2)
    return suite


def _suite_id(act: Run) -> int:
    return next(s.id for s in act("admin", suites.list_suites) if s.name == "planted")


def test_reviewers_see_the_planted_items_first_with_evidence_and_answers(
    planted: PlantedSuite, act: Run, store: SuiteStore, tmp_path: Path
) -> None:
    report = act("rev", health.suite_health, store, tmp_path / "reports", _suite_id(act))
    assert (report.suite, len(report.models), report.items) == ("planted@v1", 8, 60)
    top = report.flagged[: len(planted.planted)]
    assert len({f.item_id for f in top} & planted.planted) >= 4
    first = report.flagged[0]
    assert (
        first.flags[0]["flag"] == "suspected_wrong_gold" and "gold is" in first.flags[0]["evidence"]
    )
    assert len(first.answers) == 8 and first.item_pk is not None and first.status == "approved"
    values = [f.value for f in report.flagged]
    assert values == sorted(values, reverse=True)


def test_annotators_may_not_see_suite_health(
    planted: PlantedSuite, act: Run, store: SuiteStore, tmp_path: Path
) -> None:
    with pytest.raises(PermissionDenied):
        act("ann1", health.suite_health, store, tmp_path / "reports", _suite_id(act))


def test_retired_and_revised_items_and_their_evidence_reach_the_next_changelog(
    planted: PlantedSuite, act: Run, store: SuiteStore, tmp_path: Path
) -> None:
    suite_id = _suite_id(act)
    report = act("rev", health.suite_health, store, tmp_path / "reports", suite_id)
    retire, revise = report.flagged[0], report.flagged[1]
    evidence = retire.flags[0]["evidence"]
    act("rev", health.act_on_flag, retire.item_pk, "retire", evidence, report.suite)
    row = act("rev", health.act_on_flag, revise.item_pk, "revise", "gold looks wrong", "planted@v1")
    assert row.status == Status.REVISED.value
    # the reviser fixes the gold in the editor; the item is approved again by another reviewer
    fixed = act("rev", items.get_item, revise.item_pk)
    record = {**fixed.record, "answer": planted.truth[revise.item_id]}
    saved = act("rev", items.update_item, revise.item_pk, record, fixed.version)
    act("rev", review.submit, revise.item_pk, saved.item.version)
    act("rev2", review.approve, revise.item_pk, saved.item.version + 1)
    version = act("rev", publishing.publish, store, suite_id, "Fixes from suite health.")
    assert version.ref == "planted@v2"
    ids = {i.id for i in version.items}
    assert retire.item_id not in ids and revise.item_id in ids  # retired: out of the version
    assert store.load("planted@v1").by_id[retire.item_id]  # the published version keeps it
    changelog = version.manifest.changelog
    assert f"- {retire.item_id}: retire (flagged in planted@v1 by rev: {evidence})" in changelog
    assert f"- {revise.item_id}: revise" in changelog and "gold looks wrong" in changelog
    assert act("rev", health.pending_decisions, suite_id) == []  # carried by v2 now


def test_after_a_run_of_the_fixed_version_the_flag_is_gone(
    planted: PlantedSuite, act: Run, store: SuiteStore, tmp_path: Path
) -> None:
    suite_id = _suite_id(act)
    report = act("rev", health.suite_health, store, tmp_path / "reports", suite_id)
    flagged = report.flagged[0]
    assert flagged.flags[0]["flag"] == "suspected_wrong_gold"
    act("rev", health.act_on_flag, flagged.item_pk, "revise", "gold", report.suite)
    fixed = act("rev", items.get_item, flagged.item_pk)
    record = {**fixed.record, "answer": planted.truth[flagged.item_id]}
    saved = act("rev", items.update_item, flagged.item_pk, record, fixed.version)
    act("rev", review.submit, flagged.item_pk, saved.item.version)
    act("rev2", review.approve, flagged.item_pk, saved.item.version + 1)
    act("rev", publishing.publish, store, suite_id, "Gold fixed.")
    v2 = PlantedSuite(store.load("planted@v2"), planted.truth, planted.planted - {flagged.item_id})
    runs = tmp_path / "reports-v2"
    scored_run(runs / "run-a", v2, [f"a{k}" for k in range(4)], seed=1)
    scored_run(runs / "run-b", v2, [f"b{k}" for k in range(4)], seed=2)
    after = act("rev", health.suite_health, store, runs, suite_id)
    assert after.suite == "planted@v2"
    assert flagged.item_id not in {
        f.item_id for f in after.flagged if f.flags[0]["flag"] == "suspected_wrong_gold"
    }


def test_no_published_version_or_no_runs_is_said_plainly(
    act: Run, store: SuiteStore, suite_id: int, tmp_path: Path
) -> None:
    report = act("rev", health.suite_health, store, tmp_path / "reports", suite_id)
    assert report.message == "health.no_version" and report.flagged == []


@pytest.fixture
def health_env(
    monkeypatch: pytest.MonkeyPatch, db_url: str, planted: PlantedSuite, tmp_path: Path
) -> PlantedSuite:
    monkeypatch.setenv("EVALKIT_APP_DB", db_url)
    monkeypatch.setenv("EVALKIT_SUITES_DIR", str(planted.version.path.parent.parent))
    monkeypatch.setenv("EVALKIT_RUNS_DIR", str(tmp_path / "reports"))
    return planted


def _page(username: str) -> AppTest:
    at = login(username)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def test_the_page_shows_the_flags_and_retires_an_item(health_env: PlantedSuite, act: Run) -> None:
    at = _page("rev")
    shown = texts(at)
    assert "Suite health: planted" in shown and "8 models from 2 runs" in shown
    assert "suspected_wrong_gold:" in shown and "gold is" in shown
    first = next(b for b in at.button if str(b.key).startswith("retire-"))
    pk = int(str(first.key).split("-")[1])
    first.click().run()
    assert not at.exception, at.exception
    assert "will not be in the next version" in texts(at)
    row = act("rev", items.get_item, pk)
    assert row.status == Status.RETIRED.value
    assert "retire (flagged in planted@v1 by rev" in texts(at)  # for the next changelog
