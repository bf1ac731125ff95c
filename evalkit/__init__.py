"""evalkit: versioned domain evaluation suites and a benchmark runner for LLMs.

Heavy engines (vllm, torch, transformers) and the app (streamlit) are never imported here;
they load inside the code that needs them.
"""

from evalkit.errors import (
    EvalkitError,
    ImmutableError,
    IntegrityError,
    NotFoundError,
    Problem,
    ProblemsFound,
    UsageError,
)
from evalkit.suite import (
    ClassificationItem,
    ColumnMapping,
    DialogueItem,
    ExtractionItem,
    GenerationItem,
    Item,
    ItemBase,
    Manifest,
    MCQItem,
    QAItem,
    SuiteDiff,
    SuiteDraft,
    SuiteRef,
    SuiteSpec,
    SuiteStore,
    SuiteVersion,
    TaskConfig,
    content_hash,
    diff_versions,
    export_version,
    import_items,
    read_draft,
)

__version__ = "0.1.0"

__all__ = [
    "ClassificationItem",
    "ColumnMapping",
    "DialogueItem",
    "EvalkitError",
    "ExtractionItem",
    "GenerationItem",
    "ImmutableError",
    "IntegrityError",
    "Item",
    "ItemBase",
    "MCQItem",
    "Manifest",
    "NotFoundError",
    "Problem",
    "ProblemsFound",
    "QAItem",
    "SuiteDiff",
    "SuiteDraft",
    "SuiteRef",
    "SuiteSpec",
    "SuiteStore",
    "SuiteVersion",
    "TaskConfig",
    "UsageError",
    "__version__",
    "content_hash",
    "diff_versions",
    "export_version",
    "import_items",
    "read_draft",
]
