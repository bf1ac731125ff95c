"""Accounts (admins): create, change role, deactivate, reset a password."""

from __future__ import annotations

import streamlit as st

from annotation_app.i18n import LANGUAGES
from annotation_app.models import Role
from annotation_app.permissions import Action
from annotation_app.services import users
from annotation_app.ui import runtime
from annotation_app.ui.runtime import call, tr

user = runtime.require_page(Action.MANAGE_USERS)
st.title(tr("users.title"))

with runtime.reading() as (db, actor):
    everyone = [
        (u.id, u.username, u.display_name, u.role, u.active) for u in users.list_users(db, actor)
    ]
st.dataframe(
    [
        {
            "username": n,
            tr("users.display_name"): d,
            tr("users.role"): tr(f"role.{r}"),
            tr("users.active"): a,
        }
        for _, n, d, r, a in everyone
    ],
    hide_index=True,
    width="stretch",
)

roles = [r.value for r in Role]
st.subheader(tr("users.new"))
with st.form("new_user"):
    username = st.text_input(tr("login.username"), key="new_username")
    display = st.text_input(tr("users.display_name"), key="new_display")
    password = st.text_input(
        tr("login.password"), type="password", key="new_password", help=tr("users.sso_only")
    )
    role = st.selectbox(
        tr("users.role"), roles, format_func=lambda r: tr(f"role.{r}"), key="new_role"
    )
    language = st.selectbox(
        tr("sidebar.language"),
        list(LANGUAGES),
        format_func=lambda code: LANGUAGES.get(code, code),
        key="new_lang",
    )
    created = st.form_submit_button(tr("users.create"))
if created:
    made = call(users.create_user, username.strip(), password or None, role, display, language)
    if made is not None:
        st.success(tr("users.created", user=made.username))

st.subheader(tr("users.change"))
ids = {uid: name for uid, name, *_ in everyone}
with st.form("change_user"):
    target = st.selectbox(
        tr("login.username"), list(ids), format_func=lambda u: ids.get(u, str(u)), key="chg_user"
    )
    new_role = st.selectbox(
        tr("users.role"),
        ["", *roles],
        format_func=lambda r: tr(f"role.{r}") if r else "-",
        key="chg_role",
    )
    active = st.selectbox(tr("users.active"), ["", "yes", "no"], key="chg_active")
    new_password = st.text_input(tr("users.new_password"), type="password", key="chg_password")
    changed = st.form_submit_button(tr("users.apply"))
if changed:
    done = call(
        users.update_user,
        target,
        role=new_role or None,
        active={"yes": True, "no": False}.get(active or ""),
        password=new_password or None,
    )
    if done is not None:
        st.success(tr("users.updated", user=done.username))
