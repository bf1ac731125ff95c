"""A suite version as an lm-evaluation-harness task folder (`lm_eval --include_path DIR`).

One task per task type of the suite (`NAME_vN_TASK`) and a group (`NAME_vN`) of them. Each
task reads its rows through `custom_dataset` (a loader written beside the YAML, so the folder
works from any working directory and offline) and sends evalkit's own base-model prompts:
few-shot exemplars are already in them, so `num_fewshot` stays 0. Choice tasks
(mcq, classification) are `multiple_choice`: the log-likelihood of each option's
continuation, exactly the continuations evalkit scores; the others are `generate_until` with
evalkit's stop sequences and greedy decoding. Reference: lm-evaluation-harness
`docs/task_guide.md` (task YAML) and `lm_eval/api/task.py` (ConfigurableTask).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from evalkit.interop.limits import ExportNotes
from evalkit.interop.rendered import RenderedItem, render_items
from evalkit.suite.items import TaskType
from evalkit.suite.manifest import version_number
from evalkit.suite.store import SuiteVersion

LOADER_MODULE = "evalkit_docs"
LOADER = '''"""The rows evalkit exported, for lm-evaluation-harness (the tasks' custom_dataset)."""

import json
from pathlib import Path

import datasets


def load(data_file, **_):
    path = Path(__file__).parent / data_file
    with path.open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)})
