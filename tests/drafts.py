"""Test helpers: a small but complete draft suite, and a way to prove nothing was written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

SPEC: dict[str, Any] = {
    "name": "mini",
    "description": "A tiny legal suite for tests.",
    "guidelines": "# Guidelines\nOne correct answer per item.",
    "goals": [{"capability": "domain_knowledge", "description": "Knows contract basics."}],
    "tasks": {
        "mcq": {
            "instruction": "Answer with the letter.",
            "prompt": "Q: {{ question }}\n{% for c in choices %}"
            "{{ letters[loop.index0] }}. {{ c }}\n{% endfor %}A:",
            "target": " {{ answer }}",
            "chat": "{{ question }}",
            "fewshot": 1,
            "metrics": ["accuracy"],
        },
        "extraction": {
            "instruction": "Extract the fields as JSON.",
            "prompt": "{{ text }}\nJSON:",
            "target": " {{ fields | json }}",
            "chat": "{{ text }}\nFields: {{ fields.keys() | list | json }}",
            "fewshot": 0,
            "metrics": ["field_f1"],
        },
    },
}

ITEMS: list[dict[str, Any]] = [
    {
        "id": "m1",
        "task": "mcq",
        "language": "en",
        "provenance": {"author": "li.na"},
        "question": "Which of these is an offer?",
        "choices": ["An invitation to treat", "A firm proposal to contract on stated terms"],
        "answer": "B",
    },
    {
        "id": "m2",
        "task": "mcq",
        "language": "zh",
        "split": "dev",
        "provenance": {"author": "li.na"},
        "question": "合同何时成立？",
        "choices": ["承诺生效时", "要约发出时"],
        "answer": "A",
    },
    {
        "id": "e1",
        "task": "extraction",
        "language": "zh",
        "provenance": {"author": "wang.fang", "source": "original"},
        "text": "甲方：北京某公司；乙方：张三；合同金额：人民币伍仟元整（5000元）。",
        "fields": {"party_a": "北京某公司", "party_b": "张三", "amount": 5000, "note": None},
        "format": {
            "kind": "json_schema",
            "json_schema": {"type": "object", "required": ["party_a"]},
        },
    },
]


def write_draft(
    folder: Path, spec: dict[str, Any] | None = None, items: list[Any] | None = None
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "suite.yaml").write_text(
        yaml.safe_dump(spec or SPEC, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    with (folder / "items.jsonl").open("w", encoding="utf-8") as f:
        for item in ITEMS if items is None else items:
            f.write(
                (item if isinstance(item, str) else json.dumps(item, ensure_ascii=False)) + "\n"
            )
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` and its bytes, to prove a command wrote nothing."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }
