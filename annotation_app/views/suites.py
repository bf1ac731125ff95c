"""Suite list, and (admins) a new suite: empty with default prompts, or from a published version."""

from __future__ import annotations

import streamlit as st

from annotation_app.permissions import Action, allowed
from annotation_app.services import suites
from annotation_app.ui import runtime
from annotation_app.ui.runtime import SUITE_KEY, call, tr
from evalkit.suite.items import TASK_TYPES

user = runtime.require_page(Action.VIEW)
st.title(tr("suites.title"))

with runtime.reading() as (db, actor):
    rows = []
    by_status = suites.status_counts(db, actor)
    for suite in suites.list_suites(db, actor):
        c = by_status.get(suite.id, {})
        rows.append(
            {
                tr("suites.col.name"): suite.name,
                tr("suites.col.description"): suite.description,
                tr("suites.col.items"): sum(c.values()),
                tr("suites.col.approved"): c.get("approved", 0),
                tr("suites.col.published"): ", ".join(runtime.store().versions(suite.name)) or "-",
            }
        )
if rows:
    st.dataframe(rows, hide_index=True, width="stretch")
else:
    st.info(tr("suites.none"))

if allowed(user, Action.MANAGE_SUITES):
    st.subheader(tr("suites.new"))
    published = [
        f"{name}@{v}" for name in runtime.store().names() for v in runtime.store().versions(name)
    ]
    source = st.radio(
        tr("suites.new.source"),
        ["empty", "published"],
        format_func=lambda k: tr(f"suites.new.source.{k}"),
        horizontal=True,
        key="new_suite_source",
    )
    if source == "published":
        ref = st.selectbox(tr("suites.new.version"), published, key="new_suite_ref")
        if st.button(tr("suites.new.create"), key="new_suite_from_version", disabled=not ref):
            created = call(suites.create_from_version, runtime.store(), ref)
            if created is not None:
                st.session_state[SUITE_KEY] = created.id
                st.rerun()
    else:
        with st.form("new_suite"):
            name = st.text_input(tr("suites.new.name"), key="new_suite_name")
            description = st.text_area(tr("suites.new.description"), key="new_suite_description")
            guidelines = st.text_area(tr("suites.new.guidelines"), key="new_suite_guidelines")
            capability = st.text_input(tr("suites.new.goal_capability"), key="new_suite_goal_cap")
            goal = st.text_input(tr("suites.new.goal_description"), key="new_suite_goal_desc")
            tasks = st.multiselect(
                tr("suites.new.tasks"),
                list(TASK_TYPES),
                default=["mcq", "qa"],
                key="new_suite_tasks",
            )
            submitted = st.form_submit_button(tr("suites.new.create"))
        if submitted:
            created = call(
                suites.create_suite,
                runtime.store(),
                name=name.strip(),
                description=description,
                guidelines=guidelines,
                goals=[{"capability": capability.strip(), "description": goal.strip()}],
                tasks={task: suites.DEFAULT_TASKS[task] for task in tasks},
            )
            if created is not None:
                st.session_state[SUITE_KEY] = created.id
                st.success(tr("suites.created", name=created.name))
                st.rerun()
