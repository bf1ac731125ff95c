"""A scored run folder for the rating tests, made without an engine: a published suite with
open-ended items (generation, dialogue) and an mcq item, three models' outputs written by
`run_folders.write_run_folder`, scored by `evalkit.scoring.score_run`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from run_folders import write_run_folder

from annotation_app.services.rating_setup import SetUp
from annotation_app.services.suites import DEFAULT_TASKS
from drafts import write_draft
from evalkit.scoring import score_run
from evalkit.suite.draft import read_draft
from evalkit.suite.store import SuiteStore, SuiteVersion

# Names that appear nowhere in the items or outputs: a page or a view that shows one of them
# has shown a model's name.
MODELS = ("qwen-legal-sft-7b", "llama-chat-base-8b", "mistral-inst-v3")
SUITE = "advice"
SPEC: dict[str, Any] = {
    "name": SUITE,
    "description": "Legal advice in Chinese and English.",
    "guidelines": "# Guidelines\nRate the answer, not the style of the question.",
    "goals": [{"capability": "task_completion", "description": "Gives sound legal advice."}],
    "tasks": {t: DEFAULT_TASKS[t] for t in ("mcq", "generation", "dialogue")},
}
_AUTHOR = {"author": "li.na"}
ITEMS: list[dict[str, Any]] = [
    {
        "id": "m1",
        "task": "mcq",
        "language": "zh",
        "provenance": _AUTHOR,
        "question": "合同何时成立？",
        "choices": ["承诺生效时", "要约发出时"],
        "answer": "A",
    },
    {
        "id": "g1",
        "task": "generation",
        "language": "zh",
        "provenance": _AUTHOR,
        "prompt": "用一句话概括合同成立的条件。",
        "references": ["要约经承诺生效后合同成立。"],
    },
    {
        "id": "g2",
        "task": "generation",
        "language": "en",
        "provenance": _AUTHOR,
        "prompt": "Summarise when a contract is formed, in one sentence.",
        "references": ["A contract is formed when an acceptance of an offer takes effect."],
    },
    {
        "id": "g3",
        "task": "generation",
        "language": "zh",
        "provenance": _AUTHOR,
        "prompt": "解释什么是违约金。",
        "references": ["违约金是当事人约定的一方违约时应向对方支付的金额。"],
    },
    {
        "id": "d1",
        "task": "dialogue",
        "language": "zh",
        "provenance": _AUTHOR,
        "messages": [
            {"role": "user", "content": "我的房东不退押金，怎么办？"},
            {"role": "assistant", "content": "请问租约里对押金是怎么约定的？"},
            {"role": "user", "content": "约定退租后七天内退还。"},
        ],
        "references": ["可以先书面催告，仍不退还的，可以向法院起诉。"],
    },
]
OPEN_ENDED_IDS = ["g1", "g2", "g3", "d1"]


def output(model: str, _version: SuiteVersion, item: Any, k: int) -> str:
    """Each model's answer: distinct per model and item, and never its name."""
    number = MODELS.index(model) + 1
    return f"回答{number}：第{k + 1}题的答案 <b>{number}</b>" if item.task != "mcq" else "A"


@dataclass(frozen=True)
class ScoredRun:
    root: Path  # the runs folder
    path: Path  # the run folder
    store: SuiteStore  # where its suite version is published
    version: SuiteVersion


def publish_suite(root: Path) -> tuple[SuiteStore, SuiteVersion]:
    draft, problems = read_draft(write_draft(root / "draft", SPEC, ITEMS))
    assert draft is not None and not problems, problems
    store = SuiteStore(root / "suites")
    return store, store.publish(draft, author="li.na", changelog="First.")


def scored_run(
    root: Path, name: str = "run-2026", *, scored: bool = True, **kwargs: Any
) -> ScoredRun:
    """Publish the suite under `root` and write (and score) a run of the three models."""
    store, version = publish_suite(root)
    models = [{"name": m, "kind": "chat", "stage": "chat", "starting_point": None} for m in MODELS]
    run = write_run_folder(root / "runs" / name, store.root, [version], models, output, **kwargs)
    if scored:
        score_run(run, resamples=50)
    return ScoredRun(root / "runs", run, store, version)


def setup(run: ScoredRun, raters: list[int], **choices: Any) -> SetUp:
    """A pointwise set of the run's open-ended items by default."""
    values: dict[str, Any] = {
        "run_dir": str(run.path),
        "suite": run.version.ref,
        "mode": "point",
        "models": list(MODELS[:2]),
        "raters": raters,
        "raters_per_unit": min(2, len(raters)),
        **choices,
    }
    return SetUp(**values)
