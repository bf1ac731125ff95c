"""Prompt variants: a suite version re-worded and, for MCQ, with its options rotated.

Variant 0 is the suite as published. Variant k (k >= 1) replaces each task's instruction
(what a base model reads first) with the k-th alternative wording — the suite's own
`instruction_variants`, else evalkit's built-in ones below, in English and Chinese by the
item's language — puts the same wording first in a chat model's system prompt, and rotates
every MCQ item's options k places (OpenCompass's circular evaluation: option i moves to
i + k mod n, the gold letter with it). Across K variants an MCQ item is seen under
min(K, n) orders.
"""

from __future__ import annotations

from dataclasses import replace

from evalkit.errors import UsageError
from evalkit.suite.items import LETTERS, ItemBase, MCQItem, TaskType
from evalkit.suite.spec import TaskConfig
from evalkit.suite.store import SuiteVersion


def _bilingual(en: str, zh: str) -> str:
    return f"{{% if language[:2] == 'zh' %}}{zh}{{% else %}}{en}{{% endif %}}"


BUILT_IN: dict[TaskType, list[str]] = {
    "mcq": [
        _bilingual(
            "Choose the correct answer. Reply with its letter only.",
            "选择正确答案，只回答选项字母。",
        ),
        _bilingual(
            "Read each question and pick the one best option (A, B, C, ...).",
            "阅读每道题，选出唯一最佳选项（A、B、C……）。",
        ),
        _bilingual(
            "You are taking an exam. For each question, give the letter of the right choice.",
            "你正在参加考试。每道题请给出正确选项的字母。",
        ),
    ],
    "classification": [
        _bilingual("Assign the text one label from the list.", "从列表中为文本选择一个标签。"),
        _bilingual(
            "Which category does the text belong to? Answer with the label.",
            "这段文本属于哪一类？请回答标签。",
        ),
        _bilingual("Label the text. Give only the label.", "给文本打标签，只回答标签。"),
    ],
    "extraction": [
        _bilingual(
            "Extract the requested fields as a JSON object.", "以 JSON 对象提取所要求的字段。"
        ),
        _bilingual(
            "Fill in the fields from the text and answer in JSON.",
            "根据文本填写字段，用 JSON 回答。",
        ),
        _bilingual(
            "Read the text and return the fields it states, as JSON.",
            "阅读文本，以 JSON 返回其中写明的字段。",
        ),
    ],
    "qa": [
        _bilingual("Answer the question briefly.", "简要回答问题。"),
        _bilingual(
            "Give a short, exact answer to each question.", "对每个问题给出简短准确的回答。"
        ),
        _bilingual("Reply with the answer only, no explanation.", "只回答答案，不要解释。"),
    ],
    "generation": [
        _bilingual("Complete the writing task as instructed.", "按要求完成写作任务。"),
        _bilingual(
            "Do what each task asks, in the language it asks for.", "按任务要求的语言完成任务。"
        ),
        _bilingual("Write the requested text.", "写出所要求的文本。"),
    ],
    "dialogue": [
        _bilingual("Continue the conversation as the assistant.", "以助手的身份继续对话。"),
        _bilingual("Write the assistant's next reply.", "写出助手的下一句回复。"),
        _bilingual("Reply to the user helpfully and briefly.", "简洁而有帮助地回复用户。"),
    ],
}


def wordings(config: TaskConfig, task: TaskType) -> list[str]:
    """The instruction wordings of a task: the suite's own first, then the alternatives."""
    return [config.instruction, *(config.instruction_variants or BUILT_IN[task])]


def check_variants(versions: list[SuiteVersion], k: int, setting: str) -> None:
    """Refuse K larger than the wordings some task of some suite has."""
    for version in versions:
        for task, config in version.spec.tasks.items():
            available = len(wordings(config, task))
            if k > available:
                raise UsageError(
                    f"{setting}={k}: {version.ref} has {available} wordings for {task} (its "
                    f"own and {available - 1} alternatives); give instruction_variants in its "
                    "suite.yaml or ask for fewer"
                )


def _rotated(item: MCQItem, k: int) -> MCQItem:
    n = len(item.choices)
    shift = k % n
    choices = [item.choices[(i - shift) % n] for i in range(n)]  # option i moves to i + k
    answer = LETTERS[(LETTERS.index(item.answer) + shift) % n]
    return item.model_copy(update={"choices": choices, "answer": answer})


def _variant_config(config: TaskConfig, task: TaskType, k: int) -> TaskConfig:
    wording = wordings(config, task)[k]
    system = wording if not config.system else f"{wording}\n\n{config.system}"
    return config.model_copy(update={"instruction": wording, "system": system})


def variant_version(version: SuiteVersion, k: int) -> SuiteVersion:
    """The suite under variant k (0: unchanged)."""
    if k == 0:
        return version
    spec = version.spec
    tasks = {task: _variant_config(config, task, k) for task, config in spec.tasks.items()}
    manifest = version.manifest.model_copy(
        update={"suite": spec.model_copy(update={"tasks": tasks})}
    )
    items: tuple[ItemBase, ...] = tuple(
        _rotated(item, k) if isinstance(item, MCQItem) else item for item in version.items
    )
    return replace(version, manifest=manifest, items=items)
