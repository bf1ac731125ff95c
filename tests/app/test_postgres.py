"""What is PostgreSQL's own: a save waiting on another transaction's row lock is refused after
`db.LOCK_WAIT_MS` (SQLite's busy timeout does the same for the database lock: its wait is
tested in test_concurrency.py), and a plain `postgresql://` URL uses the psycopg driver."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from annotation_app import db as app_db
from annotation_app.db import open_database, transaction
from annotation_app.errors import EditConflict
from annotation_app.models import AuditEntry, Suite, User
from annotation_app.services import suites

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


def test_a_save_behind_a_lock_held_too_long_is_refused_after_the_wait(
    db_url: str,
    factory: sessionmaker[Session],
    suite_id: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(app_db, "LOCK_WAIT_MS", 200)
    impatient = open_database(db_url)  # its connections wait 200 ms for a lock
    holding, done = threading.Event(), threading.Event()

    def stuck_request() -> None:  # a transaction that keeps the suite's row locked
        with transaction(factory) as db:
            actor = db.scalars(select(User).where(User.username == "admin")).one()
            suites.update_suite(db, actor, suite_id, {"description": "先保存的"}, 1)
            holding.set()
            done.wait(5)

    holder = threading.Thread(target=stuck_request)
    holder.start()
    holding.wait()
    t0 = time.perf_counter()
    try:
        with pytest.raises(EditConflict), transaction(impatient) as db:
            actor = db.scalars(select(User).where(User.username == "admin")).one()
            suites.update_suite(db, actor, suite_id, {"description": "后保存的"}, 1)
    finally:
        waited = time.perf_counter() - t0
        done.set()
        holder.join()
        impatient.kw["bind"].dispose()
    assert 0.2 <= waited < 2
    with factory() as db:
        assert db.get(Suite, suite_id).description == "先保存的"  # type: ignore[union-attr]
        kept = db.scalar(select(AuditEntry).where(AuditEntry.action == "suite.conflict"))
        assert kept is not None and kept.after is not None
        assert kept.after["description"] == "后保存的"


def test_a_plain_postgresql_url_uses_psycopg(db_url: str) -> None:
    plain = db_url.replace("postgresql+psycopg://", "postgresql://")
    made = open_database(plain)
    try:
        assert made.kw["bind"].dialect.driver == "psycopg"
    finally:
        made.kw["bind"].dispose()


def test_create_user_never_prints_the_database_password(db_url: str) -> None:
    from sqlalchemy.engine import make_url
    from test_cli import invoke

    with_password = make_url(db_url).set(password="s3cret-pw").render_as_string(False)
    code, out, err = invoke(
        "app", "create-user", "ann", "--db", with_password, "--password-stdin", stdin="pw 12345\n"
    )
    assert code == 0, err
    assert "created annotator 'ann' in " in out and "s3cret-pw" not in out + err and "***" in out
