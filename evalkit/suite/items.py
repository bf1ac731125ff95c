"""Test items: one pydantic model per task type, discriminated by `task`.

An item is what an expert writes and what a model is scored on. Every model forbids unknown
fields so that a typo in a file is an error rather than a silently ignored key.
"""

from __future__ import annotations

import itertools
import json
import re
import string
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from evalkit.files import unencodable

TaskType = Literal["mcq", "classification", "extraction", "qa", "generation", "dialogue"]
TASK_TYPES: tuple[str, ...] = TaskType.__args__  # type: ignore[attr-defined]

Split = Literal["test", "dev"]

LETTERS = string.ascii_uppercase
UNENCODABLE = "unencodable_text"  # the error type of text that cannot be written as UTF-8
# Validation context key: the record came from UTF-8 text without surrogate escapes, so it
# holds no lone surrogate (the check walks every string of the item: a second per 50,000).
SKIP_ENCODABLE_CHECK = "utf8_clean"
ITEM_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
# Lower-case BCP-47 primary subtag with optional subtags: en, zh, zh-Hant, pt-BR.
LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class Provenance(_Strict):
    """Who wrote an item, who checked it, and where its content came from."""

    author: str = Field(min_length=1, description="Who wrote the item.")
    reviewer: str | None = Field(default=None, description="Who approved it, once reviewed.")
    source: str | None = Field(
        default=None, description="Origin: 'original', a statute, a public dataset and row, ..."
    )


# --- format specs: what a well-formed answer looks like, for format adherence ---------------


class ChoiceFormat(_Strict):
    """The answer must be exactly one of `choices` (after trimming whitespace)."""

    kind: Literal["choice"]
    choices: list[str] = Field(min_length=1, description="Allowed answers, verbatim.")
    case_sensitive: bool = Field(default=False, description="Compare case-sensitively.")


class RegexFormat(_Strict):
    """The whole answer (after trimming whitespace) must match `pattern`."""

    kind: Literal["regex"]
    pattern: str = Field(min_length=1, description="Python regular expression, full match.")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as e:
            raise ValueError(f"invalid regular expression: {e}") from None
        return v


class JsonSchemaFormat(_Strict):
    """The answer must parse as JSON and validate against `json_schema`."""

    kind: Literal["json_schema"]
    json_schema: dict[str, Any] = Field(description="A JSON Schema (draft 2020-12).")

    @field_validator("json_schema")
    @classmethod
    def _is_schema(cls, v: dict[str, Any]) -> dict[str, Any]:
        problem = _schema_problem(json.dumps(v, sort_keys=True))
        if problem:
            raise ValueError(f"invalid JSON schema: {problem}")
        return v


