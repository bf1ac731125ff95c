"""Suite health: the items the stored runs flag, with their evidence and the models' answers,
most valuable fix first; a reviewer revises or retires each (`services.health`)."""

from __future__ import annotations

import streamlit as st

from annotation_app.permissions import Action
from annotation_app.services import health, suites
from annotation_app.ui import runtime
from annotation_app.ui.editing import open_in_editor
from annotation_app.ui.runtime import call, tr

user = runtime.require_page(Action.REVIEW)
suite_id = runtime.require_suite()
store = runtime.store()
runs_dir = runtime.settings().runs_dir

with runtime.reading() as (db, actor):
    name = suites.get_suite(db, actor, suite_id).name
    report = health.suite_health(db, actor, store, runs_dir, suite_id)
    pending = health.pending_decisions(db, actor, suite_id)

st.title(tr("health.title", name=name))
flash = st.session_state.pop("health_flash", None)
if flash:
    st.success(flash)
if report.message is not None:
    st.info(tr(report.message) if report.message.startswith("health.") else report.message)
    st.stop()
st.caption(
    tr(
        "health.caption",
        folder=str(runs_dir),
        ref=report.suite,
        models=len(report.models),
        runs=len(report.runs),
    )
)
for note in report.notes:
    st.caption(note)
if pending:
    with st.expander(tr("health.pending")):
        st.text("\n".join(pending))
if not report.flagged:
    st.info(tr("health.nothing"))
    st.stop()
st.subheader(tr("health.flagged", n=len(report.flagged)))
for f in report.flagged:
    with st.container(border=True):
        share = "-" if f.difficulty is None else f"{f.difficulty:.2f}"
        status = tr(f"status.{f.status}") if f.status else "-"
        st.markdown(
            f"**{tr('health.item', id=runtime.escape_md(f.item_id), p=share, status=status)}**"
        )
        for flag in f.flags:
            st.text(f"{flag['flag']}: {flag['evidence']}")
        with st.expander(tr("health.answers")):
            st.dataframe(
                [{"model": m, "answer": a or ""} for m, a in f.answers.items()],
                hide_index=True,
                width="stretch",
            )
        if f.item_pk is None:
            st.caption(tr("health.not_in_app"))
            continue
        evidence = "; ".join(f"{x['flag']}: {x['evidence']}" for x in f.flags)
        a, b, c = st.columns(3)
        for column, decision in ((a, "revise"), (b, "retire")):
            if (
                column.button(tr(f"health.{decision}"), key=f"{decision}-{f.item_pk}")
                and call(health.act_on_flag, f.item_pk, decision, evidence, report.suite)
                is not None
            ):
                st.session_state["health_flash"] = tr(f"health.{decision}d", id=f.item_id)
                st.rerun()
        if c.button(tr("health.open"), key=f"open-{f.item_pk}"):
            open_in_editor(f.item_pk)
