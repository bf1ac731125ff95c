"""*My ratings* on the Rate outputs page: one item at a time, its input and reference, its
outputs without model names in the rater's own order, and the rater's own rating of each."""

from __future__ import annotations

from typing import Any

import streamlit as st

from annotation_app.models import RatingMode
from annotation_app.services import rating
from annotation_app.services.rating import CHOICES, RatingTask
from annotation_app.services.visibility import GOLD_FIELDS
from annotation_app.ui import runtime
from annotation_app.ui.editing import as_json
from annotation_app.ui.runtime import call, escape_md, tr

MAX_RADIO = 11  # a wider scale is typed, not clicked
NEXT_ITEM = "rate-next-item"  # the item to show after a save: {set id: group index}


def _groups(tasks: list[RatingTask]) -> list[list[RatingTask]]:
    """The rater's tasks by item, in their order (an item's outputs are consecutive)."""
    out: list[list[RatingTask]] = []
    for task in tasks:
        if out and out[-1][0].item_id == task.item_id:
            out[-1].append(task)
        else:
            out.append([task])
    return out


def _text(text: str | None) -> None:
    """Untrusted text (an item, a model's output) shown as text, never as Markdown or HTML."""
    if text is None:
        st.caption(tr("rate.no_output"))
    else:
        st.code(text, language="text", wrap_lines=True)


def _show_item(record: dict[str, Any]) -> None:
    task = str(record.get("task"))
    st.markdown(f"**{tr('rate.input')}**")
    if task == "generation":
        _text(str(record.get("prompt", "")))
    elif task == "dialogue":
        turns = [
            tr(f"role_turn.{m['role']}") + ": " + str(m.get("content", ""))
            for m in record.get("messages", [])
            if m.get("role") in ("system", "user", "assistant")
        ]
        _text("\n\n".join(turns))
    else:
        hidden = set(GOLD_FIELDS.get(task, ()))
        _text(as_json({k: v for k, v in record.items() if k not in hidden}))
    gold = [record[f] for f in GOLD_FIELDS.get(task, ()) if f in record]
    if gold:
        st.markdown(f"**{tr('rate.reference')}**")
        value = gold[0]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            for reference in value:
                _text(reference)
        else:
            _text(value if isinstance(value, str) else as_json(value))


def _score_widgets(task: RatingTask) -> dict[str, object]:
    values: dict[str, object] = {}
    for c in task.criteria:
        low, high = c.scale
        current = (task.scores or {}).get(c.name)
        st.markdown(f"**{escape_md(c.name)}** ({low}–{high}): {escape_md(c.description)}")
        key = f"score-{task.assignment_id}-{c.name}"
        options = list(range(low, high + 1))
        if len(options) <= MAX_RADIO:
            values[c.name] = st.radio(
                c.name,
                options,
                index=options.index(current) if current in options else None,
                horizontal=True,
                key=key,
                label_visibility="collapsed",
            )
        else:
            values[c.name] = st.number_input(
                c.name,
                min_value=low,
                max_value=high,
                value=current,
                step=1,
                key=key,
                label_visibility="collapsed",
            )
    return values


def _after_save(task: RatingTask, group_index: int, saved: RatingTask | None) -> None:
    """After a save: stay on the item until all its outputs are rated, then go to the next."""
    if saved is None:
        return  # the error is shown; the widgets keep what the rater entered
    st.session_state[NEXT_ITEM] = {task.set_id: group_index}
    st.session_state["rate-flash"] = tr("rate.saved")
    st.rerun()


def _point(task: RatingTask, group_index: int) -> None:
    mark = f" · ✓ {tr('rate.rated')}" if task.rated_at else ""
    st.markdown(f"#### {tr('rate.output', n=task.number)}{mark}")
    _text(task.outputs[0])
    values = _score_widgets(task)
    comment = st.text_area(
        tr("rate.comment"), value=task.comment or "", key=f"comment-{task.assignment_id}"
    )
    if st.button(tr("rate.save"), key=f"save-{task.assignment_id}", disabled=task.closed):
        saved = call(rating.rate_output, task.assignment_id, values, comment)
        _after_save(task, group_index, saved)


def _pair(task: RatingTask, group_index: int) -> None:
    for column, side, text in zip(st.columns(2), ("a", "b"), task.outputs, strict=True):
        with column:
            st.markdown(f"#### {tr(f'rate.output.{side}')}")
            _text(text)
    mark = f" · ✓ {tr('rate.rated')}" if task.rated_at else ""
    choice = st.radio(
        tr("rate.choice") + mark,
        list(CHOICES),
        index=CHOICES.index(task.choice) if task.choice in CHOICES else None,
        format_func=lambda c: tr(f"rate.choice.{c.lower()}"),
        horizontal=True,
        key=f"choice-{task.assignment_id}",
    )
    comment = st.text_area(
        tr("rate.comment"), value=task.comment or "", key=f"comment-{task.assignment_id}"
    )
    if st.button(tr("rate.save"), key=f"save-{task.assignment_id}", disabled=task.closed):
        saved = call(rating.rate_pair, task.assignment_id, str(choice or ""), comment)
        _after_save(task, group_index, saved)


def _first_open(groups: list[list[RatingTask]], start: int, default: int) -> int:
    """The first item from `start` on (then from the top) with an output still to rate, or
    `default` when every output is rated."""
    order = list(range(start, len(groups))) + list(range(min(start, len(groups))))
    return next((k for k in order if any(t.rated_at is None for t in groups[k])), default)


def show_my_ratings() -> None:
    with runtime.reading() as (db, actor):
        sets = rating.my_rating_sets(db, actor)
    if not sets:
        st.info(tr("rate.mine.none"))
        return
    labels = {
        s.id: tr("rate.mine.set_label", name=s.name, rated=s.rated, tasks=s.tasks)
        + (f" · {tr('rate.sets.closed')}" if s.closed else "")
        for s in sets
    }
    chosen = st.selectbox(tr("rate.mine.set"), list(labels), format_func=labels.__getitem__)
    set_id = chosen if chosen is not None else sets[0].id
    with runtime.reading() as (db, actor):
        groups = _groups(rating.my_rating_tasks(db, actor, set_id))
    if not groups:
        return
    flash = st.session_state.pop("rate-flash", None)
    if flash:
        st.success(flash)
    item_key = f"rate-item-{set_id}"
    after = st.session_state.pop(NEXT_ITEM, {}).get(set_id)
    if after is not None:
        done = all(t.rated_at for t in groups[after])
        st.session_state[item_key] = _first_open(groups, after + 1, after) if done else after
    elif item_key not in st.session_state:
        st.session_state[item_key] = _first_open(groups, 0, 0)

    def item_label(k: int) -> str:
        done = all(t.rated_at for t in groups[k])
        return f"{k + 1}. {groups[k][0].item_id}" + (" ✓" if done else "")

    index = st.selectbox(
        tr("rate.mine.item"), list(range(len(groups))), format_func=item_label, key=item_key
    )
    group = groups[index or 0]
    if group[0].closed:
        st.info(tr("rate.mine.closed"))
    st.caption(tr("rate.mine.blind"))
    with st.container(border=True):
        st.markdown(f"### {escape_md(group[0].item_id)}")
        _show_item(group[0].record)
    for task in group:
        with st.container(border=True):
            if task.mode == RatingMode.PAIR.value:
                _pair(task, index or 0)
            else:
                _point(task, index or 0)
