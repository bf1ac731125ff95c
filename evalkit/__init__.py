"""evalkit: versioned domain evaluation suites and a benchmark runner for LLMs.

Heavy engines (vllm, torch, transformers) and the app (streamlit) are never imported here;
they load inside the code that needs them.
"""

from evalkit.contamination import ContaminationConfig, check_contamination
from evalkit.errors import (
    EvalkitError,
    ImmutableError,
    IntegrityError,
    NotFoundError,
    Problem,
    ProblemsFound,
    UsageError,
)
from evalkit.report import write_report
from evalkit.runner.config import RunConfig, compose_run_config
from evalkit.runner.run import execute_run
from evalkit.scoring import score_run
from evalkit.scoring.config import ScoringConfig
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
    "ContaminationConfig",
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
    "RunConfig",
    "ScoringConfig",
    "SuiteDiff",
    "SuiteDraft",
    "SuiteRef",
    "SuiteSpec",
    "SuiteStore",
    "SuiteVersion",
    "TaskConfig",
    "UsageError",
    "__version__",
    "check_contamination",
    "compose_run_config",
    "content_hash",
    "diff_versions",
    "execute_run",
    "export_version",
    "import_items",
    "read_draft",
    "score_run",
    "write_report",
]
