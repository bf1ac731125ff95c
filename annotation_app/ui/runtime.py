"""What every page needs: settings, the session factory, the user, translated strings, and a
wrapper that runs one service call in one transaction and shows an AppError as a message."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import streamlit as st
from sqlalchemy.orm import Session, sessionmaker

from annotation_app.db import open_database, transaction
from annotation_app.errors import AppError, InvalidInput, NotLoggedIn
from annotation_app.i18n import t
from annotation_app.models import User
from annotation_app.permissions import MINIMUM_ROLE, Action, allowed
from annotation_app.services import users
from annotation_app.settings import AppSettings
from evalkit.errors import EvalkitError, Problem
from evalkit.suite.store import SuiteStore

USER_KEY = "user_id"
SUITE_KEY = "suite_id"
R = TypeVar("R")

# The browser tab's icon, inline: Streamlit turns an SVG string into a data: URL, so showing it
# makes no request at all (a :material/...: favicon is fetched from fonts.gstatic.com).
FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">'
    '<rect x="2" y="2" width="20" height="20" rx="5" fill="#ff4b4b"/>'
    '<path d="M6.5 12.5l3.5 3.5 7.5-8" fill="none" stroke="#fff" stroke-width="2.6" '
    'stroke-linecap="round" stroke-linejoin="round"/></svg>'
)


def keep_usage_stats_off() -> None:
    """Turn Streamlit's usage statistics off if whatever started the app left them on.

    `evalkit app` passes `--browser.gatherUsageStats false` and `.streamlit/config.toml` (read
    by `streamlit run` from the checkout root) sets it too. Started any other way, the first
    browser session has already been told to send them (Streamlit sends its settings before the
    script runs); this turns them off for every later one and says so in the server's log.
    """
    from streamlit import config

    if not config.get_option("browser.gatherUsageStats"):
        return  # the usual case: nothing to do on each run
    config.set_option("browser.gatherUsageStats", False, "annotation_app.ui.runtime")
    print(
        "evalkit app: Streamlit usage statistics were on; turned off for the next sessions. "
        "Start the app with `evalkit app`, or `streamlit run annotation_app/app.py` from the "
        "checkout root (its .streamlit/config.toml turns them off).",
        file=sys.stderr,
    )


def settings() -> AppSettings:
    return AppSettings.from_env()


@st.cache_resource(show_spinner=False)
def _factory(url: str) -> sessionmaker[Session]:
    return open_database(url)  # migrations run once per process and URL


def factory() -> sessionmaker[Session]:
    return _factory(settings().db_url)


def store() -> SuiteStore:
    return SuiteStore(settings().suites_dir)


def lang() -> str:
    return st.session_state.get("lang") or st.session_state.get("login_lang") or "en"


def tr(key: str, **params: Any) -> str:
    """The string `key` in the user's language."""
    return t(key, lang(), **params)


@contextmanager
def reading() -> Iterator[tuple[Session, User]]:
    """A session and the logged-in user, for reading what a page shows."""
    with factory()() as db:
        yield db, users.current_user(db, st.session_state.get(USER_KEY))


def attempt(fn: Callable[..., R], *args: Any, **kwargs: Any) -> tuple[R | None, Exception | None]:
    """Run `fn(db, actor, *args)` in one transaction; a user's error is returned, not raised."""
    try:
        with transaction(factory()) as db:
            actor = users.current_user(db, st.session_state.get(USER_KEY))
            return fn(db, actor, *args, **kwargs), None
    except EvalkitError as e:  # AppError, or evalkit's own (store, import) errors
        return None, e


def call(fn: Callable[..., R], *args: Any, **kwargs: Any) -> R | None:
    """`attempt`, showing the error where the call is made."""
    result, error = attempt(fn, *args, **kwargs)
    if error is not None:
        show_error(error)
    return result


def show_error(e: Exception) -> None:
    """An AppError in the user's language with each problem on its own line; evalkit's own
    errors (store, importer) as their one-line English message."""
    if not isinstance(e, AppError):
        st.error(str(e))
        return
    st.error(e.message(lang()))
    if isinstance(e, InvalidInput):
        show_problems(e.problems)


def show_problems(problems: list[Problem]) -> None:
    for p in problems:
        st.markdown(f"- `{escape_code(p.where)}` · **{escape_md(p.field)}**: {escape_md(p.reason)}")


def escape_code(text: str) -> str:
    return str(text).replace("`", "'")


def escape_md(text: str) -> str:
    """Markdown-escape untrusted text shown inside Markdown (HTML is never enabled)."""
    out = []
    for ch in str(text):
        out.append("\\" + ch if ch in "\\`*_{}[]()<>#+-.!|~$" else ch)
    return "".join(out)


def current_user_or_none() -> User | None:
    if st.session_state.get(USER_KEY) is None:
        return None
    try:
        with factory()() as db:
            user = users.current_user(db, st.session_state[USER_KEY])
            db.expunge(user)
            return user
    except NotLoggedIn:
        st.session_state.pop(USER_KEY, None)
        return None


def require_page(action: Action) -> User:
    """Stop the page unless a logged-in user may do `action` (pages are also hidden from the
    menu; this guards a direct visit)."""
    user = current_user_or_none()
    if user is None:
        st.warning(tr("error.not_logged_in"))
        st.stop()
    assert user is not None
    if not allowed(user, action):
        role = tr(f"role.{MINIMUM_ROLE[action].value}")
        st.error(tr("error.permission", action=action.value, role=role, user=user.username))
        st.stop()
    return user


def selected_suite_id() -> int | None:
    return st.session_state.get(SUITE_KEY)


def require_suite() -> int:
    suite_id = selected_suite_id()
    if suite_id is None:
        st.info(tr("suite.choose_first"))
        st.stop()
    assert suite_id is not None
    return suite_id


def sso_configured() -> bool:
    """True when `.streamlit/secrets.toml` has an `[auth]` section for `st.login`."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all: Streamlit raises its own not-found error
        return False
