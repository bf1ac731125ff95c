"""Prompts that fit: every prompt measured with the model's own tokenizer against its context.

A prompt needs its own tokens plus room for the answer (`max_new_tokens`, or the longest
option continuation when options are scored) within the model's context: the engine option
`max_model_len` when a model config sets it, else the checkpoint's config.json
(`max_position_embeddings` or its equivalents). A prompt that is too long is fixed in order:

1. few-shot exemplars are dropped, the last first (base prompts);
2. if the run allows it (`truncate=true`) and the suite's task says which end of an item's
   long text may go (`tasks.<task>.truncate_from: start|end`), that text is cut at that end
   and "…" marks the cut (a QA context, else a question; a classification or extraction text;
   a generation prompt; a dialogue loses its earliest turns);
3. otherwise the item is not sent to the engine: it is a per-item error with the reason.

What was done is recorded per item (`fit` in the generations file).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.errors import EvalkitError
from evalkit.prompts import (
    Prompt,
    choose_exemplars,
    render_base_prompt,
    render_chat_messages,
    render_exemplars,
)
from evalkit.runner.models import ModelSpec
from evalkit.suite.items import DialogueItem, ItemBase, QAItem
from evalkit.suite.spec import SuiteSpec, TaskConfig

# config.json keys that state a model's context length, most specific first.
_CONTEXT_KEYS = (
    "max_position_embeddings",
    "n_positions",
    "max_sequence_length",
    "seq_length",
    "n_ctx",
)
ELLIPSIS = "…"


@dataclass(frozen=True)
class ContextWindow:
    """How many tokens a model takes, and where that number came from."""

    tokens: int
    source: str


def context_window(model: ModelSpec) -> ContextWindow | None:
    """The model's context: engine.max_model_len, else config.json; None when neither says."""
    if isinstance(model.engine.get("max_model_len"), int):
        return ContextWindow(model.engine["max_model_len"], "engine.max_model_len")
    path = Path(model.path) / "config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for section in (config, config.get("text_config") or {}):
        for key in _CONTEXT_KEYS:
            if isinstance(section.get(key), int) and section[key] > 0:
                return ContextWindow(section[key], f"config.json {key}")
    return None


class TokenCounter:
    """Counts a prompt's tokens the way the engines do: completion text with the tokenizer's
    special tokens (BOS), chat messages through the tokenizer's chat template."""

    def __init__(self, model: ModelSpec) -> None:
        from transformers import AutoTokenizer

        self.path = model.path
        self.tokenizer = AutoTokenizer.from_pretrained(
            model.path, trust_remote_code=model.trust_remote_code
        )

    def prompt(self, prompt: Prompt) -> int:
        if prompt.text is not None:
            return len(self.tokenizer(prompt.text, add_special_tokens=True)["input_ids"])
        messages = [{"role": r, "content": c} for r, c in prompt.messages or ()]
        try:
            ids = self.tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, tokenize=True, return_dict=False
            )
        except Exception as e:  # Jinja's errors, and the template's own raise_exception
            raise EvalkitError(
                f"{self.path}: the chat template cannot render item {prompt.item_id!r}'s "
                f"conversation: {type(e).__name__}: {e}"
            ) from None
        return len(ids)

    def text(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])


@dataclass(frozen=True)
class Fit:
    """One item's prompt after fitting: `prompt` None when it cannot fit (`error` says why)."""

    prompt: Prompt | None
    record: dict[str, Any] = field(default_factory=dict)  # what was done, for generations
    error: str | None = None


