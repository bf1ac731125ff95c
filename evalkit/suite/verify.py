"""Checking published versions: each version folder, each suite's chain of versions.

Every problem is a `Problem` located at the file (or folder) at fault, so that a load can stop
with one line and `evalkit suite verify` can list them all. Nothing here writes, except
`upgrade_suite`, which records the hashes in manifests published before them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from evalkit.errors import NotFoundError, Problem, ProblemsFound, UsageError
from evalkit.memory import collector_paused
from evalkit.suite.draft import ITEMS_FILE, read_items_jsonl
from evalkit.suite.items import ItemBase
from evalkit.suite.manifest import (
    MANIFEST_FILE,
    MANIFEST_FORMAT,
    VERSION_PATTERN,
    Manifest,
    consistency_problems,
    content_hash,
    file_digest,
    is_pre_chain,
    item_counts,
    language_counts,
    parse_manifest_json,
    read_manifest_file,
    render_manifest,
    short,
    version_hash,
    version_number,
)
from evalkit.suite.records import problems_from_validation_error
from evalkit.suite.spec import SUITE_NAME_PATTERN

try:  # advisory locks tell a publish in progress from one that was killed (POSIX only)
    import fcntl
except ImportError:  # pragma: no cover - Windows: every staging folder counts as a leftover
    fcntl = None  # type: ignore[assignment]

# A publish writes `.v3-staging-<random>/` next to the versions and renames it to `v3/`.
STAGING_PATTERN = re.compile(r"^\.v[1-9][0-9]{0,5}-")
LEFTOVER = (
    "leftover staging folder of an interrupted publish (nothing in it was published); "
    "remove it, or publish again, which removes it"
)


def staging_prefix(version: str) -> str:
    return f".{version}-staging-"


@contextmanager
def publish_lock(suite_dir: Path) -> Iterator[None]:
    """Held (exclusively) by a publisher for the whole publish; released if it is killed."""
    if fcntl is None:  # pragma: no cover - no advisory locks on this platform
        yield
        return
    fd = os.open(suite_dir, os.O_RDONLY)
    try:
        with suppress(OSError):  # a file system without locks: publish unlocked
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def publish_in_progress(suite_dir: Path) -> bool:
    """Whether a live process holds the suite's publish lock right now."""
    if fcntl is None:
        return False
    fd = os.open(suite_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:  # pragma: no cover - a file system without locks
        return False
    finally:
        os.close(fd)
    return False


def identity_problems(folder: Path, manifest: Manifest) -> list[Problem]:
    """The manifest names the suite and version of the folder it lies in."""
    where, problems = str(folder / MANIFEST_FILE), []
    if manifest.name != folder.parent.name:
        reason = f"is {manifest.name!r}, but the suite folder is {folder.parent.name!r}"
        problems.append(Problem(where, "name", reason))
    if manifest.version != folder.name:
        reason = (
            f"is {manifest.version!r}, but the folder is {folder.name!r}: the folder was renamed "
            "or its files replaced by another version's"
        )
        problems.append(Problem(where, "version", reason))
    return problems


def folder_problems(folder: Path, manifest: Manifest) -> list[Problem]:
    """The folder holds exactly the manifest and the files it lists, each unchanged."""
    problems = identity_problems(folder, manifest)
    present = {p.name: p for p in folder.iterdir() if p.name != MANIFEST_FILE}
    for name in sorted(present.keys() - manifest.files.keys()):
        reason = "unknown file: not among the files manifest.json lists for this version"
        problems.append(Problem(str(present[name]), "-", reason))
    for name in sorted(manifest.files):
        path = folder / name
        if name not in present:
            problems.append(Problem(str(path), "-", "missing: manifest.json lists it"))
        elif not path.is_file():
            problems.append(Problem(str(path), "-", "not a file: manifest.json lists a file"))
        elif (actual := _digest(path)) is None:
            problems.append(Problem(str(path), "-", "cannot be read"))
        elif actual != manifest.files[name]:
            reason = (
                f"changed after publishing (sha256 {actual}, manifest.json files.{name} "
                f"{manifest.files[name]})"
            )
            problems.append(Problem(str(path), "-", reason))
    return problems


def _digest(path: Path) -> str | None:
    try:
        return file_digest(path)
    except OSError:
        return None


def content_problems(
    folder: Path, manifest: Manifest
) -> tuple[tuple[ItemBase, ...] | None, list[Problem]]:
    """The items, valid, with the content hash and the counts the manifest records."""
    path, where = folder / ITEMS_FILE, str(folder / MANIFEST_FILE)
    if not path.is_file():
        return None, []  # folder_problems says so
    with collector_paused():
        try:
            located, problems = read_items_jsonl(path)
        except ProblemsFound as e:  # not a readable file at all
            return None, e.problems
        if problems:
            return None, problems
        items = tuple(li.item for li in located)
        actual = content_hash(manifest.suite, items)
    if actual != manifest.content_hash:
        reason = (
            f"content hash mismatch (manifest {manifest.content_hash}, files {actual}): the "
            "published items or spec were modified or corrupted"
        )
        problems.append(Problem(where, "content_hash", reason))
    if (counts := item_counts(items)) != manifest.item_counts:
        reason = f"is {manifest.item_counts}, but the items hold {counts}"
        problems.append(Problem(where, "item_counts", reason))
    if (languages := language_counts(items)) != manifest.languages:
        reason = f"is {manifest.languages}, but the items hold {languages}"
        problems.append(Problem(where, "languages", reason))
    return items, problems


@dataclass
class SuiteCheck:
    """A suite folder as found: its versions (oldest first), readable manifests, problems."""

    folder: Path
    versions: list[str] = field(default_factory=list)
    manifests: dict[str, Manifest] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def check_suite(suite_dir: Path, *, complete: bool = False) -> SuiteCheck:
    """Every entry of a suite folder, every version's manifest and files, and the chain.

    Items are not parsed here (`content_problems` does that) but every file's sha256 is
    checked. `complete` also requires each parent to be in the store (a load accepts a
    store that holds only later versions; `evalkit suite verify` does not) and reports
    staging folders that interrupted publishes left (a load ignores them).
    """
    check = SuiteCheck(suite_dir)
    if not suite_dir.is_dir():
        return check
    in_progress: bool | None = None
    for entry in sorted(suite_dir.iterdir()):
        if entry.is_dir() and VERSION_PATTERN.match(entry.name):
            check.versions.append(entry.name)
        elif entry.is_dir() and STAGING_PATTERN.match(entry.name):
            # A killed publish published nothing: loads go on, `verify` reports the leftover
            # and the next publish removes it.
            if not complete:
                continue
            if in_progress is None:
                in_progress = publish_in_progress(suite_dir)
            if not in_progress:
                check.problems.append(Problem(str(entry), "-", LEFTOVER))
        else:
            reason = "unknown entry: a suite folder holds only version folders v1, v2, ..."
            check.problems.append(Problem(str(entry), "-", reason))
    check.versions.sort(key=version_number)
    for version in check.versions:
        manifest, problems = read_manifest_file(suite_dir / version)
        check.problems += problems
        if manifest is not None:
            check.problems += folder_problems(suite_dir / version, manifest)
            check.manifests[version] = manifest
    check.problems += chain_problems(check, complete)
    return check


def chain_problems(check: SuiteCheck, complete: bool) -> list[Problem]:
    """Each version's parent is the version before it in the store, with that version's hash."""
    problems: list[Problem] = []
    previous: str | None = None
    for version in check.versions:
        if (manifest := check.manifests.get(version)) is not None:
            where = str(check.folder / version / MANIFEST_FILE)
            found = _link(manifest, previous, check, complete)
            problems += [Problem(where, field, reason) for field, reason in found]
        previous = version
    return problems


def _link(
    manifest: Manifest, previous: str | None, check: SuiteCheck, complete: bool
) -> Iterator[tuple[str, str]]:
    """(field, reason) for each way `manifest` does not follow `previous` in the chain."""
    version, parent = manifest.version, manifest.parent
    before = check.manifests.get(previous) if previous else None
    if parent is None and previous is not None:
        reason = (
            f"is null, but {previous} comes before {version} in the store: only the first "
            f"version has none (was {version} replaced by a copy of an earlier version?)"
        )
        yield "parent", reason
    elif parent is not None and parent == previous and before is not None:
        if manifest.parent_hash != before.version_hash:
            reason = (
                f"is {manifest.parent_hash}, but {parent}'s version_hash is "
                f"{before.version_hash}: {parent} is not the version {version} was published on"
            )
            yield "parent_hash", reason
        if manifest.content_hash == before.content_hash:
            reason = (
                f"equals {parent}'s: a version is published only when its content changes "
                f"(was it replaced by a copy of {parent}?)"
            )
            yield "content_hash", reason
    elif parent is not None and parent != previous:
        skipped = previous is not None and version_number(previous) > version_number(parent)
        if parent in check.versions or skipped:
            yield "parent", f"is {parent}, but the version before {version} is {previous or 'none'}"
        elif complete:
            yield "parent", f"{parent} is not in the store, so the chain cannot be verified"


def in_folder(problem: Problem, folder: Path) -> bool:
    """Whether a problem lies in `folder` (the folder itself or anything in it)."""
    return problem.where == str(folder) or problem.where.startswith(f"{folder}{os.sep}")


def suite_dirs(root: Path) -> list[Path]:
    """Every suite folder of a store, published or not (a first publish may have failed)."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def verify_suite(suite_dir: Path) -> tuple[list[tuple[str, Manifest, int]], list[Problem]]:
    """The whole chain: the versions that are good (version, manifest, item count) and every
    problem of the suite folder."""
    check = check_suite(suite_dir, complete=True)
    problems, good = list(check.problems), []
    for version in check.versions:
        folder = suite_dir / version
        manifest = check.manifests.get(version)
        if manifest is None:
            continue
        items, found = content_problems(folder, manifest)
        problems += found
        if items is not None and not any(in_folder(p, folder) for p in problems):
            good.append((version, manifest, len(items)))
    return good, problems


def verify_store(
    root: Path, names: list[str], *, upgrade: bool = False
) -> tuple[list[str], list[Problem]]:
    """`evalkit suite verify`: an ok line per good version, and every problem, of the named
    suites (all when none is named), upgrading pre-chain manifests first if asked."""
    if not root.is_dir():
        raise NotFoundError(f"{root}: no such folder")
    for name in names:
        if not re.match(SUITE_NAME_PATTERN, name):
            raise UsageError(f"bad suite name {name!r}: verify checks whole suites, e.g. 'legal'")
        if not (root / name).is_dir():
            raise NotFoundError(f"no suite {name!r} in {root}")
    lines, problems = [], []
    for folder in [root / name for name in names] or suite_dirs(root):
        if upgrade:
            upgraded, found = upgrade_suite(folder)
            lines += [
                f"upgraded {ref}: recorded files, parent_hash and version_hash" for ref in upgraded
            ]
            if found:
                problems += found
                continue
        good, found = verify_suite(folder)
        lines += [
            f"{folder / version}: ok, {m.ref}, {count} items, version {short(m.version_hash)}, "
            f"content {short(m.content_hash)}"
            for version, m, count in good
        ]
        if not good and not found:
            lines.append(f"{folder}: no published versions")
        problems += found
    return lines, problems


def upgrade_suite(suite_dir: Path) -> tuple[list[str], list[Problem]]:
    """Record `files`, `parent_hash` and `version_hash` in the manifests of a suite published
    before them (format 1), keeping every other field, `content_hash` included, as it was.

    Each such version is checked first: its content hash, counts and identity, that its folder
    holds only items.jsonl and manifest.json, and that its parent is the version before it.
    Nothing is written unless every version of the suite passes. Returns the upgraded refs.
    """
    with publish_lock(suite_dir):
        planned, problems = _plan_upgrade(suite_dir)
        if problems:
            return [], problems
        for path, content in planned:
            _replace(path, content)
    return [f"{suite_dir.name}@{path.parent.name}" for path, _ in planned], []


def _plan_upgrade(suite_dir: Path) -> tuple[list[tuple[Path, bytes]], list[Problem]]:
    folders = [p for p in suite_dir.iterdir() if p.is_dir() and VERSION_PATTERN.match(p.name)]
    planned: list[tuple[Path, bytes]] = []
    previous: tuple[str, str] | None = None  # the version before, and its version hash
    for folder in sorted(folders, key=lambda p: version_number(p.name)):
        path = folder / MANIFEST_FILE
        if not path.is_file():
            return [], [Problem(str(path), "-", "missing: every version folder has a manifest")]
        data, _, problems = parse_manifest_json(path)
        if data is not None and not is_pre_chain(data):
            manifest, problems = read_manifest_file(folder)
            if manifest is not None and not problems:
                previous = (folder.name, manifest.version_hash)
                continue
        if data is not None and not problems:
            data, problems = _upgraded(folder, data, previous)
        if data is None or problems:
            return [], problems
        planned.append((path, render_manifest(data)))
        previous = (folder.name, data["version_hash"])
    return planned, []


def _upgraded(
    folder: Path, old: dict[str, Any], previous: tuple[str, str] | None
) -> tuple[dict[str, Any] | None, list[Problem]]:
    path, items = folder / MANIFEST_FILE, folder / ITEMS_FILE
    expected = previous[0] if previous else None
    if old.get("parent") != expected:
        reason = f"is {old.get('parent')}, but the version before {folder.name} is {expected}"
        return None, [Problem(str(path), "parent", reason)]
    if not items.is_file():
        return None, [Problem(str(items), "-", "missing: every version has an items file")]
    only = f"unknown file: a pre-chain version holds only {ITEMS_FILE} and {MANIFEST_FILE}"
    problems = [
        Problem(str(p), "-", only)
        for p in sorted(folder.iterdir())
        if p.name not in (MANIFEST_FILE, ITEMS_FILE)
    ]
    data = {
        **old,
        "manifest_format": MANIFEST_FORMAT,
        "files": {ITEMS_FILE: file_digest(items)},
        "parent_hash": previous[1] if previous else None,
    }
    data["version_hash"] = version_hash(data)
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as e:
        return None, problems + problems_from_validation_error(e, str(path))
    problems += [Problem(str(path), f, reason) for f, reason in consistency_problems(manifest)]
    problems += identity_problems(folder, manifest)
    problems += content_problems(folder, manifest)[1]
    return (None if problems else data), problems


def _replace(path: Path, content: bytes) -> None:
    """Write a file through a temporary sibling renamed over it, keeping its permissions."""
    mode = path.stat().st_mode & 0o777
    temporary = path.with_name(f".{path.name}.upgrade")
    temporary.write_bytes(content)
    temporary.chmod(mode)
    os.replace(temporary, path)
