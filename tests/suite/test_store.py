"""The versioned store: publish, resolve references, immutability, tamper detection."""

from __future__ import annotations

import json
import os
import stat
from datetime import datetime, timezone
from pathlib import Path

import pytest

from drafts import ITEMS, write_draft
from evalkit.errors import ImmutableError, IntegrityError, NotFoundError, UsageError
from evalkit.suite.draft import SuiteDraft, read_draft
from evalkit.suite.manifest import content_hash, file_digest, version_hash
from evalkit.suite.store import SuiteRef, SuiteStore


def load_draft(folder: Path) -> SuiteDraft:
    draft, problems = read_draft(folder)
    assert problems == [] and draft is not None
    return draft


@pytest.fixture
def store(tmp_path: Path) -> SuiteStore:
    return SuiteStore(tmp_path / "suites")


def test_publish_writes_manifest_and_items(store: SuiteStore, draft_dir: Path) -> None:
    when = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
    published = store.publish(load_draft(draft_dir), author="li.na", changelog="First.", now=when)
    assert published.ref == "mini@v1"
    folder = store.root / "mini" / "v1"
    assert sorted(p.name for p in folder.iterdir()) == ["items.jsonl", "manifest.json"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["version"] == "v1" and manifest["parent"] is None
    assert manifest["author"] == "li.na" and manifest["changelog"] == "First."
    assert manifest["created_at"] == "2026-11-01T12:00:00Z"
    assert manifest["item_counts"] == {"extraction": {"test": 1}, "mcq": {"dev": 1, "test": 1}}
    assert manifest["languages"] == {"en": 1, "zh": 2}
    assert manifest["content_hash"] == content_hash(published.spec, published.items)
    assert manifest["manifest_format"] == 2 and manifest["parent_hash"] is None
    assert manifest["files"] == {"items.jsonl": file_digest(folder / "items.jsonl")}
    assert manifest["version_hash"] == version_hash(manifest)
    # Chinese is stored as text, not \\u escapes, so experts can read the files.
    assert "合同何时成立" in (folder / "items.jsonl").read_text(encoding="utf-8")
    assert not os.stat(folder / "items.jsonl").st_mode & stat.S_IWUSR


def test_references_resolve_latest_and_pinned(store: SuiteStore, tmp_path: Path) -> None:
    store.publish(load_draft(write_draft(tmp_path / "a")), author="a", changelog="one")
    changed = [*ITEMS[:2], {**ITEMS[2], "text": ITEMS[2]["text"] + "签订地：上海。"}]
    store.publish(
        load_draft(write_draft(tmp_path / "b", items=changed)), author="a", changelog="two"
    )
    assert store.versions("mini") == ["v1", "v2"]
    assert store.load("mini").version == "v2"
    assert store.load("mini@v1").version == "v1"
    assert store.load("mini@v2").manifest.parent == "v1"
    v1_hash = store.load("mini@v1").manifest.version_hash
    assert store.load("mini@v2").manifest.parent_hash == v1_hash
    with pytest.raises(
        NotFoundError, match=r"suite 'mini' has no version 'v3' \(versions: v1, v2\)"
    ):
        store.load("mini@v3")
    with pytest.raises(NotFoundError, match=r"no suite 'legal' in .* \(suites: mini\)"):
        store.load("legal")


@pytest.mark.parametrize("text", ["Legal", "legal@", "legal@2", "legal@v1@v2", "le gal", ""])
def test_bad_references_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        SuiteRef.parse(text)


def test_versions_sort_numerically(store: SuiteStore, tmp_path: Path) -> None:
    draft = load_draft(write_draft(tmp_path / "a"))
    store.publish(draft, author="a", changelog="x", version="v9")
    changed = [*ITEMS[:2], {**ITEMS[2], "text": "甲方：上海某律师事务所；乙方：李四。"}]
    store.publish(load_draft(write_draft(tmp_path / "b", items=changed)), author="a", changelog="y")
    assert store.versions("mini") == ["v9", "v10"]
    assert store.load("mini").version == "v10"


def test_publish_refuses_overwrite_and_unchanged_content(
    store: SuiteStore, draft_dir: Path
) -> None:
    draft = load_draft(draft_dir)
    store.publish(draft, author="a", changelog="one")
    before = (store.root / "mini" / "v1" / "manifest.json").read_bytes()
    with pytest.raises(ImmutableError, match="already published"):
        store.publish(draft, author="a", changelog="again", version="v1")
    with pytest.raises(
        ImmutableError, match="nothing to publish: the draft's content equals mini@v1"
    ):
        store.publish(draft, author="a", changelog="again")
    assert store.versions("mini") == ["v1"]
    assert (store.root / "mini" / "v1" / "manifest.json").read_bytes() == before
    assert [p.name for p in (store.root / "mini").iterdir()] == ["v1"]  # no staging left behind


def test_publish_needs_author_and_changelog(store: SuiteStore, draft_dir: Path) -> None:
    with pytest.raises(UsageError, match="changelog"):
        store.publish(load_draft(draft_dir), author="a", changelog="  ")


def test_tampered_items_are_detected(store: SuiteStore, draft_dir: Path) -> None:
    store.publish(load_draft(draft_dir), author="a", changelog="one")
    path = store.root / "mini" / "v1" / "items.jsonl"
    path.chmod(0o644)
    path.write_text(
        path.read_text(encoding="utf-8").replace('"answer": "B"', '"answer": "A"'), encoding="utf-8"
    )
    with pytest.raises(IntegrityError, match="content hash mismatch"):
        store.load("mini@v1")


def test_manifest_alone_reads_no_items(store: SuiteStore, draft_dir: Path) -> None:
    published = store.publish(load_draft(draft_dir), author="a", changelog="one")
    assert store.manifest("mini") == published.manifest
    (store.root / "mini" / "v1" / "items.jsonl").unlink()  # not read, so not missed
    assert store.manifest("mini@v1").content_hash == published.manifest.content_hash


def test_tampered_spec_in_manifest_is_detected(store: SuiteStore, draft_dir: Path) -> None:
    store.publish(load_draft(draft_dir), author="a", changelog="one")
    path = store.root / "mini" / "v1" / "manifest.json"
    path.chmod(0o644)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["suite"]["tasks"]["mcq"]["prompt"] = "Answer: {{ question }}"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(IntegrityError, match="content hash mismatch"):
        store.load("mini")


def test_hash_ignores_formatting_but_not_content(draft_dir: Path, tmp_path: Path) -> None:
    a = load_draft(draft_dir)
    reordered = load_draft(write_draft(tmp_path / "r", items=list(reversed(ITEMS))))
    explicit = [{**ITEMS[0], "split": "test", "tags": []}, *ITEMS[1:]]
    with_defaults = load_draft(write_draft(tmp_path / "e", items=explicit))
    changed = load_draft(
        write_draft(tmp_path / "c", items=[{**ITEMS[0], "answer": "A"}, *ITEMS[1:]])
    )
    h = content_hash(a.spec, a.plain_items)
    assert h == content_hash(reordered.spec, reordered.plain_items)
    assert h == content_hash(with_defaults.spec, with_defaults.plain_items)
    assert h != content_hash(changed.spec, changed.plain_items)


def test_concurrent_publisher_of_the_same_version_loses_cleanly(
    store: SuiteStore, draft_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.publish(load_draft(draft_dir), author="first", changelog="one")
    original = (store.root / "mini" / "v1" / "manifest.json").read_bytes()
    other = load_draft(write_draft(tmp_path / "o", items=[{**ITEMS[0], "answer": "A"}, *ITEMS[1:]]))
    # The second publisher checked before the first one's rename landed: it also picks v1.
    monkeypatch.setattr(store, "versions", lambda name: [])
    with pytest.raises(ImmutableError, match="published by someone else meanwhile"):
        store.publish(other, author="second", changelog="two")
    assert (store.root / "mini" / "v1" / "manifest.json").read_bytes() == original
    assert [p.name for p in (store.root / "mini").iterdir()] == ["v1"]
