"""Each SFT model against its own starting model; dev items never scored; bad settings refused
before anything is written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from drafts import snapshot
from evalkit.cli import cli
from evalkit.demo.tiny import train_tokenizer
from evalkit.scoring import score_run
from evalkit.scoring.config import ScoringConfig

from .synthetic import model, run_with_answers, synthetic_suite

# Two base models; the SFT checkpoint was fine-tuned from the second, not the run's baseline.
MODELS = [
    model("base-a"),
    model("base-b"),
    model("sft-b", "sft", starting_point="base", starting_model="base-b"),
]
SKILL = {"base-a": 0.2, "base-b": 0.9, "sft-b": 0.9}


@pytest.fixture
def run(tmp_path: Path) -> Path:
    root = tmp_path / "suites"
    versions = [
        synthetic_suite(root, mcq=40, name="domain"),
        synthetic_suite(root, mcq=40, name="general"),
    ]

    def right(name: str, version: Any, item: Any, k: int) -> bool:
        skill = SKILL[name] - (0.5 if name == "sft-b" and version.name == "general" else 0)
        return k < skill * 40

    return run_with_answers(tmp_path / "run", versions, MODELS, right)


def test_gain_and_forgetting_are_against_the_declared_starting_model(run: Path) -> None:
    summary = score_run(run, resamples=200)
    assert summary["baseline"] == "base-a"
    views = {(v["model"], v["role"]): v for v in summary["starting_points"]}
    domain, general = views["sft-b", "domain"], views["sft-b", "general"]
    assert domain["starting_model"] == general["starting_model"] == "base-b"
    assert domain["difference"] == pytest.approx(0.0)  # same as base-b, not +0.7 over base-a
    assert general["difference"] == pytest.approx(-0.5) and general["verdict"] == "regressed"
    assert general["low"] < -0.3 and general["p_adjusted"] < 0.05
    model_records = {m["name"]: m for m in summary["models"]}
    assert model_records["sft-b"]["starting_model"] == "base-b"


def test_starting_model_setting_overrides_the_config(run: Path) -> None:
    summary = score_run(
        run, resamples=200, config=ScoringConfig(starting_model={"sft-b": "base-a"})
    )
    domain = next(v for v in summary["starting_points"] if v["role"] == "domain")
    assert domain["starting_model"] == "base-a" and domain["difference"] == pytest.approx(0.7)


def test_two_candidate_starting_models_must_be_named(tmp_path: Path, run: Path) -> None:
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["models"][2].pop("starting_model")
    (run / "manifest.json").write_text(json.dumps(manifest))
    result = CliRunner().invoke(cli, ["score", str(run)])
    assert result.exit_code == 2
    assert "starting_model.sft-b: the run has several base models (base-a, base-b)" in (
        result.stderr
    )


def test_dev_items_are_never_scored(run: Path) -> None:
    for path in (run / "generations").rglob("*.jsonl"):
        with path.open("a", encoding="utf-8") as f:  # the suites' dev item m40
            f.write(json.dumps({"item_id": "m40", "task": "mcq", "output": "C"}) + "\n")
    summary = score_run(run, resamples=100)
    rows = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
    assert rows and not any(r["item_id"] == "m40" for r in rows)
    assert any("dev (few-shot) items were left out" in note for note in summary["notes"])


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("correction=holmes", "correction='holmes': unknown value 'holmes'; did you mean 'holm'?"),
        ("correction=bonferoni", "one of: holm, bh, none"),
        ("cluster_by=group", "cluster_by=group: no test item of domain@v1, general@v1 has a group"),
        ("cluster_by=case", "cluster_by='case': unknown value"),
        ("headline=median", "headline='median'"),
        (
            "starting_model.sft-b=base-c",
            "starting_model.sft-b='base-c' is not another model of "
            "this run (models: base-a, base-b, sft-b)",
        ),
        ("starting_model.base-a=base-b", "starting_model.base-a: 'base-a' is not an sft model"),
        ("compare_metrics=[acuracy]", "did you mean 'accuracy'"),
        ("alpha=0.7", "alpha=0.7"),
    ],
)
def test_bad_settings_are_one_line_and_write_nothing(run: Path, setting: str, message: str) -> None:
    before = snapshot(run)
    result = CliRunner().invoke(cli, ["score", str(run), setting])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert snapshot(run) == before


def test_a_baseline_that_is_not_a_model_writes_nothing(run: Path) -> None:
    before = snapshot(run)
    result = CliRunner().invoke(cli, ["score", str(run), "--baseline", "gpt"])
    assert result.exit_code == 2 and "baseline 'gpt' is not a model of this run" in result.stderr
    assert snapshot(run) == before


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("cluster_by=group", "cluster_by=group: no test item of legal@v2 has a group"),
        ("starting_model.tuned=nobody", "starting_model.tuned='nobody' is not another model"),
        ("correction=fdr", "correction='fdr': unknown value"),
        ("judge.model=nosuch", "unknown model 'nosuch'"),  # exit 1: what it names is missing
        ("judge.mode=vibes", "judge.mode='vibes'"),
    ],
)
def test_run_refuses_bad_scoring_settings_before_generating(
    tmp_path: Path, setting: str, message: str
) -> None:
    models = tmp_path / "models"
    folder = models / "weights"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text('{"max_position_embeddings": 512}')
    train_tokenizer(["a small corpus for a real tokenizer"] * 4, vocab_size=300).save_pretrained(
        folder
    )
    (models / "base.yaml").write_text("path: weights\nkind: base\n")
    (models / "tuned.yaml").write_text("path: weights\nkind: sft\nstarting_point: base\n")
    suites = Path(__file__).parents[2] / "suites"
    result = CliRunner().invoke(
        cli,
        [
            "run",
            "suite=legal@v2",
            "model=[base,tuned]",
            f"models_dir={models}",
            f"suites_dir={suites}",
            f"out={tmp_path / 'reports'}",
            setting,
        ],
    )
    assert result.exit_code == (1 if "nosuch" in setting else 2), result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "reports").exists()  # nothing written, no engine started
