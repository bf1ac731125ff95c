"""A real PostgreSQL server for the app tests: Debian's `postgresql` package (scripts/install.sh
dev installs it), started once per test session in a temporary folder and stopped at the end.

- It listens on a Unix socket in that folder only (no TCP port, so nothing to collide with),
  trusts local connections, and runs with fsync off: the data is thrown away anyway.
- PostgreSQL refuses to run as root; as root the server runs as the `postgres` account (made
  by the Debian package), or `nobody` without it, and owns the folder.
- Each test gets a database of its own, created from a template database (CREATE DATABASE ...
  TEMPLATE), so migrations and password hashing happen once per session.

EVALKIT_TEST_POSTGRES=0 leaves the Postgres tests out (they are skipped, and say why);
otherwise missing server binaries or driver fail the Postgres tests with one line.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

POSTGRES_ENV = "EVALKIT_TEST_POSTGRES"
SUPERUSER = "evalkit"
INSTALL_HINT = (
    "run scripts/install.sh dev (it installs Debian's postgresql), "
    f"or set {POSTGRES_ENV}=0 to leave out the Postgres tests"
)


def postgres_wanted() -> bool:
    return os.environ.get(POSTGRES_ENV, "1").strip() != "0"


def find_bindir() -> Path | None:
    """The folder of initdb and pg_ctl: on PATH, or Debian's /usr/lib/postgresql/N/bin."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).parent
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found else None


def missing_requirement() -> str | None:
    """Why the server cannot be started here, in one line; None when it can."""
    if find_bindir() is None:
        return f"PostgreSQL server binaries (initdb, pg_ctl) not found: {INSTALL_HINT}"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return f"the Postgres driver psycopg is not installed: {INSTALL_HINT}"
    return None


def _server_account() -> pwd.struct_passwd | None:
    """The account the server runs as when we are root (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root, and neither a 'postgres' nor a 'nobody' account exists")


class PostgresServer:
    """One throwaway server; `url(name)` is the SQLAlchemy URL of a database on it."""

    def __init__(self) -> None:
        bindir = find_bindir()
        assert bindir is not None
        self.bindir = bindir
        self.account = _server_account()
        # Not under pytest's base temp: that is private to us (0700), and the server may run
        # as another account. The socket path must stay short (about 100 bytes at most).
        self.root = Path(tempfile.mkdtemp(prefix="evalkit-pg-"))
        self.root.chmod(0o755)
        if self.account is not None:
            os.chown(self.root, self.account.pw_uid, self.account.pw_gid)
        self.data = self.root / "data"
        self._names = itertools.count()
        self.started = False

    def _run(self, tool: str, *args: str) -> None:
        as_account: dict[str, Any] = {}
        if self.account is not None:
            as_account = {
                "user": self.account.pw_uid,
                "group": self.account.pw_gid,
                "extra_groups": [],
            }
        done = subprocess.run(
            [str(self.bindir / tool), *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            check=False,
            **as_account,
        )
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{tool} failed ({done.returncode}):\n{done.stderr}\n{tail}")

    def start(self) -> None:
        self._run(
            "initdb",
            f"--pgdata={self.data}",
            f"--username={SUPERUSER}",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",  # present on every Debian; the same order as SQLite's
            "--no-sync",
        )
        options = (
            f"-k {self.root} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        self._run("pg_ctl", "start", "--wait", f"--pgdata={self.data}", "--silent",
                  f"--log={self.root / 'server.log'}", f"--options={options}")  # fmt: skip
        self.started = True

    def stop(self) -> None:
        try:
            if self.started:
                self._run("pg_ctl", "stop", "--wait", f"--pgdata={self.data}", "--mode=immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@/{database}?host={self.root}"

    def execute(self, *statements: str) -> None:
        """Run statements outside a transaction (CREATE/DROP DATABASE need that)."""
        import psycopg

        with psycopg.connect(host=str(self.root), user=SUPERUSER, dbname="postgres") as conn:
            conn.autocommit = True
            for statement in statements:
                conn.execute(statement)  # type: ignore[arg-type]

    def new_name(self) -> str:
        """A database name not used yet in this session."""
        return f"test_{next(self._names)}"

    def create(self, name: str, template: str | None = None) -> None:
        copy = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
        self.execute(f'CREATE DATABASE "{name}"{copy}')

    def drop(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
