"""The gate against a stored run: an unchanged candidate passes, a regressed one fails with
a summary naming the suite and metric, and bad gate settings are one line before any work."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from analysis.planted import PlantedSuite, planted_suite, scored_run
from click.testing import CliRunner

from evalkit.cli import cli
from evalkit.errors import UsageError
from evalkit.history.index import RunIndex
from evalkit.history.stored_gate import gate_against_stored, resolve_stored_baseline
from evalkit.runner.config import RunConfig, compose_run_config
from evalkit.scoring import score_run


@pytest.fixture
def world(tmp_path: Path) -> tuple[PlantedSuite, Path]:
    suite = planted_suite(tmp_path / "suites", 80, 0, seed=6)
    reports = tmp_path / "reports"
    scored_run(reports / "prod", suite, ["weak", "ckpt"], seed=3)
    return suite, reports


def _candidate(reports: Path, name: str, wrong_share: float) -> Path:
    """A copy of the stored run in which `ckpt` answers `wrong_share` of its right items
    wrongly (0: unchanged), re-scored."""
    run = reports / name
    shutil.copytree(reports / "prod", run)
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    manifest["run_id"] = name
    (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    results = {
        r["item_id"]: r
        for r in map(json.loads, (run / "results.jsonl").read_text("utf-8").splitlines())
        if r["model"] == "ckpt"
    }
    path = run / "generations" / "ckpt" / "planted@v1.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    right = [r for r in rows if results[r["item_id"]]["score"] == 1.0]
    for row in right[: int(len(right) * wrong_share)]:
        letter = re.search(r"answer is ([A-D])", row["output"]).group(1)  # type: ignore[union-attr]
        row["output"] = f"The answer is {'B' if letter == 'A' else 'A'}."
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    score_run(run, reports.parent / "suites", resamples=200)
    return run


def _config(reports: Path, *gate: str) -> RunConfig:
    return compose_run_config(
        [
            "suite=planted",
            "model=ckpt",
            f"out={reports}",
            f"suites_dir={reports.parent / 'suites'}",
            "resamples=200",
            *gate,
        ]
    )


def test_an_unchanged_candidate_passes(world: tuple[PlantedSuite, Path]) -> None:
    _, reports = world
    run = _candidate(reports, "same", 0.0)
    config = _config(reports, "gate.baseline_run=prod", "gate.model=ckpt")
    stored = resolve_stored_baseline(config)
    assert stored is not None and stored.model == "ckpt"
    outcome = gate_against_stored(run, stored, config, reports.parent / "suites")
    assert outcome.regressions == []
    text = outcome.markdown.read_text(encoding="utf-8")
    assert "**PASS**" in text and "| planted@v1 | ckpt.same | score |" in text


def test_a_regressed_candidate_fails_naming_suite_and_metric(
    world: tuple[PlantedSuite, Path],
) -> None:
    _, reports = world
    run = _candidate(reports, "worse", 0.5)
    with RunIndex(reports) as index:
        index.register(reports / "prod")
        index.tag("prod", "prod")
    config = _config(reports, "gate.baseline=prod", "gate.model=ckpt")
    stored = resolve_stored_baseline(config)
    assert stored is not None and stored.run_dir == reports / "prod"
    outcome = gate_against_stored(run, stored, config, reports.parent / "suites")
    (found,) = outcome.regressions
    assert found.startswith("ckpt.worse on planted@v1: -0.")
    text = outcome.markdown.read_text(encoding="utf-8")
    assert "**FAIL**" in text and "| planted@v1 | ckpt.worse | score |" in text
    assert "holm-corrected" in text
    # the stored model was not regenerated: its rows are the stored run's own
    gate_rows = (outcome.comparison / "generations" / "ckpt.prod" / "planted@v1.jsonl").read_text()
    assert gate_rows == (reports / "prod" / "generations" / "ckpt" / "planted@v1.jsonl").read_text()


@pytest.mark.parametrize(
    ("gate", "message"),
    [
        (["gate.baseline=prod"], "gate.baseline=prod: no run is tagged 'prod' in"),
        (["gate.baseline_run=nope"], "gate.baseline_run=nope: nope: no such run folder"),
        (["gate.baseline_run=prod", "gate.model=gpt"], "gate.model=gpt: not a model of"),
        (["gate.baseline_run=prod", "gate.baseline=x"], "give one of them"),
    ],
)
def test_bad_gate_settings_are_one_line(
    world: tuple[PlantedSuite, Path], gate: list[str], message: str
) -> None:
    _, reports = world
    with pytest.raises(UsageError, match=re.escape(message)):
        resolve_stored_baseline(_config(reports, *gate))


def test_evalkit_run_refuses_a_bad_gate_before_any_work(world: tuple[PlantedSuite, Path]) -> None:
    _, reports = world
    before = sorted(p.name for p in reports.iterdir())
    args = ["run", "suite=planted", "model=missing", f"out={reports}", "gate.baseline=prod"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: gate.baseline=prod: no run is tagged")
    assert sorted(p.name for p in reports.iterdir()) == before


def test_tags_are_set_and_listed(world: tuple[PlantedSuite, Path]) -> None:
    _, reports = world
    result = CliRunner().invoke(cli, ["runs", "--runs-dir", str(reports), "--tag", "prod=prod"])
    assert result.exit_code == 0, result.output
    assert "tagged prod as prod" in result.output
    assert any(
        line.startswith("prod  ") and line.endswith("[prod]") for line in result.output.splitlines()
    )
    bad = CliRunner().invoke(cli, ["runs", "--runs-dir", str(reports), "--tag", "x=nope"])
    assert bad.exit_code != 0 and "nope: no scored run of that id" in bad.output
    bad = CliRunner().invoke(cli, ["runs", "--runs-dir", str(reports), "--tag", "prod"])
    assert bad.exit_code == 2 and "expected TAG=RUN" in bad.output
