"""Errors the app shows to its users; each carries an i18n key so it reads in their language.

They are evalkit errors, so the command line prints them as one line with an exit code.
"""

from __future__ import annotations

from typing import Any

from annotation_app.i18n import t
from evalkit.errors import EvalkitError, Problem


class AppError(EvalkitError):
    """A user-facing error: `key` names a message in the string table, `params` fill it."""

    def __init__(self, key: str, **params: Any) -> None:
        self.key = key
        self.params = params
        super().__init__(t(key, "en", **params))

    def message(self, lang: str) -> str:
        return t(self.key, lang, **self.params)


class Refused(AppError):
    """An action refused to this user: no signed-in user, the role, or a rule of the workflow.

    Every refusal of a service call is written to the audit log (`services.access`)."""


class NotLoggedIn(Refused):
    """No user, or the user was deactivated since logging in: refused before any data is read."""


class LoginLocked(NotLoggedIn):
    """Too many failed logins for this user name; logins are refused until the lock expires."""


class PermissionDenied(Refused):
    """The user's role, or a rule such as four-eyes review, does not allow the action."""


class NotInDisagreement(Refused):
    """Adjudication settles a disagreement; this item's annotators do not disagree."""


class RatingSetClosed(Refused):
    """Ratings of a closed rating set are final: no rating is given or revised."""


class BadRunFolder(AppError):
    """A folder that is not a scored run whose suite versions are in the store as it used them
    (`reason` is evalkit's one-line message naming the file)."""


class NotFound(AppError):
    """A user, suite or item that does not exist."""


class InvalidInput(AppError):
    """Input failed validation; `problems` says which field and why, every one of them."""

    def __init__(self, problems: list[Problem], key: str = "error.invalid", **params: Any) -> None:
        self.problems = list(problems)
        super().__init__(key, count=len(self.problems), **params)


class InvalidTransition(AppError):
    """A review step that the item's current status does not allow."""


class SaveConflict(AppError):
    """Two people created the same thing (an item id, a suite or user name, an assignment) at
    the same moment; the later one is refused and nothing of it was saved."""


class EditConflict(AppError):
    """Someone else saved the same record since it was opened; nothing was overwritten.

    `current` is the other person's version (what is in the database now), `attempted` is what
    this user tried to save (also kept in the audit log).
    """

    def __init__(
        self,
        *,
        what: str,
        current: dict[str, Any],
        current_version: int,
        by: str,
        at: str,
        attempted: dict[str, Any],
    ) -> None:
        self.current = current
        self.current_version = current_version
        self.by = by
        self.at = at
        self.attempted = attempted
        super().__init__("error.conflict", what=what, by=by, at=at, version=current_version)
