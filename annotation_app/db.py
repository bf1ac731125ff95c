"""Connecting to the database and bringing its schema up to date with Alembic.

Any SQLAlchemy URL works; SQLite (the default) and PostgreSQL are tested.
- SQLite is put in WAL mode so readers do not block the writer, with foreign keys on and a busy
  timeout instead of immediate "database is locked".
- PostgreSQL: `postgresql://` means the psycopg (3) driver that the app extra installs (not
  SQLAlchemy's default, psycopg2), and a write waits for another transaction's row lock at most
  as long as a SQLite write waits for the database (`lock_timeout`), then it is refused.
A database that cannot be reached is one line naming the URL (never its password).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.engine.url import URL
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from evalkit.errors import EvalkitError, UsageError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# How long a write waits for another transaction's lock before it is refused (SQLite's busy
# timeout for the database, PostgreSQL's lock_timeout for a row).
LOCK_WAIT_MS = 10_000


def _json_dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def parse_url(url: str) -> URL:
    """The URL, with the psycopg driver for a plain `postgresql://`; UsageError if malformed."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UsageError(
            f"bad database URL {url!r}: expected e.g. sqlite:///path/app.db or "
            "postgresql://user@host/db"
        ) from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def shown(url: URL) -> str:
    """The URL as error messages show it: the password masked."""
    return url.render_as_string(hide_password=True)


def make_engine(url: str) -> Engine:
    """An engine for `url`; creates the folder of a SQLite file."""
    parsed = parse_url(url)
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(parsed, json_serializer=_json_dumps)
    except ImportError as e:
        raise EvalkitError(
            f"cannot open database {shown(parsed)}: its driver is not installed ({e.name}); "
            "the app extra installs PostgreSQL's: pip install 'evalkit[app]'"
        ) from None
    if is_sqlite:

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={LOCK_WAIT_MS}")
            cursor.close()

    elif parsed.get_backend_name() == "postgresql":

        @event.listens_for(engine, "connect")
        def _postgres_settings(dbapi_connection: Any, _record: Any) -> None:
            autocommit = dbapi_connection.autocommit
            dbapi_connection.autocommit = True  # a SET outside any transaction stays set
            cursor = dbapi_connection.cursor()
            cursor.execute(f"SET lock_timeout = {int(LOCK_WAIT_MS)}")
            cursor.close()
            dbapi_connection.autocommit = autocommit

    return engine


def check_connection(engine: Engine) -> None:
    """Connect once; a server that cannot be reached (or refuses us) is one line."""
    try:
        engine.connect().close()
    except DBAPIError as e:
        reason = " ".join(str(e.orig).split())  # libpq's messages span several lines
        password = engine.url.password
        if password:
            reason = reason.replace(str(password), "***")
        raise EvalkitError(f"cannot connect to database {shown(engine.url)}: {reason}") from None


# PostgreSQL advisory lock key held while migrating (any constant the app uses for nothing
# else): app processes starting together on an empty database migrate one after another.
MIGRATION_LOCK = 0x6576616C  # "eval"


def migrate(engine: Engine) -> None:
    """Apply every Alembic migration not yet applied (an empty database gets the full schema).

    Processes starting at once take turns: on PostgreSQL under a transaction-level advisory
    lock, on SQLite under a lock file beside the database; the later one finds the schema at
    head and does nothing."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with _migration_turn(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@contextmanager
def _migration_turn(engine: Engine) -> Iterator[None]:
    """An exclusive lock file beside a SQLite database file while it migrates."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    import fcntl

    with open(f"{database}.migrating", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def open_database(url: str) -> sessionmaker[Session]:
    """Engine, migrations applied, and a session factory."""
    engine = make_engine(url)
    check_connection(engine)
    migrate(engine)
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()  # harmless when a service already rolled back
        raise
    finally:
        session.close()
