"""The demo's expert ratings: they describe the shipped suite, and they apply to a run only
where its answer is the one that was rated."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import SUITES_DIR

from evalkit.demo.paths import DEMO_RATINGS_FILE, WRITING_SUITE
from evalkit.demo.ratings import stamp_ratings
from evalkit.judging.ratings import read_ratings
from evalkit.scoring.run_folder import MANIFEST_FILE, generations_path
from evalkit.suite.rubric import DEFAULT_CRITERIA
from evalkit.suite.store import SuiteStore

MODELS = {"base", "chat", "base-sft", "chat-sft"}


def _records() -> list[dict]:
    return [json.loads(line) for line in DEMO_RATINGS_FILE.read_text("utf-8").splitlines()]


def test_the_shipped_ratings_rate_every_test_answer_on_the_default_rubric() -> None:
    version = SuiteStore(SUITES_DIR).load(WRITING_SUITE)
    tests = {item.id for item in version.items if item.split == "test"}
    records = _records()
    assert {(r["model"], r["item_id"]) for r in records} == {(m, i) for m in MODELS for i in tests}
    scales = {c.name: c.scale for c in DEFAULT_CRITERIA}
    for r in records:
        assert set(r["scores"]) == set(scales)
        assert all(scales[c][0] <= s <= scales[c][1] for c, s in r["scores"].items())


def _run_folder(root: Path, outputs: dict[str, str]) -> Path:
    version = SuiteStore(SUITES_DIR).load(WRITING_SUITE)
    ref = version.ref
    suite = {"name": WRITING_SUITE, "version": ref.split("@")[1], "content_hash": "sha256:x"}
    manifest = {
        "run_id": "demo-run",
        "config": {"suites_dir": str(SUITES_DIR)},
        "suites": [suite],
        "models": [{"name": "base", "kind": "base"}],
    }
    run = root / "demo-run"
    run.mkdir()
    (run / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
    path = generations_path(run, "base", ref)
    path.parent.mkdir(parents=True)
    lines = [json.dumps({"item_id": i, "output": o}) for i, o in outputs.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return run


def test_ratings_apply_only_to_the_answers_that_were_rated(tmp_path: Path) -> None:
    rated = {r["item_id"]: r for r in _records() if r["model"] == "base"}
    first, second = sorted(rated)[:2]
    run = _run_folder(
        tmp_path, {first: rated[first]["output"], second: rated[second]["output"] + " (changed)"}
    )
    stamped = stamp_ratings(run)
    assert (stamped.applied, stamped.answers) == (1, 2)
    ratings = read_ratings(stamped.path)
    assert {(r.item_id, r.criterion, r.score) for r in ratings} == {
        (first, c, s) for c, s in rated[first]["scores"].items()
    }
    assert {(r.run_id, r.content_hash, r.rater) for r in ratings} == {
        ("demo-run", "sha256:x", "demo-expert")
    }
