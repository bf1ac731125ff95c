"""`evalkit run ... subset=FILE`: only the anchors are generated, and the scored run reports
each model's full-suite estimate, labelled as one, with the subset's validated error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalkit.analysis.subset import AnchorSubset, LooCase
from evalkit.errors import UsageError
from evalkit.runner.config import compose_run_config
from evalkit.runner.run import execute_run
from evalkit.scoring import score_run, summary_lines
from evalkit.suite.store import SuiteStore

from .conftest import SUITES_DIR

ANCHORS = 4


def _subset_file(tmp_path: Path, ref: str = "legal@v2", content_hash: str | None = None) -> Path:
    version = SuiteStore(SUITES_DIR).load(ref)
    test_ids = [i.id for i in version.items if i.split == "test"]
    subset = AnchorSubset(
        suite=version.ref,
        content_hash=content_hash or version.manifest.content_hash,
        model_type="1pl",
        anchors=dict.fromkeys(test_ids[:ANCHORS], len(test_ids) / ANCHORS),
        params={i: (0.0, 1.0) for i in test_ids},
        fixed={},
        prior=(0.0, 1.0),
        models=["m1", "m2"],
        runs=["r"],
        validation=[LooCase("m1", 0.5, 0.55, 0.1), LooCase("m2", 0.7, 0.6, 0.1)],
    )
    path = tmp_path / f"anchors-{ref}.json"
    path.write_text(json.dumps(subset.as_dict()), encoding="utf-8")
    return path


def _config(tmp_path: Path, models_dir: Path, *overrides: str):  # type: ignore[no-untyped-def]
    return compose_run_config(
        [
            f"suites_dir={SUITES_DIR}",
            f"models_dir={models_dir}",
            f"out={tmp_path / 'reports'}",
            f"cache={tmp_path / 'cache.sqlite'}",
            "max_new_tokens=4",
            *overrides,
        ]
    )


@pytest.mark.slow
def test_a_subset_run_generates_the_anchors_only_and_reports_the_estimate(
    tmp_path: Path, models_dir: Path
) -> None:
    from evalkit.report import write_report

    path = _subset_file(tmp_path)
    config = _config(
        tmp_path,
        models_dir,
        "suite=[legal,general]",
        "model=base",
        "backend=hf",
        f"subset={path}",
        "run_id=sub",
    )
    result = execute_run(config, echo=lambda _: None)
    legal = (result.run_dir / "generations" / "base" / "legal@v2.jsonl").read_text("utf-8")
    assert len(legal.splitlines()) == ANCHORS  # the anchors only; general runs whole
    assert (result.run_dir / "subset.json").is_file()  # the run folder keeps what it ran
    summary = score_run(result.run_dir, SUITES_DIR, resamples=100)
    (estimate,) = summary["estimates"]
    assert estimate["model"] == "base" and estimate["suite"] == "legal@v2"
    assert estimate["anchors_answered"] == ANCHORS and 0 <= estimate["estimate"] <= 1
    assert estimate["mae"] == pytest.approx(0.075)
    lines = summary_lines(summary)
    assert any("ESTIMATED full-suite share right" in line for line in lines)
    assert any("run on 4 anchor items" in line for line in lines)
    html = write_report(result.run_dir, SUITES_DIR).read_text(encoding="utf-8")
    assert 'id="estimates-table"' in html and "An estimate, not a measurement" in html


@pytest.mark.parametrize(
    ("make", "extra", "message"),
    [
        (lambda t: _subset_file(t, "general"), [], "its anchors are items of general@v1, not of"),
        (lambda t: _subset_file(t, content_hash="sha256:" + "0" * 64), [], "with content hash"),
        (lambda t: _subset_file(t), ["limit=3"], "cannot be combined with limit= or tags="),
        (lambda t: t / "missing.json", [], "no such file"),
    ],
)
def test_a_bad_subset_is_refused_before_any_work(
    tmp_path: Path,
    models_dir: Path,
    make,
    extra: list[str],
    message: str,  # type: ignore[no-untyped-def]
) -> None:
    path = make(tmp_path)
    config = _config(tmp_path, models_dir, "suite=legal", "model=base", f"subset={path}", *extra)
    with pytest.raises(UsageError, match=f"subset={path}: .*{message}"):
        execute_run(config, echo=lambda _: None)
    assert not (tmp_path / "reports").exists()
