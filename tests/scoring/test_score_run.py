"""Scoring stored generations: per-item metrics, aggregates, comparisons, starting points, gate.

The run folder is written here with known outputs (gold answers for chosen items), so every
number the summary reports can be predicted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from run_folders import write_run_folder

from evalkit.cli import cli
from evalkit.errors import IntegrityError
from evalkit.metrics.registry import get_metric
from evalkit.scoring import regressions, score_run
from evalkit.suite.items import ItemBase
from evalkit.suite.store import SuiteStore, SuiteVersion

SUITES = SuiteStore(Path(__file__).parents[2] / "suites")
LEGAL, GENERAL = SUITES.load("legal@v2"), SUITES.load("general@v1")


def gold_output(item: ItemBase) -> str:
    return {
        "mcq": lambda i: i.answer,
        "classification": lambda i: i.label,
        "extraction": lambda i: json.dumps(i.fields, ensure_ascii=False),
        "qa": lambda i: i.answers[0],
        "generation": lambda i: i.references[0],
        "dialogue": lambda i: i.references[0],
    }[item.task](item)


# Share of test items answered with the gold answer, per model and suite.
SKILL = {
    "base": {"legal": 0.5, "general": 0.6},
    "chat": {"legal": 0.5, "general": 0.7},
    "chat-sft": {"legal": 1.0, "general": 0.3},  # learned the domain, forgot general skills
}
MODELS = [
    {"name": "base", "kind": "base", "stage": "base", "starting_point": None, "baseline": None},
    {"name": "chat", "kind": "chat", "stage": "chat", "starting_point": None, "baseline": None},
    {
        "name": "chat-sft",
        "kind": "sft",
        "stage": "chat→sft",
        "starting_point": "chat",
        "baseline": None,
    },
]


def write_run(root: Path, content_hash: str | None = None) -> Path:
    def output(model: str, version: SuiteVersion, item: ItemBase, k: int) -> str:
        items = sum(1 for i in version.items if i.split == "test")
        right = round(SKILL[model][version.name] * items)
        return gold_output(item) if k < right else "I am not sure."

    return write_run_folder(
        root / "run", SUITES.root, (LEGAL, GENERAL), MODELS, output, content_hash=content_hash
    )


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    run = write_run(tmp_path_factory.mktemp("scoring"))
    return run, score_run(run, resamples=500)


def suite_score(summary: dict[str, Any], model: str, suite: str) -> dict[str, Any]:
    row = next(r for r in summary["by_suite"] if r["model"] == model and r["suite"] == suite)
    return row["metrics"]["score"]


def test_results_rows_and_gold_answers_score_one(scored: tuple[Path, dict[str, Any]]) -> None:
    run, _ = scored
    rows = [
        json.loads(line)
        for line in (run / "results.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    n_test = sum(i.split == "test" for v in (LEGAL, GENERAL) for i in v.items)
    assert len(rows) == 3 * n_test
    sft_legal = [r for r in rows if r["model"] == "chat-sft" and r["suite"] == "legal@v2"]
    assert all(r["score"] == pytest.approx(1.0) for r in sft_legal)
    by_task = {r["task"]: r for r in sft_legal}
    assert (
        by_task["mcq"]["metrics"]["accuracy"] == 1.0
        and by_task["mcq"]["score_metric"] == "accuracy"
    )
    assert by_task["extraction"]["metrics"]["field_f1"] == 1.0
    assert by_task["generation"]["score_metric"] == "sentence_chrf"


def test_aggregates_with_intervals(scored: tuple[Path, dict[str, Any]]) -> None:
    _, summary = scored
    perfect = suite_score(summary, "chat-sft", "legal@v2")
    assert perfect["value"] == pytest.approx(1.0) and perfect["low"] == pytest.approx(1.0)
    half = suite_score(summary, "base", "legal@v2")
    assert half["low"] < half["value"] < half["high"]
    corpus = {(c["model"], c["suite"], c["task"], c["metric"]): c for c in summary["corpus"]}
    bleu = corpus[("chat-sft", "legal@v2", "generation", "bleu")]
    assert bleu["value"] == pytest.approx(100.0) and bleu["signature"].startswith("nrefs:")
    assert {r["language"] for r in summary["by_language"]} == {"en", "zh"}
    labels = [
        r
        for r in summary["labels"]
        if (r["model"], r["suite"], r["task"]) == ("chat-sft", "legal@v2", "classification")
    ]
    assert labels and all(r["precision"] == r["recall"] == r["f1"] == 1.0 for r in labels)
    fields = {r["field"]: r for r in summary["fields"] if r["model"] == "chat-sft"}
    assert fields["party_a"]["f1"] == 1.0 and fields["party_a"]["support"] > 0
    assert any(r["tag"] == "limitation" for r in summary["by_tag"])


def test_comparisons_and_the_starting_point_view(scored: tuple[Path, dict[str, Any]]) -> None:
    _, summary = scored
    assert summary["baseline"] == "base"
    cmp = {
        (c["baseline"], c["candidate"], c["suite"], c["metric"]): c for c in summary["comparisons"]
    }
    gain = cmp[("base", "chat-sft", "legal@v2", "score")]
    assert gain["difference"] > 0.3 and gain["significant"] and gain["verdict"] == "improved"
    assert gain["p_adjusted"] >= gain["p_value"] and gain["low"] > 0
    accuracy = cmp[("base", "chat-sft", "legal@v2", "accuracy")]
    assert accuracy["test"].startswith("paired t")
    assert accuracy["secondary"]["test"] == "McNemar exact (secondary)"
    same = cmp[("base", "chat", "legal@v2", "score")]
    assert not same["significant"] and same["verdict"] == "identical"
    views = {(s["model"], s["role"]): s for s in summary["starting_points"]}
    assert views[("chat-sft", "domain")]["starting_model"] == "chat"
    assert (
        views[("chat-sft", "domain")]["difference"] > 0
        and views[("chat-sft", "domain")]["significant"]
    )
    assert (
        views[("chat-sft", "general")]["difference"] < 0
        and views[("chat-sft", "general")]["significant"]
    )


def test_regression_gate_names_the_forgetting(scored: tuple[Path, dict[str, Any]]) -> None:
    run, summary = scored
    found = regressions(summary, 0.02)
    assert len(found) == 1 and found[0].startswith("chat-sft on general@v1:")
    assert regressions(summary, 0.9) == []
    result = CliRunner().invoke(
        cli, ["score", str(run), "--fail-on-regression", "0.02", "--resamples", "200"]
    )
    assert (
        result.exit_code == 1 and "regression beyond 0.02: chat-sft on general@v1" in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_scoring_is_reproducible(scored: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    _, summary = scored
    again = score_run(write_run(tmp_path), resamples=500)
    assert (
        again["by_suite"] == summary["by_suite"] and again["comparisons"] == summary["comparisons"]
    )


def test_a_run_against_other_suite_content_is_refused(tmp_path: Path) -> None:
    run = write_run(tmp_path, content_hash="sha256:" + "0" * 64)
    with pytest.raises(IntegrityError, match="is not the version this run used"):
        score_run(run)


def test_label_and_field_reports_carry_micro_averages(scored: tuple[Path, dict[str, Any]]) -> None:
    _, summary = scored
    corpus = {
        (c["model"], c["suite"], c["task"], c["metric"]): c["value"] for c in summary["corpus"]
    }
    labels = [r for r in summary["labels"] if r["model"] == "base" and r["suite"] == "legal@v2"]
    macro = next(r for r in labels if r["label"] == "(macro)" and r["task"] == "classification")
    assert macro["f1"] == pytest.approx(corpus["base", "legal@v2", "classification", "macro_f1"])
    micro = next(r for r in labels if r["label"] == "(micro)" and r["task"] == "classification")
    per_label = [r for r in labels if r["task"] == "classification" and "(" not in r["label"]]
    assert micro["support"] == sum(r["support"] for r in per_label)
    field = next(
        r
        for r in summary["fields"]
        if (r["model"], r["suite"], r["field"]) == ("base", "legal@v2", "(micro)")
    )
    run, _ = scored
    rows = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
    extraction = [
        r for r in rows if (r["model"], r["suite"], r["task"]) == ("base", "legal@v2", "extraction")
    ]
    items = [LEGAL.by_id[r["item_id"]] for r in extraction]
    expected = get_metric("field_f1_micro").fn(items, [r["output"] for r in extraction])
    assert field["f1"] == pytest.approx(expected.value)
    assert 0 < field["recall"] < 1 and field["precision"] == 1.0  # misses, no wrong values


def _task_row(run: Path, model: str, suite: str, task: str) -> dict[str, Any]:
    rows = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
    return next(r for r in rows if (r["model"], r["suite"], r["task"]) == (model, suite, task))


def test_rescoring_with_other_metrics_and_bleu_tokenizer(tmp_path: Path) -> None:
    run = write_run(tmp_path)
    result = CliRunner().invoke(
        cli,
        [
            "score",
            str(run),
            "--resamples",
            "200",
            "metrics.qa=[exact_match]",
            "metrics.generation=[bleu,sentence_bleu]",
            "bleu_tokenize=char",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((run / "summary.json").read_text())
    assert summary["scoring"]["metrics"] == {
        "qa": ["exact_match"],
        "generation": ["bleu", "sentence_bleu"],
    }
    assert summary["scoring"]["bleu_tokenize"] == "char"
    qa = _task_row(run, "base", "legal@v2", "qa")
    assert qa["score_metric"] == "exact_match" and "token_f1" not in qa["metrics"]
    generation = _task_row(run, "base", "legal@v2", "generation")
    assert generation["score_metric"] == "sentence_bleu"
    assert "sentence_chrf" in generation["metrics"]  # always there for the drill-down
    bleu = [c for c in summary["corpus"] if c["metric"] == "bleu" and c["task"] == "generation"]
    assert bleu and all("tok:char" in c["signature"] for c in bleu)
    assert not [c for c in summary["corpus"] if c["metric"] == "chrf" and c["task"] == "generation"]


def test_rescoring_overrides_add_to_what_the_run_recorded(tmp_path: Path) -> None:
    run = write_run(tmp_path)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["config"]["metrics"] = {"qa": ["exact_match"]}
    (run / "manifest.json").write_text(json.dumps(manifest))
    assert score_run(run, resamples=200)["scoring"]["metrics"] == {"qa": ["exact_match"]}
    result = CliRunner().invoke(cli, ["score", str(run), "--resamples", "200", "bleu_tokenize=zh"])
    assert result.exit_code == 0, result.output
    scoring = json.loads((run / "summary.json").read_text())["scoring"]
    assert (scoring["metrics"], scoring["bleu_tokenize"]) == ({"qa": ["exact_match"]}, "zh")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("metrics.qa=[tokn_f1]", "unknown metric 'tokn_f1'; did you mean 'token_f1'?"),
        ("metrics.qa=[bleu]", "metric 'bleu' does not apply to qa items"),
        ("metrics.essay=[bleu]", "unknown task type 'essay'"),
        ("bleu_tokenize=klingon", "unknown tokenizer (sacrebleu's: none, zh, 13a"),
        ("bleu_tokenise=zh", "unknown key 'bleu_tokenise'; did you mean 'bleu_tokenize'?"),
    ],
)
def test_bad_scoring_overrides_are_refused_before_anything_is_written(
    tmp_path: Path, override: str, message: str
) -> None:
    run = write_run(tmp_path)
    result = CliRunner().invoke(cli, ["score", str(run), override])
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output and not (run / "summary.json").exists()
