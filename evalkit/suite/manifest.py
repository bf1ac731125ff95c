"""The manifest of a published version and the hashes that make it tamper-evident.

- `content_hash`: the suite spec and its items, canonically serialised, so that formatting and
  item order do not matter but content does (what a run is scored against; runs record it);
- `version_hash`: every other field of the manifest as written, including `files` (the sha256
  of every other file of the version folder) and `parent_hash` (the parent's `version_hash`),
  so that each version vouches for every byte it publishes and for the chain before it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from evalkit.errors import Problem, ProblemsFound, UsageError
from evalkit.files import MAX_JSON_BYTES, decode, kind_of, parse_json, read_bytes
from evalkit.suite.draft import ITEMS_FILE
from evalkit.suite.items import ItemBase
from evalkit.suite.records import problems_from_validation_error
from evalkit.suite.spec import SuiteSpec

MANIFEST_FILE = "manifest.json"
MANIFEST_FORMAT: Literal[2] = 2
HASH_PATTERN = r"^sha256:[0-9a-f]{64}$"
VERSION_PATTERN = re.compile(r"^v([1-9][0-9]{0,5})$")
FileName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-][A-Za-z0-9._-]{0,127}$")]
Digest = Annotated[str, StringConstraints(pattern=HASH_PATTERN)]
_UNSET_HASH = "sha256:" + "0" * 64


def canonical_bytes(spec: SuiteSpec, items: Iterable[ItemBase]) -> bytes:
    """A serialisation that depends only on content: items sorted by id, keys sorted, every
    field present (so an omitted default and an explicit one hash the same)."""
    items = list(items)
    try:
        # Python-mode dumps are 4x faster and equal JSON-mode ones for JSON values...
        return _canonical(spec, [_hashed_record(item, "python") for item in items], False)
    except ValueError:  # ...and NaN or infinity in a record takes the way it always took
        return _canonical(spec, [_hashed_record(item, "json") for item in items], True)


def _canonical(spec: SuiteSpec, records: list[dict[str, Any]], allow_nan: bool) -> bytes:
    payload = {"suite": spec.model_dump(mode="json"), "items": sorted(records, key=_by_id)}
    return json.dumps(
        payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=allow_nan
    ).encode()


def _by_id(record: dict[str, Any]) -> str:
    return record["id"]


# Item fields added after suites were first published: left out of the hash while unset, so
# that versions published before them keep their content hash.
_ADDED_LATER = ("group",)


def _hashed_record(item: ItemBase, mode: Literal["python", "json"]) -> dict[str, Any]:
    record = item.model_dump(mode=mode)
    for name in _ADDED_LATER:
        if record.get(name) is None:
            record.pop(name, None)
    return record


def content_hash(spec: SuiteSpec, items: Iterable[ItemBase]) -> str:
    """`sha256:<hex>` over the canonical serialisation of a suite's spec and items."""
    return "sha256:" + hashlib.sha256(canonical_bytes(spec, items)).hexdigest()


def item_counts(items: Iterable[ItemBase]) -> dict[str, dict[str, int]]:
    """Items per task and split, e.g. {"mcq": {"dev": 4, "test": 20}}."""
    counts: dict[str, Counter[str]] = {}
    for item in items:
        counts.setdefault(item.task, Counter())[item.split] += 1
    return {task: dict(sorted(c.items())) for task, c in sorted(counts.items())}


def language_counts(items: Iterable[ItemBase]) -> dict[str, int]:
    return dict(sorted(Counter(item.language for item in items).items()))


