"""Bulk import of CSV/TSV/Excel/JSON/JSONL files through evalkit's importer: a preview with
every bad row located, then the good rows saved as drafts.

The importer is the author of what they import: a file's (or a mapping's) author and reviewer
are never the item's provenance; `commit_import` keeps them as the item's `claimed_provenance`.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotation_app.errors import InvalidInput
from annotation_app.models import Item, Status, User
from annotation_app.permissions import Action
from annotation_app.services import audit
from annotation_app.services.access import service
from annotation_app.services.items import (
    item_key,
    load_suite,
    new_item_row,
    server_provenance,
    validate_record,
)
from evalkit.errors import EvalkitError, Problem, ProblemsFound
from evalkit.suite.importing import ColumnMapping, detect_format, import_items
from evalkit.suite.items import item_to_record

IMPORT_SUFFIXES = (".csv", ".tsv", ".xlsx", ".json", ".jsonl")


@dataclass(frozen=True)
class ImportPreview:
    """Rows that validated (with where they came from) and every problem, by file line."""

    records: list[tuple[str, dict[str, Any]]]
    problems: list[Problem]


@service(Action.WRITE)
def preview_import(
    db: Session,
    actor: User,
    suite_id: int,
    filename: str,
    data: bytes,
    mapping: ColumnMapping,
) -> ImportPreview:
    """Validate an uploaded file as `evalkit suite import` does; nothing is saved.

    Locations read `<filename>:<line>` (CSV/JSONL lines, Excel rows as Excel numbers them).
    The records are shown as the file states them; saving sets their provenance.
    """
    suite = load_suite(db, suite_id)
    name = Path(filename).name or "upload"
    suffix = Path(name).suffix.lower()
    if suffix not in IMPORT_SUFFIXES:
        raise InvalidInput(
            [
                Problem(
                    name,
                    "-",
                    f"cannot import {suffix or 'a file without suffix'}; use one of "
                    f"{', '.join(IMPORT_SUFFIXES)}",
                )
            ]
        )
    defaults = dict(mapping.defaults)
    defaults["provenance"] = {**defaults.get("provenance", {}), "author": actor.username}
    # Generated ids start with the suite's name: the file's name may not be a valid id prefix.
    update = {"defaults": defaults, "id_prefix": mapping.id_prefix or suite.name}
    mapping = mapping.model_copy(update=update)
    with tempfile.TemporaryDirectory(prefix="evalkit-import-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            located, problems = import_items(path, mapping, detect_format(path))
        except ProblemsFound as e:
            located, problems = [], e.problems
        except EvalkitError as e:
            located, problems = [], [Problem(name, "-", str(e).replace(str(path), name))]
        except (UnicodeDecodeError, ValueError) as e:
            located, problems = [], [Problem(name, "-", f"cannot read the file: {e}")]
        prefix = str(path)
    problems = [
        Problem(p.where.replace(prefix, name), p.field, p.reason.replace(prefix, name))
        for p in problems
    ]
    records = []
    existing = set(db.scalars(select(Item.item_id).where(Item.suite_id == suite.id)))
    for li in located:
        where = li.where.replace(prefix, name)
        if li.item.id in existing:
            problems.append(
                Problem(where, "id", f"id {li.item.id!r} is already in suite {suite.name!r}")
            )
            continue
        records.append((where, item_to_record(li.item)))
    bad = {p.where for p in problems}
    return ImportPreview([(w, r) for w, r in records if w not in bad], problems)


@service(Action.WRITE)
def commit_import(
    db: Session, actor: User, suite_id: int, records: list[dict[str, Any]]
) -> list[Item]:
    """Save previewed good rows as drafts by `actor` (validated again: the preview is input).
    `actor` is their author; a different author or a reviewer the rows name is kept as
    `claimed_provenance`, never as provenance."""
    suite = load_suite(db, suite_id)
    existing = set(db.scalars(select(Item.item_id).where(Item.suite_id == suite.id)))
    problems: list[Problem] = []
    rows: list[Item] = []
    for i, record in enumerate(records, start=1):
        record, claimed = server_provenance(dict(record), actor.username)
        try:
            row = new_item_row(suite, actor, validate_record(record), Status.DRAFT)
            row.claimed_provenance = claimed
        except InvalidInput as e:
            problems += [Problem(f"row {i}", p.field, p.reason) for p in e.problems]
            continue
        if row.item_id in existing:
            problems.append(Problem(f"row {i}", "id", f"id {row.item_id!r} is already used"))
            continue
        existing.add(row.item_id)
        rows.append(row)
    if problems:
        raise InvalidInput(problems)
    db.add_all(rows)
    db.flush()
    for row in rows:
        audit.record(db, actor, "item.import", "item", item_key(row, suite), None, row.snapshot())
    return rows
