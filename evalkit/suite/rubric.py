"""A suite's rubric: the criteria by which experts and LLM judges rate open-ended answers.

Each criterion has a name, a description written for the rater (in English or Chinese), an
integer scale and the task types it applies to. A suite without a rubric of its own is rated
on the default one: accuracy (against the reference and the item's facts), fluency and
relevance, 1 to 5, for generation and dialogue items.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from evalkit.suite.items import TaskType

CRITERION_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"


def _open_ended() -> list[TaskType]:
    return ["generation", "dialogue"]


class Criterion(BaseModel):
    """One thing a rater scores, on an integer scale."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=CRITERION_NAME_PATTERN, description="Short name: accuracy, ...")
    description: str = Field(min_length=1, description="What the rater judges, for the rater.")
    scale: tuple[int, int] = Field(default=(1, 5), description="Lowest and highest score.")
    tasks: list[TaskType] = Field(
        default_factory=_open_ended,
        min_length=1,
        description="Task types whose items are rated on this criterion.",
    )

    @field_validator("scale")
    @classmethod
    def _scale_rises(cls, v: tuple[int, int]) -> tuple[int, int]:
        low, high = v
        if not 0 <= low < high <= 100:
            raise ValueError(f"scale {list(v)} must rise from a low to a high score in 0..100")
        return v

    def normalised(self, score: int) -> float:
        """The score on 0..1 (low → 0, high → 1), as item metrics are."""
        low, high = self.scale
        return (score - low) / (high - low)


DEFAULT_CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        name="accuracy",
        description="Is the answer correct: consistent with the reference answer and the facts "
        "in the item, with nothing false added? / 准确性：答案是否正确，与参考答案和题目中的"
        "事实一致，没有添加错误内容？",
    ),
    Criterion(
        name="fluency",
        description="Is the answer well written: grammatical, clear and natural in its "
        "language? / 流畅性：答案是否通顺、清楚、自然，符合该语言的表达习惯？",
    ),
    Criterion(
        name="relevance",
        description="Does the answer address what was asked, without drifting off the "
        "question? / 相关性：答案是否针对所问的问题，没有偏题？",
    ),
)


class Rubric(BaseModel):
    """A suite's criteria; names are unique."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    criteria: list[Criterion] = Field(min_length=1, description="What raters score.")

    @model_validator(mode="after")
    def _names_unique(self) -> Rubric:
        names = [c.name for c in self.criteria]
        if len(set(names)) != len(names):
            raise ValueError(f"criteria repeat a name: {names}")
        return self

    def for_task(self, task: str) -> list[Criterion]:
        """The criteria that rate items of this task type."""
        return [c for c in self.criteria if task in c.tasks]

    def get(self, name: str) -> Criterion | None:
        return next((c for c in self.criteria if c.name == name), None)


DEFAULT_RUBRIC = Rubric(criteria=list(DEFAULT_CRITERIA))
