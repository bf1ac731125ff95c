"""Where commands write: every output path is checked before any work starts, and outputs are
written in a temporary place and moved into place only on success, so that a failed command
leaves nothing behind (not even the folders it would have created).
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from evalkit.errors import EvalkitError, NotFoundError, UsageError
from evalkit.files import bad


def _nearest_existing(path: Path) -> Path:
    """`path` or its closest ancestor that exists (as anything)."""
    path = Path(os.path.abspath(path))
    while not os.path.lexists(path) and path != path.parent:
        path = path.parent
    return path


def _unwritable(folder: Path) -> str | None:
    """Why nothing can be created in `folder`, or None. Read-only folders are respected even
    by root, and a read-only file system is found by trying."""
    try:
        mode = folder.stat().st_mode
    except OSError as e:
        return e.strerror
    if not os.access(folder, os.W_OK | os.X_OK):
        return "permission denied"
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        return "the folder is read-only"
    try:
        fd, probe = tempfile.mkstemp(prefix=".evalkit-probe-", dir=folder)
    except OSError as e:
        return e.strerror
    os.close(fd)
    os.unlink(probe)
    return None


def check_creatable(folder: Path, for_path: Path | None = None) -> None:
    """`folder` exists as a writable folder, or can be created as one."""
    named = for_path or folder
    existing = _nearest_existing(folder)
    if not existing.is_dir():
        kind = "a file" if existing.is_file() else "not a folder"
        raise UsageError(f"{named}: cannot write there: {existing} is {kind}, not a folder")
    reason = _unwritable(existing)
    if reason:
        raise UsageError(f"{named}: cannot write into {existing}: {reason}")


def check_output(
    path: Path,
    kind: Literal["file", "folder"] = "file",
    overwrite: bool = False,
    option: str = "--out",
    overwrite_hint: str = "",
    exists_error: type[EvalkitError] = UsageError,
) -> None:
    """Refuse, in one line and before any work, an output path that cannot or must not be
    written: it exists (a file, unless `overwrite`; a folder, unless empty), it is a folder
    where a file belongs or the reverse, it lies under a file, or its folder is read-only.

    `exists_error`: what an existing output raises (export has always said ImmutableError).
    """
    if os.path.lexists(path):
        if kind == "file" and path.is_dir():
            raise UsageError(f"{path}: is a folder; {option} must name a file")
        if kind == "folder" and not path.is_dir():
            raise UsageError(f"{path}: exists and is not a folder; choose a new {option}")
        if kind == "folder" and any(path.iterdir()):
            raise exists_error(f"{path}: folder exists and is not empty; choose a new {option}")
        if kind == "file" and not overwrite:
            raise exists_error(
                f"{path}: already exists; {overwrite_hint or 'choose another ' + option}"
            )
        if kind == "file" and not path.stat().st_mode & 0o222:
            raise UsageError(f"{path}: the file is read-only; not overwritten")
    check_creatable(path.parent, path)


def check_writable_folder(folder: Path, what: str = "folder") -> None:
    """An existing folder that a command writes files into (a run folder)."""
    if not folder.exists():
        raise NotFoundError(f"{folder}: no such {what}")
    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder; expected a {what}")
    reason = _unwritable(folder)
    if reason:
        raise UsageError(f"{folder}: cannot write into the {what}: {reason}")


def _make_folders(folder: Path) -> list[Path]:
    """Create `folder` and its missing ancestors; return those created, outermost first."""
    missing = []
    current = Path(os.path.abspath(folder))
    while not current.exists():
        missing.append(current)
        current = current.parent
    missing.reverse()
    for path in missing:
        path.mkdir()
    return missing


def _remove_folders(created: list[Path]) -> None:
    for path in reversed(created):
        try:
            path.rmdir()
        except OSError:
            break  # someone else wrote into it meanwhile: leave it


@contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path` to write a file or a folder at; on success it is
    moved to `path` (replacing a file, or an empty folder), on failure it is removed together
    with any folder created for it. A write that fails for lack of space or permission is
    the user's error at `path`, not a traceback."""
    created: list[Path] = []
    try:
        created = _make_folders(path.parent)
        staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    except OSError as e:
        _remove_folders(created)
        raise bad(path, f"cannot write: {e.strerror}") from None
    target = staging / path.name
    try:
        yield target
        if os.path.lexists(target):
            os.replace(target, path)
    except OSError as e:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_folders(created)
        raise bad(path, f"cannot write: {e.strerror or e}") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_folders(created)
        raise
    shutil.rmtree(staging, ignore_errors=True)
