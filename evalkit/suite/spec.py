"""The suite specification: what a suite measures and how its items are put to a model."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
)

from evalkit.suite.items import TaskType
from evalkit.suite.rubric import DEFAULT_RUBRIC, Rubric
from evalkit.templating import check_template

SUITE_NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,63}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Goal(_Strict):
    """One capability the suite is meant to measure."""

    capability: str = Field(min_length=1, description="domain_knowledge, task_completion, ...")
    description: str = Field(min_length=1, description="What good looks like, in a sentence.")


class CoverageGoals(_Strict):
    """How thinly a suite may cover a slice (a tag, a task type, a language) before
    `evalkit suite analyze`, `suite show` and the report name it."""

    min_items_per_tag: int | None = Field(
        default=None, ge=1, description="Fewest test items a tag should have."
    )
    mde: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="Largest minimum detectable difference a slice should have (0-1).",
    )


class TaskConfig(_Strict):
    """How items of one task type are prompted and scored.

    Templates are Jinja, rendered in a sandbox with the item's fields as variables
    (`question`, `choices`, `letters`, `text`, `labels`, `messages`, ...).
    """

    instruction: str = Field(description="Said once, before few-shot exemplars (base models).")
    prompt: str = Field(
        description="Base-model completion prompt for one item; ends where the answer starts."
    )
    target: str = Field(description="The gold answer as written after `prompt` in an exemplar.")
    chat: str = Field(description="The user turn for chat models.")
    system: str | None = Field(default=None, description="Optional system prompt for chat models.")
    fewshot: int = Field(default=3, ge=0, le=32, description="Dev exemplars in a base prompt.")
    stop: list[str] = Field(
        default_factory=lambda: ["\n\n"], description="Stop sequences for base completions."
    )
    metrics: list[str] = Field(min_length=1, description="Default metrics for this task.")
    instruction_variants: list[str] | None = Field(
        default=None,
        description="Other wordings of the instruction, for prompt sensitivity "
        "(prompts.variants=K); default: evalkit's built-in ones.",
    )
    truncate_from: Literal["start", "end"] | None = Field(
        default=None,
        description="When an item does not fit the model's context even without few-shot "
        "exemplars, and the run allows it (truncate=true): which end of the item's long text "
        "(a QA context, a text, a prompt; a dialogue's earliest turns) may be cut.",
    )

    @model_serializer(mode="wrap")
    def _without_unset_additions(self, handler: SerializerFunctionWrapHandler) -> Any:
        # Fields added after suites were first published are left out while unset, so that a
        # spec dumps (and so hashes) exactly as it did before they existed.
        data = handler(self)
        if isinstance(data, dict):
            for key in ("truncate_from", "instruction_variants"):
                if data.get(key) is None:
                    data.pop(key, None)
        return data

    @field_validator("instruction", "prompt", "target", "chat", "system")
    @classmethod
    def _template_parses(cls, v: str | None) -> str | None:
        if v is not None:
            check_template(v)
        return v

    @field_validator("instruction_variants")
    @classmethod
    def _variants_parse(cls, v: list[str] | None) -> list[str] | None:
        for wording in v or []:
            check_template(wording)
        return v


class SuiteSpec(_Strict):
    """Everything about a suite except its items: goals, guidelines, prompts, metrics."""

    name: str = Field(pattern=SUITE_NAME_PATTERN, description="Lower-case suite name.")
    description: str = Field(min_length=1)
    guidelines: str = Field(min_length=1, description="Annotation guidelines, Markdown.")
    goals: list[Goal] = Field(min_length=1)
    tasks: dict[TaskType, TaskConfig] = Field(
        min_length=1, description="Prompting and metrics per task type used by the suite."
    )
    rubric: Rubric | None = Field(
        default=None,
        description="Criteria for rating open-ended answers (experts and LLM judges); "
        "default: accuracy, fluency, relevance on 1-5.",
    )
    coverage: CoverageGoals | None = Field(
        default=None, description="Targets for how thinly a slice of the suite may be covered."
    )
    glossary: list[str] | None = Field(
        default=None,
        description="The domain's key terms (法定代表人, consideration...): what "
        "`evalkit suite tokens` checks each tokenizer splits into pieces.",
    )

    @model_serializer(mode="wrap")
    def _without_unset_additions(self, handler: SerializerFunctionWrapHandler) -> Any:
        # Added after suites were first published: left out while unset (see TaskConfig).
        data = handler(self)
        if isinstance(data, dict):
            for key in ("rubric", "coverage", "glossary"):
                if data.get(key) is None:
                    data.pop(key, None)
        return data

    @field_validator("glossary")
    @classmethod
    def _glossary_clean(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        if not v or any(not t.strip() or t != t.strip() for t in v) or len(set(v)) != len(v):
            raise ValueError("glossary terms must be distinct, non-blank and unpadded")
        return v

    @property
    def effective_rubric(self) -> Rubric:
        """The suite's rubric, or the default one."""
        return self.rubric or DEFAULT_RUBRIC
