"""Contamination: which suite items also appear in a training file, by n-gram overlap.

An item's text (`ItemBase.input_text()`: question, choices, passage...) is cut into n-grams
of tokens: words for Latin script and every CJK character on its own, so Chinese needs no word
segmentation and 13 tokens are 13 characters. An item's overlap is the share of its n-grams
found anywhere in the training data; an item shorter than n counts as overlapping when its
whole token sequence occurs in one training record. Items at or above `threshold` are
contaminated: a score on them says what the model memorised, not what it can do.

N-grams that many items of one suite share ("Under the Code of X, how many crowns...") are
the suite's template wording, not any item's content; instruction data written in the same
style would otherwise make every item look contaminated. They are left out of the count
(`boilerplate=`, the share of a suite's items above which an n-gram is template wording).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from evalkit.errors import EvalkitError, UsageError
from evalkit.files import read_jsonl, read_text
from evalkit.metrics.text import CJK_CHAR_CLASS
from evalkit.overrides import compose_config
from evalkit.suite.items import ItemBase
from evalkit.suite.store import SuiteStore
from evalkit.textnorm import normalize_text

DEFAULT_N = 13
DEFAULT_THRESHOLD = 0.2
DEFAULT_BOILERPLATE = 0.1
TEXT_SUFFIXES = (".txt", ".md", ".text")
# Record keys that describe a record rather than hold its text: never searched.
METADATA_KEYS = frozenset(
    {"id", "task", "language", "answer_language", "split", "tags", "provenance", "format", "role"}
)
_TOKEN = re.compile(f"[{CJK_CHAR_CLASS}]|[^\\W{CJK_CHAR_CLASS}]+")


class ContaminationConfig(BaseModel):
    """Everything `evalkit contamination` accepts as KEY=VALUE."""

    model_config = ConfigDict(extra="forbid")

    suite: list[str] = Field(min_length=1, description="Suites to check: NAME, NAME@VERSION, list.")
    data: list[str] = Field(
        min_length=1, description="Training files: .jsonl (records) or .txt/.md (plain text)."
    )
    n: int = Field(default=DEFAULT_N, ge=1, le=100, description="n-gram length in tokens.")
    threshold: float = Field(
        default=DEFAULT_THRESHOLD,
        gt=0.0,
        le=1.0,
        description="Share of an item's n-grams found in the data that makes it contaminated.",
    )
    fields: list[str] = Field(
        default_factory=list,
        description="Top-level JSONL keys to search (default: every text field but metadata).",
    )
    boilerplate: float = Field(
        default=DEFAULT_BOILERPLATE,
        gt=0.0,
        le=1.0,
        description="An n-gram in more than this share of a suite's checked items (and at "
        "least 3) is template wording and not counted; 1 counts everything.",
    )
    split: Literal["test", "dev", "all"] = Field(
        default="test", description="Which items to check: test (scored), dev, or all."
    )
    suites_dir: str = Field(default="suites", description="Folder of published suites.")

    @field_validator("suite", "data", "fields", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


def compose_contamination_config(overrides: list[str]) -> ContaminationConfig:
    return compose_config(
        ContaminationConfig,
        overrides,
        command="contamination",
        example="suite=legal data=train.jsonl",
    )


def ngram_tokens(text: str) -> list[str]:
    """Case-folded NFKC tokens: each CJK character alone, other words whole; no punctuation."""
    return _TOKEN.findall(normalize_text(text))


def ngram_set(tokens: Sequence[str], n: int) -> set[int]:
    """Hashed distinct n-grams of a token sequence (empty when shorter than n)."""
    return {hash(tuple(tokens[i : i + n])) for i in range(len(tokens) - n + 1)}


def record_text(record: Any, fields: Sequence[str] = ()) -> str:
    """A JSON record's text: its string leaves in order (only `fields`, if given), joined."""
    if isinstance(record, str):
        return record
    return "\n".join(_strings(record, frozenset(fields) if fields else None))


def _strings(value: Any, keys: frozenset[str] | None) -> Iterator[str]:
    """Text leaves of a JSON value in document order, skipping metadata keys."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, None)
    elif isinstance(value, dict):
        for k, v in value.items():
            if k in METADATA_KEYS or (keys is not None and k not in keys):
                continue
            yield from _strings(v, None)


def read_training_texts(path: Path, fields: Sequence[str] = ()) -> list[str]:
    """One text per JSONL record (its text fields joined), or a whole text file as one."""
    suffix = path.suffix.lower()
    if suffix not in (*TEXT_SUFFIXES, ".jsonl") and path.is_file():
        raise UsageError(
            f"{path}: unsupported training file type {suffix or '(none)'!r}; "
            f"use .jsonl or {', '.join(TEXT_SUFFIXES)}"
        )
    if suffix in TEXT_SUFFIXES:
        return [read_text(path)]
    return [record_text(line.value, fields) for line in read_jsonl(path)]


@dataclass(frozen=True)
class ItemOverlap:
    """How much of one item's text the training data contains."""

    suite: str
    item_id: str
    language: str
    ngrams: int  # the item's distinct n-grams (1 for an item shorter than n)
    matched: int  # how many of them occur in the training data
    contaminated: bool

    @property
    def ratio(self) -> float:
        return self.matched / self.ngrams if self.ngrams else 0.0


