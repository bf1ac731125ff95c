"""Publish approved items as a new version; version history and the diff between versions."""

from __future__ import annotations

import streamlit as st

from annotation_app.permissions import Action, allowed
from annotation_app.services import publishing, suites
from annotation_app.ui import runtime
from annotation_app.ui.runtime import call, tr

user = runtime.require_page(Action.VIEW)
suite_id = runtime.require_suite()
store = runtime.store()

with runtime.reading() as (db, actor):
    suite = suites.get_suite(db, actor, suite_id)
    name = suite.name
    approved = suites.counts(db, actor, suite_id).by_status.get("approved", 0)

st.title(tr("publish.title", name=name))
flash = st.session_state.pop("publish_flash", None)
if flash:
    st.success(flash)

if allowed(user, Action.PUBLISH):
    st.caption(tr("publish.approved", n=approved, folder=str(store.root / name)))
    changelog = st.text_area(tr("publish.changelog"), key="publish_changelog")
    if st.button(tr("publish.submit"), key="publish", type="primary"):
        version = call(
            publishing.publish,
            store,
            suite_id,
            changelog,
            runtime.settings().near_duplicate_threshold,
        )
        if version is not None:
            st.session_state["publish_flash"] = tr(
                "publish.done", ref=version.ref, n=len(version.items), path=str(version.path)
            )
            st.rerun()

st.subheader(tr("publish.history"))
with runtime.reading() as (db, actor):
    manifests = publishing.history(db, actor, store, name)
if not manifests:
    st.info(tr("publish.none"))
else:
    st.dataframe(
        [
            {
                tr("publish.col.version"): m.version,
                tr("publish.col.when"): m.created_at.isoformat(),
                tr("publish.col.author"): m.author,
                tr("publish.col.items"): sum(sum(c.values()) for c in m.item_counts.values()),
                tr("publish.col.changelog"): m.changelog,
                "hash": m.content_hash[:19] + "…",
            }
            for m in manifests
        ],
        hide_index=True,
        width="stretch",
    )
if len(manifests) >= 2:
    st.subheader(tr("publish.diff"))
    versions = [m.version for m in reversed(manifests)]
    a, b = st.columns(2)
    old = a.selectbox(tr("publish.diff.old"), versions, index=len(versions) - 2, key="diff_old")
    new = b.selectbox(tr("publish.diff.new"), versions, index=len(versions) - 1, key="diff_new")
    with runtime.reading() as (db, actor):
        result = publishing.diff(db, actor, store, name, old or versions[-2], new or versions[-1])
    st.markdown(
        tr(
            "publish.diff.summary",
            added=len(result.added),
            removed=len(result.removed),
            changed=len(result.changed),
        )
    )
    if result.added:
        st.text(tr("publish.diff.added") + ": " + ", ".join(result.added))
    if result.removed:
        st.text(tr("publish.diff.removed") + ": " + ", ".join(result.removed))
    rows = [
        {"id": c.id, "field": f.path, "old": str(f.old), "new": str(f.new)}
        for c in result.changed
        for f in c.changes
    ] + [
        {"id": "(suite)", "field": f.path, "old": str(f.old), "new": str(f.new)}
        for f in result.spec_changes
    ]
    if rows:
        st.dataframe(rows, hide_index=True, width="stretch")
