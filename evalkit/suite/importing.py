"""Importing items from CSV/TSV/Excel/JSON/JSONL/parquet and Hugging Face datasets.

A `ColumnMapping` says which source column feeds which item field; everything is validated
with the item models and every bad row is reported with its line or row number.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evalkit.errors import EvalkitError, NotFoundError, Problem, ProblemsFound, UsageError
from evalkit.files import (
    at,
    bad,
    expect_object,
    jsonl_lines,
    kind_of,
    parse_json,
    read_json,
    read_text,
    read_yaml,
)
from evalkit.suite.checks import check_items
from evalkit.suite.items import LETTERS
from evalkit.suite.records import LocatedItem, parse_item, problems_from_validation_error

SourceFormat = Literal["csv", "tsv", "excel", "json", "jsonl", "parquet", "hf"]
_SUFFIX_FORMATS: dict[str, SourceFormat] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".xlsx": "excel",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}
# Item fields whose value is a list or an object; a table cell holding one is JSON text.
_LIST_FIELDS = frozenset({"choices", "labels", "answers", "references", "tags", "messages"})
_OBJECT_FIELDS = frozenset({"fields", "format", "provenance"})

ColumnSpec = str | list[str] | dict[str, Any]


class ColumnMapping(BaseModel):
    """Where each item field comes from. Written by hand as YAML, e.g.

    ```yaml
    columns: {question: Question, choices: [A, B, C, D], answer: Answer, id: ID}
    defaults: {task: mcq, language: zh, provenance: {author: li.na, source: "CAIL 2019"}}
    mcq_answer: letter
    ```
    """

    model_config = ConfigDict(extra="forbid")

    columns: dict[str, ColumnSpec] = Field(
        default_factory=dict,
        description="Item field -> source column; a list of columns makes a list "
        "(choices from A..D); a nested mapping fills an object (provenance).",
    )
    defaults: dict[str, Any] = Field(
        default_factory=dict, description="Constant values for fields not read from a column."
    )
    mcq_answer: Literal["letter", "index0", "index1", "text"] = Field(
        default="letter",
        description="How the source writes an MCQ answer: 'B', 1 (0-based), 2 (1-based), or "
        "the choice's text.",
    )
    id_prefix: str | None = Field(
        default=None, description="Prefix of generated ids when no id column is mapped."
    )

    @classmethod
    def from_file(cls, path: Path) -> ColumnMapping:
        if not path.exists():
            raise NotFoundError(f"{path}: no such mapping file")
        data = read_yaml(path, "mapping file")
        if data is None:
            return cls()
        try:
            return cls.model_validate(expect_object(data, path))
        except ValidationError as e:
            raise ProblemsFound(problems_from_validation_error(e, str(path))) from None


def detect_format(path: Path) -> SourceFormat:
    if path.is_dir():
        return "hf"
    fmt = _SUFFIX_FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(_SUFFIX_FORMATS))
        raise UsageError(
            f"{path}: cannot tell the format from {path.suffix!r}; use one of {known} or --format"
        )
    return fmt


def read_rows(
    path: Path, fmt: SourceFormat, hf_split: str | None = None
) -> Iterator[tuple[str, Any]]:
    """Yield (where, raw record) for every row of the source, with a precise location; a row
    that cannot be read at all is an `_Unreadable`, a source that cannot be read raises."""
    if not path.exists():
        raise NotFoundError(f"{path}: no such file or folder")
    if fmt in ("csv", "tsv"):
        yield from _read_csv(path, "," if fmt == "csv" else "\t")
    elif fmt == "jsonl":
        for line in jsonl_lines(path, "source file"):
            if line.problem is not None:
                yield line.where, _Unreadable(line.problem.reason)
            else:
                yield line.where, line.value
    elif fmt == "json":
        data = read_json(path, "source file")
        if not isinstance(data, list):
            raise bad(path, f"expected a JSON array of objects, got {kind_of(data)}")
        for i, record in enumerate(data):
            yield f"{path}:[{i}]", record
    elif fmt == "excel":
        yield from _read_excel(path)
    elif fmt == "parquet":
        yield from _read_parquet(path)
    elif fmt == "hf":
        yield from _read_hf(path, hf_split)


def _read_csv(path: Path, delimiter: str) -> Iterator[tuple[str, Any]]:
    text = read_text(path, "source file")
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 2
    try:
        for row in reader:
            if None in row:  # more cells than the header has columns
                yield (
                    f"{path}:{start}",
                    _Unreadable(
                        f"{len(reader.fieldnames or [])} columns in the header, more cells here"
                    ),
                )
            else:
                yield f"{path}:{start}", row
            start = reader.line_num + 1
    except csv.Error as e:
        raise bad(at(path, reader.line_num or None), f"not valid CSV: {e}") from None


def _read_excel(path: Path) -> Iterator[tuple[str, Any]]:
    import zipfile

    import pandas as pd

    try:
        frame = pd.read_excel(path, dtype=str, keep_default_na=False)
    except ImportError:
        raise EvalkitError(
            f"{path}: reading Excel files needs openpyxl: pip install 'evalkit[app]'"
        ) from None
    except (zipfile.BadZipFile, ValueError, KeyError, OSError) as e:
        raise bad(path, f"not a readable Excel workbook ({type(e).__name__}: {e})") from None
    for i, row in enumerate(frame.to_dict(orient="records")):
        yield f"{path}:row {i + 2}", row  # row 1 is the header, as Excel numbers it


def _read_parquet(path: Path) -> Iterator[tuple[str, Any]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        rows = pq.read_table(path).to_pylist()
    except (pa.ArrowException, OSError, ValueError) as e:
        raise bad(path, f"not a readable parquet file ({e})") from None
    for i, row in enumerate(rows):
        yield f"{path}:row {i + 1}", row


def _read_hf(path: Path, split: str | None) -> Iterator[tuple[str, Any]]:
    import pyarrow as pa
    from datasets import Dataset, DatasetDict, load_from_disk

    try:
        data = load_from_disk(str(path))
    except FileNotFoundError as e:
        raise NotFoundError(f"{path}: not a dataset saved with save_to_disk ({e})") from None
    except (pa.ArrowException, OSError, ValueError, KeyError, TypeError) as e:
        raise bad(path, f"not a readable saved dataset ({type(e).__name__}: {e})") from None
    if isinstance(data, DatasetDict):
        if split is None or split not in data:
            raise UsageError(
                f"{path}: a dataset with splits {list(data)}; choose one with --hf-split"
            )
        data = data[split]
    if not isinstance(data, Dataset):
        raise bad(path, f"not a dataset saved with save_to_disk ({type(data).__name__})")
    for i, row in enumerate(data):
        yield f"{path}:row {i + 1}", row


class _Unreadable:
    """A row that could not even be parsed; carries the reason."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _pick(
    row: dict[str, Any], spec: ColumnSpec, where: str, field: str
) -> tuple[Any, list[Problem]]:
    if isinstance(spec, str):
        if spec not in row:
            return None, [
                Problem(
                    where, field, f"column {spec!r} not in the source (columns: {', '.join(row)})"
                )
            ]
        return row[spec], []
    if isinstance(spec, list):
        values, problems = [], []
        for column in spec:
            value, p = _pick(row, column, where, field)
            problems += p
            if value not in (None, ""):
                values.append(value)
        return values, problems
    obj, problems = {}, []
    for key, sub in spec.items():
        value, p = _pick(row, sub, where, f"{field}.{key}")
        problems += p
        if value not in (None, ""):
            obj[key] = value
    return obj, problems