@dataclass
class PromptFitter:
    """Fits one model's prompts to its context (see the module docstring)."""

    window: ContextWindow
    count: TokenCounter
    truncate: bool = False
    _exemplars: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def fit(
        self,
        spec: SuiteSpec,
        item: ItemBase,
        prompt: Prompt,
        reserve: int,
        dev_items: Sequence[ItemBase],
        seed: int,
        fewshot: int | None,
    ) -> Fit:
        """The prompt itself if it fits with `reserve` tokens to spare, else a fixed one."""
        budget = self.window.tokens - reserve
        tokens = self.count.prompt(prompt)
        if tokens <= budget:
            return Fit(prompt)
        config = spec.tasks[item.task]
        record: dict[str, Any] = {"prompt_tokens_before": tokens}
        if prompt.format == "base":
            exemplars = self._rendered(config, item, dev_items, seed, fewshot)
            for k in range(len(exemplars) - 1, -1, -1):
                text = render_base_prompt(config, item, exemplars[:k])
                candidate = Prompt(item.id, "base", text=text, stop=prompt.stop)
                if self.count.prompt(candidate) <= budget:
                    return Fit(candidate, {**record, "exemplars_dropped": len(exemplars) - k})
            record["exemplars_dropped"] = len(exemplars)
        return self._truncated(config, item, prompt, budget, record)

    def _rendered(
        self,
        config: TaskConfig,
        item: ItemBase,
        dev_items: Sequence[ItemBase],
        seed: int,
        fewshot: int | None,
    ) -> list[str]:
        key = (item.task, item.language)
        if key not in self._exemplars:
            k = config.fewshot if fewshot is None else fewshot
            chosen = choose_exemplars(dev_items, item.task, item.language, k, seed)
            self._exemplars[key] = render_exemplars(config, chosen)
        return self._exemplars[key]

    def _truncated(
        self,
        config: TaskConfig,
        item: ItemBase,
        prompt: Prompt,
        budget: int,
        record: dict[str, Any],
    ) -> Fit:
        name = long_field(item)
        side = config.truncate_from
        needs = (
            f"the prompt needs {record['prompt_tokens_before']} tokens and the answer "
            f"{self.window.tokens - budget}; the context holds {self.window.tokens} "
            f"({self.window.source})"
        )
        if not self.truncate:
            return Fit(None, record, f"does not fit: {needs}; truncate=true would allow cutting")
        if side is None or name is None:
            where = f"tasks.{item.task}.truncate_from" if name else "a text that may be cut"
            return Fit(None, record, f"does not fit: {needs}; the suite does not set {where}")

        def render(cut: ItemBase) -> Prompt:
            if prompt.format == "base":
                return Prompt(
                    item.id, "base", text=render_base_prompt(config, cut, []), stop=prompt.stop
                )
            return Prompt(item.id, "chat", messages=render_chat_messages(config, cut))

        fitted = _longest_fitting(
            item, name, side, lambda c: self.count.prompt(render(c)) <= budget
        )
        if fitted is None:
            return Fit(None, record, f"does not fit even with its {name} cut away: {needs}")
        cut, removed = fitted
        return Fit(
            render(cut), {**record, "truncated": {"field": name, "from": side, "removed": removed}}
        )


def long_field(item: ItemBase) -> str | None:
    """The text of an item that truncation may cut: its context or main text."""
    if isinstance(item, QAItem):
        return "context" if item.context else "question"
    if isinstance(item, DialogueItem):
        return "messages" if len(item.messages) > 1 else None
    for name in ("text", "prompt", "question"):
        if isinstance(getattr(item, name, None), str):
            return name
    return None


def _cut(item: ItemBase, name: str, side: str, keep: int) -> tuple[ItemBase, int]:
    """The item with `name` cut to its `keep` first (side end) or last (side start) units:
    characters of a text, turns of a dialogue (whose earliest turns always go first)."""
    value = getattr(item, name)
    if name == "messages":  # a system turn and the final user turn stay; a user turn leads
        system = list(value[:1]) if value[0].role == "system" else []
        turns = value[len(system) :]
        kept = list(turns[len(turns) - 1 - min(keep, len(turns) - 1) :])
        while kept[0].role != "user":
            kept = kept[1:]
        return item.model_copy(update={name: system + kept}), len(value) - len(system + kept)
    if keep >= len(value):
        return item, 0
    text = value[:keep] + ELLIPSIS if side == "end" else ELLIPSIS + value[len(value) - keep :]
    return item.model_copy(update={name: text}), len(value) - keep


def _longest_fitting(
    item: ItemBase, name: str, side: str, fits: Callable[[ItemBase], bool]
) -> tuple[ItemBase, int] | None:
    """The item with as much of `name` kept as fits (binary search), with what was removed."""
    value = getattr(item, name)
    size = len(value) - 1 if name == "messages" else len(value)  # turns beyond the last
    low, high, best = 0, size, None
    while low <= high:
        keep = (low + high) // 2
        cut = _cut(item, name, side, keep)
        if fits(cut[0]):
            best, low = cut, keep + 1
        else:
            high = keep - 1
    return best


def make_fitter(
    model: ModelSpec, truncate: bool, echo: Callable[[str], Any]
) -> PromptFitter | None:
    """A fitter for the model, or None (with a note) when its context length is unknown."""
    window = context_window(model)
    if window is None:
        echo(
            f"{model.name}: context length unknown (no max_model_len, none in config.json); "
            "prompts are not measured"
        )
        return None
    try:
        counter = TokenCounter(model)
    except Exception as e:  # tokenizers and Jinja raise bare or foreign exception types
        if isinstance(e, EvalkitError):
            raise
        raise EvalkitError(
            f"{model.path}: cannot load the tokenizer to measure prompts: {e}"
        ) from None
    return PromptFitter(window, counter, truncate)
