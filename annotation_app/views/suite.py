"""Suite page: description, guidelines, goals, item counts; admins edit the settings."""

from __future__ import annotations

import streamlit as st
import yaml

from annotation_app.permissions import Action, allowed
from annotation_app.services import suites
from annotation_app.ui import runtime
from annotation_app.ui.runtime import call, tr

user = runtime.require_page(Action.VIEW)
suite_id = runtime.require_suite()

with runtime.reading() as (db, actor):
    suite = suites.get_suite(db, actor, suite_id)
    counts = suites.counts(db, actor, suite_id)
    db.expunge(suite)

st.title(suite.name)
st.text(suite.description)
left, right = st.columns(2)
with left:
    st.subheader(tr("suite.goals"))
    for goal in suite.goals:
        st.text(f"• {goal['capability']}: {goal['description']}")
    st.subheader(tr("suite.counts"))
    st.metric(tr("suite.total"), counts.total)
    st.caption(tr("suite.by_task"))
    st.dataframe([{"task": k, "n": v} for k, v in counts.by_task.items()], hide_index=True)
    st.caption(tr("suite.by_status"))
    st.dataframe(
        [{"status": tr(f"status.{k}"), "n": v} for k, v in counts.by_status.items()],
        hide_index=True,
    )
    if counts.by_tag:
        st.caption(tr("suite.by_tag"))
        st.dataframe([{"tag": k, "n": v} for k, v in counts.by_tag.items()], hide_index=True)
with right:
    st.subheader(tr("suite.guidelines"))
    st.markdown(suite.guidelines)  # written by admins; Markdown only, HTML stays escaped

if allowed(user, Action.MANAGE_SUITES):
    with st.expander(tr("suite.edit")), st.form("edit_suite"):
        description = st.text_area(tr("suites.new.description"), suite.description)
        guidelines = st.text_area(tr("suites.new.guidelines"), suite.guidelines, height=200)
        goals = st.text_area(
            tr("suite.edit.goals"), yaml.safe_dump(suite.goals, allow_unicode=True, sort_keys=False)
        )
        tasks = st.text_area(
            tr("suite.edit.tasks"),
            yaml.safe_dump(suite.tasks, allow_unicode=True, sort_keys=False, width=100),
            height=300,
        )
        saved = st.form_submit_button(tr("editor.save"))
    if saved:
        try:
            changes = {
                "description": description,
                "guidelines": guidelines,
                "goals": yaml.safe_load(goals),
                "tasks": yaml.safe_load(tasks),
            }
        except yaml.YAMLError as e:
            st.error(tr("suite.edit.bad_yaml", error=str(e)))
        else:
            if call(suites.update_suite, suite_id, changes, suite.version) is not None:
                st.success(tr("editor.saved"))
