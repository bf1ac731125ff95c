"""How a run is scored: metric choices, the headline, clustering, the comparison family.

One pydantic model shared by `evalkit run` (RunConfig inherits it) and `evalkit score`.
Recorded in the run manifest with the rest of the run configuration, so that `evalkit score`
re-scores a run the way it was scored, unless told otherwise.
"""

from __future__ import annotations

import difflib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from evalkit.errors import UsageError
from evalkit.suite.items import TASK_TYPES

# How items are grouped into the units that CIs and paired tests resample.
CLUSTERINGS = ("auto", "item", "group", "source")


def _closest(value: str, known: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(value, list(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown value {value!r}{hint} (one of: {', '.join(known)})"


class ScoringConfig(BaseModel):
    """The scoring keys of `evalkit run` and `evalkit score`."""

    model_config = ConfigDict(extra="forbid")

    metrics: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Metrics per task type, replacing the suite's (e.g. metrics.qa=[token_f1]).",
    )
    bleu_tokenize: str | None = Field(
        default=None,
        description="sacrebleu tokenizer for BLEU (default: zh for Chinese targets, else 13a).",
    )
    headline: Literal["micro", "macro"] = Field(
        default="micro",
        description="Suite score: micro (mean over items) or macro (mean of the task means).",
    )
    cluster_by: str = Field(
        default="auto",
        description="Resampling unit for CIs and tests: item, group (the items' group key), "
        "source (provenance.source), or auto (group when items have one).",
    )
    correction: str = Field(
        default="holm",
        description="Multiple-comparison correction over all of a summary's comparisons: "
        "holm, bh (Benjamini-Hochberg) or none.",
    )
    alpha: float = Field(
        default=0.05, gt=0.0, lt=0.5, description="Significance level after correction."
    )
    power: float = Field(
        default=0.8,
        gt=0.5,
        lt=1.0,
        description="Power at which the minimum detectable effect (MDE) is computed.",
    )
    compare_metrics: list[str] = Field(
        default_factory=list,
        description="Metrics compared between models (default: all item metrics and the score); "
        "fewer comparisons keep more power after correction.",
    )
    ratings: list[str] = Field(
        default_factory=list,
        description="Expert ratings files exported by the app (ratings=[FILE,...]): their scores "
        "become expert_<criterion> metrics, with rater agreement and judge calibration.",
    )
    judge_min_items: int = Field(
        default=30,
        ge=1,
        description="Expert-rated answers a judge needs per criterion to count as validated.",
    )
    judge_min_agreement: float = Field(
        default=0.5,
        ge=-1.0,
        le=1.0,
        description="Krippendorff's alpha of judge and experts a judge needs to count as "
        "validated.",
    )
    starting_model: dict[str, str] = Field(
        default_factory=dict,
        description="For an SFT model, the model of the run it was fine-tuned from "
        "(starting_model.my-sft=my-base); default: its model config's starting_model, or the "
        "run's only model of its starting_point kind.",
    )

    @field_validator("metrics")
    @classmethod
    def _known_metrics_for_the_task(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        from evalkit.metrics.registry import get_metric

        for task, names in value.items():
            if task not in TASK_TYPES:
                raise ValueError(
                    f"unknown task type {task!r} (task types: {', '.join(TASK_TYPES)})"
                )
            if not names:
                raise ValueError(f"metrics.{task} is empty")
            for name in names:
                try:
                    metric = get_metric(name)
                except UsageError as e:
                    raise ValueError(str(e)) from None
                if task not in metric.tasks:
                    raise ValueError(
                        f"metric {name!r} does not apply to {task} items "
                        f"(it scores {', '.join(metric.tasks)})"
                    )
        return value

    @field_validator("bleu_tokenize")
    @classmethod
    def _sacrebleu_tokenizer(cls, value: str | None) -> str | None:
        from sacrebleu.metrics import BLEU

        if value is not None and value not in BLEU.TOKENIZERS:
            raise ValueError(f"unknown tokenizer (sacrebleu's: {', '.join(BLEU.TOKENIZERS)})")
        return value

    @field_validator("cluster_by")
    @classmethod
    def _known_clustering(cls, value: str) -> str:
        if value not in CLUSTERINGS:
            raise ValueError(_closest(value, CLUSTERINGS))
        return value

    @field_validator("correction")
    @classmethod
    def _known_correction(cls, value: str) -> str:
        from evalkit.stats import CORRECTIONS

        if value not in CORRECTIONS:
            raise ValueError(_closest(value, list(CORRECTIONS)))
        return value

    @field_validator("compare_metrics")
    @classmethod
    def _known_compared_metrics(cls, value: list[str]) -> list[str]:
        from evalkit.metrics.registry import get_metric

        for name in value:
            if name not in ("score", "ll_accuracy") and not name.startswith(("judge_", "expert_")):
                try:
                    get_metric(name)
                except UsageError as e:
                    raise ValueError(str(e)) from None
        return value

    def scoring_only(self) -> ScoringConfig:
        """Just the scoring keys (of a RunConfig, say)."""
        return ScoringConfig(**{k: getattr(self, k) for k in ScoringConfig.model_fields})

    def metric_names(self, task: str, suite_metrics: list[str]) -> list[str]:
        """This run's metrics for a task: the override if given, else the suite's."""
        return self.metrics.get(task) or suite_metrics

    def options_for(self, options: tuple[str, ...]) -> dict[str, str]:
        """Keyword options for a metric that accepts `options`."""
        return (
            {"tokenize": self.bleu_tokenize} if self.bleu_tokenize and "tokenize" in options else {}
        )
