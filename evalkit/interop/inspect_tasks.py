"""A suite version as an Inspect AI task file (`inspect eval DIR/tasks.py`).

One `@task` per task type of the suite, each reading a JSONL dataset of Inspect samples
(`id`, `input`, `target`, `choices`, `metadata`) written beside it. Inspect talks to chat
models, so inputs are the chat messages evalkit sends (the suite's system prompt and chat
template); choice tasks use Inspect's own `multiple_choice` solver and `choice` scorer, QA
`exact` and `f1` (SQuAD-style), and tasks whose metric Inspect lacks are generated without
a scorer. Reference: Inspect AI's docs, "Datasets" (field names) and "Solvers"/"Scorers".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evalkit.interop.limits import ExportNotes
from evalkit.interop.lm_eval_tasks import task_prefix
from evalkit.interop.rendered import RenderedItem, render_items
from evalkit.suite.items import ClassificationItem, MCQItem, TaskType
from evalkit.suite.store import SuiteVersion
from evalkit.templating import render_template

TASK_FILE = "tasks.py"
HEADER = '''"""Inspect AI tasks of the evalkit suite {ref} (written by `evalkit suite export`)."""

from pathlib import Path

from inspect_ai import Task, task
from inspect_ai.model import GenerateConfig
from inspect_ai.dataset import json_dataset
from inspect_ai.scorer import choice, exact, f1
from inspect_ai.solver import generate, multiple_choice

HERE = Path(__file__).parent
'''
TASK = '''

@task
def {name}():
    """{doc}"""
    return Task(
        dataset=json_dataset(str(HERE / "{data}")),
        solver={solver},
        scorer={scorer},
        config=GenerateConfig(max_tokens={max_tokens}, temperature=0.0),
    )
'''
# task type -> (solver, scorer) in Inspect's terms
PLANS: dict[str, tuple[str, str]] = {
    "mcq": ("multiple_choice()", "choice()"),
    "classification": ("multiple_choice()", "choice()"),
    "qa": ("generate()", "[exact(), f1()]"),
    "extraction": ("generate()", "None"),
    "generation": ("generate()", "None"),
    "dialogue": ("generate()", "None"),
}
GENERAL_NOTES = (
    "Statistics: Inspect reports accuracy or a mean with its standard error; evalkit's "
    "intervals resample item groups, and its comparisons are paired and corrected for "
    "multiple testing.",
    "Base models: Inspect sends chat messages; evalkit prompts base models with completion "
    "text and few-shot exemplars (exported for lm-eval, not here).",
    "Format specs (format adherence), rubrics and LLM judges are not exported.",
)
MAX_TOKENS = 256  # evalkit's default max_new_tokens


def _sample(rendered: RenderedItem, version: SuiteVersion) -> dict[str, Any]:
    item = rendered.item
    metadata = {"language": item.language, "group": item.group, "tags": item.tags}
    sample: dict[str, Any] = {"id": item.id}
    if isinstance(item, MCQItem):
        sample |= {"input": item.question, "choices": item.choices, "target": item.answer}
    elif isinstance(item, ClassificationItem):
        config = version.spec.tasks[item.task]
        instruction = render_template(config.instruction, item.template_context()).strip()
        text = f"{instruction}\n\n{item.text}" if instruction else item.text
        letter = chr(ord("A") + item.labels.index(item.label))
        sample |= {"input": text, "choices": list(item.labels), "target": letter}
    else:
        messages = [{"role": role, "content": content} for role, content in rendered.messages]
        sample |= {"input": messages, "target": rendered.references}
    return sample | {"metadata": metadata}


def _notes(task: TaskType, version: SuiteVersion, notes: ExportNotes) -> None:
    metrics = [m for m in version.spec.tasks[task].metrics if m != "format_adherence"]
    if task in ("mcq", "classification"):
        notes.add(
            task,
            "Inspect's multiple_choice solver writes its own prompt and reads the letter the "
            "model answers; evalkit's log-likelihood scoring of options is not available",
        )
    elif task == "qa":
        notes.add(
            task,
            "Inspect's exact and f1 normalise like SQuAD; evalkit uses CMRC 2018's rules "
            "for Chinese answers",
        )
    else:
        notes.add(task, f"no scorer: Inspect has none of {', '.join(metrics)}; add your own")


def write_inspect(version: SuiteVersion, out: Path, notes: ExportNotes) -> list[str]:
    """Write the task file and its datasets into the empty folder `out`; returns task names."""
    notes.general.extend(GENERAL_NOTES)
    prefix = task_prefix(version)
    source = [HEADER.format(ref=version.ref)]
    names = []
    for task, rows in render_items(version).items():
        data = f"{prefix}_{task}.jsonl"
        with (out / data).open("w", encoding="utf-8") as f:
            for rendered in rows:
                f.write(json.dumps(_sample(rendered, version), ensure_ascii=False) + "\n")
        solver, scorer = PLANS[task]
        name = f"{prefix}_{task}"
        doc = f"{version.ref}: its {len(rows)} {task} test items."
        source.append(
            TASK.format(
                name=name,
                doc=doc,
                data=data,
                solver=solver,
                scorer=scorer,
                max_tokens=MAX_TOKENS,
            )
        )
        _notes(task, version, notes)
        names.append(name)
    (out / TASK_FILE).write_text("".join(source), encoding="utf-8")
    return names


def export_inspect(version: SuiteVersion, out: Path) -> None:
    """The task file and datasets with their README (what Inspect does differently)."""
    notes = ExportNotes("Inspect AI")
    out.mkdir()
    write_inspect(version, out, notes)
    notes.write(version, out, f"inspect eval THIS_FOLDER/{TASK_FILE} --model vllm/MODEL_DIR")
