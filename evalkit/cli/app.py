"""`evalkit app`: start the annotation app, and create its accounts from the command line.

The app lives in the `annotation_app` package and needs the `app` extra; it is imported only
inside these commands, so `import evalkit.cli` stays light.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import click

from evalkit.errors import EvalkitError, UsageError

DB_ENV = "EVALKIT_APP_DB"  # the names annotation_app.settings reads
SUITES_DIR_ENV = "EVALKIT_SUITES_DIR"
RUNS_DIR_ENV = "EVALKIT_RUNS_DIR"
ROLES = ("annotator", "reviewer", "admin")


def _app_package() -> Any:
    try:
        import sqlalchemy  # noqa: F401
        import streamlit  # noqa: F401

        import annotation_app.settings
    except ImportError as e:
        raise EvalkitError(
            f"the annotation app needs its extra ({e.name} is missing): pip install 'evalkit[app]'"
        ) from None
    import annotation_app

    return annotation_app


@click.group(invoke_without_command=True)
@click.option(
    "--db",
    "db_url",
    help=f"SQLAlchemy database URL [default: ${DB_ENV} or sqlite:///.evalkit/app.db].",
)
@click.option(
    "--suites-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Where publishing writes versions [default: ${SUITES_DIR_ENV} or ./suites].",
)
@click.option(
    "--runs-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Where the Rate outputs page lists run folders [default: ${RUNS_DIR_ENV} or ./reports].",
)
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True)
@click.option("--address", default="localhost", show_default=True, help="Interface to serve on.")
@click.pass_context
def app(
    ctx: click.Context,
    db_url: str | None,
    suites_dir: Path | None,
    runs_dir: Path | None,
    port: int,
    address: str,
) -> None:
    """Start the annotation app in the browser (an empty database is set up on first start)."""
    ctx.obj = {"db_url": db_url}
    if ctx.invoked_subcommand is not None:
        return
    package = _app_package()
    script = Path(package.__file__).parent / "app.py"
    env = dict(os.environ)
    if db_url:
        env[DB_ENV] = db_url
    if suites_dir:
        env[SUITES_DIR_ENV] = str(suites_dir)
    if runs_dir:
        env[RUNS_DIR_ENV] = str(runs_dir)
    _check_database(env.get(DB_ENV))
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",  # nothing leaves the machine (.streamlit/config.toml says so for streamlit run)
        "--client.toolbarMode",
        "viewer",  # no "Deploy" button for experts
    ]
    click.echo(f"evalkit app on http://{address}:{port}  (Ctrl+C stops it)")
    try:
        sys.exit(subprocess.call(command, env=env))
    except KeyboardInterrupt:
        sys.exit(130)


def _check_database(db_url: str | None) -> None:
    """Open (and migrate) the database now, so a bad URL is one line here, not a web page."""
    from annotation_app.db import open_database
    from annotation_app.settings import DEFAULT_DB_URL

    try:
        open_database(db_url or DEFAULT_DB_URL).kw["bind"].dispose()
    except EvalkitError:
        raise
    except Exception as e:  # the driver's own error: name the URL, keep it one line
        raise EvalkitError(f"cannot open database {db_url or DEFAULT_DB_URL!r}: {e}") from None


@app.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="annotator", show_default=True)
@click.option("--display-name", default="", help="Name shown in the app.")
@click.option("--language", type=click.Choice(["en", "zh"]), default="en", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--db", "db_url", help="Database URL (overrides `evalkit app --db`).")
@click.pass_context
def create_user(
    ctx: click.Context,
    username: str,
    role: str,
    display_name: str,
    language: str,
    password_stdin: bool,
    db_url: str | None,
) -> None:
    """Create an account; the first admin is made this way. The password is asked for
    (hidden) unless --password-stdin is given."""
    _app_package()
    from annotation_app.db import open_database, parse_url, shown, transaction
    from annotation_app.errors import InvalidInput
    from annotation_app.services.users import bootstrap_user
    from annotation_app.settings import DEFAULT_DB_URL
    from evalkit.errors import ProblemsFound

    url = db_url or (ctx.obj or {}).get("db_url") or os.environ.get(DB_ENV) or DEFAULT_DB_URL
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise UsageError("the password is empty")
    factory = open_database(url)
    try:
        with transaction(factory) as db:
            user = bootstrap_user(db, username, password, role, display_name, language)
            name = user.username
    except InvalidInput as e:
        raise ProblemsFound(e.problems, f"user {username!r} was not created") from None
    finally:
        factory.kw["bind"].dispose()
    click.echo(f"created {role} {name!r} in {shown(parse_url(url))}")  # password masked
