"""`evalkit app create-user` and the checks `evalkit app` makes before starting (CliRunner), on
SQLite and PostgreSQL; a database that cannot be reached is one line without its password."""

from __future__ import annotations

from app_helpers import both_backends
from click.testing import CliRunner
from pg_server import PostgresServer

from annotation_app.db import open_database, parse_url, shown, transaction
from annotation_app.services import users
from evalkit.cli import cli


def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=stdin)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@both_backends
def test_create_first_admin_then_log_in(db_url: str) -> None:
    code, out, _ = invoke(
        "app",
        "create-user",
        "boss",
        "--role",
        "admin",
        "--db",
        db_url,
        "--password-stdin",
        stdin="a long password\n",
    )
    assert code == 0 and out.strip() == f"created admin 'boss' in {shown(parse_url(db_url))}"
    factory = open_database(db_url)
    with transaction(factory) as db:
        assert users.authenticate(db, "boss", "a long password").role == "admin"
    factory.kw["bind"].dispose()
    code, _, err = invoke(
        "app", "--db", db_url, "create-user", "boss", "--password-stdin", stdin="another password\n"
    )
    assert code == 1
    assert err.splitlines() == [
        "user: username: 'boss' is already taken",
        "error: user 'boss' was not created",
    ]


@both_backends
def test_hidden_prompt_asks_twice(db_url: str) -> None:
    code, out, _ = invoke(
        "app", "create-user", "ann", "--db", db_url, stdin="password one\npassword one\n"
    )
    assert code == 0 and "created annotator 'ann'" in out and "password one" not in out


def test_bad_input_is_one_line(db_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    code, _, err = invoke("app", "create-user", "x", "--db", db_url, "--password-stdin", stdin="\n")
    assert (code, err.strip()) == (2, "error: the password is empty")
    code, _, err = invoke("app", "create-user", "x", "--role", "boss", "--db", db_url)
    assert code == 2 and "'boss' is not one of 'annotator', 'reviewer', 'admin'" in err
    code, _, err = invoke(
        "app", "--db", "nonsense", "create-user", "x", "--password-stdin", stdin="long enough\n"
    )
    assert code == 2 and err.strip().startswith("error: bad database URL 'nonsense'")
    code, _, err = invoke(
        "app", "--db", f"sqlite:///{tmp_path}/no/such/dir/../../x.db", "--port", "0"
    )
    assert code == 2 and "0 is not in the range" in err


def test_the_runs_folder_is_an_option() -> None:
    code, out, _ = invoke("app", "--help")
    assert code == 0 and "--runs-dir" in out and "$EVALKIT_RUNS_DIR or ./reports" in out


def _refused(url: str) -> list[str]:
    """What `evalkit app` and `evalkit app create-user` print for `url` (both exit 1)."""
    lines = []
    for args in (
        ("app", "--db", url),
        ("app", "--db", url, "create-user", "x", "--password-stdin"),
    ):
        code, out, err = invoke(*args, stdin="long enough\n")
        assert code == 1 and out == ""
        [line] = err.splitlines()
        lines.append(line)
    assert lines[0] == lines[1]
    return lines[:1]


def test_an_unreachable_server_is_one_line_naming_the_url_without_its_password() -> None:
    [line] = _refused("postgresql://evalkit:s3cret@127.0.0.1:1/evalkit")  # nothing on port 1
    shown = "postgresql+psycopg://evalkit:***@127.0.0.1:1/evalkit"
    assert line.startswith(f"error: cannot connect to database {shown}: ")
    assert "Connection refused" in line and "s3cret" not in line


def test_a_database_missing_on_the_server_is_one_line(pg_server: PostgresServer) -> None:
    url = pg_server.url("no_such_db")
    [line] = _refused(url)
    assert line.startswith(f"error: cannot connect to database {shown(parse_url(url))}: ")
    assert 'database "no_such_db" does not exist' in line


def test_a_driver_not_installed_names_it() -> None:
    [line] = _refused("mysql://user:s3cret@localhost/app")
    assert line == (
        "error: cannot open database mysql://user:***@localhost/app: its driver is not "
        "installed (MySQLdb); the app extra installs PostgreSQL's: pip install 'evalkit[app]'"
    )
