"""Logins: lockout after repeated failures (an injected clock, no sleeping), kept in the
database (on SQLite and PostgreSQL); the same work for an unknown name as for a wrong password;
failures audited; the user-name rule, in the app and on the command line."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from app_helpers import PASSWORD, Run, both_backends
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from annotation_app import security
from annotation_app.db import open_database, transaction
from annotation_app.errors import InvalidInput, LoginLocked, NotLoggedIn
from annotation_app.models import AuditEntry
from annotation_app.services import logins, users
from evalkit.cli import cli

START = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def login(
    factory: sessionmaker[Session], name: str, password: str, clock: Callable[[], datetime]
) -> str:
    """'ok', or the error's class name."""
    try:
        with transaction(factory) as db:
            users.authenticate(db, name, password, clock=clock)
        return "ok"
    except NotLoggedIn as e:
        return type(e).__name__


def audit_count(factory: sessionmaker[Session], action: str) -> int:
    with factory() as db:
        query = select(func.count()).where(AuditEntry.action == action)
        return int(db.scalar(query) or 0)


@both_backends
@pytest.mark.parametrize("name", ["ann1", "no-such-user"])
def test_five_failures_lock_the_name_until_the_lock_expires(
    factory: sessionmaker[Session], people: dict[str, int], db_url: str, name: str
) -> None:
    clock = Clock()
    assert [login(factory, name, "wrong password", clock) for _ in range(5)] == ["NotLoggedIn"] * 5
    # Locked, even with the right password; another process (a new engine) sees the lock.
    other = open_database(db_url)
    assert login(other, name.upper(), PASSWORD, clock) == "LoginLocked"
    other.kw["bind"].dispose()
    clock.now += logins.LOCK_TIME - timedelta(seconds=1)
    with transaction(factory) as db, pytest.raises(LoginLocked, match="try again in 1 minute"):
        users.authenticate(db, name, PASSWORD, clock=clock)
    clock.now += timedelta(seconds=1)
    assert login(factory, name, PASSWORD, clock) == ("ok" if name == "ann1" else "NotLoggedIn")
    assert login(factory, "ann2", PASSWORD, clock) == "ok"  # other names were never locked
    assert audit_count(factory, "login.failed") == 5 + (name != "ann1")
    assert audit_count(factory, "login.locked") == 1
    assert audit_count(factory, "login.refused_locked") == 2


@both_backends
def test_failures_are_forgotten_after_a_success_or_the_window(
    factory: sessionmaker[Session], people: dict[str, int]
) -> None:
    clock = Clock()
    for _ in range(4):
        login(factory, "ann1", "wrong password", clock)
    assert login(factory, "ann1", PASSWORD, clock) == "ok"  # resets the counter
    for _ in range(4):
        login(factory, "ann1", "wrong password", clock)
    clock.now += logins.WINDOW + timedelta(seconds=1)
    for _ in range(4):
        login(factory, "ann1", "wrong password", clock)
    assert login(factory, "ann1", PASSWORD, clock) == "ok"
    assert audit_count(factory, "login.locked") == 0


@both_backends
def test_concurrent_failures_are_all_counted(
    factory: sessionmaker[Session], people: dict[str, int]
) -> None:
    clock = Clock()
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(login(factory, "rev", "bad", clock)))
        for _ in range(5)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["NotLoggedIn"] * 5
    assert login(factory, "rev", PASSWORD, clock) == "LoginLocked"


class CountingHasher:
    """Wraps argon2's hasher and counts verifications."""

    def __init__(self, real: Any) -> None:
        self.real, self.calls = real, 0

    def verify(self, hash: str, password: str) -> bool:
        self.calls += 1
        return bool(self.real.verify(hash, password))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@pytest.mark.parametrize(
    ("name", "password"),
    [
        ("nobody", PASSWORD),  # unknown name
        ("ann1", "wrong password"),  # wrong password
        ("gone", PASSWORD),  # deactivated, right password
        ("sso.only@example.com", PASSWORD),  # an account without a password
    ],
)
def test_every_failed_login_costs_one_argon2_verification(
    factory: sessionmaker[Session],
    people: dict[str, int],
    act: Run,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    password: str,
) -> None:
    act("admin", users.create_user, "sso.only@example.com", None)
    hasher = CountingHasher(security._HASHER)
    monkeypatch.setattr(security, "_HASHER", hasher)
    with transaction(factory) as db, pytest.raises(NotLoggedIn) as caught:
        users.authenticate(db, name, password)
    assert str(caught.value) == "Wrong user name or password."
    assert hasher.calls == 1
    with transaction(factory) as db:
        users.authenticate(db, "ann1", PASSWORD)
    assert hasher.calls == 2


@pytest.mark.parametrize("name", ["李娜", "José", "wang.fang@例子.中国", "ऋषि"])
def test_unicode_user_names_are_accepted(
    act: Run, factory: sessionmaker[Session], people: dict[str, int], name: str
) -> None:
    act("admin", users.create_user, name, "long enough", "annotator")
    with transaction(factory) as db:
        assert users.authenticate(db, f" {name.upper()} ", "long enough").username == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("bob\n", "U+000A"),
        ("bob\r\n", "U+000D"),
        (" bob", "U+0020"),
        ("bo b", "U+0020"),
        ("bob\u200b", "ZERO WIDTH SPACE"),
        ("admin\u202e", "RIGHT-TO-LEFT OVERRIDE"),
        ("bob\x00", "U+0000"),
        (".bob", "FULL STOP"),
        ("", "must not be empty"),
        ("x" * 65, "at most 64 characters"),
    ],
)
def test_bad_user_names_are_refused(
    act: Run, people: dict[str, int], name: str, reason: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        act("admin", users.create_user, name, "long enough", "annotator")
    assert [p.field for p in caught.value.problems] == ["username"]
    assert reason in caught.value.problems[0].reason


@both_backends
def test_names_differing_only_in_case_or_form_are_one_account(
    act: Run, people: dict[str, int]
) -> None:
    act("admin", users.create_user, "José", "long enough")
    for same in ("JOSÉ", "Jose\u0301", "ｊｏｓé"):
        with pytest.raises(InvalidInput, match="1 problem"):
            act("admin", users.create_user, same, "long enough")


def test_the_command_line_applies_the_same_rule(db_url: str) -> None:
    def create(name: str) -> Any:
        return CliRunner().invoke(
            cli,
            ["app", "create-user", name, "--db", db_url, "--password-stdin"],
            input="a long password\n",
        )

    assert create("李娜").exit_code == 0
    refused = create("bob\n")
    assert refused.exit_code == 1
    assert "U+000A" in refused.stderr and len(refused.stderr.splitlines()) == 2
