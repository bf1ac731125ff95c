"""Validation of a whole file and draft: every problem, with file:line, and nothing written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from drafts import ITEMS, SPEC, snapshot, write_draft
from evalkit.suite.checks import check_items, near_duplicate_pairs, similar_to
from evalkit.suite.draft import read_draft, read_items_jsonl

BROKEN = Path(__file__).parent / "data" / "broken_items.jsonl"


def test_broken_file_reports_every_error_with_its_line() -> None:
    items, problems = read_items_jsonl(BROKEN)
    problems += check_items(items)
    found = {
        (p.where.rsplit(":", 1)[1], p.field, p.reason.split(";")[0].split(" (")[0])
        for p in problems
    }
    expected = {
        ("2", "-", "invalid JSON: Expecting property name enclosed in double quotes at column 52"),
        ("3", "question", "missing"),
        ("4", "answer", "answer 'C' is not among the choices' letters A, B"),
        ("5", "task", "unknown task type 'mcqq'"),
        ("6", "label", "label 'payment' is not among labels ['governing_law', 'termination']"),
        (
            "7",
            "format.pattern",
            "invalid regular expression: missing ), unterminated subpattern at position 0",
        ),
        (
            "8",
            "format.json_schema",
            "invalid JSON schema: 'objekt' is not valid under any of the given schemas",
        ),
        ("9", "id", "duplicate id 'ok-1'"),
        ("10", "-", "duplicate text: same as 'ok-1'"),
        ("11", "-", "near-duplicate of 'ok-1'"),
        ("12", "messages", "the conversation must end with a user turn"),
        ("13", "anwser", "unknown field"),
    }
    assert found == expected
    assert all(p.where.startswith(str(BROKEN)) for p in problems)


def test_cjk_near_duplicates_found_without_segmentation() -> None:
    texts = [
        "甲方应于2024年3月1日前支付全部货款人民币十万元。",
        "甲方应于2024年3月1日前支付全部货款人民币十万元整。",
        "乙方应在收到货物后七日内完成验收。",
    ]
    pairs = near_duplicate_pairs(texts, 0.9)
    assert [(i, j) for i, j, _ in pairs] == [(0, 1)]
    # One text against the rest (the app's check on save): the same pair, the same similarity.
    [(j, similarity)] = similar_to(texts[0], texts[1:], 0.9)
    assert j == 0 and similarity == pytest.approx(pairs[0][2])


def test_valid_draft_reads(draft_dir: Path) -> None:
    draft, problems = read_draft(draft_dir)
    assert problems == []
    assert draft is not None and [li.item.id for li in draft.items] == ["m1", "m2", "e1"]


def test_draft_problems_in_spec_and_items_together(tmp_path: Path) -> None:
    spec = {**SPEC, "nmae": "typo"}
    folder = write_draft(tmp_path / "d", spec, [*ITEMS, "{not json"])
    before = snapshot(tmp_path)
    draft, problems = read_draft(folder)
    assert draft is None
    assert [str(p) for p in problems] == [
        f"{folder / 'suite.yaml'}:{len(yaml_lines(folder))}: nmae: unknown field",
        f"{folder / 'items.jsonl'}:4: -: invalid JSON: Expecting property name enclosed in "
        "double quotes at column 2",
    ]
    assert snapshot(tmp_path) == before


def yaml_lines(folder: Path) -> list[str]:
    return (folder / "suite.yaml").read_text(encoding="utf-8").splitlines()


def test_spec_checked_against_items(tmp_path: Path) -> None:
    spec = {**SPEC, "tasks": {**SPEC["tasks"]}}
    spec["tasks"]["mcq"] = {
        **SPEC["tasks"]["mcq"],
        "prompt": "Q: {{ questoin }}",
        "fewshot": 3,
        "metrics": ["acuracy", "bleu"],
    }
    del spec["tasks"]["extraction"]
    folder = write_draft(tmp_path / "d", spec)
    _, problems = read_draft(folder)
    items_path = folder / "items.jsonl"
    assert [str(p) for p in problems] == [
        f"{items_path}:1: tasks.mcq.prompt: template uses an undefined variable: 'questoin' is "
        "undefined (first failing item 'm1')",
        f"{items_path}:3: task: the suite has no config for task 'extraction' (add "
        "tasks.extraction to suite.yaml)",
        f"{folder / 'suite.yaml'}: tasks.mcq.metrics[0]: unknown metric 'acuracy'; did you "
        "mean 'accuracy'? (metrics: accuracy, bleu, chrf, exact_match, field_f1, field_f1_micro, "
        "format_adherence, language_match, macro_f1, micro_f1, sentence_bleu, sentence_chrf, "
        "token_f1)",
        f"{folder / 'suite.yaml'}: tasks.mcq.metrics[1]: metric 'bleu' does not apply to mcq "
        "items (it applies to generation, dialogue)",
        f"{folder / 'suite.yaml'}: tasks.mcq.fewshot: asks for 3 few-shot exemplars but the "
        "suite has 1 dev item(s) of task 'mcq'",
    ]


def test_spec_yaml_errors_point_at_the_line(tmp_path: Path) -> None:
    folder = write_draft(tmp_path / "d")
    text = (folder / "suite.yaml").read_text(encoding="utf-8")
    (folder / "suite.yaml").write_text(text.replace("fewshot: 0", "fewshot: -1"), encoding="utf-8")
    _, problems = read_draft(folder)
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "fewshot: 0" in s)
    assert [str(p) for p in problems] == [
        f"{folder / 'suite.yaml'}:{line}: tasks.extraction.fewshot: "
        "input should be greater than or equal to 0"
    ]


def test_template_syntax_error_is_reported(tmp_path: Path) -> None:
    spec = {**SPEC, "tasks": {**SPEC["tasks"], "mcq": {**SPEC["tasks"]["mcq"], "chat": "{% if %}"}}}
    _, problems = read_draft(write_draft(tmp_path / "d", spec))
    assert len(problems) == 1 and problems[0].field == "tasks.mcq.chat"
    assert "template syntax error on line 1" in problems[0].reason


def test_not_utf8_line(tmp_path: Path) -> None:
    folder = write_draft(tmp_path / "d")
    with (folder / "items.jsonl").open("ab") as f:
        f.write(b'{"id": "\xff"}\n')
    _, problems = read_draft(folder)
    assert [p.where for p in problems] == [f"{folder / 'items.jsonl'}:4"]
    assert problems[0].reason.startswith("not UTF-8 text")


def test_copy_of_broken_file_validates_the_same(tmp_path: Path) -> None:
    copy = tmp_path / "copy.jsonl"
    shutil.copy(BROKEN, copy)
    assert len(read_items_jsonl(copy)[1]) == len(read_items_jsonl(BROKEN)[1])
