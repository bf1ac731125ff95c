"""Review queue: approve, or reject with a comment, items written by others."""

from __future__ import annotations

import streamlit as st

from annotation_app.permissions import Action
from annotation_app.services import review
from annotation_app.ui import runtime
from annotation_app.ui.editing import as_json
from annotation_app.ui.runtime import call, tr

user = runtime.require_page(Action.REVIEW)
suite_id = runtime.require_suite()
st.title(tr("review.title"))

flash = st.session_state.pop("review_flash", None)
if flash:
    st.success(flash)

with runtime.reading() as (db, actor):
    queue = [
        (row.id, row.version, row.item_id, row.author.username, row.record)
        for row in review.review_queue(db, actor, suite_id)
    ]
if not queue:
    st.info(tr("review.empty"))
for pk, version, item_id, author, record in queue:
    with st.container(border=True):
        st.markdown(
            f"**{runtime.escape_md(item_id)}** · {tr('items.author')}: {runtime.escape_md(author)}"
        )
        st.code(as_json(record), language="json", wrap_lines=True)
        comment = st.text_area(tr("review.comment"), key=f"comment-{pk}")
        a, b = st.columns(2)
        if (
            a.button(tr("review.approve"), key=f"approve-{pk}", type="primary")
            and call(review.approve, pk, version) is not None
        ):
            st.session_state["review_flash"] = tr("review.approved", id=item_id)
            st.rerun()
        if (
            b.button(tr("review.reject"), key=f"reject-{pk}")
            and call(review.reject, pk, version, comment) is not None
        ):
            st.session_state["review_flash"] = tr("review.rejected", id=item_id)
            st.rerun()
