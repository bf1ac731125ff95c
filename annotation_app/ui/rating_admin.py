"""*Set up* and *Rating sets* on the Rate outputs page (reviewers and admins): load a scored
run, choose what is rated and by whom; follow each set's progress, see rater agreement, export
the ratings file for `evalkit score`, close a set."""

from __future__ import annotations

import streamlit as st

from annotation_app.models import RatingMode
from annotation_app.services import rating, rating_results, rating_setup, users
from annotation_app.services.rating_setup import OPEN_ENDED, RunInfo, SetUp
from annotation_app.ui import runtime
from annotation_app.ui.runtime import call, escape_md, tr

RUN = "rate-run"  # the RunInfo loaded on the Set up tab
FLASH = "rate-setup-flash"
ITEMS_ALL, ITEMS_SAMPLE, ITEMS_CHOSEN = "all", "sample", "chosen"


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _load_run() -> RunInfo | None:
    folder = runtime.settings().runs_dir
    with runtime.reading() as (db, actor):
        runs = {r.path: r for r in rating_setup.list_runs(db, actor, folder)}
    if runs:
        chosen = st.selectbox(
            tr("rate.setup.runs", folder=escape_md(str(folder))),
            list(runs),
            index=None,
            format_func=lambda p: (
                runs[p].name + ("" if runs[p].scored else f" ({tr('rate.setup.not_scored')})")
            ),
            key="rate-run-choice",
        )
    else:
        st.caption(tr("rate.setup.no_runs", folder=escape_md(str(folder))))
        chosen = None
    typed = st.text_input(tr("rate.setup.path"), key="rate-run-path")
    if st.button(tr("rate.setup.load"), key="rate-load"):
        path = typed.strip() or chosen
        if path:
            st.session_state.pop(RUN, None)
            info = call(rating_setup.inspect_run, runtime.store(), path)
            if info is not None:
                st.session_state[RUN] = info
    return st.session_state.get(RUN)


def show_set_up() -> None:
    flash = st.session_state.pop(FLASH, None)
    if flash:
        st.success(flash)
    info = _load_run()
    if info is None:
        return
    suites = {s.ref: s for s in info.suites}
    st.caption(
        tr(
            "rate.setup.loaded",
            run=escape_md(info.run_id),
            models=len(info.models),
            suites=escape_md(", ".join(suites)),
        )
    )
    suite = suites[st.selectbox(tr("rate.setup.suite"), list(suites), key="rate-suite") or ""]
    mode = st.radio(
        tr("rate.setup.mode"),
        [m.value for m in RatingMode],
        format_func=lambda m: tr(f"rate.mode.{m}"),
        key="rate-mode",
    )
    if mode == RatingMode.PAIR.value:
        a, b = st.columns(2)
        first = a.selectbox(tr("rate.setup.model_a"), info.models, index=0, key="rate-model-a")
        second = b.selectbox(
            tr("rate.setup.model_b"),
            info.models,
            index=min(1, len(info.models) - 1),
            key="rate-model-b",
        )
        models = [str(first), str(second)]
    else:
        models = st.multiselect(
            tr("rate.setup.models"), info.models, default=info.models, key="rate-models"
        )
    present = list(suite.items)
    tasks = st.multiselect(
        tr("rate.setup.tasks"),
        present,
        default=[t for t in OPEN_ENDED if t in present],
        key=f"rate-tasks-{suite.ref}",
    )
    if mode == RatingMode.POINT.value:
        for task in tasks:
            names = ", ".join(suite.criteria.get(task, [])) or "-"
            st.caption(tr("rate.setup.criteria", task=task, criteria=escape_md(names)))
    available = [i for t in tasks for i in suite.items.get(t, [])]
    how = st.radio(
        tr("rate.setup.items"),
        [ITEMS_ALL, ITEMS_SAMPLE, ITEMS_CHOSEN],
        format_func=lambda h: tr(f"rate.setup.items.{h}"),
        horizontal=True,
        key="rate-items-how",
    )
    sample, chosen_items = None, None
    if how == ITEMS_SAMPLE:
        sample = int(
            st.number_input(
                tr("rate.setup.sample"),
                min_value=1,
                max_value=max(1, len(available)),
                value=min(10, max(1, len(available))),
                key="rate-sample",
            )
        )
    elif how == ITEMS_CHOSEN:
        chosen_items = st.multiselect(tr("rate.setup.chosen"), available, key="rate-chosen")
    with runtime.reading() as (db, actor):
        people = {u.id: u for u in users.list_users(db, actor) if u.active}
    raters = st.multiselect(
        tr("rate.setup.raters"),
        list(people),
        format_func=lambda uid: f"{people[uid].username} ({tr(f'role.{people[uid].role}')})",
        key="rate-raters",
    )
    left, right = st.columns(2)
    per_unit = left.number_input(tr("rate.setup.per_unit"), min_value=1, value=2, key="rate-n")
    seed = right.number_input(tr("rate.setup.seed"), min_value=0, value=0, key="rate-seed")
    name = st.text_input(tr("rate.setup.name"), key="rate-name")
    if st.button(tr("rate.setup.create"), key="rate-create", type="primary"):
        setup = SetUp(
            run_dir=info.path,
            suite=suite.ref,
            mode=str(mode),
            models=list(models),
            raters=list(raters),
            raters_per_unit=int(per_unit),
            tasks=list(tasks),
            items=chosen_items,
            sample=sample,
            seed=int(seed),
            name=name,
        )
        made = call(rating_setup.create_set, runtime.store(), setup)
        if made is not None:
            st.session_state[FLASH] = tr(
                "rate.setup.created",
                name=escape_md(made.name),
                units=made.units,
                assigned=made.assigned,
            )
            st.rerun()


