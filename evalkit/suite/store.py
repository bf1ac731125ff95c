"""The versioned suite store: `suites/<name>/<version>/{items.jsonl, manifest.json}`.

A published version never changes: publishing refuses to overwrite and refuses content equal to
the parent's; loading verifies the version it loads (content hash, version hash, files, folder
name) and the suite's chain (each parent's version hash, no fake version folders, no leftovers
of an interrupted publish), so a tampered or corrupted store is an error, not a silent change.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path

from evalkit.errors import ImmutableError, IntegrityError, NotFoundError, Problem, UsageError
from evalkit.suite.draft import ITEMS_FILE, SuiteDraft, write_items_jsonl
from evalkit.suite.items import ItemBase
from evalkit.suite.manifest import (
    MANIFEST_FILE,
    VERSION_PATTERN,
    Manifest,
    content_hash,
    file_digest,
    item_counts,
    language_counts,
    read_manifest_file,
    seal,
    upgrade_hint,
    version_number,
)
from evalkit.suite.spec import SUITE_NAME_PATTERN, SuiteSpec
from evalkit.suite.verify import (
    LEFTOVER,
    STAGING_PATTERN,
    check_suite,
    content_problems,
    identity_problems,
    in_folder,
    publish_lock,
    staging_prefix,
)

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

    def run_record(self) -> dict[str, str]:
        """What a run records of the version it used, for `load_run` to check later."""
        m = self.manifest
        return {
            "name": m.name,
            "version": m.version,
            "content_hash": m.content_hash,
            "version_hash": m.version_hash,
        }


def load_version_dir(path: Path) -> SuiteVersion:
    """Load a version folder `<store>/<name>/<version>`, checking it and its suite's chain.

    Raises IntegrityError with the first problem on one line (those of this version first);
    `evalkit suite verify` lists them all.
    """
    path = Path(path)
    check = check_suite(path.parent)
    problems = [] if path.name in check.versions else [Problem(str(path), "-", _NOT_A_VERSION)]
    manifest = check.manifests.get(path.name)
    items: tuple[ItemBase, ...] | None = None
    if manifest is not None:
        items, found = content_problems(path, manifest)
        problems += found
    problems += check.problems
    if problems or manifest is None or items is None:
        raise _integrity_error(path, problems)
    return SuiteVersion(manifest, items, path)


_NOT_A_VERSION = "not a version folder: versions are folders v1, v2, ... of a suite folder"


def _integrity_error(folder: Path, problems: list[Problem]) -> IntegrityError:
    """One line: the first problem, this folder's own first, and how many more there are."""
    if not problems:  # pragma: no cover - a manifest or items that failed left a problem
        return IntegrityError(f"{folder}: cannot be loaded")
    ordered = sorted(problems, key=lambda p: not in_folder(p, folder))
    more = len(problems) - 1
    if not more:
        return IntegrityError(str(ordered[0]))
    hint = upgrade_hint(folder.parent).replace(" --upgrade", "")
    s = "s" if more > 1 else ""
    return IntegrityError(f"{ordered[0]} (and {more} more problem{s}: `{hint}` lists them)")


class SuiteStore:
    """Published suites under one root folder."""

    def __init__(self, root: Path | str = DEFAULT_SUITES_DIR) -> None:
        self.root = Path(root)

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and self.versions(p.name))

    def versions(self, name: str) -> list[str]:
        """Published versions of `name`, oldest first: every folder named like a version (one
        that is not a good version is an error when loaded, not silently skipped)."""
        folder = self.root / name
        if not folder.is_dir():
            return []
        found = [p.name for p in folder.iterdir() if p.is_dir() and VERSION_PATTERN.match(p.name)]
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
        return load_version_dir(self.root / pinned.name / pinned.version)

    def manifest(self, ref: SuiteRef | str) -> Manifest:
        """A published version's manifest alone, checked against its own version hash and its
        folder; its files and the chain are not read (`load` checks them)."""
        pinned = self.resolve(ref)
        assert pinned.version is not None
        folder = self.root / pinned.name / pinned.version
        manifest, problems = read_manifest_file(folder)
        if manifest is not None:
            problems += identity_problems(folder, manifest)
        if problems or manifest is None:
            raise _integrity_error(folder, problems)
        return manifest

    def publish(
        self,
        draft: SuiteDraft,
        *,
        author: str,
        changelog: str,
        version: str | None = None,
        now: datetime | None = None,
    ) -> SuiteVersion:
        """Write `draft` as a new immutable version; the draft must already be checked.

        Publishes of one suite take turns (an advisory lock on its folder); each first removes
        the staging folders that interrupted publishes left, then verifies the parent (and so
        the chain) before writing on top of it.
        """
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
        target = self.root / name / version
        target.parent.mkdir(parents=True, exist_ok=True)
        with publish_lock(target.parent):
            _remove_leftovers(target.parent)
            return self._publish(draft, author, changelog, target, existing, now)

    def _publish(
        self,
        draft: SuiteDraft,
        author: str,
        changelog: str,
        target: Path,
        existing: list[str],
        now: datetime | None,
    ) -> SuiteVersion:
        name, version = draft.spec.name, target.name
        items = draft.plain_items
        digest = content_hash(draft.spec, items)
        parent = existing[-1] if existing else None
        parent_hash = None
        if parent is not None:
            parent_manifest = self.load(SuiteRef(name, parent)).manifest
            parent_hash = parent_manifest.version_hash
            if parent_manifest.content_hash == digest:
                raise ImmutableError(
                    f"nothing to publish: the draft's content equals {name}@{parent} "
                    f"({digest[:19]}...)"
                )
        else:
            problems = check_suite(target.parent).problems
            if problems:
                raise _integrity_error(target, problems)
        # Write into a temporary sibling and rename: readers never see a half-written version,
        # and rename() onto a folder with files fails, so two publishers cannot both win.
        staging = Path(tempfile.mkdtemp(prefix=staging_prefix(version), dir=target.parent))
        try:
            write_items_jsonl(staging / ITEMS_FILE, items)
            _, content = seal(
                {
                    "name": name,
                    "version": version,
                    "parent": parent,
                    "parent_hash": parent_hash,
                    "created_at": (now or datetime.now(timezone.utc)).replace(microsecond=0),
                    "author": author,
                    "changelog": changelog,
                    "item_counts": item_counts(items),
                    "languages": language_counts(items),
                    "content_hash": digest,
                    "files": {ITEMS_FILE: file_digest(staging / ITEMS_FILE)},
                    "suite": draft.spec,
                }
            )
            (staging / MANIFEST_FILE).write_bytes(content)
            for f in staging.iterdir():
                f.chmod(0o444)
                _sync(f)
            staging.chmod(0o755)
            _sync(staging)
            try:
                os.rename(staging, target)
            except OSError:
                raise ImmutableError(
                    f"{name}@{version} was published by someone else meanwhile; "
                    "versions never change"
                ) from None
            _sync(target.parent)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        return load_version_dir(target)


def _remove_leftovers(suite_dir: Path) -> None:
    """Staging folders of interrupted publishes; called with the publish lock held."""
    for entry in suite_dir.iterdir():
        if entry.is_dir() and STAGING_PATTERN.match(entry.name):
            try:
                shutil.rmtree(entry)
            except OSError as e:
                raise IntegrityError(f"{entry}: -: {LEFTOVER}; removing it failed: {e}") from None


def _sync(path: Path) -> None:
    """Flush a file or folder to disk, so that a crash after the rename leaves whole files."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - a folder cannot be opened on some platforms
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - nor flushed on some file systems
        pass
    finally:
        os.close(fd)
