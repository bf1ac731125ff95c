"""Tokenizer coverage: does a model's vocabulary fit the suite's domain text?

The evidence a team needs before deciding on vocabulary expansion for domain fine-tuning:
for each tokenizer, tokens per character on Chinese text and tokens per word on English
text (the "fertility" of Rust et al. 2021, "How Good is Your Tokenizer?"), on the domain
suite and on a general suite, and the domain terms split into the most pieces. Terms come
from the suite's glossary, or else are the word n-grams (English) and character n-grams
(Chinese) found in at least `min_items` items of the suite and in no item of the general
suite. Counts exclude special tokens (BOS/EOS), as the text itself is what is measured.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from evalkit.suite.items import ItemBase
from evalkit.suite.store import SuiteVersion


class TokensConfig(BaseModel):
    """Settings of `evalkit suite tokens`."""

    model_config = ConfigDict(extra="forbid")

    model: list[str] = Field(min_length=1, description="Models whose tokenizers are compared.")
    models_dir: Path = Field(default=Path("models"), description="Where model configs are.")
    general: str | None = Field(
        default="general",
        description="The general suite the domain is compared with (none: no comparison).",
    )

    @field_validator("general", mode="before")
    @classmethod
    def _none(cls, v: object) -> object:
        return None if v in ("none", "") else v

    @field_validator("model", mode="before")
    @classmethod
    def _one_or_many(cls, v: object) -> object:
        return [v] if isinstance(v, str) else v


CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
CHINESE_NGRAMS = (2, 3, 4)
ENGLISH_NGRAMS = (1, 2, 3)
MIN_TERM_LETTERS = 5  # an English term has a word this long: no "of the", "in a"


def _language(item: ItemBase) -> str | None:
    for code in ("zh", "en"):
        if item.language.startswith(code):
            return code
    return None


def suite_texts(version: SuiteVersion) -> dict[str, list[str]]:
    """The suite's text by language ("zh", "en"): every item's input and its gold answers."""
    texts: dict[str, list[str]] = {"zh": [], "en": []}
    for item in version.items:
        language = _language(item)
        if language is not None:  # an extraction's gold is JSON: its keys are not text
            golds = [] if item.task == "extraction" else item.reference_texts()
            texts[language].append("\n".join([item.input_text(), *golds]))
    return texts


def count_tokens(tokenizer: Any, text: str) -> int:
    return len(tokenizer.encode(text, add_special_tokens=False))


@dataclass(frozen=True)
class Fertility:
    """Tokens per Chinese character and per English word; None without such text."""

    zh_per_char: float | None
    en_per_word: float | None


def fertility(tokenizer: Any, texts: dict[str, list[str]]) -> Fertility:
    chars = sum(len("".join(CJK_RUN.findall(t))) for t in texts["zh"])
    zh_tokens = sum(count_tokens(tokenizer, t) for t in texts["zh"])
    words = sum(len(t.split()) for t in texts["en"])
    en_tokens = sum(count_tokens(tokenizer, t) for t in texts["en"])
    return Fertility(zh_tokens / chars if chars else None, en_tokens / words if words else None)


def _ngrams(text: str) -> set[tuple[str, str]]:
    """(language, n-gram) pairs of a text: character n-grams of its Chinese runs, word
    n-grams (lower case) of its English words."""
    found: set[tuple[str, str]] = set()
    for run in CJK_RUN.findall(text):
        for n in CHINESE_NGRAMS:
            found |= {("zh", run[i : i + n]) for i in range(len(run) - n + 1)}
    words = [w.lower() for w in WORD.findall(text)]
    for n in ENGLISH_NGRAMS:
        for i in range(len(words) - n + 1):
            gram = words[i : i + n]
            if max(map(len, gram)) >= MIN_TERM_LETTERS:
                found.add(("en", " ".join(gram)))
    return found


def domain_terms(
    version: SuiteVersion, general: SuiteVersion | None, limit: int = 40, min_items: int = 3
) -> list[str]:
    """The suite's glossary, or its frequent n-grams absent from the general suite (up to
    `limit` per language, most frequent first)."""
    if version.spec.glossary:
        return list(version.spec.glossary)
    counts: Counter[tuple[str, str]] = Counter()
    for texts in suite_texts(version).values():
        for text in texts:
            counts.update(_ngrams(text))
    common: set[tuple[str, str]] = set()
    if general is not None:
        for texts in suite_texts(general).values():
            for text in texts:
                common |= _ngrams(text)
    frequent = {g: c for g, c in counts.items() if c >= min_items and g not in common}
    # keep the longest form: drop an n-gram inside a longer frequent one found as often
    kept = [
        g
        for g, c in frequent.items()
        if not any(o != g and g[1] in o[1] and c == frequent[o] for o in frequent)
    ]
    kept.sort(key=lambda g: (-frequent[g], g))
    by_language = [[t for lang, t in kept if lang == code][:limit] for code in ("zh", "en")]
    return [term for terms in by_language for term in terms]


@dataclass(frozen=True)
class TermSplit:
    term: str
    pieces: list[str]  # the tokens, as the tokenizer writes them


def split_terms(tokenizer: Any, terms: Iterable[str]) -> list[TermSplit]:
    """Each term as it is tokenized in running text (English after a space), most pieces
    first."""
    splits = []
    for term in terms:
        text = term if CJK_RUN.fullmatch(term) else " " + term
        ids = tokenizer.encode(text, add_special_tokens=False)
        splits.append(TermSplit(term, list(tokenizer.convert_ids_to_tokens(ids))))
    return sorted(splits, key=lambda s: (-len(s.pieces), s.term))


@dataclass(frozen=True)
class TokenizerCoverage:
    model: str
    vocabulary: int
    domain: Fertility
    general: Fertility | None
    terms: list[TermSplit]

    @property
    def mean_term_pieces(self) -> float | None:
        return sum(len(t.pieces) for t in self.terms) / len(self.terms) if self.terms else None


def tokenizer_coverage(
    models: Sequence[tuple[str, Any]], version: SuiteVersion, general: SuiteVersion | None
) -> list[TokenizerCoverage]:
    """The coverage of each (name, tokenizer) on `version`, against `general`."""
    texts = suite_texts(version)
    general_texts = suite_texts(general) if general is not None else None
    terms = domain_terms(version, general)
    return [
        TokenizerCoverage(
            model=name,
            vocabulary=len(tokenizer),
            domain=fertility(tokenizer, texts),
            general=fertility(tokenizer, general_texts) if general_texts else None,
            terms=split_terms(tokenizer, terms),
        )
        for name, tokenizer in models
    ]


def load_tokenizers(refs: Sequence[str], models_dir: Any) -> list[tuple[str, Any]]:
    """(name, tokenizer) of each model reference (a config in `models_dir` or a folder); an
    adapter's tokenizer is its base's."""
    from transformers import AutoTokenizer

    from evalkit.errors import NotFoundError
    from evalkit.runner.models import resolve_model

    loaded = []
    for ref in refs:
        spec = resolve_model(ref, models_dir)
        try:
            tokenizer = AutoTokenizer.from_pretrained(
                spec.path, trust_remote_code=spec.trust_remote_code
            )
        except (OSError, ValueError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            message = f"model={ref}: cannot load its tokenizer from {spec.path}: {first}"
            raise NotFoundError(message) from None
        loaded.append((spec.name, tokenizer))
    return loaded


def _rate(domain: float | None, general: float | None) -> str:
    if domain is None:
        return "-"
    if general is None:
        return f"{domain:.2f}"
    return f"{domain:.2f} ({general:.2f}, {100 * (domain / general - 1):+.0f}%)"


def coverage_lines(
    results: Sequence[TokenizerCoverage], version: SuiteVersion, general: SuiteVersion | None
) -> list[str]:
    """The coverage table as printed by `evalkit suite tokens`."""
    against = (
        f" (in brackets: {general.ref}, and how much more the domain costs)" if general else ""
    )
    lines = [f"tokenizer coverage of {version.ref}{against}"]
    lines.append(
        f"{'model':<20} {'vocabulary':>10}  {'zh tokens/char':<26} {'en tokens/word':<26} "
        "term pieces"
    )
    for r in results:
        g = r.general
        mean = f"{r.mean_term_pieces:.1f}" if r.mean_term_pieces is not None else "-"
        lines.append(
            f"{r.model:<20} {r.vocabulary:>10}  "
            f"{_rate(r.domain.zh_per_char, g.zh_per_char if g else None):<26} "
            f"{_rate(r.domain.en_per_word, g.en_per_word if g else None):<26} {mean}"
        )
    source = (
        "glossary"
        if version.spec.glossary
        else f"frequent n-grams not in {general.ref}"
        if general
        else "frequent n-grams"
    )
    lines.append(f"terms split into the most pieces (terms: {source})")
    for r in results:
        for language in ("zh", "en"):
            chinese = language == "zh"
            worst = [t for t in r.terms if bool(CJK_RUN.fullmatch(t.term)) == chinese][:6]
            if worst:
                shown = ", ".join(f"{t.term} {len(t.pieces)}" for t in worst)
                lines.append(f"  {r.model} ({language}): {shown}")
    return lines
