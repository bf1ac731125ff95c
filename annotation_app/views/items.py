"""Search and filter a suite's items; open one in the editor."""

from __future__ import annotations

import streamlit as st

from annotation_app.models import Status
from annotation_app.permissions import Action
from annotation_app.services import items, users
from annotation_app.ui import runtime
from annotation_app.ui.editing import open_in_editor
from annotation_app.ui.runtime import tr
from evalkit.suite.items import TASK_TYPES

user = runtime.require_page(Action.VIEW)
suite_id = runtime.require_suite()
st.title(tr("items.title"))

with runtime.reading() as (db, actor):
    authors = [u.username for u in users.list_users(db, actor)]
c1, c2, c3, c4, c5 = st.columns([3, 1, 1, 1, 1])
text = c1.text_input(tr("items.search"), key="filter_text")
task = c2.selectbox(tr("items.task"), ["", *TASK_TYPES], key="filter_task")
tag = c3.text_input(tr("items.tag"), key="filter_tag")
status = c4.selectbox(
    tr("items.status"),
    ["", *(s.value for s in Status)],
    format_func=lambda s: tr(f"status.{s}") if s else "",
    key="filter_status",
)
author = c5.selectbox(tr("items.author"), ["", *authors], key="filter_author")

with runtime.reading() as (db, actor):
    found = items.search_items(
        db,
        actor,
        suite_id,
        items.ItemFilter(text, task or "", tag.strip(), status or "", author or ""),
    )
    table = [
        {
            "pk": row.id,
            tr("items.col.id"): row.item_id,
            tr("items.task"): row.task,
            tr("items.col.language"): row.language,
            tr("items.status"): tr(f"status.{row.status}"),
            tr("items.author"): row.author,
            tr("items.tag"): ", ".join(row.tags or []),
            tr("items.col.text"): row.search_text.splitlines()[0][:120] if row.search_text else "",
        }
        for row in found
    ]
st.caption(tr("items.count", n=len(table)))
st.dataframe(table, hide_index=True, width="stretch", column_config={"pk": None})
if table:
    item_ids = {r["pk"]: r[tr("items.col.id")] for r in table}
    pk = st.selectbox(
        tr("items.open"),
        list(item_ids),
        format_func=lambda pk: str(item_ids[pk]),
        key="open_pk",
    )
    if st.button(tr("items.edit"), key="open_item"):
        open_in_editor(pk)
if st.button(tr("items.new"), key="new_item"):
    open_in_editor(None)