@lru_cache(maxsize=1024)
def _schema_problem(schema_json: str) -> str | None:
    """Why a schema is invalid, or None. Memoised: suites repeat a few schemas many times, and
    checking one against the meta-schema takes milliseconds."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(json.loads(schema_json))
    except SchemaError as e:
        return e.message
    return None


FormatSpec = Annotated[ChoiceFormat | RegexFormat | JsonSchemaFormat, Field(discriminator="kind")]
FORMAT_KINDS: tuple[str, ...] = tuple(
    cls.model_fields["kind"].annotation.__args__[0]
    for cls in FormatSpec.__origin__.__args__  # type: ignore[attr-defined]
)


# --- items ------------------------------------------------------------------------------------


class ItemBase(_Strict):
    """Fields every item has, whatever its task."""

    if TYPE_CHECKING:  # each item class declares its own `task` literal (the discriminator)
        task: TaskType

    id: str = Field(pattern=ITEM_ID_PATTERN, description="Stable id, unique within a suite.")
    language: str = Field(pattern=LANGUAGE_PATTERN, description="Language of the item: en, zh...")
    answer_language: str | None = Field(
        default=None,
        pattern=LANGUAGE_PATTERN,
        description="Language the answer must be in, when it differs (translation).",
    )
    split: Split = Field(default="test", description="'dev' items are the only few-shot source.")
    tags: list[str] = Field(
        default_factory=list, description="Sub-area, difficulty, capability tested."
    )
    group: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Items that share a source (a case file, a passage) share a group; CIs and "
        "paired tests then resample groups, not items.",
    )
    provenance: Provenance
    format: FormatSpec | None = Field(
        default=None, description="What a well-formed answer looks like (format adherence)."
    )

    @field_validator("tags")
    @classmethod
    def _tags_clean(cls, v: list[str]) -> list[str]:
        if not v:
            return v
        stripped = list(map(str.strip, v))
        if stripped != v or not all(stripped):
            tag = next(t for t, s in zip(v, stripped, strict=True) if t != s or not s)
            raise ValueError(f"tag {tag!r} is empty or has surrounding whitespace")
        if len(set(v)) != len(v):
            raise ValueError("tags repeat")
        return v

    # After the fields' own checks: a str field accepts a lone surrogate ("\ud800" in JSON),
    # which no file can hold; found here, it is a problem at `validate`, not a crash at publish.
    @model_validator(mode="after")
    def _text_is_encodable(self, info: ValidationInfo) -> ItemBase:
        if info.context and info.context.get(SKIP_ENCODABLE_CHECK):
            return self
        found = unencodable(self)
        if found:
            field, reason = found
            raise PydanticCustomError(UNENCODABLE, "{reason}", {"field": field, "reason": reason})
        return self

    @property
    def expected_language(self) -> str:
        """The language a correct answer is written in."""
        return self.answer_language or self.language

    def template_context(self) -> dict[str, Any]:
        """Variables a prompt template sees for this item: its fields, plus task extras."""
        return self.model_dump(mode="json")

    def input_text(self) -> str:
        """All text shown to the model, joined; used for duplicate and contamination checks."""
        raise NotImplementedError

    def reference_texts(self) -> list[str]:
        """Gold answers as text."""
        raise NotImplementedError


def _non_blank(v: str) -> str:
    if not v.strip():
        raise ValueError("must not be blank")
    return v


def _no_blank_entry(what: str) -> Callable[[list[str]], list[str]]:
    def check(v: list[str]) -> list[str]:
        if not all(map(str.strip, v)):  # C-level: loading checks every entry of every item
            raise ValueError(f"{what} is blank")
        return v

    return check


class MCQItem(ItemBase):
    """Multiple choice: lettered choices, one correct letter."""

    task: Literal["mcq"]
    question: str
    choices: list[str] = Field(min_length=2, max_length=26, description="Shown as A, B, C, ...")
    answer: str = Field(description="The correct letter: 'A', 'B', ...")

    _question = field_validator("question")(_non_blank)

    @field_validator("choices")
    @classmethod
    def _choices_distinct(cls, v: list[str]) -> list[str]:
        _no_blank_entry("a choice")(v)
        if len({c.strip() for c in v}) != len(v):
            raise ValueError("choices repeat")
        return v

    # A field validator (not a model validator) so it runs, and reports, even when some
    # other field of the item is also wrong: validation must show every problem at once.
    @field_validator("answer")
    @classmethod
    def _answer_is_a_choice(cls, v: str, info: ValidationInfo) -> str:
        choices = info.data.get("choices")
        if choices is not None and v not in LETTERS[: len(choices)]:
            letters = ", ".join(LETTERS[: len(choices)])
            raise ValueError(f"answer {v!r} is not among the choices' letters {letters}")
        return v

    @property
    def letters(self) -> list[str]:
        return list(LETTERS[: len(self.choices)])

    def template_context(self) -> dict[str, Any]:
        return {
            **super().template_context(),
            "letters": self.letters,
            "answer_text": self.answer_text,
        }

    @property
    def answer_text(self) -> str:
        return self.choices[LETTERS.index(self.answer)]

    def input_text(self) -> str:
        return "\n".join([self.question, *self.choices])

    def reference_texts(self) -> list[str]:
        return [self.answer]


class ClassificationItem(ItemBase):
    """Text classification: intent, sentiment, clause type... one gold label from a label set."""

    task: Literal["classification"]
    text: str
    labels: list[str] = Field(min_length=2, description="The label set offered to the model.")
    label: str = Field(description="The gold label; one of `labels`.")

    _text = field_validator("text")(_non_blank)

    @field_validator("labels")
    @classmethod
    def _labels_distinct(cls, v: list[str]) -> list[str]:
        _no_blank_entry("a label")(v)
        if len(set(v)) != len(v):
            raise ValueError("labels repeat")
        return v

    @field_validator("label")
    @classmethod
    def _label_in_set(cls, v: str, info: ValidationInfo) -> str:
        labels = info.data.get("labels")
        if labels is not None and v not in labels:
            raise ValueError(f"label {v!r} is not among labels {labels}")
        return v

    def input_text(self) -> str:
        return self.text

    def reference_texts(self) -> list[str]:
        return [self.label]


FieldValue = str | int | float | bool | None | list[Any] | dict[str, Any]


class ExtractionItem(ItemBase):
    """Slot filling / information extraction: gold fields as a JSON object."""

    task: Literal["extraction"]
    text: str
    fields: dict[str, FieldValue] = Field(
        min_length=1, description="Gold value per field name; null where the text has none."
    )

    _text = field_validator("text")(_non_blank)

    @field_validator("fields")
    @classmethod
    def _field_names(cls, v: dict[str, Any]) -> dict[str, Any]:
        for name in v:
            if not name.strip():
                raise ValueError("a field name is blank")
        return v

    def input_text(self) -> str:
        return self.text

    def reference_texts(self) -> list[str]:
        return [json.dumps(self.fields, ensure_ascii=False, sort_keys=True)]


class QAItem(ItemBase):
    """Question answering, optionally over a context passage; several references allowed."""

    task: Literal["qa"]
    question: str
    context: str | None = None
    answers: list[str] = Field(min_length=1, description="Acceptable answers; best match counts.")

    _question = field_validator("question")(_non_blank)

    _answers = field_validator("answers")(_no_blank_entry("an answer"))

    def input_text(self) -> str:
        return self.question if self.context is None else f"{self.context}\n{self.question}"

    def reference_texts(self) -> list[str]:
        return list(self.answers)


class GenerationItem(ItemBase):
    """Open generation: translation, summarisation, drafting; scored against references."""

    task: Literal["generation"]
    prompt: str
    references: list[str] = Field(min_length=1)

    _prompt = field_validator("prompt")(_non_blank)

    _references = field_validator("references")(_no_blank_entry("a reference"))

    def input_text(self) -> str:
        return self.prompt

    def reference_texts(self) -> list[str]:
        return list(self.references)


class Message(_Strict):
    """One turn of a conversation."""

    role: Literal["system", "user", "assistant"]
    content: str = Field(min_length=1)


class DialogueItem(ItemBase):
    """Multi-turn dialogue: the conversation so far and the expected next assistant turn."""

    task: Literal["dialogue"]
    messages: list[Message] = Field(min_length=1)
    references: list[str] = Field(min_length=1, description="Expected next assistant turn(s).")

    @field_validator("messages")
    @classmethod
    def _turns_in_order(cls, v: list[Message]) -> list[Message]:
        roles = [m.role for m in v]
        if "system" in roles[1:]:
            raise ValueError("a system message may only come first")
        turns = [r for r in roles if r != "system"]
        if not turns or turns[-1] != "user":
            raise ValueError("the conversation must end with a user turn")
        for a, b in itertools.pairwise(turns):
            if a == b:
                raise ValueError(f"two {a} turns in a row")
        if turns[0] != "user":
            raise ValueError("the conversation must start with a user turn")
        return v

    _references = field_validator("references")(_no_blank_entry("a reference"))

    def input_text(self) -> str:
        return "\n".join(m.content for m in self.messages)

    def reference_texts(self) -> list[str]:
        return list(self.references)


Item = Annotated[
    MCQItem | ClassificationItem | ExtractionItem | QAItem | GenerationItem | DialogueItem,
    Field(discriminator="task"),
]
ITEM_ADAPTER: TypeAdapter[Item] = TypeAdapter(Item)
# Derived from the union so that adding a task type is one edit, not two.
ITEM_CLASSES: dict[str, type[ItemBase]] = {
    cls.model_fields["task"].annotation.__args__[0]: cls
    for cls in Item.__origin__.__args__  # type: ignore[attr-defined]
}


def item_to_record(item: ItemBase) -> dict[str, Any]:
    """The JSON-ready record for an item: id and task first, unset optional fields left out."""
    record = item.model_dump(mode="json", exclude_none=True)
    return {"id": record.pop("id"), "task": record.pop("task"), **record}
