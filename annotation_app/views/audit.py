"""The audit log (admins): every change with who, when, before and after."""

from __future__ import annotations

import streamlit as st

from annotation_app.permissions import Action
from annotation_app.services import audit
from annotation_app.ui import runtime
from annotation_app.ui.editing import as_json
from annotation_app.ui.runtime import tr

user = runtime.require_page(Action.VIEW_AUDIT)
st.title(tr("audit.title"))
prefix = st.text_input(tr("audit.filter"), key="audit_prefix", help=tr("audit.filter.help"))
with runtime.reading() as (db, actor):
    entries = [
        (e.id, str(e.at), e.username, e.action, e.entity_key, e.before, e.after)
        for e in audit.entries(db, actor, key_prefix=prefix.strip() or None)
    ]
st.dataframe(
    [{"at": at, "who": who, "action": act, "what": key} for _, at, who, act, key, _, _ in entries],
    hide_index=True,
    width="stretch",
)
for _id, at, who, act, key, before, after in entries[:50]:
    with st.expander(f"{at} · {who} · {act} · {key}"):
        a, b = st.columns(2)
        a.caption(tr("audit.before"))
        a.code(as_json(before), language="json", wrap_lines=True)
        b.caption(tr("audit.after"))
        b.code(as_json(after), language="json", wrap_lines=True)
