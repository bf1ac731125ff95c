"""Entry point: `streamlit run annotation_app/app.py` (or `evalkit app`).

Logged-out visitors get only the login page; the menu shows the pages the user's role allows,
and each page and every service call checks the role again on the server.

Self-contained: the browser fetches nothing from anywhere but this server (the icon font and
the favicon included), so the app works air-gapped and tells no outside server who is working.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run` puts this folder, not the checkout, on sys.path; make the package importable
# from a plain checkout too.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

from annotation_app.i18n import LANGUAGES  # noqa: E402
from annotation_app.permissions import Action, allowed  # noqa: E402
from annotation_app.services import suites, users  # noqa: E402
from annotation_app.ui import runtime  # noqa: E402
from annotation_app.ui.runtime import SUITE_KEY, USER_KEY, call, tr  # noqa: E402

runtime.keep_usage_stats_off()
# An explicit favicon: without one, Streamlit makes the current page's :material/...: icon the
# favicon and the browser fetches it from fonts.gstatic.com on every page view.
st.set_page_config(page_title="evalkit", page_icon=runtime.FAVICON, layout="wide")
runtime.factory()  # creates or migrates the database before anything else

user = runtime.current_user_or_none()
if user is None:
    page = st.navigation(
        [st.Page("views/login.py", title=tr("nav.login"), icon=":material/login:")]
    )
    page.run()
    st.stop()

assert user is not None
st.session_state["lang"] = user.language


def _page(path: str, key: str, icon: str, action: Action) -> st.Page | None:
    """The menu entry of a page, or None when the user's role may not open it."""
    assert user is not None  # (checked above; a function does not keep the narrowing)
    return st.Page(path, title=tr(key), icon=icon) if allowed(user, action) else None


sections = {
    tr("nav.section.curate"): [
        _page("views/suites.py", "nav.suites", ":material/folder:", Action.VIEW),
        _page("views/suite.py", "nav.suite", ":material/description:", Action.VIEW),
        _page("views/items.py", "nav.items", ":material/list:", Action.VIEW),
        _page("views/editor.py", "nav.editor", ":material/edit:", Action.WRITE),
        _page("views/import_items.py", "nav.import", ":material/upload:", Action.WRITE),
        _page("views/annotate.py", "nav.annotate", ":material/label:", Action.WRITE),
        _page("views/rate.py", "nav.rate", ":material/star_rate:", Action.RATE),
    ],
    tr("nav.section.review"): [
        _page("views/review.py", "nav.review", ":material/fact_check:", Action.REVIEW),
        _page("views/agreement.py", "nav.agreement", ":material/group:", Action.ASSIGN),
        _page("views/health.py", "nav.health", ":material/health_and_safety:", Action.REVIEW),
        _page("views/publish.py", "nav.publish", ":material/publish:", Action.VIEW),
    ],
    tr("nav.section.admin"): [
        _page("views/users.py", "nav.users", ":material/manage_accounts:", Action.MANAGE_USERS),
        _page("views/audit.py", "nav.audit", ":material/history:", Action.VIEW_AUDIT),
    ],
}
# expanded: every page of the role in the menu (collapsed, Streamlit hides all but ten).
page = st.navigation(
    {name: [p for p in ps if p] for name, ps in sections.items() if any(ps)}, expanded=True
)

with st.sidebar:
    st.caption(tr("sidebar.user", user=user.username, role=tr(f"role.{user.role}")))
    with runtime.reading() as (db, actor):
        all_suites = [(s.id, s.name) for s in suites.list_suites(db, actor)]
    if all_suites:
        ids = [sid for sid, _ in all_suites]
        names = dict(all_suites)
        current = st.session_state.get(SUITE_KEY)
        # No widget key: a page that selects a suite (after creating one) changes `index`, which
        # makes this a new widget showing that suite.
        st.session_state[SUITE_KEY] = st.selectbox(
            tr("sidebar.suite"),
            ids,
            index=ids.index(current) if current in ids else 0,
            format_func=names.__getitem__,
        )
    else:
        st.session_state.pop(SUITE_KEY, None)
    language = st.selectbox(
        tr("sidebar.language"),
        list(LANGUAGES),
        index=list(LANGUAGES).index(user.language),
        format_func=LANGUAGES.__getitem__,
        key="language_choice",
    )
    if language != user.language:
        call(users.set_language, language)
        st.session_state["lang"] = language
        st.rerun()
    if st.button(tr("sidebar.logout"), key="logout"):
        st.session_state.pop(USER_KEY, None)
        st.session_state.pop("lang", None)
        if runtime.sso_configured() and st.user.is_logged_in:
            st.logout()
        st.rerun()

page.run()
