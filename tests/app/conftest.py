"""Fixtures for the annotation app: a real database (migrated by Alembic) per test, users of
each role, and a suite with a few items.

The database is SQLite unless a test is marked `app_helpers.both_backends`: then it also runs
on a real PostgreSQL server (`pg_server.py`), started once per session. EVALKIT_TEST_BACKEND=
postgres runs every test on PostgreSQL (those that start the app in a browser excepted).
Every test's database is a copy of one template made once per session and backend (migrated,
with the users below), so that argon2 hashes the passwords once, not once per test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from app_helpers import BACKENDS, PASSWORD, USERS, Run, mcq
from pg_server import POSTGRES_ENV, PostgresServer, missing_requirement, postgres_wanted
from rating_helpers import ScoredRun, scored_run
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from annotation_app.db import open_database, transaction
from annotation_app.models import User
from annotation_app.services import items, suites, users
from evalkit.suite.store import SuiteStore

PG_TEMPLATE = "evalkit_template"
BACKEND_ENV = "EVALKIT_TEST_BACKEND"


def _fill_template(url: str) -> None:
    made = open_database(url)
    with transaction(made) as db:
        for name, role, active in USERS:
            user = users.bootstrap_user(db, name, PASSWORD, role)
            user.active = active
    made.kw["bind"].dispose()  # SQLite: the WAL is checkpointed; Postgres: a template is unused


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "app.db"
    _fill_template(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for this session; the Postgres tests fail with one line when it
    cannot be started here (skipped only when EVALKIT_TEST_POSTGRES=0)."""
    if not postgres_wanted():
        pytest.skip(f"{POSTGRES_ENV}=0: the PostgreSQL tests are left out")
    missing = missing_requirement()
    if missing is not None:
        pytest.fail(missing, pytrace=False)
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_template(pg_server: PostgresServer) -> str:
    pg_server.create(PG_TEMPLATE)
    _fill_template(pg_server.url(PG_TEMPLATE))
    return PG_TEMPLATE


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """What `both_backends` parametrizes; otherwise $EVALKIT_TEST_BACKEND (postgres: every app
    test on PostgreSQL), by default sqlite."""
    name = str(getattr(request, "param", os.environ.get(BACKEND_ENV) or "sqlite"))
    if name not in BACKENDS:
        pytest.fail(f"{BACKEND_ENV}={name!r}: expected one of {', '.join(BACKENDS)}", pytrace=False)
    return name


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of the test's database: empty, unless the test takes `factory` (SQLite: a file
    not made yet)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'app.db'}"
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    name = server.new_name()
    if "factory" not in request.fixturenames:  # else `factory` makes it from the template
        server.create(name)
    yield server.url(name)
    server.drop(name)


@pytest.fixture
def factory(
    db_url: str, backend: str, request: pytest.FixtureRequest
) -> Iterator[sessionmaker[Session]]:
    """The test's database: a copy of the template (migrated, with the users)."""
    if backend == "sqlite":
        shutil.copyfile(request.getfixturevalue("template_db"), db_url.removeprefix("sqlite:///"))
    else:
        server: PostgresServer = request.getfixturevalue("pg_server")
        template: str = request.getfixturevalue("pg_template")
        server.create(str(make_url(db_url).database), template)
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
