"""Typed loaders of the authoring tables (`tables/*.yaml`) and the demo suites' specs
(`specs/<suite>/suite.yaml`, read as `evalkit suite` reads a draft's spec)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from evalkit.errors import ProblemsFound, UsageError
from evalkit.files import problems_from_validation, read_yaml
from evalkit.suite.draft import SPEC_FILE, read_spec
from evalkit.suite.spec import SuiteSpec

TABLES_DIR = Path(__file__).parent / "tables"
SPECS_DIR = Path(__file__).parent / "specs"

Language = Literal["en", "zh"]
LANGUAGES: tuple[Language, ...] = ("en", "zh")
T = TypeVar("T")


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Phrase(_Table):
    """One phrase in both languages."""

    en: str = Field(min_length=1, description="English.")
    zh: str = Field(min_length=1, description="Chinese.")

    def text(self, lang: Language) -> str:
        return self.en if lang == "en" else self.zh


class Area(_Table):
    """One area of law (a chapter of the Code): its provisions' roles and acts."""

    zh: str = Field(min_length=1, description="The area's Chinese name.")
    roles: tuple[Phrase, ...] = Field(min_length=1, description="Who a provision addresses.")
    acts: tuple[Phrase, ...] = Field(min_length=1, description="What a provision fines.")


class Bilingual(_Table, Generic[T]):
    """A table with one entry per language."""

    en: T = Field(description="The English entry.")
    zh: T = Field(description="The Chinese entry.")

    def __getitem__(self, lang: Language) -> T:
        return self.en if lang == "en" else self.zh


class Sentiment(_Table):
    """Sentence subjects and the positive and negative endings that complete them."""

    subjects: tuple[str, ...] = Field(min_length=1, description="'The dinner', ...")
    positive: tuple[str, ...] = Field(min_length=1, description="'was wonderful', ...")
    negative: tuple[str, ...] = Field(min_length=1, description="'was terrible', ...")

    def endings(self, label: Literal["positive", "negative"]) -> tuple[str, ...]:
        return self.positive if label == "positive" else self.negative


class People(_Table):
    """Names, towns and sentence templates (`{name}`, `{age}`, `{town}`) about a person."""

    names: tuple[str, ...] = Field(min_length=1, description="First names.")
    towns: tuple[str, ...] = Field(min_length=1, description="Town names.")
    training: tuple[str, ...] = Field(min_length=1, description="Templates of the chat data.")
    test: str = Field(min_length=1, description="The template of the suite's items.")


class Arithmetic(_Table):
    """Phrasings (`{a}`, `{b}`) of an addition question."""

    training: tuple[str, ...] = Field(min_length=1, description="Phrasings of the chat data.")
    test: str = Field(min_length=1, description="The phrasing of the suite's items.")


class Exchange(_Table):
    """A one-turn dialogue."""

    user: str = Field(min_length=1, description="The user turn.")
    assistant: str = Field(min_length=1, description="The assistant's answer.")


def _load(name: str, adapter: TypeAdapter[T]) -> T:
    """`tables/<name>` validated, or every way it is the wrong shape."""
    path = TABLES_DIR / name
    try:
        return adapter.validate_python(read_yaml(path, "authoring table"))
    except ValidationError as e:
        raise ProblemsFound(problems_from_validation(e, path)) from None


@cache
def areas() -> Mapping[str, Area]:
    """The Code's areas of law in chapter order (`norvale.yaml`)."""
    return _load("norvale.yaml", TypeAdapter(dict[str, Area]))


@cache
def sentiment() -> Bilingual[Sentiment]:
    return _load("sentiment.yaml", TypeAdapter(Bilingual[Sentiment]))


@cache
def categories() -> Bilingual[dict[str, tuple[str, ...]]]:
    """Words by category name, the category names in the question's language."""
    return _load("categories.yaml", TypeAdapter(Bilingual[dict[str, tuple[str, ...]]]))


@cache
def people() -> Bilingual[People]:
    return _load("people.yaml", TypeAdapter(Bilingual[People]))


@cache
def arithmetic() -> Bilingual[Arithmetic]:
    return _load("arithmetic.yaml", TypeAdapter(Bilingual[Arithmetic]))


@cache
def small_talk() -> tuple[Exchange, ...]:
    return _load("small_talk.yaml", TypeAdapter(tuple[Exchange, ...]))


@cache
def suite_spec(name: str) -> SuiteSpec:
    """The spec of the demo suite `name`, from `specs/<name>/suite.yaml`."""
    path = SPECS_DIR / name / SPEC_FILE
    spec, problems = read_spec(path)
    if spec is None or problems:
        raise ProblemsFound(problems)
    if spec.name != name:
        raise UsageError(f"{path}: name: {spec.name!r}, expected {name!r} (its folder's name)")
    return spec
