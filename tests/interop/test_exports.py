"""Exports load in the real harnesses: lm-evaluation-harness builds the requests of every
exported task from evalkit's own prompts and scores gold answers as right, Inspect AI runs
every exported task, and `datasets` round-trips the suite, Chinese text intact."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from evalkit.cli import cli
from evalkit.interop.lm_eval_tasks import task_prefix
from evalkit.prompts import build_prompts
from evalkit.runner.plan import choice_options, option_continuation
from evalkit.suite.store import SuiteStore, SuiteVersion

SUITES_DIR = Path(__file__).parents[2] / "suites"
CHINESE = "合同"  # "contract": in the built-in legal suite's Chinese items


@pytest.fixture(scope="module")
def legal() -> SuiteVersion:
    return SuiteStore(SUITES_DIR).load("legal")


def _export(to: str, out: Path) -> None:
    result = CliRunner().invoke(
        cli, ["suite", "--suites-dir", str(SUITES_DIR), "export", "legal", "--to", to, str(out)]
    )
    assert result.exit_code == 0, result.output


def _tests(version: SuiteVersion, task: str) -> list[Any]:
    return [i for i in version.items if i.task == task and i.split == "test"]


@pytest.fixture(scope="module")
def lm_eval_tasks(legal: SuiteVersion, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from lm_eval.tasks import TaskManager

    out = tmp_path_factory.mktemp("lm-eval") / "legal"
    _export("lm-eval", out)
    manager = TaskManager(include_path=str(out), include_defaults=False)
    loaded = manager.load(task_prefix(legal))  # the group: every task of the export
    assert loaded["group_map"][task_prefix(legal)] == [
        f"{task_prefix(legal)}_{t}" for t in legal.spec.tasks
    ]
    tasks = loaded["tasks"]
    for task in tasks.values():
        task.build_all_requests(rank=0, world_size=1)
    return tasks


def test_lm_eval_sends_evalkit_prompts_for_every_task(
    legal: SuiteVersion, lm_eval_tasks: dict[str, Any]
) -> None:
    devs = [i for i in legal.items if i.split == "dev"]
    for task_type in legal.spec.tasks:
        task = lm_eval_tasks[f"{task_prefix(legal)}_{task_type}"]
        items = _tests(legal, task_type)
        prompts = build_prompts(legal.spec, items, devs, "base")
        if task_type in ("mcq", "classification"):
            assert task.OUTPUT_TYPE == "multiple_choice"
            expected = [
                (prompt.text, option_continuation(legal, item, option, prompt))
                for item, prompt in zip(items, prompts, strict=True)
                for option in choice_options(item)
            ]
        else:
            assert task.OUTPUT_TYPE == "generate_until"
            expected = [prompt.text for prompt in prompts]
        got = [
            tuple(i.arguments) if task_type in ("mcq", "classification") else i.arguments[0]
            for i in sorted(task.instances, key=lambda i: (i.doc_id, i.idx))
        ]
        assert got == expected, task_type
        assert any(CHINESE in text for text in map(str, got)), task_type


def test_lm_eval_scores_gold_answers_right_and_others_wrong(
    legal: SuiteVersion, lm_eval_tasks: dict[str, Any]
) -> None:
    prefix = task_prefix(legal)
    mcq = lm_eval_tasks[f"{prefix}_mcq"]
    for doc, item in zip(mcq.test_docs(), _tests(legal, "mcq"), strict=True):
        gold = item.letters.index(item.answer)
        lls = [(0.0 if i == gold else -5.0, i == gold) for i in range(len(item.choices))]
        assert mcq.process_results(doc, lls)["acc"] == 1.0
        wrong = [(-5.0 if i == gold else 0.0, False) for i in range(len(item.choices))]
        assert mcq.process_results(doc, wrong)["acc"] == 0.0
    qa = lm_eval_tasks[f"{prefix}_qa"]
    for doc, item in zip(qa.test_docs(), _tests(legal, "qa"), strict=True):
        for answer in item.answers:  # any acceptable answer counts
            assert qa.process_results(doc, [answer])["exact_match"] == 1.0
        assert qa.process_results(doc, ["I cannot say."])["exact_match"] == 0.0
    generation = lm_eval_tasks[f"{prefix}_generation"]
    doc = next(iter(generation.test_docs()))
    result = generation.process_results(doc, [doc["reference"]])
    assert set(result) == {"bleu", "chrf"}


def _always(text: str) -> Any:
    """Inspect's offline test model answering `text` to everything (with its token usage set,
    or mockllm would count tokens with tiktoken's o200k file, which it downloads)."""
    import itertools

    from inspect_ai.model import ModelOutput, ModelUsage, get_model

    output = ModelOutput.from_content(model="mockllm", content=text)
    output.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
    return get_model("mockllm/model", custom_outputs=itertools.repeat(output))


