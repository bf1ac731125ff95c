"""A published chain mini@v1..v3 and the ways a published store can be edited after the fact.

Every case edits the store in place; each must be caught by every load. Manifest edits are
written exactly as publishing writes a manifest (same order, indent and escaping), so that
only the edited value differs, as a careful hand edit would leave it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from drafts import ITEMS, write_draft
from evalkit.suite.draft import read_draft
from evalkit.suite.manifest import render_manifest, version_hash
from evalkit.suite.store import SuiteStore

Edit = Callable[[Path], None]  # given the suite folder <store>/mini


def publish_chain(tmp_path: Path) -> SuiteStore:
    """mini@v1, v2, v3, each changing one item."""
    store = SuiteStore(tmp_path / "suites")
    answers = [ITEMS, [{**ITEMS[0], "tags": ["offer"]}, *ITEMS[1:]]]
    answers.append([{**ITEMS[0], "tags": ["offer", "easy"]}, *ITEMS[1:]])
    for n, items in enumerate(answers, 1):
        draft, problems = read_draft(write_draft(tmp_path / f"draft{n}", items=items))
        assert draft is not None and not problems
        when = datetime(2026, 11, n, 12, 0, tzinfo=timezone.utc)
        store.publish(draft, author="li.na", changelog=f"Version {n}.", now=when)
    return store


def writable(path: Path) -> Path:
    path.chmod(0o644)
    return path


def read(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def write(folder: Path, data: dict[str, Any], *, reseal: bool = False) -> None:
    """Write a manifest as publishing does; `reseal` recomputes its version hash, as someone
    who knows the format would after an edit."""
    if reseal:
        data = {**data, "version_hash": version_hash(data)}
    writable(folder / "manifest.json").write_bytes(render_manifest(data))


def flip(digest: str) -> str:
    return digest[:-1] + ("0" if digest[-1] != "0" else "1")


MISSING = object()


def set_field(name: str, change: Callable[[Any], Any], *, reseal: bool = False) -> Edit:
    def edit(suite: Path) -> None:
        data = read(suite / "v2")
        value = change(data.get(name))
        if value is MISSING:
            del data[name]
        else:
            data[name] = value
        write(suite / "v2", data, reseal=reseal)

    return edit


def items_per_task(counts: dict[str, dict[str, int]]) -> dict[str, Any]:
    return {**counts, "mcq": {**counts["mcq"], "test": counts["mcq"]["test"] + 1}}


# Each field of the manifest and edits of its value; a test checks every field is here.
FIELD_EDITS: dict[str, list[Callable[[Any], Any]]] = {
    "manifest_format": [lambda v: 1, lambda v: 3],
    "name": [lambda v: "mini2"],
    "version": [lambda v: "v1", lambda v: "v3"],
    "parent": [lambda v: None, lambda v: "v3"],
    "created_at": [lambda v: "2026-11-02T12:00:01Z", lambda v: "2026-11-02T12:00:00+00:00"],
    "author": [lambda v: "wang.fang", lambda v: v + " "],
    "changelog": [lambda v: "Version 2 (fixed typo)."],
    "item_counts": [items_per_task, lambda v: {**v, "mcq": {"dev": 1.0, "test": 1}}],
    "languages": [lambda v: {"en": 2, "zh": 1}, lambda v: {**v, "fr": 0}],
    "content_hash": [flip],
    "files": [
        lambda v: {k: flip(h) for k, h in v.items()},
        lambda v: {**v, "notes.txt": v["items.jsonl"]},
    ],
    "parent_hash": [flip, lambda v: None],
    "version_hash": [flip, lambda v: v.upper()],
    "suite": [lambda v: {**v, "description": v["description"] + " Edited."}],
}

# Edits that the structure catches even when the editor recomputes the version hash.
RESEALED_EDITS: dict[str, Callable[[Any], Any]] = {
    "name": lambda v: "mini2",
    "version": lambda v: "v1",
    "parent": lambda v: None,
    "item_counts": items_per_task,
    "languages": lambda v: {"en": 2, "zh": 1},
    "content_hash": flip,
    "files": lambda v: {k: flip(h) for k, h in v.items()},
    "parent_hash": flip,
    "suite": lambda v: {**v, "description": v["description"] + " Edited."},
    # ...and these only through the next version's parent_hash (v3 vouches for v2)
    "author": lambda v: "wang.fang",
    "changelog": lambda v: "Version 2 (fixed typo).",
    "created_at": lambda v: "2026-11-02T12:00:01Z",
}


def field_cases() -> list[tuple[str, Edit]]:
    cases = []
    for name, changes in FIELD_EDITS.items():
        cases += [(f"{name}-edit{k}", set_field(name, c)) for k, c in enumerate(changes)]
        cases.append((f"{name}-deleted", set_field(name, lambda v: MISSING)))
    for name, change in RESEALED_EDITS.items():
        cases.append((f"{name}-resealed", set_field(name, change, reseal=True)))
    cases.append(("unknown-field", set_field("signed_by", lambda v: "li.na", reseal=True)))
    return cases


def _edit_items(suite: Path) -> None:
    path = writable(suite / "v2" / "items.jsonl")
    path.write_text(path.read_text(encoding="utf-8").replace('"B"', '"A"', 1), encoding="utf-8")


def _reorder_items(suite: Path) -> None:
    path = writable(suite / "v2" / "items.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(reversed(lines)), encoding="utf-8")


def _reformat_manifest(suite: Path) -> None:
    data = read(suite / "v2")
    writable(suite / "v2" / "manifest.json").write_text(
        json.dumps(data, ensure_ascii=False, indent=4) + "\n", encoding="utf-8"
    )


def _reorder_manifest(suite: Path) -> None:
    data = read(suite / "v2")
    writable(suite / "v2" / "manifest.json").write_text(
        json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def _raw_manifest(change: Callable[[bytes], bytes]) -> Edit:
    def edit(suite: Path) -> None:
        path = writable(suite / "v2" / "manifest.json")
        path.write_bytes(change(path.read_bytes()))

    return edit


def _add(relative: str, *, folder: bool = False) -> Edit:
    def edit(suite: Path) -> None:
        path = suite / relative
        if folder:
            path.mkdir()
            (path / "items.jsonl").write_text("", encoding="utf-8")
        else:
            path.write_text("extra\n", encoding="utf-8")

    return edit


def _copy_version(
    source: str, target: str, change: Callable[[dict[str, Any]], None] | None = None
) -> Edit:
    """Replace (or create) `target` with a copy of `source`, optionally edited and resealed."""

    def edit(suite: Path) -> None:
        if (suite / target).exists():
            shutil.rmtree(suite / target)
        shutil.copytree(suite / source, suite / target)
        if change is not None:
            data = read(suite / target)
            change(data)
            write(suite / target, data, reseal=True)

    return edit


def _swap_files(suite: Path) -> None:
    """Items and manifest of v2 swapped for the older, self-consistent pair of v1."""
    for name in ("items.jsonl", "manifest.json"):
        writable(suite / "v2" / name).write_bytes((suite / "v1" / name).read_bytes())


def _v1_as_v2(data: dict[str, Any]) -> None:
    data["version"] = "v2"


def _v1_as_v2_chained(data: dict[str, Any]) -> None:
    """v1's manifest made to look like a child of v1 (its version_hash is still v1's)."""
    data.update(version="v2", parent="v1", parent_hash=data["version_hash"])


def _v3_as_v4(data: dict[str, Any]) -> None:
    data.update(version="v4", parent="v3", parent_hash=data["version_hash"])


def _delete(relative: str) -> Edit:
    def edit(suite: Path) -> None:
        (suite / relative).unlink()

    return edit


def _staging(name: str) -> Edit:
    def edit(suite: Path) -> None:
        (suite / name).mkdir()
        (suite / name / "items.jsonl").write_text('{"id": "half', encoding="utf-8")

    return edit


OTHER_CASES: list[tuple[str, Edit]] = [
    ("items-edited", _edit_items),
    ("items-reordered", _reorder_items),
    ("items-deleted", _delete("v2/items.jsonl")),
    ("manifest-deleted", _delete("v2/manifest.json")),
    ("manifest-reformatted", _reformat_manifest),
    ("manifest-keys-reordered", _reorder_manifest),
    ("manifest-truncated", _raw_manifest(lambda b: b[: len(b) // 2])),
    ("manifest-not-utf8", _raw_manifest(lambda b: b.replace(b"li.na", b"li.\xff"))),
    ("manifest-lone-surrogate", _raw_manifest(lambda b: b.replace(b"li.na", b"\\ud800"))),
    ("manifest-a-list", _raw_manifest(lambda b: b"[" + b + b"]")),
    ("extra-file", _add("v2/notes.txt")),
    ("extra-hidden-file", _add("v2/.DS_Store")),
    ("extra-folder", _add("v2/old", folder=True)),
    ("extra-file-in-suite-folder", _add("README.md")),
    ("fake-version-copy", _copy_version("v3", "v4")),
    ("fake-version-resealed", _copy_version("v3", "v4", _v3_as_v4)),
    ("fake-version-empty", _add("v4", folder=True)),
    ("fake-backup-folder", _copy_version("v2", "v2.bak")),
    ("fake-upper-case-folder", _copy_version("v3", "V4")),
    ("rollback-folder", _copy_version("v1", "v2")),
    ("rollback-files", _swap_files),
    ("rollback-renamed-resealed", _copy_version("v1", "v2", _v1_as_v2)),
    ("rollback-chained-resealed", _copy_version("v1", "v2", _v1_as_v2_chained)),
    ("rollback-latest", _copy_version("v2", "v3")),
]
# A killed publish published nothing: loads ignore what it left, `verify` reports it.
STAGING_CASES: list[tuple[str, Edit]] = [
    ("staging-leftover", _staging(".v4-staging-k2j3x9")),
    ("staging-leftover-old-name", _staging(".v4-8fz_q1")),
]

CASES = field_cases() + OTHER_CASES
