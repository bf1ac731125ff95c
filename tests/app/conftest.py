"""Fixtures for the annotation app: a real SQLite database (migrated by Alembic) per test,
users of each role, and a suite with a few items.

Every test's database is a copy of one template made once per session (migrated, with the
users below), so that argon2 hashes the passwords once, not once per test.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from app_helpers import PASSWORD, USERS, Run, mcq
from rating_helpers import ScoredRun, scored_run
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from annotation_app.db import open_database, transaction
from annotation_app.models import User
from annotation_app.services import items, suites, users
from evalkit.suite.store import SuiteStore


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "app.db"
    made = open_database(f"sqlite:///{path}")
    with transaction(made) as db:
        for name, role, active in USERS:
            user = users.bootstrap_user(db, name, PASSWORD, role)
            user.active = active
    made.kw["bind"].dispose()  # closes the last connection: the WAL is checkpointed into the file
    return path


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'app.db'}"


@pytest.fixture
def factory(db_url: str, template_db: Path) -> Iterator[sessionmaker[Session]]:
    shutil.copyfile(template_db, db_url.removeprefix("sqlite:///"))
    made = open_database(db_url)
    yield made
    made.kw["bind"].dispose()


@pytest.fixture
def store(tmp_path: Path) -> SuiteStore:
    return SuiteStore(tmp_path / "suites")


@pytest.fixture
def act(factory: sessionmaker[Session]) -> Run:
    """act(username, service, *args): run a service as that user in its own transaction
    (username None: no signed-in user)."""

    def run(username: str | None, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with transaction(factory) as db:
            actor = None
            if username is not None:
                actor = db.scalars(select(User).where(User.username == username)).one()
            return fn(db, actor, *args, **kwargs)

    return run


@pytest.fixture
def people(factory: sessionmaker[Session]) -> dict[str, int]:
    """admin, rev and rev2 (reviewers), ann1/ann2/ann3 (annotators), gone (a deactivated
    admin) -> user id."""
    with factory() as db:
        return {u.username: u.id for u in db.scalars(select(User))}


@pytest.fixture
def suite_id(people: dict[str, int], act: Run, store: SuiteStore) -> int:
    suite = act(
        "admin",
        suites.create_suite,
        store,
        name="contracts",
        description="合同法评测集",
        guidelines="# 指南\n每题只有一个正确答案。",
        goals=[{"capability": "domain_knowledge", "description": "Knows contract law."}],
        tasks={t: suites.DEFAULT_TASKS[t] for t in ("mcq", "qa", "classification")},
    )
    return suite.id


@pytest.fixture
def item_pk(suite_id: int, act: Run) -> int:
    return act("ann1", items.create_item, suite_id, mcq(id="q1")).item.id


@pytest.fixture(scope="session")
def run(tmp_path_factory: pytest.TempPathFactory) -> ScoredRun:
    """A scored run of three models on a published suite with open-ended items (made once;
    tests that change a run make their own)."""
    return scored_run(tmp_path_factory.mktemp("rated"))