@dataclass
class ContaminationReport:
    """Every checked item with any overlap, and what was checked against what."""

    n: int
    threshold: float
    split: str
    files: list[str]
    records: int
    training_tokens: int
    items_checked: dict[str, int] = field(default_factory=dict)  # per suite ref
    overlaps: list[ItemOverlap] = field(default_factory=list)  # items with any overlap

    @property
    def contaminated(self) -> list[ItemOverlap]:
        return [o for o in self.overlaps if o.contaminated]

    def lines(self) -> list[str]:
        """The report as printed by the CLI and the demo."""
        total = sum(self.items_checked.values())
        suites = ", ".join(f"{ref} ({k})" for ref, k in self.items_checked.items())
        out = [
            f"contamination: {total} {self.split} items of {suites} against "
            f"{', '.join(self.files)} ({self.records} records, {self.training_tokens} tokens); "
            f"{self.n}-grams, threshold {self.threshold:.2f}"
        ]
        for o in sorted(self.overlaps, key=lambda o: (-o.ratio, o.suite, o.item_id)):
            mark = "CONTAMINATED" if o.contaminated else "partial"
            out.append(
                f"  {mark:<12} {o.suite} {o.item_id}: {o.ratio:.2f} of its n-grams in the data "
                f"({o.matched}/{o.ngrams})"
            )
        found = len(self.contaminated)
        partial = len(self.overlaps) - found
        verdict = (
            f"clean: no item reaches the threshold ({partial} with a smaller overlap)"
            if not found
            else f"{found} of {total} items contaminated"
        )
        out.append(verdict)
        return out


class ContaminationFound(EvalkitError):
    """Suite items were found in training data (exit 1, so a CI step fails)."""


class NgramIndex:
    """The n-grams of a training corpus, and its records' token streams for short items."""

    def __init__(self, texts: Sequence[str], n: int) -> None:
        self.n = n
        self._streams: list[str] = []
        self._grams: set[int] = set()
        self.tokens = 0
        for text in texts:
            tokens = ngram_tokens(text)
            self.tokens += len(tokens)
            self._streams.append(" " + " ".join(tokens) + " ")
            self._grams |= ngram_set(tokens, n)

    def contains(self, tokens: Sequence[str]) -> bool:
        """Whether one training record contains this whole token sequence."""
        needle = " " + " ".join(tokens) + " "
        return any(needle in s for s in self._streams)

    def matched(self, grams: set[int]) -> int:
        return len(grams & self._grams)


def template_grams(item_grams: Sequence[set[int]], share: float) -> set[int]:
    """N-grams in more than `share` of the items (and in at least 3): template wording."""
    counts = Counter(g for grams in item_grams for g in grams)
    limit = max(2, share * len(item_grams))
    return {g for g, count in counts.items() if count > limit}


def check_items(
    suite: str,
    items: Sequence[ItemBase],
    index: NgramIndex,
    threshold: float,
    boilerplate: float = DEFAULT_BOILERPLATE,
) -> list[ItemOverlap]:
    """Items with any overlap, each marked contaminated at or above `threshold`."""
    tokens = [ngram_tokens(item.input_text()) for item in items]
    item_grams = [ngram_set(t, index.n) for t in tokens]
    template = template_grams(item_grams, boilerplate) if boilerplate < 1 else set()
    found = []
    for item, item_tokens, grams in zip(items, tokens, item_grams, strict=True):
        own = (grams - template) or grams  # an item that is all template keeps its n-grams
        if own:
            matched, total = index.matched(own), len(own)
        elif item_tokens:  # shorter than n: the whole item, as one sequence
            matched, total = int(index.contains(item_tokens)), 1
        else:
            continue
        if matched:
            ratio = matched / total
            found.append(
                ItemOverlap(suite, item.id, item.language, total, matched, ratio >= threshold)
            )
    return found


def check_contamination(config: ContaminationConfig) -> ContaminationReport:
    """Check every selected item of every suite in `config` against its training files."""
    store = SuiteStore(config.suites_dir)
    versions = [store.load(ref) for ref in config.suite]  # unknown suites fail before reading data
    texts = []
    for name in config.data:
        texts += read_training_texts(Path(name), config.fields)
    index = NgramIndex(texts, config.n)
    report = ContaminationReport(
        config.n, config.threshold, config.split, list(config.data), len(texts), index.tokens
    )
    for version in versions:
        items = [i for i in version.items if config.split in ("all", i.split)]
        report.items_checked[version.ref] = len(items)
        report.overlaps += check_items(
            version.ref, items, index, config.threshold, config.boilerplate
        )
    return report
