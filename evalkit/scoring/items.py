"""Per-item scoring: stored generations → one row per model × item with every item metric.

A row is what `results.jsonl` holds: the item's identity, the model's output, each item
metric, the item's single score, and for choice tasks the answer read from the output (or
why none could be read). Dev (few-shot) items are never scored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.judging.expert import ExpertRatings
from evalkit.judging.scores import judge_metrics, judgments_path, read_judgments
from evalkit.metrics.builtin import gold_label, parsed_answer
from evalkit.metrics.registry import Metric, get_metric
from evalkit.scoring.config import ScoringConfig
from evalkit.scoring.run_folder import read_generations
from evalkit.suite.items import ItemBase
from evalkit.suite.store import SuiteVersion

# The item-level score that stands for an item when a task's chosen metrics are all
# corpus-level (BLEU, macro F1) and so give no per-item value.
_FALLBACK_ITEM_SCORE = {
    "mcq": "accuracy",
    "classification": "accuracy",
    "extraction": "field_f1",
    "qa": "token_f1",
    "generation": "sentence_chrf",
    "dialogue": "sentence_chrf",
}
# Computed for every item of a task whatever the suite lists: format adherence wherever an
# item has a format spec, the language check for free text, and sentence chrF so that every
# free-text item has a graded value in results.jsonl (BLEU is corpus-level).
_ALWAYS = {
    "mcq": ("format_adherence",),
    "classification": ("format_adherence",),
    "extraction": ("format_adherence",),
    "qa": ("format_adherence", "language_match"),
    "generation": ("sentence_chrf", "format_adherence", "language_match"),
    "dialogue": ("sentence_chrf", "format_adherence", "language_match"),
}
CHOICE_TASKS = frozenset({"mcq", "classification"})


@dataclass(frozen=True)
class TaskMetrics:
    """The metrics one task of one suite is scored with in this run."""

    item: tuple[Metric, ...]
    corpus: tuple[Metric, ...]
    options: dict[str, dict[str, Any]]  # keyword options per metric name

    @property
    def primary(self) -> str:
        """The metric that is an item's single score: the first item-level one."""
        return self.item[0].name


MetricPlan = dict[tuple[str, str], TaskMetrics]  # (suite ref, task) → its metrics


def plan_metrics(versions: dict[str, SuiteVersion], config: ScoringConfig) -> MetricPlan:
    """The metrics of every task of every suite in the run, resolved once."""
    return {
        (ref, task): task_metrics(version, task, config)
        for ref, version in versions.items()
        for task in version.spec.tasks
    }


def task_metrics(version: SuiteVersion, task: str, config: ScoringConfig) -> TaskMetrics:
    """A task's metrics: the run's choice or the suite's, plus the per-item score they need."""
    names = config.metric_names(task, version.spec.tasks[task].metrics)  # type: ignore[index]
    chosen = [get_metric(n) for n in names]
    item = [m for m in chosen if m.kind == "item"]
    extra = [*([] if item else [_FALLBACK_ITEM_SCORE[task]]), *_ALWAYS.get(task, ())]
    item += [get_metric(n) for n in dict.fromkeys(extra) if n not in names]
    return TaskMetrics(
        item=tuple(item),
        corpus=tuple(m for m in chosen if m.kind == "corpus"),
        options={m.name: config.options_for(m.options) for m in chosen + item if m.options},
    )


def score_item(item: ItemBase, generation: dict[str, Any], metrics: TaskMetrics) -> dict[str, Any]:
    """Every item-level metric of the item's task for one model's output."""
    values: dict[str, float | None] = {}
    extra: dict[str, Any] = {}
    output = generation.get("output")
    if output is not None:
        for m in metrics.item:
            values[m.name] = m.fn(item, output, **metrics.options.get(m.name, {}))
        if item.task in CHOICE_TASKS:
            answer = parsed_answer(item, output)
            extra = {"answer": answer.value, "answer_reason": answer.reason}
    options = generation.get("option_logprobs")
    if options:
        best = max(options, key=lambda o: options[o]["logprob"])
        values["ll_accuracy"] = float(best == gold_label(item))
    primary = metrics.primary if output is not None else "ll_accuracy"
    return {"metrics": values, "score": values.get(primary), "score_metric": primary, **extra}


@dataclass(frozen=True)
class Units:
    """How each suite's items are grouped into resampling units (clusters)."""

    by_suite: dict[str, str] = field(default_factory=dict)  # suite ref → item, group or source

    def unit(self, suite: str, item: ItemBase) -> str | None:
        """The item's cluster id, or None when the suite's items are their own units."""
        mode = self.by_suite.get(suite, "item")
        if mode == "group":
            return item.group or item.id
        if mode == "source":
            return item.provenance.source or item.id
        return None


def score_model_rows(
    run_dir: Path,
    model: str,
    versions: dict[str, SuiteVersion],
    plan: MetricPlan,
    units: Units,
    ratings: ExpertRatings | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Every item metric of one model's outputs on every suite of the run (with the judge's
    and experts' scores when there are any), and how many dev (few-shot) items its
    generations held, which are left out."""
    rows, dev = [], 0
    for ref, version in versions.items():
        judged = {j["item_id"]: j for j in read_judgments(judgments_path(run_dir, model, ref))}
        for generation in read_generations(run_dir, model, version):
            item = version.by_id[generation["item_id"]]
            if item.split != "test":
                dev += 1
                continue
            row = {
                "model": model,
                "suite": ref,
                "item_id": item.id,
                "task": item.task,
                "language": item.language,
                "tags": list(item.tags),
                "output": generation.get("output"),
                **score_item(item, generation, plan[ref, item.task]),
            }
            if generation.get("error"):  # not answered: reported, never scored
                row["error"] = generation["error"]
            elif generation.get("output") is not None:
                _add_ratings(row, judged.get(item.id), version, ratings)
            unit = units.unit(ref, item)
            if unit is not None:
                row["unit"] = unit
            rows.append(row)
    return rows, dev


def _add_ratings(
    row: dict[str, Any],
    judgment: dict[str, Any] | None,
    version: SuiteVersion,
    ratings: ExpertRatings | None,
) -> None:
    """The judge's and the experts' scores of an answer, as item metrics (see
    evalkit.judging.scores)."""
    if judgment is not None:
        metrics, problems = judge_metrics(judgment, version)
        row["metrics"].update(metrics)
        if problems:
            row["judge_problems"] = problems
        if judgment.get("pairwise"):
            row["judge_outcome"] = judgment["pairwise"].get("outcome")
    if ratings is not None:
        row["metrics"].update(ratings.metrics(row["model"], row["suite"], row["item_id"]))
