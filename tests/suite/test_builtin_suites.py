"""The suites the team ships: valid, hash-intact, and shaped as the product promises."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from drafts import snapshot
from evalkit.cli import cli
from evalkit.errors import IntegrityError
from evalkit.suite.checks import check_items
from evalkit.suite.diff import diff_versions
from evalkit.suite.items import TASK_TYPES
from evalkit.suite.records import LocatedItem
from evalkit.suite.store import SuiteStore
from evalkit.suite.verify import verify_store

SUITES = SuiteStore(Path(__file__).parents[2] / "suites")


@pytest.mark.parametrize(
    "ref", [f"{name}@{v}" for name in SUITES.names() for v in SUITES.versions(name)]
)
def test_every_published_version_is_valid(ref: str) -> None:
    version = SUITES.load(ref)  # verifies the content hash
    located = [LocatedItem(item, f"{ref}:{i}") for i, item in enumerate(version.items, 1)]
    assert [str(p) for p in check_items(located, version.spec)] == []


def test_legal_suite_covers_the_domain() -> None:
    assert SUITES.versions("legal") == ["v1", "v2"]
    legal = SUITES.load("legal")
    items = legal.items
    assert len(items) >= 120
    assert {item.task for item in items} == set(TASK_TYPES)
    assert sum(item.language == "zh" for item in items) >= len(items) / 3
    dev = Counter(item.task for item in items if item.split == "dev")
    for task, config in legal.spec.tasks.items():
        assert dev[task] >= config.fewshot, task
    translations = [i for i in items if i.task == "generation" and i.answer_language]
    assert {(i.language, i.answer_language) for i in translations} >= {("en", "zh"), ("zh", "en")}


def test_legal_v2_fixes_and_extends_v1() -> None:
    v1, v2 = SUITES.load("legal@v1"), SUITES.load("legal@v2")
    diff = diff_versions(v1, v2)
    assert v2.manifest.parent == "v1"
    assert len(diff.added) >= 25 and diff.changed and diff.removed


def test_general_suite_covers_four_areas_in_two_languages() -> None:
    general = SUITES.load("general")
    areas = Counter((tag, item.language) for item in general.items for tag in item.tags)
    for area in ("reading", "arithmetic", "facts", "grammar"):
        assert areas[(area, "en")] >= 8 and areas[(area, "zh")] >= 8, area


# The content hashes of the shipped versions as published, before manifests had version
# hashes: upgrading the manifests must not change them (runs and the demo record them).
PUBLISHED_CONTENT_HASHES = {
    "demo-general@v1": "sha256:769b45980af8860d15642130bfa81327395500d837069c26e8b68b7c8650412b",
    "demo-law@v1": "sha256:d3bb64d7ed99f79684d7d3cfa350ac8482928bd56fc2855cd3ded84612d29e86",
    "demo-writing@v1": "sha256:bff5ce402b54f234748980a190c1c118580a2c7635805d541782ba4aa49d64de",
    "general@v1": "sha256:9235ea28ee9bbd50a4bb4fddba933c0ee4a9310c2cff6fccb08b7cf12fdacab7",
    "legal@v1": "sha256:5c4a4fd5413410adaf0990da7508d01217f727177b62fd2e65676bc3669321e3",
    "legal@v2": "sha256:ac46fcaf1e07317c5b2b93161cc8b7c7b07611bcefd7d5be925182653ded34cc",
}
NEW_FIELDS = ("files", "parent_hash", "version_hash")


def test_the_migration_kept_every_content_hash() -> None:
    shipped = {f"{name}@{v}" for name in SUITES.names() for v in SUITES.versions(name)}
    assert shipped == set(PUBLISHED_CONTENT_HASHES)
    for ref, digest in PUBLISHED_CONTENT_HASHES.items():
        manifest = SUITES.load(ref).manifest
        assert manifest.manifest_format == 2 and manifest.content_hash == digest, ref


def test_every_shipped_suite_verifies_as_a_chain() -> None:
    lines, problems = verify_store(SUITES.root, [])
    assert problems == [] and len(lines) == len(PUBLISHED_CONTENT_HASHES)
    assert (
        SUITES.load("legal@v2").manifest.parent_hash
        == SUITES.load("legal@v1").manifest.version_hash
    )


def _pre_chain_copy(tmp_path: Path, name: str) -> SuiteStore:
    """A copy of a shipped suite with its manifests as they were published (format 1)."""
    shutil.copytree(SUITES.root / name, tmp_path / "suites" / name)
    for path in (tmp_path / "suites" / name).glob("v*/manifest.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        old = {k: v for k, v in data.items() if k not in NEW_FIELDS} | {"manifest_format": 1}
        path.write_text(json.dumps(old, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return SuiteStore(tmp_path / "suites")


def test_a_pre_chain_manifest_is_refused_with_how_to_upgrade(tmp_path: Path) -> None:
    store = _pre_chain_copy(tmp_path, "legal")
    hint = f"evalkit suite --suites-dir {store.root} verify --upgrade legal"
    with pytest.raises(IntegrityError, match=r"v2/manifest.json: manifest_format: published "):
        store.load("legal")
    result = CliRunner().invoke(cli, ["suite", "--suites-dir", str(store.root), "show", "legal"])
    assert result.exit_code == 1 and hint in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_upgrading_reproduces_the_shipped_manifests(tmp_path: Path) -> None:
    store = _pre_chain_copy(tmp_path, "legal")
    args = ["suite", "--suites-dir", str(store.root), "verify", "--upgrade", "legal"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("upgraded legal@") == 2 and result.stdout.count(": ok, ") == 2
    for v in ("v1", "v2"):
        shipped = (SUITES.root / "legal" / v / "manifest.json").read_bytes()
        assert (store.root / "legal" / v / "manifest.json").read_bytes() == shipped
    again = CliRunner().invoke(cli, args)  # idempotent
    assert again.exit_code == 0 and "upgraded" not in again.stdout


def test_upgrading_checks_before_it_writes(tmp_path: Path) -> None:
    store = _pre_chain_copy(tmp_path, "legal")
    items = store.root / "legal" / "v1" / "items.jsonl"
    items.write_text(items.read_text(encoding="utf-8").replace("contract", "kontract", 1), "utf-8")
    before = snapshot(store.root)
    args = ["suite", "--suites-dir", str(store.root), "verify", "--upgrade", "legal"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1 and "v1/manifest.json: content_hash: content hash mismatch" in (
        result.stderr
    )
    assert snapshot(store.root) == before  # nothing upgraded, v2 included