def _coerce(field: str, value: Any, where: str) -> tuple[Any, list[Problem]]:
    """Cell text to the field's shape: JSON for lists/objects, a single value as a 1-list."""
    if isinstance(value, str) and (
        field in _OBJECT_FIELDS or (field in _LIST_FIELDS and value.lstrip().startswith("["))
    ):
        try:
            return parse_json(value, "cell"), []
        except ProblemsFound as e:
            reason = e.problems[0].reason.replace("invalid JSON: ", "", 1)
            return None, [Problem(where, field, f"cell is not valid JSON: {reason}")]
    if field in _LIST_FIELDS and isinstance(value, str):
        return [value], []
    if (
        field not in _LIST_FIELDS | _OBJECT_FIELDS
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
    ):
        return str(value), []
    return value, []


def _mcq_answer(record: dict[str, Any], style: str, where: str) -> list[Problem]:
    answer, choices = record.get("answer"), record.get("choices")
    if style == "letter" or answer is None or not isinstance(choices, list):
        return []
    try:
        if style == "text":
            record["answer"] = LETTERS[[str(c).strip() for c in choices].index(str(answer).strip())]
        else:
            index = int(str(answer)) - (1 if style == "index1" else 0)
            if not 0 <= index < len(choices):
                raise ValueError
            record["answer"] = LETTERS[index]
    except ValueError:
        return [
            Problem(
                where,
                "answer",
                f"{answer!r} does not name one of the {len(choices)} choices ({style})",
            )
        ]
    return []


