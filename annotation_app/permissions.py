"""Which role may do what. One table; services call `require`, pages call `allowed` to hide
what a user cannot do (hiding is convenience, the service check is the guard)."""

from __future__ import annotations

import enum

from annotation_app.errors import PermissionDenied
from annotation_app.models import Item, Role, User


class Action(str, enum.Enum):
    VIEW = "view"
    WRITE = "write"  # create items, edit one's own, import, label assigned items
    REVIEW = "review"  # approve/reject, edit anyone's items
    ASSIGN = "assign"  # double annotation
    ADJUDICATE = "adjudicate"
    PUBLISH = "publish"
    MANAGE_SUITES = "manage_suites"
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"


MINIMUM_ROLE: dict[Action, Role] = {
    Action.VIEW: Role.ANNOTATOR,
    Action.WRITE: Role.ANNOTATOR,
    Action.REVIEW: Role.REVIEWER,
    Action.ASSIGN: Role.REVIEWER,
    Action.ADJUDICATE: Role.REVIEWER,
    Action.PUBLISH: Role.REVIEWER,
    Action.MANAGE_SUITES: Role.ADMIN,
    Action.MANAGE_USERS: Role.ADMIN,
    Action.VIEW_AUDIT: Role.ADMIN,
}


def allowed(user: User, action: Action) -> bool:
    return user.active and user.role_enum.rank >= MINIMUM_ROLE[action].rank


def require(user: User, action: Action) -> None:
    """Raise PermissionDenied unless `user`'s role allows `action`."""
    if not allowed(user, action):
        raise PermissionDenied(
            "error.permission",
            action=action.value,
            role=MINIMUM_ROLE[action].value,
            user=user.username,
        )


def can_edit_item(user: User, item: Item) -> bool:
    """Annotators edit their own items; reviewers and admins edit any."""
    if allowed(user, Action.REVIEW):
        return True
    return allowed(user, Action.WRITE) and item.author_id == user.id


def require_edit_item(user: User, item: Item) -> None:
    if not can_edit_item(user, item):
        raise PermissionDenied("error.not_your_item", item=item.item_id, user=user.username)
