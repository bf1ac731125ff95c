"""Suites: the item model, drafts, validation, the versioned store, import/export and diff."""

from evalkit.suite.diff import FieldChange, ItemChange, SuiteDiff, diff_versions
from evalkit.suite.draft import SuiteDraft, read_draft, read_items_jsonl, write_items_jsonl
from evalkit.suite.exporting import export_version
from evalkit.suite.importing import ColumnMapping, import_items
from evalkit.suite.items import (
    ClassificationItem,
    DialogueItem,
    ExtractionItem,
    GenerationItem,
    Item,
    ItemBase,
    MCQItem,
    Message,
    Provenance,
    QAItem,
)
from evalkit.suite.manifest import Manifest, content_hash
from evalkit.suite.records import LocatedItem
from evalkit.suite.spec import Goal, SuiteSpec, TaskConfig
from evalkit.suite.store import SuiteRef, SuiteStore, SuiteVersion

__all__ = [
    "ClassificationItem",
    "ColumnMapping",
    "DialogueItem",
    "ExtractionItem",
    "FieldChange",
    "GenerationItem",
    "Goal",
    "Item",
    "ItemBase",
    "ItemChange",
    "LocatedItem",
    "MCQItem",
    "Manifest",
    "Message",
    "Provenance",
    "QAItem",
    "SuiteDiff",
    "SuiteDraft",
    "SuiteRef",
    "SuiteSpec",
    "SuiteStore",
    "SuiteVersion",
    "TaskConfig",
    "content_hash",
    "diff_versions",
    "export_version",
    "import_items",
    "read_draft",
    "read_items_jsonl",
    "write_items_jsonl",
]
