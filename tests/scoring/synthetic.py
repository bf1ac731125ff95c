"""A synthetic suite of any size, published for real, and run folders with chosen answers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from run_folders import write_run_folder

from evalkit.suite.draft import SuiteDraft
from evalkit.suite.items import ITEM_ADAPTER, ItemBase
from evalkit.suite.records import LocatedItem
from evalkit.suite.spec import SuiteSpec
from evalkit.suite.store import SuiteStore, SuiteVersion

SPEC = SuiteSpec.model_validate(
    {
        "name": "synthetic",
        "description": "Generated items for scoring tests.",
        "guidelines": "One correct answer per item.",
        "goals": [{"capability": "domain_knowledge", "description": "Knows the answers."}],
        "tasks": {
            "mcq": {
                "instruction": "Answer with the letter.",
                "prompt": "{{ question }}\nAnswer:",
                "target": " {{ answer }}",
                "chat": "{{ question }}",
                "metrics": ["accuracy"],
            },
            "qa": {
                "instruction": "Answer briefly.",
                "prompt": "{{ question }}\nAnswer:",
                "target": " {{ answers[0] }}",
                "chat": "{{ question }}",
                "metrics": ["token_f1", "exact_match"],
            },
        },
    }
)


def synthetic_suite(
    root: Path,
    mcq: int,
    qa: int = 0,
    group_size: int | None = None,
    name: str = "synthetic",
) -> SuiteVersion:
    """`mcq` four-choice items (gold C) and `qa` items (gold "answer k"), plus one dev item
    of each; with `group_size`, consecutive test items share a group."""
    records: list[dict[str, Any]] = []
    base = {"language": "en", "provenance": {"author": "t", "source": "original"}}
    for k in range(mcq + 1):
        records.append(
            {
                **base,
                "id": f"m{k}",
                "task": "mcq",
                "question": f"Question {k}?",
                "choices": [f"alpha {k}", f"beta {k}", f"gamma {k}", f"delta {k}"],
                "answer": "C",
                "split": "dev" if k == mcq else "test",
            }
        )
    for k in range(qa + 1 if qa else 0):
        records.append(
            {
                **base,
                "id": f"q{k}",
                "task": "qa",
                "question": f"What is {k}?",
                "answers": [f"answer {k}"],
                "split": "dev" if k == qa else "test",
            }
        )
    if group_size:
        tests = [r for r in records if r["split"] == "test"]
        for k, record in enumerate(tests):
            record["group"] = f"case-{k // group_size}"
    items = tuple(LocatedItem(ITEM_ADAPTER.validate_python(r), "-") for r in records)
    spec = SPEC.model_copy(update={"name": name})
    return SuiteStore(root).publish(SuiteDraft(spec, items), author="t", changelog="tests")


def gold(item: ItemBase) -> str:
    return item.answer if item.task == "mcq" else item.answers[0]  # type: ignore[attr-defined]


def run_with_answers(
    run: Path,
    versions: Sequence[SuiteVersion],
    models: Sequence[dict[str, Any]],
    right: Callable[[str, SuiteVersion, ItemBase, int], bool],
) -> Path:
    """A run folder where `right(model, version, item, k)` says who answers what correctly."""

    def output(model: str, version: SuiteVersion, item: ItemBase, k: int) -> str:
        return gold(item) if right(model, version, item, k) else "I do not know."

    return write_run_folder(run, versions[0].path.parent.parent, versions, models, output)


def model(name: str, kind: str = "base", **extra: Any) -> dict[str, Any]:
    stage = f"{extra.get('starting_point')}→sft" if kind == "sft" else kind
    return {"name": name, "kind": kind, "stage": stage, "starting_point": None, **extra}
