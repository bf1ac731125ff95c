"""The exceptions evalkit raises for a user's mistake, and the exit code each maps to.

Anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a user's input, located as precisely as we can."""

    where: str  # "file:line", "file", "file:row 3" ...
    field: str  # dotted path into the record, or "-" when the whole record is at fault
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.field}: {self.reason}"


class EvalkitError(Exception):
    """A user-facing error: the CLI prints the message on one line and exits with `exit_code`."""

    exit_code = 1


class UsageError(EvalkitError):
    """The command line itself is wrong (unknown option, bad reference syntax)."""

    exit_code = 2


class NotFoundError(EvalkitError):
    """A suite, version or file the user named does not exist."""


class IntegrityError(EvalkitError):
    """A published version's files do not match the content hash in its manifest."""


class ImmutableError(EvalkitError):
    """An operation would change or duplicate a published version."""


class ProblemsFound(EvalkitError):
    """Input has one or more problems; all of them are carried, not just the first."""

    def __init__(
        self, problems: list[Problem], summary: str = "", exit_code: int | None = None
    ) -> None:
        self.problems = list(problems)
        n = len(self.problems)
        self.summary = summary or f"{n} problem{'s' if n != 1 else ''} found"
        if exit_code is not None:  # e.g. 2 where 1 means something else (contamination found)
            self.exit_code = exit_code
        super().__init__(self.summary)

    def __str__(self) -> str:
        return "\n".join([*(str(p) for p in self.problems), self.summary])

    def __reduce__(self) -> tuple[Any, ...]:
        # Raised in a scoring worker process, it travels back to the CLI whole.
        return (type(self), (self.problems, self.summary, self.exit_code))


class ConfigProblems(ProblemsFound, UsageError):
    """Problems in a file that is part of the command line (`--config`, `models/NAME.yaml`):
    printed as located problems, exit code 2 like any bad command line."""