def _agreement(set_id: int) -> None:
    st.markdown(f"**{tr('rate.sets.agreement')}**")
    with runtime.reading() as (db, actor):
        scores = rating_results.set_agreement(db, actor, set_id)
    if not scores:
        st.info(tr("rate.sets.no_ratings"))
        return
    st.dataframe(
        [
            {
                tr("rate.sets.col.criterion"): s.criterion,
                tr("rate.sets.col.raters"): s.raters,
                tr("rate.sets.col.units"): s.units,
                tr("rate.sets.col.shared"): s.shared,
                f"Krippendorff's α ({s.level})": _fmt(s.alpha),
                tr("rate.sets.col.exact"): _fmt(s.exact),
            }
            for s in scores
        ],
        hide_index=True,
    )


def _export(view: rating_results.RatingSetView) -> None:
    key = f"rate-export-{view.id}"
    if st.button(tr("rate.sets.export"), key=f"rate-export-button-{view.id}"):
        ratings = call(rating_results.export_ratings, view.id)
        if ratings is not None:
            st.session_state[key] = (rating_results.ratings_file(ratings), len(ratings))
    if key in st.session_state:
        data, count = st.session_state[key]
        file_name = f"ratings-set{view.id}.jsonl"
        st.download_button(
            tr("rate.sets.download", file=file_name),
            data,
            file_name=file_name,
            mime="application/jsonl",
            key=f"rate-download-{view.id}",
        )
        st.caption(tr("rate.sets.exported", n=count))
        st.code(f"evalkit score {view.run_dir} ratings={file_name}", language="bash")


def show_sets() -> None:
    with runtime.reading() as (db, actor):
        sets = {s.id: s for s in rating_results.list_sets(db, actor)}
        mine = {s.id for s in rating.my_rating_sets(db, actor)}
    if not sets:
        st.info(tr("rate.sets.none"))
        return
    status = {True: tr("rate.sets.closed"), False: tr("rate.sets.open")}
    st.dataframe(
        [
            {
                tr("rate.sets.col.name"): s.name,
                tr("rate.sets.col.suite"): s.suite,
                tr("rate.sets.col.mode"): s.mode,
                tr("rate.sets.col.rated"): f"{s.rated}/{s.assigned}",
                tr("rate.sets.col.status"): status[s.closed_at is not None],
            }
            for s in sets.values()
        ],
        hide_index=True,
    )
    set_id = st.selectbox(
        tr("rate.sets.choose"), list(sets), format_func=lambda k: sets[k].name, key="rate-set-admin"
    )
    view = sets[set_id or next(iter(sets))]
    st.caption(
        tr(
            "rate.sets.summary",
            run=escape_md(view.run_id),
            path=escape_md(view.run_dir),
            suite=escape_md(view.suite),
            models=escape_md(", ".join(view.models)),
            seed=view.seed,
            per_unit=view.raters_per_unit,
            by=escape_md(view.created_by),
        )
    )
    st.markdown(f"**{tr('rate.sets.progress')}**")
    st.dataframe(
        [
            {
                tr("rate.sets.col.rater"): name,
                tr("rate.sets.col.rated"): done,
                tr("rate.sets.col.assigned"): total,
            }
            for name, (done, total) in view.progress.items()
        ],
        hide_index=True,
    )
    if view.closed_at is None and view.id in mine:
        st.info(tr("error.rates_in_open_set", set=escape_md(view.name)))  # asked for, it is refused
    else:
        _agreement(view.id)
        _export(view)
    if view.closed_at is not None:
        st.caption(tr("rate.sets.closed_at", at=view.closed_at.isoformat()))
    elif (
        st.button(tr("rate.sets.close"), key=f"rate-close-{view.id}")
        and call(rating_results.close_set, view.id) is not None
    ):
        st.rerun()
