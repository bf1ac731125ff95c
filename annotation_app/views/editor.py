"""Item editor: a form per task type, validated by evalkit's item model, errors beside their
fields, the suite's guidelines beside the form."""

from __future__ import annotations

import streamlit as st

from annotation_app.forms import FORMAT_CHOICES, ROLES, TASK_FIELDS
from annotation_app.models import Status
from annotation_app.permissions import Action, can_edit_item
from annotation_app.services import audit, items, suites
from annotation_app.ui import editing, runtime
from annotation_app.ui.editing import key
from annotation_app.ui.runtime import tr
from evalkit.suite.items import TASK_TYPES

user = runtime.require_page(Action.WRITE)
suite_id = runtime.require_suite()
state = editing.ensure_loaded()
task = state["task"]

with runtime.reading() as (db, actor):
    suite = suites.get_suite(db, actor, suite_id)
    guidelines = suite.guidelines
    row = items.get_item(db, actor, state["pk"]) if state["pk"] else None
    if row is not None and row.suite_id != suite_id:
        row = None  # the sidebar switched suites: start a new item here
    status, comment = (row.status, row.review_comment) if row else (None, None)
    editable = row is None or can_edit_item(actor, row)
    history = audit.item_history(db, actor, row.id) if row else []
    history_rows = [{"at": str(e.at), "who": e.username, "action": e.action} for e in history]
if state["pk"] is not None and row is None:
    editing.load(None)
    st.rerun()

st.title(tr("editor.title.edit", id=state["values"]["id"]) if row else tr("editor.title.new"))
top = st.columns([1, 1, 2])
top[0].button(tr("items.new"), on_click=editing.load, args=(None,), key="ed-new")
if row is None:
    top[1].selectbox(tr("items.task"), list(TASK_TYPES), key=key("task"))
else:
    top[1].markdown(f"**{tr('items.task')}:** {task}")
    top[2].markdown(f"**{tr('items.status')}:** {tr(f'status.{status}')}")
    if comment:
        st.warning(tr("editor.review_comment", comment=""))
        st.text(comment)

notice = st.session_state.get(editing.NOTICE)
if notice:
    getattr(st, notice[0])(notice[1])
conflict = st.session_state.get(editing.CONFLICT)
if conflict:
    st.error(conflict["message"])
    c1, c2 = st.columns(2)
    c1.caption(tr("editor.conflict.theirs", version=conflict["version"]))
    c1.code(editing.as_json(conflict["current"]), language="json")
    c2.caption(tr("editor.conflict.yours"))
    c2.code(editing.as_json(conflict["attempted"]), language="json")
    st.button(tr("editor.conflict.reload"), on_click=editing.reload_current, key="ed-reload")
for message in editing.other_problems(task):
    st.error(message)
if st.session_state.get(editing.PROBLEMS):
    st.error(tr("editor.fix_fields", n=len(st.session_state[editing.PROBLEMS])))


def errors(name: str) -> None:
    for reason in editing.problems_for(name):
        st.error(f"{tr(f'field.{name}')}: {reason}", icon=":material/error:")


form_col, guide_col = st.columns([3, 2])
with guide_col:
    st.subheader(tr("suite.guidelines"))
    st.markdown(guidelines)

with form_col:
    if any(f.kind == "turns" for f in TASK_FIELDS[task]):
        st.number_input(tr("field.turns"), 1, editing.MAX_TURNS, key=key("messages-n"))
    with st.form("item_form"):
        st.text_input(
            tr("field.id"), key=key("id"), disabled=row is not None, help=tr("field.id.help")
        )
        errors("id")
        for f in TASK_FIELDS[task]:
            label = tr(f"field.{f.name}")
            if f.kind in ("area", "optional_area"):
                st.text_area(label, key=key(f.name))
            elif f.kind == "lines":
                st.text_area(label, key=key(f.name), help=tr("field.lines.help"))
            elif f.kind == "text":
                st.text_input(label, key=key(f.name), help=tr(f"field.{f.name}.help"))
            elif f.kind == "json":
                st.text_area(label, key=key(f.name), help=tr("field.json.help"), height=150)
            elif f.kind == "turns":
                for i in range(int(st.session_state.get(key("messages-n"), 1))):
                    role_key, content_key = editing._turn_keys(i)
                    st.session_state.setdefault(role_key, "user" if i % 2 == 0 else "assistant")
                    st.session_state.setdefault(content_key, "")
                    a, b = st.columns([1, 4])
                    a.selectbox(
                        tr("field.role"),
                        ROLES,
                        key=role_key,
                        format_func=lambda r: tr(f"role_turn.{r}"),
                    )
                    b.text_area(tr("field.turn", n=i + 1), key=content_key, height=80)
            errors(f.name)
        c1, c2, c3 = st.columns(3)
        c1.text_input(tr("field.language"), key=key("language"), help=tr("field.language.help"))
        c2.selectbox(tr("field.split"), ["test", "dev"], key=key("split"))
        c3.text_input(tr("field.answer_language"), key=key("answer_language"))
        errors("language")
        errors("split")
        errors("answer_language")
        st.text_input(tr("field.tags"), key=key("tags"), help=tr("field.tags.help"))
        errors("tags")
        s1, s2 = st.columns(2)
        s1.text_input(tr("field.source"), key=key("source"))
        s2.text_input(tr("field.group"), key=key("group"), help=tr("field.group.help"))
        errors("source")
        errors("group")
        st.selectbox(
            tr("field.format"),
            FORMAT_CHOICES,
            key=key("format_kind"),
            format_func=lambda k: tr(f"format.{k or 'none'}"),
        )
        st.text_area(
            tr("field.format_value"), key=key("format_value"), help=tr("field.format_value.help")
        )
        st.checkbox(tr("field.format_case_sensitive"), key=key("format_case_sensitive"))
        errors("format")
        st.form_submit_button(
            tr("editor.save"),
            on_click=editing.save,
            args=(suite_id,),
            disabled=not editable,
            type="primary",
        )
    if row is not None and status in (Status.DRAFT.value, Status.REVISED.value) and editable:
        st.button(tr("editor.submit"), on_click=editing.submit_for_review, key="ed-submit")
    if history_rows:
        with st.expander(tr("editor.history")):
            st.dataframe(history_rows, hide_index=True)
