"""Who may do what: the one role table. Services declare their action with
`services.access.service`, which checks it on the server; pages call `allowed` to hide what a
user cannot do (hiding is convenience, the service check is the guard).

`docs/app.md` shows `role_table_markdown()` verbatim (a test compares them), and the access test
walks every registered service for every role against `ROLE_TABLE`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from annotation_app.errors import PermissionDenied
from annotation_app.models import Role, User


class Action(str, enum.Enum):
    ACCOUNT = "account"
    VIEW = "view"
    WRITE = "write"
    LABEL = "label"
    RATE = "rate"
    REVIEW = "review"
    ASSIGN = "assign"
    SET_UP_RATING = "set_up_rating"
    ADJUDICATE = "adjudicate"
    PUBLISH = "publish"
    MANAGE_SUITES = "manage_suites"
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"


@dataclass(frozen=True)
class Rule:
    minimum: Role  # this role and every role above it
    what: str  # for the table in docs/app.md


ROLE_TABLE: dict[Action, Rule] = {
    Action.ACCOUNT: Rule(Role.ANNOTATOR, "change one's own interface language"),
    Action.VIEW: Rule(
        Role.ANNOTATOR,
        "see suites, items (blind where assigned), their history, versions, the user list",
    ),
    Action.WRITE: Rule(
        Role.ANNOTATOR, "write and import items, edit and submit one's own (reviewers: any)"
    ),
    Action.LABEL: Rule(Role.ANNOTATOR, "label the items assigned to oneself, blind"),
    Action.RATE: Rule(Role.ANNOTATOR, "rate the run outputs assigned to oneself, blind"),
    Action.REVIEW: Rule(
        Role.REVIEWER,
        "approve or reject others' items, see the review queue, see suite health and revise or "
        "retire the items it flags",
    ),
    Action.ASSIGN: Rule(Role.REVIEWER, "assign double annotation, see agreement"),
    Action.SET_UP_RATING: Rule(
        Role.REVIEWER,
        "load a scored run, give its outputs to experts to rate, close a rating set, see rater "
        "agreement, export the ratings",
    ),
    Action.ADJUDICATE: Rule(Role.REVIEWER, "see disagreements and settle them"),
    Action.PUBLISH: Rule(Role.REVIEWER, "publish the approved items as a new version"),
    Action.MANAGE_SUITES: Rule(Role.ADMIN, "create suites, edit their settings"),
    Action.MANAGE_USERS: Rule(Role.ADMIN, "create accounts, change roles, deactivate"),
    Action.VIEW_AUDIT: Rule(Role.ADMIN, "read the audit log"),
}
MINIMUM_ROLE: dict[Action, Role] = {action: rule.minimum for action, rule in ROLE_TABLE.items()}

# The rules within an action, checked by the services named; shown under the table.
OBJECT_RULES: tuple[str, ...] = (
    "A deactivated user, or no signed-in user, is refused every service with the same error "
    '(`NotLoggedIn`, shown as "Please log in.") before any data is read.',
    "Annotators edit and submit only the items they wrote; reviewers and admins edit any item "
    "(`items.update_item`, `review.submit`).",
    "Four eyes: nobody approves or rejects an item they wrote or whose content they changed "
    "since it was last approved (edits, adjudication), whatever their role (`review.*`).",
    "Blind labelling: an annotator assigned to an item gets it from every service (lookup, "
    "search, history, version diffs, their assignments) without its gold answer, format, "
    "provenance, review comment, author and other annotators' labels. Only annotators who "
    "neither wrote nor edited an item can be assigned to it (`agreement.assign`). Reviewers "
    "and admins see everything: they review, assign and adjudicate.",
    "A label is given only by the annotator it is assigned to (`agreement.submit_label`).",
    "Adjudication only settles a disagreement: an assigned item labelled by at least two "
    "annotators whose labels differ, by a reviewer who did not label it "
    "(`agreement.adjudicate`).",
    "Blind rating: a rater gets the run outputs assigned to them without the models' names, in "
    "an order shuffled for them (and, pairwise, which output is A) that is stored when the set "
    "is made, and sees only their own ratings (`rating.my_rating_tasks`). A rating is given "
    "or revised only by its rater, on the criterion's scale, while the set is open "
    "(`rating.rate_output`, `rating.rate_pair`). Whoever rates in an open set sees neither its "
    "agreement nor its export (`rating_results.set_agreement`, `rating_results.export_ratings`). "
    "A run is rated only when it is scored and each of its suite versions is in the app's store "
    "with the content the run used (`rating_setup.*`).",
    "Provenance is set by the server: the signed-in user is the author of what they create or "
    "import, the approving reviewer its reviewer; what a file claims is kept apart "
    "(`claimed_provenance`).",
    "Nobody changes their own role or deactivates themselves (`users.update_user`).",
    "Every refusal is written to the audit log (`access.refused`), as are failed logins.",
)

# service name ("items.get_item") -> the action it needs; filled by `services.access.service`.
SERVICES: dict[str, Action] = {}


def allowed(user: User | None, action: Action) -> bool:
    """True when `user` is signed in, active, and their role allows `action`."""
    return user is not None and user.active and user.role_enum.rank >= MINIMUM_ROLE[action].rank


class Authored(Protocol):
    @property
    def author_id(self) -> int | None: ...

    @property
    def item_id(self) -> str: ...


def can_edit_item(user: User | None, item: Authored) -> bool:
    """Annotators edit their own items; reviewers and admins edit any."""
    if user is None:
        return False
    if allowed(user, Action.REVIEW):
        return True
    return allowed(user, Action.WRITE) and item.author_id == user.id


def require_edit_item(user: User, item: Authored) -> None:
    if not can_edit_item(user, item):
        raise PermissionDenied("error.not_your_item", item=item.item_id, user=user.username)


ROLE_COLUMNS: tuple[str, ...] = (*(r.value for r in Role), "deactivated", "signed out")


def role_table_markdown() -> str:
    """The table and rules of the "Roles" section of docs/app.md (one source: this module)."""
    by_action: dict[Action, list[str]] = {action: [] for action in Action}
    for name, action in sorted(SERVICES.items()):
        by_action[action].append(f"`{name}`")
    header = ["action", "covers", *ROLE_COLUMNS, "services"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for action, rule in ROLE_TABLE.items():
        cells = ["yes" if role.rank >= rule.minimum.rank else "no" for role in Role]
        cells += ["no", "no"]  # deactivated, signed out
        services = ", ".join(by_action[action]) or "-"
        lines.append(f"| {action.value} | {rule.what} | " + " | ".join(cells) + f" | {services} |")
    return "\n".join([*lines, "", *(f"- {rule}" for rule in OBJECT_RULES)])
