"""Driving the app's pages with `streamlit.testing.v1.AppTest`: start it, log in, read what
it shows."""

from __future__ import annotations

from pathlib import Path

from app_helpers import PASSWORD
from streamlit.testing.v1 import AppTest

APP = Path(__file__).parents[2] / "annotation_app" / "app.py"
TIMEOUT = 60


def start() -> AppTest:
    return AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()


def login(username: str, password: str = PASSWORD) -> AppTest:
    at = start()
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    kinds = ("error", "warning", "success", "info", "markdown", "title", "caption", "code", "text")
    parts = [e.value for kind in kinds for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)
