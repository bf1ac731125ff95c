"""Double annotation: assign items to annotators, agreement per task, disagreements to
adjudicate."""

from __future__ import annotations

import streamlit as st

from annotation_app.permissions import Action
from annotation_app.services import agreement, items, users
from annotation_app.ui import runtime
from annotation_app.ui.runtime import call, tr

user = runtime.require_page(Action.ASSIGN)
suite_id = runtime.require_suite()
st.title(tr("agreement.title"))

with runtime.reading() as (db, actor):
    all_items = {
        r.id: r.item_id for r in items.search_items(db, actor, suite_id, items.ItemFilter())
    }
    people = {u.id: u.username for u in users.list_users(db, actor) if u.active}
    scores = agreement.suite_agreement(db, actor, suite_id)
    disputes = [
        (d.item.id, d.item.version, d.item.item_id, d.item.task, d.labels, d.adjudicated)
        for d in agreement.disagreements(db, actor, suite_id)
    ]

st.subheader(tr("agreement.assign"))
with st.form("assign"):
    chosen_items = st.multiselect(
        tr("agreement.items"), list(all_items), format_func=lambda k: str(all_items.get(k, k))
    )
    chosen_people = st.multiselect(
        tr("agreement.annotators"), list(people), format_func=lambda k: str(people.get(k, k))
    )
    assign = st.form_submit_button(tr("agreement.assign.submit"))
if assign:
    created = call(agreement.assign, chosen_items, chosen_people)
    if created is not None:
        st.success(tr("agreement.assigned", n=len(created)))


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


st.subheader(tr("agreement.scores"))
if scores:
    st.dataframe(
        [
            {
                tr("items.task"): s.task,
                tr("agreement.col.items"): s.items,
                tr("agreement.col.annotators"): s.annotators,
                tr("agreement.col.percent"): _fmt(s.percent),
                "Cohen's κ": _fmt(s.kappa),
                "Krippendorff's α": _fmt(s.alpha),
            }
            for s in scores
        ],
        hide_index=True,
    )
else:
    st.info(tr("agreement.no_labels"))

st.subheader(tr("agreement.disagreements", n=len(disputes)))
for pk, version, item_id, task, labels, decided in disputes:
    with st.container(border=True):
        st.markdown(f"**{runtime.escape_md(item_id)}** ({task})")
        st.dataframe([{"annotator": k, "label": v} for k, v in labels.items()], hide_index=True)
        if decided:
            st.caption(tr("agreement.decided", label=decided))
        choice = st.selectbox(tr("agreement.final"), sorted(set(labels.values())), key=f"adj-{pk}")
        note = st.text_input(tr("agreement.note"), key=f"adj-note-{pk}")
        if (
            st.button(tr("agreement.adjudicate"), key=f"adj-btn-{pk}")
            and call(agreement.adjudicate, pk, choice, note, version) is not None
        ):
            st.rerun()
