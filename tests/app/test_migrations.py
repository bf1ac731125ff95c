"""Alembic migrations on SQLite and on PostgreSQL: an empty database gets the whole schema,
which matches the models; every migration goes down and up again; 0002's data migration fills
the new column; and each backend's connection settings (WAL, lock waits)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from app_helpers import both_backends
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from annotation_app.db import MIGRATIONS_DIR, make_engine, migrate
from annotation_app.models import Base, User
from annotation_app.security import username_key

pytestmark = both_backends


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _alembic(engine: Engine, step: str, target: str) -> None:
    """`command.upgrade`/`downgrade` on the engine's database, as `db.migrate` runs them."""
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, step)(config, target)


def _tables(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(inspect(connection).get_table_names())


def _version(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An empty database."""
    made = make_engine(db_url)
    yield made
    made.dispose()


def test_an_empty_database_gets_the_whole_schema(engine: Engine) -> None:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    migrate(engine)
    assert _version(engine) == head == "0003"
    assert _tables(engine) == {*Base.metadata.tables, "alembic_version"}
    assert _differences(engine) == []
    migrate(engine)  # again: nothing to do
    assert _version(engine) == head


def test_every_migration_goes_down_and_up_again(engine: Engine) -> None:
    revisions = [r.revision for r in ScriptDirectory.from_config(_config()).walk_revisions()]
    migrate(engine)
    for revision in revisions:  # newest first
        assert _version(engine) == revision
        _alembic(engine, "downgrade", "-1")
    assert _version(engine) is None
    assert _tables(engine) == {"alembic_version"}
    migrate(engine)
    assert _differences(engine) == []


def test_0002_gives_existing_accounts_their_name_key(engine: Engine) -> None:
    _alembic(engine, "upgrade", "0001")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (username, display_name, role, language, active, created_at) "
                "VALUES ('Ａnn', '', 'admin', 'en', TRUE, CURRENT_TIMESTAMP)"
            )
        )
    migrate(engine)
    with Session(engine) as db:
        user = db.scalars(select(User)).one()
        assert user.username == "Ａnn" and user.username_key == username_key("Ａnn") == "ann"


def test_each_backend_gets_its_connection_settings(
    factory: sessionmaker[Session], backend: str
) -> None:
    with factory() as db:
        setting = db.connection().exec_driver_sql
        if backend == "sqlite":
            assert setting("PRAGMA journal_mode").scalar() == "wal"
            assert setting("PRAGMA busy_timeout").scalar() == 10_000
            assert setting("PRAGMA foreign_keys").scalar() == 1
        else:
            assert setting("SHOW lock_timeout").scalar() == "10s"
            assert db.get_bind().dialect.driver == "psycopg"


def test_processes_starting_together_on_an_empty_database_take_turns(db_url: str) -> None:
    """Four app processes starting at once on an empty database: each migrates or finds the
    schema at head; none fails on tables another is creating."""
    script = (
        "import sys, time\n"
        "from annotation_app.db import make_engine, migrate\n"
        "engine = make_engine(sys.argv[1])\n"
        "time.sleep(max(0.0, float(sys.argv[2]) - time.time()))  # start together\n"
        "migrate(engine)\n"
    )
    at = str(time.time() + 4)
    apps = [
        subprocess.Popen([sys.executable, "-c", script, db_url, at], stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    errors = [app.communicate(timeout=120)[1].decode()[-300:] for app in apps]
    assert [app.returncode for app in apps] == [0] * 4, errors
    engine = make_engine(db_url)
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert _version(engine) == head and _differences(engine) == []
    engine.dispose()
