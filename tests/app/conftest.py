"""Fixtures for the annotation app: a real SQLite database (migrated by Alembic) per test,
users of each role, and a suite with a few items."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from app_helpers import PASSWORD, Run, mcq
from sqlalchemy.orm import Session, sessionmaker

from annotation_app.db import open_database, transaction
from annotation_app.models import User
from annotation_app.services import items, suites, users
from evalkit.suite.store import SuiteStore


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'app.db'}"


@pytest.fixture
def factory(db_url: str) -> Iterator[sessionmaker[Session]]:
    made = open_database(db_url)
    yield made
    made.kw["bind"].dispose()


@pytest.fixture
def store(tmp_path: Path) -> SuiteStore:
    return SuiteStore(tmp_path / "suites")


@pytest.fixture
def act(factory: sessionmaker[Session]) -> Run:
    """act(username, service, *args): run a service as that user in its own transaction."""

    def run(username: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with transaction(factory) as db:
            actor = db.query(User).filter_by(username=username).one()
            return fn(db, actor, *args, **kwargs)

    return run


@pytest.fixture
def people(factory: sessionmaker[Session]) -> dict[str, int]:
    """admin, rev (reviewer), ann1/ann2/ann3 (annotators) -> user id."""
    ids = {}
    with transaction(factory) as db:
        for name, role in [
            ("admin", "admin"),
            ("rev", "reviewer"),
            ("ann1", "annotator"),
            ("ann2", "annotator"),
            ("ann3", "annotator"),
        ]:
            ids[name] = users.bootstrap_user(db, name, PASSWORD, role).id
    return ids


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
