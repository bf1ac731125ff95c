"""Turning items into what a model sees: completion text for base models, messages for chat.

Base models get the task's instruction, k few-shot exemplars and the item, as plain text that
ends where the answer starts. Exemplars come only from the suite's dev items of the same task,
preferring the item's language, and are the same for every item of a (task, language): a fixed
choice is reproducible and lets the engine reuse the shared prefix's KV cache.

Chat models get messages (optional system prompt, then the user turn rendered from the suite's
chat template; dialogue items keep their own turns); the model's own chat template turns them
into tokens inside the engine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from evalkit.suite.items import DialogueItem, ItemBase
from evalkit.suite.spec import SuiteSpec, TaskConfig
from evalkit.templating import render_template

PromptFormat = Literal["base", "chat"]


@dataclass(frozen=True)
class Prompt:
    """One request's input: `text` for completion, or `messages` for chat."""

    item_id: str
    format: PromptFormat
    text: str | None = None
    messages: tuple[tuple[str, str], ...] | None = None  # (role, content) pairs
    stop: tuple[str, ...] = field(default_factory=tuple)

    def key(self) -> str:
        """The exact input, serialised: part of the generation cache key."""
        if self.text is not None:
            return "text:" + self.text
        return "chat:" + "\x1e".join(
            f"{role}\x1f{content}" for role, content in self.messages or ()
        )


def _rank(seed: int, item_id: str) -> str:
    return hashlib.sha256(f"{seed}:{item_id}".encode()).hexdigest()


def choose_exemplars(
    dev_items: Sequence[ItemBase], task: str, language: str, k: int, seed: int
) -> list[ItemBase]:
    """k dev items of `task`, same language first, in a seeded but fixed order."""
    if k <= 0:
        return []
    pool = [item for item in dev_items if item.task == task and item.split == "dev"]
    pool.sort(key=lambda item: (item.language != language, _rank(seed, item.id)))
    return pool[:k]


def render_exemplars(config: TaskConfig, exemplars: Sequence[ItemBase]) -> list[str]:
    """Each exemplar as its prompt followed by its gold answer."""
    rendered = []
    for example in exemplars:
        context = example.template_context()
        rendered.append(
            render_template(config.prompt, context) + render_template(config.target, context)
        )
    return rendered


def render_base_prompt(config: TaskConfig, item: ItemBase, exemplars: Sequence[str]) -> str:
    """Instruction, rendered exemplars, then the item's prompt."""
    context = item.template_context()
    parts = [render_template(config.instruction, context).strip(), *exemplars]
    parts.append(render_template(config.prompt, context))
    return "\n\n".join(p for p in parts if p)


def render_chat_messages(config: TaskConfig, item: ItemBase) -> tuple[tuple[str, str], ...]:
    """System prompt (if any) and the user turn; a dialogue keeps its earlier turns."""
    context = item.template_context()
    messages: list[tuple[str, str]] = []
    if config.system:
        messages.append(("system", render_template(config.system, context)))
    if isinstance(item, DialogueItem):
        turns = [(m.role, m.content) for m in item.messages]
        if turns[0][0] == "system" and messages:
            turns = turns[1:]  # the item's own system turn yields to the suite's
        messages.extend(turns[:-1])
    messages.append(("user", render_template(config.chat, context)))
    return tuple(messages)


def build_prompts(
    spec: SuiteSpec,
    items: Sequence[ItemBase],
    dev_items: Sequence[ItemBase],
    prompt_format: PromptFormat,
    seed: int = 0,
    fewshot: int | None = None,
) -> list[Prompt]:
    """One prompt per item, in item order."""
    prompts = []
    # Exemplars are the same for every item of a (task, language): choose and render them once.
    exemplar_cache: dict[tuple[str, str], list[str]] = {}
    for item in items:
        config = spec.tasks[item.task]
        if prompt_format == "chat":
            prompts.append(Prompt(item.id, "chat", messages=render_chat_messages(config, item)))
            continue
        key = (item.task, item.language)
        if key not in exemplar_cache:
            k = config.fewshot if fewshot is None else fewshot
            chosen = choose_exemplars(dev_items, item.task, item.language, k, seed)
            exemplar_cache[key] = render_exemplars(config, chosen)
        text = render_base_prompt(config, item, exemplar_cache[key])
        prompts.append(Prompt(item.id, "base", text=text, stop=tuple(config.stop)))
    return prompts