'''

CHOICE_TASKS = ("mcq", "classification")
# evalkit metric -> lm-eval metric_list entry, where lm-eval has the same definition.
METRICS: dict[str, dict[str, Any]] = {
    "accuracy": {"metric": "acc", "aggregation": "mean", "higher_is_better": True},
    "exact_match": {
        "metric": "exact_match",
        "aggregation": "mean",
        "higher_is_better": True,
        "ignore_case": True,
        "ignore_punctuation": True,
    },
    "bleu": {"metric": "bleu", "aggregation": "bleu", "higher_is_better": True},
    "chrf": {"metric": "chrf", "aggregation": "chrf", "higher_is_better": True},
}
MAX_GEN_TOKS = 256  # evalkit's default max_new_tokens


def task_prefix(version: SuiteVersion) -> str:
    """`legal@v2` -> `legal_v2`: the group's name, and its tasks' prefix."""
    return version.ref.replace("@", "_").replace("-", "_")


def _row(rendered: RenderedItem) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": rendered.item.id,
        "language": rendered.item.language,
        "prompt": rendered.prompt,
    }
    if rendered.item.task in CHOICE_TASKS:
        row |= {"options": rendered.options, "continuations": rendered.continuations}
        row["gold"] = rendered.gold
    elif rendered.item.task == "qa":
        row["references"] = rendered.references  # any reference counts
    else:
        row["reference"] = rendered.references[0]  # corpus BLEU/chrF: one reference
    return row


def _task_config(
    version: SuiteVersion, task: TaskType, rows: list[RenderedItem], notes: ExportNotes
) -> dict[str, Any]:
    prefix = task_prefix(version)
    config: dict[str, Any] = {
        "task": f"{prefix}_{task}",
        "custom_dataset": "LOADER",  # replaced by a !function tag when written
        "dataset_kwargs": {"data_file": f"{prefix}_{task}.jsonl"},
        "test_split": "test",
        "doc_to_text": "prompt",
        "num_fewshot": 0,
    }
    wanted = version.spec.tasks[task].metrics
    metrics = [METRICS[m] for m in wanted if m in METRICS]
    for missing in (m for m in wanted if m not in METRICS and m != "format_adherence"):
        notes.add(task, f"metric {missing}: lm-eval has no metric with evalkit's definition")
    if task in CHOICE_TASKS:
        config |= {
            "output_type": "multiple_choice",
            "doc_to_choice": "continuations",
            "doc_to_target": "gold",
            "target_delimiter": "",
        }
        metrics = metrics or [METRICS["accuracy"]]
    else:
        stop = sorted({s for r in rows for s in r.stop})
        config |= {
            "output_type": "generate_until",
            "doc_to_target": "references" if task == "qa" else "reference",
            "target_delimiter": "",
            "generation_kwargs": {
                "until": stop,
                "max_gen_toks": MAX_GEN_TOKS,
                "do_sample": False,
                "temperature": 0.0,
            },
        }
        if not metrics:
            metrics = [METRICS["exact_match"]]
            notes.add(task, "scored by exact_match of the whole answer instead")
    config["metric_list"] = metrics
    config["metadata"] = {"version": version_number(version.version), "evalkit_suite": version.ref}
    return config


def _dump_task(config: dict[str, Any]) -> str:
    text = yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
    return text.replace("custom_dataset: LOADER", f"custom_dataset: !function {LOADER_MODULE}.load")


GENERAL_NOTES = (
    "Statistics: lm-eval reports a mean and its standard error per task; evalkit's intervals "
    "resample item groups, and its comparisons are paired and corrected for multiple testing.",
    "Chat models: the prompts are evalkit's base-model prompts (few-shot exemplars included). "
    "lm-eval's --apply_chat_template puts that whole text in one user turn, where evalkit "
    "sends chat models the suite's chat template; `messages` is not exported here.",
    "Answers to generated tasks are compared as they come; evalkit's answer parser (which says "
    "when it cannot tell what the model answered) is not part of lm-eval.",
    "Format specs (format adherence), rubrics and LLM judges are not exported.",
)


def _task_notes(
    version: SuiteVersion, task: TaskType, rows: list[RenderedItem], notes: ExportNotes
) -> None:
    chinese = any(r.item.expected_language.startswith(("zh", "ja")) for r in rows)
    if task == "qa":
        notes.add(
            task,
            "exact_match ignores case and punctuation; evalkit's follows SQuAD v1.1 (articles "
            "and whitespace too) and CMRC 2018 for Chinese, and keeps the best of the answers",
        )
    if task in ("generation", "dialogue"):
        if any(len(r.references) > 1 for r in rows):
            notes.add(
                task,
                "only the first reference of each item is exported (lm-eval's "
                "per-item targets are one string for corpus BLEU/chrF)",
            )
        if chinese and "bleu" in version.spec.tasks[task].metrics:
            notes.add(
                task,
                "BLEU uses sacrebleu's default 13a tokenizer; evalkit uses its zh "
                "tokenizer for Chinese targets, so Chinese BLEU differs",
            )
    if task == "dialogue":
        notes.add(task, "the conversation is the base-model prompt evalkit renders, not chat turns")


def write_lm_eval(version: SuiteVersion, out: Path, notes: ExportNotes) -> list[str]:
    """Write the task folder into the empty folder `out`; returns the task names."""
    notes.general.extend(GENERAL_NOTES)
    prefix = task_prefix(version)
    (out / f"{LOADER_MODULE}.py").write_text(LOADER, encoding="utf-8")
    names = []
    for task, rows in render_items(version).items():
        with (out / f"{prefix}_{task}.jsonl").open("w", encoding="utf-8") as f:
            for rendered in rows:
                f.write(json.dumps(_row(rendered), ensure_ascii=False) + "\n")
        config = _task_config(version, task, rows, notes)
        _task_notes(version, task, rows, notes)
        (out / f"{prefix}_{task}.yaml").write_text(_dump_task(config), encoding="utf-8")
        names.append(config["task"])
    group = {
        "group": prefix,
        "task": names,
        "metadata": {"version": version_number(version.version)},
    }
    (out / f"{prefix}.yaml").write_text(
        yaml.safe_dump(group, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return names


def export_lm_eval(version: SuiteVersion, out: Path) -> None:
    """The task folder with its README (what lm-eval does differently)."""
    notes = ExportNotes("lm-evaluation-harness")
    out.mkdir()
    write_lm_eval(version, out, notes)
    run = (
        "lm_eval --model hf --model_args pretrained=MODEL_DIR "
        f"--include_path THIS_FOLDER --tasks {task_prefix(version)}"
    )
    notes.write(version, out, run)