def _stable_id(prefix: str, record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k not in ("provenance", "tags", "split")}
    digest = hashlib.sha256(
        json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()
    )
    return f"{prefix}-{digest.hexdigest()[:12]}"


def build_record(
    row: Any, mapping: ColumnMapping, where: str, id_prefix: str
) -> tuple[dict[str, Any] | None, list[Problem]]:
    """One source row to a raw item record (not yet validated)."""
    if isinstance(row, _Unreadable):
        return None, [Problem(where, "-", row.reason)]
    if not isinstance(row, dict):
        return None, [Problem(where, "-", f"expected a JSON object, got {kind_of(row)}")]
    problems: list[Problem] = []
    if mapping.columns:
        record: dict[str, Any] = {}
        for field, spec in mapping.columns.items():
            value, p = _pick(row, spec, where, field)
            problems += p
            if value not in (None, "", [], {}):
                record[field] = value
    else:  # the source already uses evalkit's field names (e.g. our own export)
        record = {k: v for k, v in row.items() if v not in (None, "")}
    for field, value in list(record.items()):
        record[field], p = _coerce(field, value, where)
        problems += p
    for field, value in mapping.defaults.items():
        if isinstance(value, dict) and isinstance(record.get(field), dict):
            record[field] = {**value, **record[field]}
        else:
            record.setdefault(field, value)
    if record.get("task") == "mcq":
        problems += _mcq_answer(record, mapping.mcq_answer, where)
    if "id" not in record:
        record["id"] = _stable_id(mapping.id_prefix or id_prefix, record)
    return record, problems


def import_items(
    path: Path,
    mapping: ColumnMapping,
    fmt: SourceFormat | None = None,
    hf_split: str | None = None,
) -> tuple[list[LocatedItem], list[Problem]]:
    """Read and validate every row; returns the good items and every problem found."""
    fmt = fmt or detect_format(path)
    items: list[LocatedItem] = []
    problems: list[Problem] = []
    prefix = path.stem if path.is_file() else path.name
    rows = 0
    for where, row in read_rows(path, fmt, hf_split):
        rows += 1
        record, row_problems = build_record(row, mapping, where, prefix)
        problems += row_problems
        if record is None or row_problems:
            continue
        item, item_problems = parse_item(record, where)
        problems += item_problems
        if item is not None:
            items.append(LocatedItem(item, where))
    if not rows:
        problems.append(Problem(str(path), "-", "no rows: nothing to import"))
    problems += check_items(items)
    return items, problems
