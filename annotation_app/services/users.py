"""Accounts: creation, login, roles, interface language."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from annotation_app.errors import InvalidInput, NotFound, NotLoggedIn, PermissionDenied
from annotation_app.i18n import LANGUAGES
from annotation_app.models import Role, User
from annotation_app.permissions import Action, require
from annotation_app.security import (
    MIN_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    verify_password,
)
from annotation_app.services import audit
from evalkit.errors import Problem

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")


def _check_new_user(
    db: Session, username: str, password: str | None, role: str, language: str
) -> list[Problem]:
    problems = []
    if not USERNAME_PATTERN.match(username):
        problems.append(
            Problem(
                "user",
                "username",
                f"{username!r}: use letters, digits and . _ @ + - (at most 128 characters)",
            )
        )
    elif db.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
        problems.append(Problem("user", "username", f"{username!r} is already taken"))
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
    problems = _check_new_user(db, username, password, role, language)
    if problems:
        raise InvalidInput(problems)
    user = User(
        username=username,
        display_name=display_name.strip() or username,
        password_hash=hash_password(password) if password is not None else None,
        role=role,
        language=language,
        active=True,
    )
    db.add(user)
    db.flush()
    return user


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
    require(actor, Action.MANAGE_USERS)
    user = _new_user(db, username, password, role, display_name, language)
    audit.record(db, actor, "user.create", "user", f"user:{username}", None, user.public())
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
        db, None, "user.create", "user", f"user:{username}", None, user.public(), username="cli"
    )
    return user


def authenticate(db: Session, username: str, password: str) -> User:
    """The user with this name and password; one message for every failure, so that a wrong
    name and a wrong password cannot be told apart."""
    user = db.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    if user is None or not user.active or not verify_password(user.password_hash, password):
        raise NotLoggedIn("error.login_failed")
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def sso_user(db: Session, email: str | None) -> User:
    """The account for a single-sign-on identity: its username is the e-mail address."""
    user = None
    if email:
        user = db.scalar(select(User).where(func.lower(User.username) == email.lower()))
    if user is None or not user.active:
        raise NotLoggedIn("error.sso_unknown", email=email or "-")
    return user


def current_user(db: Session, user_id: int | None) -> User:
    """The logged-in user, re-read on every request so that a role change applies at once."""
    user = db.get(User, user_id) if user_id is not None else None
    if user is None or not user.active:
        raise NotLoggedIn("error.not_logged_in")
    return user


def set_language(db: Session, actor: User, language: str) -> None:
    if language not in LANGUAGES:
        raise InvalidInput([Problem("user", "language", f"unknown language {language!r}")])
    if actor.language != language:
        before = actor.public()
        actor.language = language
        audit.record(
            db, actor, "user.language", "user", f"user:{actor.username}", before, actor.public()
        )


def list_users(db: Session, actor: User) -> list[User]:
    require(actor, Action.VIEW)
    return list(db.scalars(select(User).order_by(User.username)))


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
    require(actor, Action.MANAGE_USERS)
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
