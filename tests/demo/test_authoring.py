"""scripts/make_demo_data.py's generators (evalkit.demo.authoring) reproduce the shipped demo
data byte for byte, and each suite's items and content hash, from the tables beside them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SUITES_DIR

from evalkit.demo.authoring import Outputs, tables, write_demo_data
from evalkit.demo.authoring.tables import suite_spec
from evalkit.demo.paths import (
    CHAT_FILE,
    CORPUS_FILES,
    DOMAIN_SUITE,
    GENERAL_SUITE,
    LAW_SFT_FILE,
    WRITING_SUITE,
)
from evalkit.errors import ProblemsFound
from evalkit.suite.draft import ITEMS_FILE, read_items_jsonl
from evalkit.suite.manifest import MANIFEST_FILE, content_hash

SHIPPED_DATA = (*CORPUS_FILES, CHAT_FILE, LAW_SFT_FILE)
SUITES = (DOMAIN_SUITE, GENERAL_SUITE, WRITING_SUITE)


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Outputs:
    return write_demo_data(tmp_path_factory.mktemp("demo-data"), say=lambda _: None)


def _shipped_content_hash(name: str) -> str:
    return json.loads((SUITES_DIR / name / "v1" / MANIFEST_FILE).read_bytes())["content_hash"]


@pytest.mark.parametrize("shipped", SHIPPED_DATA, ids=lambda p: p.name)
def test_data_file_is_reproduced_byte_for_byte(regenerated: Outputs, shipped: Path) -> None:
    assert regenerated.under(shipped).read_bytes() == shipped.read_bytes()


@pytest.mark.parametrize("name", SUITES)
def test_suite_items_and_content_hash_are_reproduced(regenerated: Outputs, name: str) -> None:
    made = regenerated.suites_dir / name / "v1"
    assert (made / ITEMS_FILE).read_bytes() == (SUITES_DIR / name / "v1" / ITEMS_FILE).read_bytes()
    manifest = json.loads((made / MANIFEST_FILE).read_bytes())
    assert manifest["content_hash"] == _shipped_content_hash(name)


@pytest.mark.parametrize("name", SUITES)
def test_spec_file_and_generated_items_hash_as_shipped(regenerated: Outputs, name: str) -> None:
    # Independent of how the store writes a manifest: the spec file's and the items' own hash.
    located, problems = read_items_jsonl(regenerated.suites_dir / name / "v1" / ITEMS_FILE)
    assert problems == []
    items = [li.item for li in located]
    assert content_hash(suite_spec(name), items) == _shipped_content_hash(name)


def test_only_the_data_files_are_written_outside_the_store(regenerated: Outputs) -> None:
    root = regenerated.root
    written = {p for p in root.rglob("*") if p.is_file() and not p.is_relative_to(root / "suites")}
    assert written == set(regenerated.data_files)


def test_a_typo_in_a_table_is_an_error_naming_its_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "norvale.yaml").write_text(
        "traffic:\n  zh: 交通\n  roles: [{en: A driver, zh: 驾驶人}]\n  act: []\n", encoding="utf-8"
    )
    monkeypatch.setattr(tables, "TABLES_DIR", tmp_path)
    with pytest.raises(ProblemsFound) as caught:
        tables.areas.__wrapped__()  # the loader without its cache
    assert [(p.field, p.reason) for p in caught.value.problems] == [
        ("traffic.acts", "missing"),
        ("traffic.act", "unknown field"),
    ]
