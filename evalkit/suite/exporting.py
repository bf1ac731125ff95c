"""Exporting a published version as JSONL, parquet, a Hugging Face dataset, or a draft."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from evalkit.errors import ImmutableError
from evalkit.outputs import atomic_output, check_output
from evalkit.suite.draft import write_draft, write_items_jsonl
from evalkit.suite.items import ItemBase
from evalkit.suite.store import SuiteVersion

ExportFormat = Literal["jsonl", "parquet", "hf", "draft", "lm-eval", "inspect"]
EXPORT_FORMATS: tuple[str, ...] = ExportFormat.__args__  # type: ignore[attr-defined]

# Arrow needs one type per column; these vary in shape from item to item (extraction fields
# have item-specific keys; format specs are a union), so they travel as JSON text.
_JSON_TEXT_FIELDS = ("fields", "format")


def item_to_row(item: ItemBase) -> dict[str, Any]:
    """A flat, Arrow-friendly row; `evalkit suite import` reads it back unchanged."""
    row = item.model_dump(mode="json")
    for name in _JSON_TEXT_FIELDS:
        if row.get(name) is not None:
            row[name] = json.dumps(row[name], ensure_ascii=False)
    return row


def _dataset(version: SuiteVersion) -> Any:
    from datasets import Dataset
    from datasets.utils.logging import disable_progress_bar

    disable_progress_bar()
    rows = [item_to_row(item) for item in version.items]
    # from_list takes its columns from the first row; tasks have different fields, so every
    # row gets every column (None where the task has no such field).
    columns = list(dict.fromkeys(key for row in rows for key in row))
    return Dataset.from_list([{c: row.get(c) for c in columns} for row in rows])


def _jsonl(version: SuiteVersion, out: Path) -> None:
    write_items_jsonl(out, version.items)


def _parquet(version: SuiteVersion, out: Path) -> None:
    _dataset(version).to_parquet(str(out))


def _hf(version: SuiteVersion, out: Path) -> None:
    _dataset(version).save_to_disk(str(out))


def _draft(version: SuiteVersion, out: Path) -> None:
    write_draft(out, version.spec, version.items)


def _lm_eval(version: SuiteVersion, out: Path) -> None:
    from evalkit.interop.lm_eval_tasks import export_lm_eval

    export_lm_eval(version, out)


def _inspect(version: SuiteVersion, out: Path) -> None:
    from evalkit.interop.inspect_tasks import export_inspect

    export_inspect(version, out)


# format -> writer of `out` (a file, or a folder it creates)
WRITERS: dict[str, Callable[[SuiteVersion, Path], None]] = {
    "jsonl": _jsonl,
    "parquet": _parquet,
    "hf": _hf,
    "draft": _draft,
    "lm-eval": _lm_eval,
    "inspect": _inspect,
}
FOLDER_FORMATS = ("hf", "draft", "lm-eval", "inspect")


def output_kind(fmt: ExportFormat) -> Literal["file", "folder"]:
    """Whether a format is written as one file or as a folder."""
    return "folder" if fmt in FOLDER_FORMATS else "file"


def export_version(version: SuiteVersion, fmt: ExportFormat, out: Path) -> Path:
    """Write `version` to `out` in `fmt`; never overwrites an existing file or a non-empty
    folder, and a failed export leaves nothing at `out`."""
    check_output(out, output_kind(fmt), exists_error=ImmutableError)
    with atomic_output(out) as staging:
        WRITERS[fmt](version, staging)
    return out
