"""The versioned suite store: `suites/<name>/<version>/{items.jsonl, manifest.json}`.

A published version never changes: publishing refuses to overwrite, refuses content equal to
the parent's, and loading verifies the content hash so a tampered or corrupted file is an error.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path

from pydantic import ValidationError

from evalkit.errors import (
    ImmutableError,
    IntegrityError,
    NotFoundError,
    ProblemsFound,
    UsageError,
)
from evalkit.memory import collector_paused
from evalkit.suite.draft import ITEMS_FILE, SuiteDraft, read_items_jsonl, write_items_jsonl
from evalkit.suite.items import ItemBase
from evalkit.suite.manifest import (
    MANIFEST_FILE,
    Manifest,
    content_hash,
    item_counts,
    language_counts,
)
from evalkit.suite.records import problems_from_validation_error
from evalkit.suite.spec import SUITE_NAME_PATTERN, SuiteSpec

VERSION_PATTERN = re.compile(r"^v([1-9][0-9]{0,5})$")
_REF_PATTERN = re.compile(SUITE_NAME_PATTERN.rstrip("$") + r"(@(?P<version>[^@]*))?$")
DEFAULT_SUITES_DIR = Path("suites")


@dataclass(frozen=True)
class SuiteRef:
    """`legal` (latest version) or `legal@v2` (pinned)."""

    name: str
    version: str | None = None

    @classmethod
    def parse(cls, text: str) -> SuiteRef:
        text = text.strip()
        if not _REF_PATTERN.match(text):
            raise UsageError(
                f"bad suite reference {text!r}: expected NAME or NAME@VERSION, e.g. 'legal' or "
                "'legal@v2' (lower-case name)"
            )
        name, _, version = text.partition("@")
        if _ and not VERSION_PATTERN.match(version):
            raise UsageError(f"bad version {version!r} in {text!r}: versions are v1, v2, ...")
        return cls(name, version or None)

    def __str__(self) -> str:
        return self.name if self.version is None else f"{self.name}@{self.version}"


@dataclass(frozen=True)
class SuiteVersion:
    """A loaded, hash-verified published version."""

    manifest: Manifest
    items: tuple[ItemBase, ...]
    path: Path

    @property
    def spec(self) -> SuiteSpec:
        return self.manifest.suite

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def version(self) -> str:
        return self.manifest.version

    @property
    def ref(self) -> str:
        return self.manifest.ref

    @cached_property
    def by_id(self) -> dict[str, ItemBase]:
        return {item.id: item for item in self.items}


def version_number(version: str) -> int:
    match = VERSION_PATTERN.match(version)
    if match is None:
        raise UsageError(f"bad version {version!r}: versions are v1, v2, ...")
    return int(match.group(1))


def read_manifest(path: Path, name: str | None = None, version: str | None = None) -> Manifest:
    """A version folder's manifest, checked against the folder's name and version."""
    manifest_path = path / MANIFEST_FILE
    if not manifest_path.is_file():
        raise NotFoundError(f"{manifest_path}: no such file")
    try:
        manifest = Manifest.model_validate_json(manifest_path.read_bytes())
    except ValidationError as e:
        problems = problems_from_validation_error(e, str(manifest_path))
        raise ProblemsFound(problems, f"{manifest_path}: manifest is invalid") from None
    if name is not None and manifest.name != name:
        raise IntegrityError(
            f"{manifest_path}: manifest names suite {manifest.name!r}, folder is {name!r}"
        )
    if version is not None and manifest.version != version:
        raise IntegrityError(
            f"{manifest_path}: manifest says version {manifest.version!r}, folder is {version!r}"
        )
    return manifest


def load_version_dir(
    path: Path, name: str | None = None, version: str | None = None
) -> SuiteVersion:
    """Load a version folder, checking the manifest, every item and the content hash."""
    manifest = read_manifest(path, name, version)
    with collector_paused():
        located, problems = read_items_jsonl(path / ITEMS_FILE)
        if problems:
            raise ProblemsFound(problems, f"{path / ITEMS_FILE}: published items are invalid")
        items = tuple(li.item for li in located)
        actual = content_hash(manifest.suite, items)
    if actual != manifest.content_hash:
        raise IntegrityError(
            f"{path}: content hash mismatch (manifest {manifest.content_hash[:19]}..., files "
            f"{actual[:19]}...): the published files were modified or corrupted"
        )
    return SuiteVersion(manifest, items, path)


class SuiteStore:
    """Published suites under one root folder."""

    def __init__(self, root: Path | str = DEFAULT_SUITES_DIR) -> None:
        self.root = Path(root)

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and self.versions(p.name))

    def versions(self, name: str) -> list[str]:
        """Published versions of `name`, oldest first."""
        folder = self.root / name
        if not folder.is_dir():
            return []
        found = [
            p.name
            for p in folder.iterdir()
            if p.is_dir() and VERSION_PATTERN.match(p.name) and (p / MANIFEST_FILE).is_file()
        ]
        return sorted(found, key=version_number)

    def resolve(self, ref: SuiteRef | str) -> SuiteRef:
        """Pin a reference to a concrete version (the latest when none is given)."""
        ref = SuiteRef.parse(ref) if isinstance(ref, str) else ref
        versions = self.versions(ref.name)
        if not versions:
            known = ", ".join(self.names()) or "none"
            raise NotFoundError(f"no suite {ref.name!r} in {self.root} (suites: {known})")
        if ref.version is None:
            return SuiteRef(ref.name, versions[-1])
        if ref.version not in versions:
            raise NotFoundError(
                f"suite {ref.name!r} has no version {ref.version!r} "
                f"(versions: {', '.join(versions)})"
            )
        return ref

    def load(self, ref: SuiteRef | str) -> SuiteVersion:
        """Load and verify a published version."""
        pinned = self.resolve(ref)
        assert pinned.version is not None  # resolve() always pins
        return load_version_dir(
            self.root / pinned.name / pinned.version, pinned.name, pinned.version
        )

    def manifest(self, ref: SuiteRef | str) -> Manifest:
        """A published version's manifest alone: items are neither read nor hash-checked."""
        pinned = self.resolve(ref)
        assert pinned.version is not None
        return read_manifest(self.root / pinned.name / pinned.version, pinned.name, pinned.version)

    def publish(
        self,
        draft: SuiteDraft,
        *,
        author: str,
        changelog: str,
        version: str | None = None,
        now: datetime | None = None,
    ) -> SuiteVersion:
        """Write `draft` as a new immutable version; the draft must already be checked."""
        name = draft.spec.name
        if not author.strip():
            raise UsageError("publishing needs an author")
        if not changelog.strip():
            raise UsageError("publishing needs a changelog entry saying what changed")
        existing = self.versions(name)
        if version is None:
            version = f"v{version_number(existing[-1]) + 1}" if existing else "v1"
        elif version in existing:
            raise ImmutableError(f"{name}@{version} is already published; versions never change")
        elif existing and version_number(version) < version_number(existing[-1]):
            raise UsageError(f"{name}@{version} is older than the latest, {name}@{existing[-1]}")
        else:
            version_number(version)  # rejects a malformed version
        items = draft.plain_items
        digest = content_hash(draft.spec, items)
        parent = existing[-1] if existing else None
        if parent is not None:
            parent_manifest = self.load(SuiteRef(name, parent)).manifest
            if parent_manifest.content_hash == digest:
                raise ImmutableError(
                    f"nothing to publish: the draft's content equals {name}@{parent} "
                    f"({digest[:19]}...)"
                )
        manifest = Manifest(
            name=name,
            version=version,
            parent=parent,
            created_at=(now or datetime.now(timezone.utc)).replace(microsecond=0),
            author=author,
            changelog=changelog,
            item_counts=item_counts(items),
            languages=language_counts(items),
            content_hash=digest,
            suite=draft.spec,
        )
        target = self.root / name / version
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write into a temporary sibling and rename: readers never see a half-written version,
        # and rename() onto an existing folder fails, so two publishers cannot both win.
        staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=target.parent))
        try:
            write_items_jsonl(staging / ITEMS_FILE, items)
            (staging / MANIFEST_FILE).write_text(
                json.dumps(manifest.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n",
                encoding="utf-8",
            )
            for f in staging.iterdir():
                f.chmod(0o444)
            staging.chmod(0o755)
            try:
                os.rename(staging, target)
            except OSError:
                raise ImmutableError(
                    f"{name}@{version} was published by someone else meanwhile; "
                    "versions never change"
                ) from None
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        return load_version_dir(target, name, version)
