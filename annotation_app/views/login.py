"""Login: a password form, and single sign-on (Streamlit's OIDC `st.login`) when configured."""

from __future__ import annotations

import streamlit as st

from annotation_app.db import transaction
from annotation_app.errors import NotLoggedIn
from annotation_app.i18n import LANGUAGES
from annotation_app.services import users
from annotation_app.ui import runtime
from annotation_app.ui.runtime import USER_KEY, tr


def _log_in(user_id: int, language: str) -> None:
    st.session_state[USER_KEY] = user_id
    st.session_state["lang"] = language  # app.py reads it before any widget uses the key
    st.rerun()


st.selectbox(
    "Language / 语言", list(LANGUAGES), format_func=LANGUAGES.__getitem__, key="login_lang"
)
st.title(tr("login.title"))

if runtime.sso_configured():
    if st.user.is_logged_in:
        try:
            with transaction(runtime.factory()) as db:
                email = st.user.get("email")
                found = users.sso_user(db, email if isinstance(email, str) else None)
                user_id, language = found.id, found.language
            _log_in(user_id, language)
        except NotLoggedIn as e:
            st.error(e.message(runtime.lang()))
    elif st.button(tr("login.sso"), key="sso"):
        st.login()
    st.divider()

with st.form("login"):
    username = st.text_input(tr("login.username"), key="login_username")
    password = st.text_input(tr("login.password"), type="password", key="login_password")
    submitted = st.form_submit_button(tr("login.submit"))
if submitted:
    try:
        with transaction(runtime.factory()) as db:
            found = users.authenticate(db, username, password)
            user_id, language = found.id, found.language
        _log_in(user_id, language)
    except NotLoggedIn as e:
        st.error(e.message(runtime.lang()))
st.caption(tr("login.first_admin"))
