"""Import from tables and datasets with a column mapping; export; round trips keep the hash."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from drafts import write_draft
from evalkit.suite.draft import read_draft
from evalkit.suite.exporting import export_version
from evalkit.suite.importing import ColumnMapping, import_items
from evalkit.suite.manifest import content_hash
from evalkit.suite.store import SuiteStore


@pytest.fixture
def published(tmp_path: Path, draft_dir: Path):
    draft, _ = read_draft(draft_dir)
    assert draft is not None
    return SuiteStore(tmp_path / "suites").publish(draft, author="a", changelog="one")


@pytest.mark.parametrize("fmt", ["jsonl", "parquet", "hf"])
def test_import_publish_export_import_keeps_the_hash(fmt: str, published, tmp_path: Path) -> None:
    exported = export_version(published, fmt, tmp_path / f"export.{fmt}")
    items, problems = import_items(exported, ColumnMapping())
    assert problems == []
    reimported = [li.item for li in items]
    assert reimported == list(published.items)
    assert content_hash(published.spec, reimported) == published.manifest.content_hash
    # and once more through a fresh publish
    draft_dir = tmp_path / "again"
    export_version(published, "draft", draft_dir)
    draft, problems = read_draft(draft_dir)
    assert problems == [] and draft is not None
    assert content_hash(draft.spec, draft.plain_items) == published.manifest.content_hash


def test_export_refuses_to_overwrite(published, tmp_path: Path) -> None:
    out = tmp_path / "x.jsonl"
    out.write_text("precious", encoding="utf-8")
    with pytest.raises(Exception, match="already exists"):
        export_version(published, "jsonl", out)
    assert out.read_text(encoding="utf-8") == "precious"


def write_csv(path: Path, rows: list[list[str]], delimiter: str = ",") -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, delimiter=delimiter).writerows(rows)
    return path


MCQ_MAPPING = ColumnMapping(
    columns={
        "id": "ID",
        "question": "Q",
        "choices": ["A", "B", "C"],
        "answer": "Ans",
        "language": "Lang",
    },
    defaults={"task": "mcq", "provenance": {"author": "li.na", "source": "bar exam 2024"}},
)


@pytest.mark.parametrize("delimiter,suffix", [(",", "csv"), ("\t", "tsv")])
def test_csv_and_tsv_with_column_mapping(tmp_path: Path, delimiter: str, suffix: str) -> None:
    path = write_csv(
        tmp_path / f"src.{suffix}",
        [
            ["ID", "Q", "A", "B", "C", "Ans", "Lang"],
            [
                "q1",
                "What makes a promise binding at common law?",
                "Consideration",
                "A wish",
                "Silence",
                "A",
                "en",
            ],
            ["q2", "诉讼时效期间一般为几年？", "一年", "二年", "三年", "C", "zh"],
        ],
        delimiter,
    )
    items, problems = import_items(path, MCQ_MAPPING)
    assert problems == []
    q2 = items[1].item
    assert q2.choices == ["一年", "二年", "三年"] and q2.answer == "C"  # type: ignore[attr-defined]
    assert q2.provenance.source == "bar exam 2024"


def test_csv_problems_carry_the_source_line_even_after_multiline_cells(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "src.csv",
        [
            ["ID", "Q", "A", "B", "C", "Ans", "Lang"],
            ["q1", "A question\nspanning two lines?", "x", "y", "z", "A", "en"],
            [
                "q2",
                "What is a counter-offer?",
                "A rejection and new offer",
                "An acceptance",
                "A bid",
                "D",
                "en",
            ],
            ["q3", "Is an advert an offer?", "Usually not", "Always", "Never", "A", "EN"],
        ],
    )
    items, problems = import_items(path, MCQ_MAPPING)
    assert [str(p) for p in problems] == [
        f"{path}:4: answer: answer 'D' is not among the choices' letters A, B, C",
        f"{path}:5: language: must be a language code such as 'en', 'zh' or 'zh-Hant', got 'EN'",
    ]
    assert [li.item.id for li in items] == ["q1"]


def test_missing_column_is_named(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "src.csv", [["ID", "Question"], ["q1", "x"]])
    _, problems = import_items(path, MCQ_MAPPING)
    assert str(problems[0]).startswith(
        f"{path}:2: question: column 'Q' not in the source (columns: ID, Question)"
    )


def test_hf_style_index_answers_and_generated_ids(tmp_path: Path) -> None:
    from datasets import Dataset

    Dataset.from_list(
        [
            {
                "question": "Which court hears appeals?",
                "options": ["Trial court", "Court of appeal"],
                "label": 1,
            },
            {"question": "合同成立需要什么？", "options": ["要约与承诺", "仅有广告"], "label": 0},
        ]
    ).save_to_disk(str(tmp_path / "ds"))
    mapping = ColumnMapping(
        columns={"question": "question", "choices": "options", "answer": "label"},
        defaults={"task": "mcq", "language": "en", "provenance": {"author": "import"}},
        mcq_answer="index0",
        id_prefix="pub",
    )
    items, problems = import_items(tmp_path / "ds", mapping)
    assert problems == []
    assert [li.item.answer for li in items] == ["B", "A"]  # type: ignore[attr-defined]
    ids = [li.item.id for li in items]
    assert all(i.startswith("pub-") for i in ids)
    again, _ = import_items(tmp_path / "ds", mapping)
    assert [li.item.id for li in again] == ids  # generated ids are stable


def test_json_cells_and_jsonl_errors(tmp_path: Path) -> None:
    src = tmp_path / "src.jsonl"
    rows = [
        {
            "id": "e1",
            "task": "extraction",
            "language": "en",
            "text": "Buyer: Bolt LLC",
            "fields": json.dumps({"buyer": "Bolt LLC"}),
            "provenance": {"author": "a"},
        },
        "not json",
    ]
    src.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8"
    )
    items, problems = import_items(src, ColumnMapping())
    assert items[0].item.fields == {"buyer": "Bolt LLC"}  # type: ignore[attr-defined]
    assert [str(p) for p in problems] == [f"{src}:2: -: invalid JSON: Expecting value at column 1"]


def test_mapping_file_errors_are_reported(tmp_path: Path) -> None:
    bad = tmp_path / "map.yaml"
    bad.write_text("columns: {question: Q}\ncolums: {}\n", encoding="utf-8")
    with pytest.raises(Exception) as e:
        ColumnMapping.from_file(bad)
    assert "colums" in str(e.value)


def test_draft_round_trip_through_write_draft(tmp_path: Path) -> None:
    folder = write_draft(tmp_path / "d")
    draft, problems = read_draft(folder)
    assert problems == [] and draft is not None
