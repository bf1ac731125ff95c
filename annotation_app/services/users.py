"""Accounts: creation (the app and the command line share one user-name rule, from
`annotation_app.security`), roles, interface language. Logging in is in `logins`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotation_app.errors import InvalidInput, NotFound, NotLoggedIn, PermissionDenied
from annotation_app.i18n import LANGUAGES
from annotation_app.models import DISPLAY_NAME_MAX, Role, User
from annotation_app.permissions import Action
from annotation_app.security import (
    MIN_PASSWORD_LENGTH,
    hash_password,
    normalize_username,
    username_key,
    username_problems,
)
from annotation_app.services import audit
from annotation_app.services.access import service
from annotation_app.services.logins import authenticate, sso_user
from annotation_app.services.visibility import UserInfo, user_info
from evalkit.errors import Problem

__all__ = [
    "authenticate",
    "bootstrap_user",
    "create_user",
    "current_user",
    "list_users",
    "set_language",
    "sso_user",
    "update_user",
]


def _check_new_user(
    db: Session, username: str, password: str | None, role: str, language: str, display_name: str
) -> list[Problem]:
    problems = [Problem("user", "username", reason) for reason in username_problems(username)]
    taken = select(User.id).where(User.username_key == username_key(username))
    if not problems and db.scalar(taken):
        problems.append(Problem("user", "username", f"{username!r} is already taken"))
    if len(display_name) > DISPLAY_NAME_MAX:
        reason = f"at most {DISPLAY_NAME_MAX} characters (this has {len(display_name)})"
        problems.append(Problem("user", "display_name", reason))
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        problems.append(
            Problem("user", "password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
        )
    if role not in {r.value for r in Role}:
        roles = ", ".join(r.value for r in Role)
        problems.append(Problem("user", "role", f"unknown role {role!r}; expected one of {roles}"))
    if language not in LANGUAGES:
        problems.append(Problem("user", "language", f"unknown language {language!r}"))
    return problems


def _new_user(
    db: Session,
    username: str,
    password: str | None,
    role: str,
    display_name: str,
    language: str,
) -> User:
    username, display_name = normalize_username(username), display_name.strip()
    problems = _check_new_user(db, username, password, role, language, display_name)
    if problems:
        raise InvalidInput(problems)
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password) if password is not None else None,
        role=role,
        language=language,
        active=True,
    )
    db.add(user)
    db.flush()
    return user


@service(Action.MANAGE_USERS)
def create_user(
    db: Session,
    actor: User,
    username: str,
    password: str | None,
    role: str = Role.ANNOTATOR.value,
    display_name: str = "",
    language: str = "en",
) -> User:
    """An admin creates an account; `password=None` makes a single-sign-on-only account."""
    user = _new_user(db, username, password, role, display_name, language)
    audit.record(db, actor, "user.create", "user", f"user:{user.username}", None, user.public())
    return user


def bootstrap_user(
    db: Session,
    username: str,
    password: str,
    role: str,
    display_name: str = "",
    language: str = "en",
) -> User:
    """Create an account from the command line (whoever runs it owns the machine)."""
    user = _new_user(db, username, password, role, display_name, language)
    audit.record(
        db,
        None,
        "user.create",
        "user",
        f"user:{user.username}",
        None,
        user.public(),
        username="cli",
    )
    return user


def current_user(db: Session, user_id: int | None) -> User:
    """The logged-in user, re-read on every request so that a role change applies at once."""
    user = db.get(User, user_id) if user_id is not None else None
    if user is None or not user.active:
        raise NotLoggedIn("error.not_logged_in")
    return user


@service(Action.ACCOUNT)
def set_language(db: Session, actor: User, language: str) -> None:
    """The actor's own interface language."""
    if language not in LANGUAGES:
        raise InvalidInput([Problem("user", "language", f"unknown language {language!r}")])
    if actor.language != language:
        before = actor.public()
        actor.language = language
        audit.record(
            db, actor, "user.language", "user", f"user:{actor.username}", before, actor.public()
        )


@service(Action.VIEW)
def list_users(db: Session, actor: User) -> list[UserInfo]:
    """Every account, by name (no password hashes)."""
    return [user_info(u) for u in db.scalars(select(User).order_by(User.username))]


@service(Action.MANAGE_USERS)
def update_user(
    db: Session,
    actor: User,
    user_id: int,
    *,
    role: str | None = None,
    active: bool | None = None,
    password: str | None = None,
) -> User:
    """Change a role, (de)activate, or set a new password; admins only, never oneself's role
    or activity (so the last admin cannot lock everyone out)."""
    user = db.get(User, user_id)
    if user is None:
        raise NotFound("error.no_user", user=str(user_id))
    if user.id == actor.id and (
        (role is not None and role != user.role) or (active is not None and not active)
    ):
        raise PermissionDenied("error.self_demote")
    problems = []
    if role is not None and role not in {r.value for r in Role}:
        problems.append(Problem("user", "role", f"unknown role {role!r}"))
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        problems.append(
            Problem("user", "password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
        )
    if problems:
        raise InvalidInput(problems)
    before = user.public()
    if role is not None:
        user.role = role
    if active is not None:
        user.active = active
    if password is not None:
        user.password_hash = hash_password(password)
    after = user.public() | ({"password": "changed"} if password is not None else {})
    audit.record(db, actor, "user.update", "user", f"user:{user.username}", before, after)
    return user