def test_inspect_runs_every_exported_task(
    legal: SuiteVersion, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inspect_ai import eval as inspect_eval

    out = tmp_path / "inspect"
    _export("inspect", out)
    monkeypatch.chdir(out)  # Inspect takes task files relative to the working directory
    logs = inspect_eval(
        "tasks.py", model=_always("ANSWER: A"), display="none", log_dir=str(tmp_path / "logs")
    )
    by_task = {log.eval.task.split("/")[-1]: log for log in logs}
    assert set(by_task) == {f"{task_prefix(legal)}_{t}" for t in legal.spec.tasks}
    for task_type in legal.spec.tasks:
        log = by_task[f"{task_prefix(legal)}_{task_type}"]
        assert log.status == "success", log.error
        items = _tests(legal, task_type)
        assert sorted(s.id for s in log.samples or []) == sorted(i.id for i in items)
        inputs = [
            s.input if isinstance(s.input, str) else [m.text for m in s.input]
            for s in log.samples or []
        ]
        assert CHINESE in json.dumps(inputs, ensure_ascii=False), task_type
    # answering A to everything is right exactly where the gold is the first option
    for task_type, first in (("mcq", "A"), ("classification", None)):
        items = _tests(legal, task_type)
        golds = [i.answer == "A" if first else i.label == i.labels[0] for i in items]
        results = by_task[f"{task_prefix(legal)}_{task_type}"].results
        assert results is not None
        accuracy = results.scores[0].metrics["accuracy"].value
        assert accuracy == pytest.approx(sum(golds) / len(golds))
    qa = by_task[f"{task_prefix(legal)}_qa"].results
    assert qa is not None and [s.name for s in qa.scores] == ["exact", "f1"]


def test_hf_export_round_trips_with_chinese_intact(legal: SuiteVersion, tmp_path: Path) -> None:
    from datasets import load_from_disk

    out = tmp_path / "hf"
    _export("hf", out)
    dataset = load_from_disk(str(out))
    assert dataset["id"] == [i.id for i in legal.items]
    zh = next(i for i in legal.items if i.language == "zh" and i.task == "mcq")
    row = dataset[[i.id for i in legal.items].index(zh.id)]
    assert row["question"] == zh.question and row["choices"] == zh.choices


def test_readme_lists_what_the_export_cannot_express(tmp_path: Path) -> None:
    _export("lm-eval", tmp_path / "lm")
    readme = (tmp_path / "lm" / "README.md").read_text(encoding="utf-8")
    assert "legal@v2" in readme and "--include_path" in readme
    assert "**extraction**: metric field_f1" in readme
    assert "**qa**: metric token_f1" in readme
    _export("inspect", tmp_path / "inspect")
    readme = (tmp_path / "inspect" / "README.md").read_text(encoding="utf-8")
    assert "**generation**: no scorer" in readme


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["legal@v9", "--to", "lm-eval"], "suite 'legal' has no version 'v9'"),
        (["nosuch", "--to", "inspect"], "no suite 'nosuch'"),
        (["legal", "--to", "mlflow"], "Invalid value for '--to'"),
        (["legal", "--to", "lm-eval", "--out", "also"], "DIR or --out, once"),
        ([str(SUITES_DIR / "legal"), "--to", "hf"], "only published versions are exported"),
    ],
)
def test_bad_exports_are_one_line_and_write_nothing(
    args: list[str], message: str, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    result = CliRunner().invoke(
        cli, ["suite", "--suites-dir", str(SUITES_DIR), "export", *args, str(out)]
    )
    assert result.exit_code != 0 and message in result.output, result.output
    assert "Traceback" not in result.output
    assert not out.exists() and list(tmp_path.iterdir()) == []
