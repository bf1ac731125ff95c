"""The guard every service passes: a signed-in, active user whose role allows the action, and
every refusal written to the audit log.

    @service(Action.REVIEW)
    def approve(db: Session, actor: User, item_pk: int, expected_version: int) -> Item: ...

The decorated function is called as before, `approve(db, actor, ...)`, where `actor` may be
None or a deactivated user: both are refused with `NotLoggedIn` before the body runs (so before
any data is read). A role too low is refused with `PermissionDenied`. Any `Refused` error, from
the guard or from a rule inside the service (four eyes, someone else's item...), is recorded as
`access.refused` in its own transaction and raised again. A row that another transaction
created first (a unique constraint) comes back as `SaveConflict`, not as an internal error.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from annotation_app.errors import NotLoggedIn, PermissionDenied, Refused, SaveConflict
from annotation_app.models import User
from annotation_app.permissions import MINIMUM_ROLE, SERVICES, Action, allowed

P = ParamSpec("P")
R = TypeVar("R")
REFUSED = "access.refused"


def signed_in(db: Session, actor: User | None) -> User:
    """The acting user as this session sees them now, or NotLoggedIn (no user, deactivated,
    deleted). A user object from another session is read again, so a deactivation applies."""
    user = db.get(User, actor.id) if actor is not None else None
    if user is not None:  # the same object when it is this session's: read what may have changed
        db.refresh(user, ["active", "role"])
    if user is None or not user.active:
        raise NotLoggedIn("error.not_logged_in")
    return user


def check_role(user: User, action: Action) -> None:
    if not allowed(user, action):
        raise PermissionDenied(
            "error.permission",
            action=action.value,
            role=MINIMUM_ROLE[action].value,
            user=user.username,
        )


def record_refusal(db: Session, actor: User | None, service_name: str, error: Refused) -> None:
    """Write the refusal in its own transaction (the caller's rolls back); once per error."""
    if getattr(error, "audited", False):
        return
    from annotation_app.services import audit  # audit's own services are guarded by this module

    audit.record_apart(
        db,
        actor,
        REFUSED,
        "service",
        f"service:{service_name}",
        after={"error": error.key, "message": str(error)},
    )
    error.audited = True  # type: ignore[attr-defined]


def is_unique_violation(error: IntegrityError) -> bool:
    """A unique constraint refused a row that another transaction created first (SQLite;
    PostgreSQL's SQLSTATE 23505: `sqlstate` in psycopg 3, `pgcode` in psycopg2)."""
    orig = error.orig
    if "UNIQUE constraint failed" in str(orig):
        return True
    return "23505" in (getattr(orig, "sqlstate", None), getattr(orig, "pgcode", None))


def service(
    action: Action,
) -> Callable[
    [Callable[Concatenate[Session, User, P], R]],
    Callable[Concatenate[Session, User | None, P], R],
]:
    """Declare that a service needs `action` (see permissions.ROLE_TABLE) and guard it."""

    def wrap(
        fn: Callable[Concatenate[Session, User, P], R],
    ) -> Callable[Concatenate[Session, User | None, P], R]:
        name = f"{fn.__module__.rsplit('.', 1)[-1]}.{fn.__name__}"
        if SERVICES.get(name, action) != action:
            raise TypeError(f"service {name} declared twice with different actions")
        SERVICES[name] = action

        @functools.wraps(fn)
        def guarded(db: Session, actor: User | None, *args: P.args, **kwargs: P.kwargs) -> R:
            try:
                user = signed_in(db, actor)
                check_role(user, action)
                return fn(db, user, *args, **kwargs)
            except Refused as e:
                record_refusal(db, actor, name, e)
                raise
            except IntegrityError as e:
                if not is_unique_violation(e):
                    raise  # a bug, not a race
                db.rollback()
                raise SaveConflict("error.save_conflict") from None

        guarded.service_name = name  # type: ignore[attr-defined]
        guarded.action = action  # type: ignore[attr-defined]
        return guarded

    return wrap
