"""`evalkit suite import` with bad sources and bad mappings: one located line naming the
file, no traceback, and no --out written (nor any folder made for it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from badkit import (
    CSV_FILE,
    JSON_DOCUMENT,
    JSONL_FILE,
    YAML_FILE,
    Spoil,
    World,
    _replace_field,
    assert_refused,
    invoke,
    spoil,
    state,
)

CSV_COLUMNS = [
    *("--column", "question", "Q", "--column", "answers", "Ans"),
    *("--task", "qa", "--language", "en", "--author", "li.na"),
]

# JSON sources are arrays of records: an empty array imports nothing.
JSON_SOURCE = {
    **JSON_DOCUMENT,
    "array": (lambda d: b"[]", "no rows"),
    "empty-object": (lambda d: b"{}", "expected a JSON array"),
    "record-is-a-number": (lambda d: b"[1]", "expected a JSON object"),
}
JSONL_SOURCE = {
    **JSONL_FILE,
    "empty": (lambda d: b"", "no rows"),
    "question-is-a-list": (_replace_field("question", ["a"]), "question: expected text"),
    "lone-surrogate": (lambda d: d.replace(b"Which", b"\\ud83d Which", 1), "question: contains"),
}
MAPPINGS: dict[str, tuple[Spoil, str]] = {
    **YAML_FILE,
    "columns-is-a-list": (lambda d: b"columns: [Q, Ans]\n", "columns: expected an object"),
    "typo": (lambda d: d + b"colums: {}\n", "colums: unknown field"),
    "bad-answer-style": (lambda d: d + b"mcq_answer: roman\n", "mcq_answer"),
}
# Binary formats that are not what their suffix says.
BINARY = {
    "parquet": b"PAR1 not really parquet",
    "xlsx": b"PK\x03\x04 not really a workbook",
}


def _import(world: World, source: Path, *extra: str | Path) -> tuple[Path, list[str | Path]]:
    out = world.out / "new" / "items.jsonl"
    return out, ["suite", "import", source, "-o", out, *extra]


@pytest.mark.parametrize("case", JSONL_SOURCE)
def test_bad_jsonl_source(world: World, case: str) -> None:
    how, reason = JSONL_SOURCE[case]
    source = world.root / "src.jsonl"
    spoil(source, how)
    before = state(world.root)
    _, args = _import(world, source)
    assert_refused(invoke(*args), source, before, world.root, reason)


@pytest.mark.parametrize("case", JSON_SOURCE)
def test_bad_json_source(world: World, case: str) -> None:
    how, reason = JSON_SOURCE[case]
    source = world.root / "src.json"
    spoil(source, how)
    before = state(world.root)
    _, args = _import(world, source)
    assert_refused(invoke(*args), source, before, world.root, reason)


@pytest.mark.parametrize("case", CSV_FILE)
@pytest.mark.parametrize("suffix", [".csv", ".tsv"])
def test_bad_csv_source(world: World, case: str, suffix: str) -> None:
    how, reason = CSV_FILE[case]
    source = world.root / f"src{suffix}"
    good = (world.root / "src.csv").read_bytes()
    source.write_bytes(how(good.replace(b",", b"\t") if suffix == ".tsv" else good))
    if suffix == ".tsv" and case == "extra-cells":
        source.write_bytes(source.read_bytes().replace(b"a,b,c,d,e", b"a\tb\tc\td\te"))
    before = state(world.root)
    _, args = _import(world, source, *CSV_COLUMNS)
    assert_refused(invoke(*args), source, before, world.root, reason)


@pytest.mark.parametrize("case", MAPPINGS)
def test_bad_mapping(world: World, case: str) -> None:
    how, reason = MAPPINGS[case]
    mapping = world.root / "map.yaml"
    spoil(mapping, how)
    before = state(world.root)
    _, args = _import(world, world.root / "src.csv", "--mapping", mapping)
    assert_refused(invoke(*args), mapping, before, world.root, reason)


@pytest.mark.parametrize("suffix", BINARY)
def test_binary_source_that_is_not_its_format(world: World, suffix: str) -> None:
    source = world.root / f"src.{suffix}"
    source.write_bytes(BINARY[suffix])
    before = state(world.root)
    _, args = _import(world, source)
    assert_refused(invoke(*args), source, before, world.root, "not a readable")


def test_saved_dataset_folder_that_is_not_one(world: World) -> None:
    source = world.root / "ds"
    source.mkdir()
    (source / "dataset_info.json").write_bytes(b'{"cut')
    (source / "state.json").write_bytes(b"[]")
    before = state(world.root)
    _, args = _import(world, source)
    assert_refused(invoke(*args), source, before, world.root)


def test_skip_invalid_with_nothing_valid_writes_nothing(world: World) -> None:
    source = world.root / "src.jsonl"
    source.write_bytes(b"{not json\n")
    before = state(world.root)
    _, args = _import(world, source, "--skip-invalid")
    assert_refused(invoke(*args), source, before, world.root, "invalid JSON")