class Manifest(BaseModel):
    """What a published version is: identity, lineage, counts, its files and its hashes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    manifest_format: Literal[2] = Field(
        default=MANIFEST_FORMAT, description="Version of this file's layout (2: hash chain)."
    )
    name: str = Field(description="Suite name; the folder name under the store.")
    version: str = Field(pattern=VERSION_PATTERN.pattern, description="This version: v1, v2, ...")
    parent: str | None = Field(
        pattern=VERSION_PATTERN.pattern, description="The version this one was made from, if any."
    )
    created_at: datetime = Field(description="When it was published (UTC).")
    author: str = Field(min_length=1, description="Who published it.")
    changelog: str = Field(min_length=1, description="What changed and why.")
    item_counts: dict[str, dict[str, int]] = Field(description="Items per task and split.")
    languages: dict[str, int] = Field(description="Items per language.")
    content_hash: str = Field(pattern=HASH_PATTERN, description="Over spec + items.")
    files: dict[FileName, Digest] = Field(
        description="Every file of the version folder but manifest.json, with its sha256."
    )
    parent_hash: str | None = Field(
        pattern=HASH_PATTERN, description="The parent's version_hash (null without a parent)."
    )
    version_hash: str = Field(
        pattern=HASH_PATTERN, description="Over every other field of this manifest."
    )
    suite: SuiteSpec = Field(description="The suite spec frozen with this version.")

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


def consistency_problems(manifest: Manifest) -> list[tuple[str, str]]:
    """(field, reason) for each rule between fields that a manifest breaks."""
    found = []
    if manifest.suite.name != manifest.name:
        found.append(("name", f"is {manifest.name!r}, but suite.name is {manifest.suite.name!r}"))
    parent, version = manifest.parent, manifest.version
    if parent is not None and version_number(parent) >= version_number(version):
        found.append(("parent", f"is {parent}, which is not older than version {version}"))
    if (parent is None) != (manifest.parent_hash is None):
        found.append(("parent_hash", f"must be null exactly when parent is (parent is {parent})"))
    if ITEMS_FILE not in manifest.files:
        found.append(("files", f"must list {ITEMS_FILE}"))
    if MANIFEST_FILE in manifest.files or any(f in (".", "..") for f in manifest.files):
        found.append(("files", f"lists {MANIFEST_FILE}, '.' or '..', which it cannot vouch for"))
    return found


def version_number(version: str) -> int:
    """3 for v3; a malformed version is a usage error."""
    match = VERSION_PATTERN.match(version)
    if match is None:
        raise UsageError(f"bad version {version!r}: versions are v1, v2, ...")
    return int(match.group(1))


def version_hash(data: dict[str, Any]) -> str:
    """`sha256:<hex>` over a manifest's JSON object without its own `version_hash`.

    Computed on the parsed file, not on a model's dump, so that it depends on exactly what was
    written (an integer written as 4.0, a time with +00:00 instead of Z: each is a change).
    """
    payload = {k: v for k, v in data.items() if k != "version_hash"}
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def render_manifest(data: dict[str, Any]) -> bytes:
    """The bytes of manifest.json as publishing writes them: fields in the model's order."""
    ordered = {k: data[k] for k in Manifest.model_fields if k in data}
    ordered.update(data)  # unknown fields last (validation refuses them anyway)
    text = json.dumps(ordered, ensure_ascii=False, indent=2) + "\n"
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate differs from its \\u escape


def seal(fields: dict[str, Any]) -> tuple[Manifest, bytes]:
    """A manifest from its fields (JSON values, without version_hash), hashed, and its bytes."""
    draft = Manifest.model_validate({**fields, "version_hash": _UNSET_HASH})
    if broken := consistency_problems(draft):
        raise ValueError(f"inconsistent manifest: {broken}")  # a bug in the publisher
    data = draft.model_dump(mode="json")
    data["version_hash"] = version_hash(data)
    return Manifest.model_validate(data), render_manifest(data)


def file_digest(path: Path) -> str:
    """`sha256:<hex>` of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def upgrade_hint(suite_dir: Path) -> str:
    root, default = suite_dir.parent, Path("suites")
    where = "" if root == default else f" --suites-dir {root}"
    return f"evalkit suite{where} verify --upgrade {suite_dir.name}"


def is_pre_chain(data: dict[str, Any]) -> bool:
    """A manifest published before version hashes (format 1)."""
    return data.get("manifest_format", 1) == 1 and "version_hash" not in data


def short(digest: str | None) -> str:
    return "null" if digest is None else digest[:19] + "..."


def parse_manifest_json(path: Path) -> tuple[dict[str, Any] | None, bytes, list[Problem]]:
    """A manifest file's JSON object and its bytes, or the problems that keep it from being one."""
    try:
        raw = read_bytes(path, "manifest", MAX_JSON_BYTES)
        data = parse_json(decode(raw, path), path)
    except ProblemsFound as e:
        return None, b"", e.problems
    if not isinstance(data, dict):
        return None, raw, [Problem(str(path), "-", f"expected an object, got {kind_of(data)}")]
    return data, raw, []


def read_manifest_file(folder: Path) -> tuple[Manifest | None, list[Problem]]:
    """A version folder's manifest, valid and unchanged since publishing (its version hash).

    The manifest comes back even when its hash does not match, so that the chain can still be
    followed; the problems say what is wrong.
    """
    path = folder / MANIFEST_FILE
    if not path.is_file():
        return None, [Problem(str(path), "-", "missing: every version folder has a manifest")]
    data, raw, problems = parse_manifest_json(path)
    if data is None:
        return None, problems
    if is_pre_chain(data):
        reason = (
            "published before version hashes (format 1), so it cannot be verified; upgrade with "
            f"`{upgrade_hint(folder.parent)}` (checks the content hash, then records the hashes)"
        )
        return None, [Problem(str(path), "manifest_format", reason)]
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as e:
        return None, problems_from_validation_error(e, str(path))
    problems += [Problem(str(path), f, reason) for f, reason in consistency_problems(manifest)]
    actual = version_hash(data)
    if actual != manifest.version_hash:
        reason = (
            f"does not match the manifest (recorded {manifest.version_hash}, computed {actual}): "
            "a field of manifest.json was changed after publishing"
        )
        problems.append(Problem(str(path), "version_hash", reason))
    if raw != render_manifest(data):
        reason = (
            "not byte-identical to its published form (fields in order, 2-space indent): "
            "reformatted or edited by hand"
        )
        problems.append(Problem(str(path), "-", reason))
    return manifest, problems
