"""What an export cannot carry into the other harness, written as a README beside it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from evalkit.suite.store import SuiteVersion

README_FILE = "README.md"


@dataclass
class ExportNotes:
    """Per task type, what the target harness does differently from evalkit."""

    target: str
    notes: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def add(self, task: str, note: str) -> None:
        self.notes.setdefault(task, []).append(note)

    def write(self, version: SuiteVersion, out: Path, how_to_run: str) -> None:
        lines = [
            f"# {version.ref} for {self.target}",
            "",
            f"Exported by evalkit from the published suite {version.ref} "
            f"(content hash {version.manifest.content_hash}); only its test items.",
            "",
            "## Run it",
            "",
            "```bash",
            how_to_run,
            "```",
            "",
            "## What evalkit does that this export does not",
            "",
            *(f"- {note}" for note in self.general),
        ]
        for task, notes in sorted(self.notes.items()):
            lines += [f"- **{task}**: {note}" for note in notes]
        (out / README_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
