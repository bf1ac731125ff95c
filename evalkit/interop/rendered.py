"""A suite version's test items as evalkit prompts them: the rows an export writes.

Every exported row carries the exact base-model prompt evalkit sends (instruction, the
suite's fixed few-shot exemplars, the item), the continuation of each option as it follows
that prompt (" B" after "Answer:"), the chat messages a chat model gets, and the golds, so
that another harness scores the same inputs evalkit does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evalkit.prompts import build_prompts
from evalkit.runner.plan import choice_options, option_continuation
from evalkit.suite.items import ClassificationItem, ItemBase, MCQItem, TaskType
from evalkit.suite.store import SuiteVersion


@dataclass(frozen=True)
class RenderedItem:
    item: ItemBase
    prompt: str  # the base-model completion prompt, few-shot exemplars included
    messages: tuple[tuple[str, str], ...]  # what a chat model is sent
    stop: tuple[str, ...]
    options: list[str]  # MCQ letters or classification labels; empty for other tasks
    continuations: list[str]  # each option as written after `prompt`
    gold: int | None  # index of the gold option
    references: list[str]  # gold answers as text

    def row(self) -> dict[str, Any]:
        """The fields every export writes (a harness's own fields are added to them)."""
        return {
            "id": self.item.id,
            "task": self.item.task,
            "language": self.item.language,
            "group": self.item.group,
            "tags": self.item.tags,
            "prompt": self.prompt,
            "messages": [{"role": r, "content": c} for r, c in self.messages],
            "options": self.options,
            "continuations": self.continuations,
            "gold": self.gold,
            "references": self.references,
        }


def _gold(item: ItemBase) -> int | None:
    """The index of the gold option of a choice item."""
    if isinstance(item, MCQItem):
        return item.letters.index(item.answer)
    if isinstance(item, ClassificationItem):
        return item.labels.index(item.label)
    return None


def render_items(version: SuiteVersion) -> dict[TaskType, list[RenderedItem]]:
    """The version's test items by task, in suite order, rendered as evalkit prompts them."""
    tests = [item for item in version.items if item.split == "test"]
    devs = [item for item in version.items if item.split == "dev"]
    base = build_prompts(version.spec, tests, devs, "base")
    chat = build_prompts(version.spec, tests, devs, "chat")
    by_task: dict[TaskType, list[RenderedItem]] = {}
    for item, text, messages in zip(tests, base, chat, strict=True):
        options = choice_options(item)
        by_task.setdefault(item.task, []).append(
            RenderedItem(
                item=item,
                prompt=text.text or "",
                messages=messages.messages or (),
                stop=text.stop,
                options=options,
                continuations=[option_continuation(version, item, o, text) for o in options],
                gold=_gold(item),
                references=item.reference_texts(),
            )
        )
    return by_task
