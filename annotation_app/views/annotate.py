"""Blind labelling of the items assigned to me (double annotation): no gold answer shown, no
other annotator's label."""

from __future__ import annotations

import streamlit as st

from annotation_app.permissions import Action
from annotation_app.services import agreement
from annotation_app.ui import runtime
from annotation_app.ui.editing import as_json
from annotation_app.ui.runtime import call, tr
from evalkit.suite.items import LETTERS

user = runtime.require_page(Action.WRITE)
suite_id = runtime.require_suite()
st.title(tr("annotate.title"))

with runtime.reading() as (db, actor):
    mine = [
        (a.id, a.item_id, a.record, a.label) for a in agreement.my_assignments(db, actor, suite_id)
    ]
if not mine:
    st.info(tr("annotate.none"))
for assignment_id, item_id, blind, label in mine:
    with st.container(border=True):
        st.markdown(
            f"**{runtime.escape_md(item_id)}**"
            + (f" · ✓ {runtime.escape_md(label)}" if label else "")
        )
        st.code(as_json(blind), language="json", wrap_lines=True)
        task = blind.get("task")
        if task == "mcq":
            options = list(LETTERS[: len(blind.get("choices", []))])
            value = st.radio(
                tr("annotate.label"), options, key=f"label-{assignment_id}", horizontal=True
            )
        elif task == "classification":
            value = st.radio(
                tr("annotate.label"), blind.get("labels", []), key=f"label-{assignment_id}"
            )
        else:
            value = st.text_area(tr("annotate.answer"), key=f"label-{assignment_id}")
        if (
            st.button(tr("annotate.save"), key=f"save-label-{assignment_id}")
            and call(agreement.submit_label, assignment_id, str(value or "")) is not None
        ):
            st.rerun()
