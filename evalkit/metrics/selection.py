"""Which metrics a run computes: per-task choices that replace the suite's, and metric options.

Recorded in the run manifest with the rest of the run configuration, so that `evalkit score`
re-scores a run the way it was scored, unless told otherwise.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from evalkit.errors import UsageError
from evalkit.suite.items import TASK_TYPES


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
