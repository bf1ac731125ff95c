"""The item editor's state: which item is open, at which version, its form values in widget
keys, and the save callback. Saving runs in a button callback so that field errors are known
before the form is drawn and appear next to their fields."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from annotation_app.errors import AppError, EditConflict, InvalidInput
from annotation_app.forms import (
    COMMON_FIELDS,
    TASK_FIELDS,
    empty_form,
    error_root,
    form_from_record,
    record_from_form,
)
from annotation_app.services import items, review
from annotation_app.ui import runtime
from annotation_app.ui.runtime import tr

STATE = "ed-state"  # {"pk", "version", "task", "values"}: the item as last loaded or saved
PROBLEMS = "ed-problems"
CONFLICT = "ed-conflict"
NOTICE = "ed-notice"  # (kind, message) shown once after a save
MAX_TURNS = 20


def key(name: str) -> str:
    return f"ed-{name}"


def _turn_keys(i: int) -> tuple[str, str]:
    return key(f"turn-{i}-role"), key(f"turn-{i}-content")


def _write_widgets(values: dict[str, Any], *, overwrite: bool) -> None:
    for name, value in values.items():
        if isinstance(value, list):  # dialogue turns
            if overwrite or key(f"{name}-n") not in st.session_state:
                st.session_state[key(f"{name}-n")] = max(1, len(value))
            for i, (role, content) in enumerate(value):
                role_key, content_key = _turn_keys(i)
                if overwrite or role_key not in st.session_state:
                    st.session_state[role_key] = role
                    st.session_state[content_key] = content
        elif overwrite or key(name) not in st.session_state:
            st.session_state[key(name)] = value


def load(pk: int | None, task: str | None = None) -> None:
    """Open item `pk` (None: a new item) in the editor, replacing the form's values."""
    for k in (PROBLEMS, CONFLICT, NOTICE):
        st.session_state.pop(k, None)
    state: dict[str, Any]
    if pk is None:
        task = task or "mcq"
        state = {
            "pk": None,
            "version": None,
            "task": task,
            "values": empty_form(task, runtime.lang()),
        }
        st.session_state[key("task")] = task
    else:
        with runtime.reading() as (db, actor):
            row = items.get_item(db, actor, pk)
            state = {
                "pk": row.id,
                "version": row.version,
                "task": row.task,
                "values": form_from_record(row.record),
            }
    st.session_state[STATE] = state
    _write_widgets(state["values"], overwrite=True)


def open_in_editor(pk: int | None) -> None:
    load(pk)
    st.switch_page("views/editor.py")


def ensure_loaded() -> dict[str, Any]:
    """The open item's state; widget values Streamlit dropped on another page are restored."""
    if STATE not in st.session_state:
        load(None)
    state = st.session_state[STATE]
    if state["pk"] is None:
        task = st.session_state.get(key("task"), state["task"])
        if task != state["task"]:
            state["task"] = task
            fresh = empty_form(task, runtime.lang())
            state["values"] = {**fresh, **{k: v for k, v in state["values"].items() if k in fresh}}
    _write_widgets(
        {**empty_form(state["task"], runtime.lang()), **state["values"]}, overwrite=False
    )
    return state


def form_values(task: str) -> dict[str, Any]:
    values = {
        name: st.session_state.get(key(name), "")
        for name in (
            *COMMON_FIELDS,
            "format_kind",
            "format_value",
            "format_case_sensitive",
        )
    }
    for f in TASK_FIELDS[task]:
        if f.kind == "turns":
            n = int(st.session_state.get(key(f"{f.name}-n"), 1))
            values[f.name] = [
                (
                    st.session_state.get(_turn_keys(i)[0], "user"),
                    st.session_state.get(_turn_keys(i)[1], ""),
                )
                for i in range(n)
            ]
        else:
            values[f.name] = st.session_state.get(key(f.name), "")
    return values


def save(suite_id: int) -> None:
    """Button callback: validate and save; stash problems, conflict or notice for the page."""
    state = st.session_state[STATE]
    for k in (PROBLEMS, CONFLICT, NOTICE):
        st.session_state.pop(k, None)
    values = form_values(state["task"])
    record, problems = record_from_form(state["task"], values)
    if problems:
        st.session_state[PROBLEMS] = problems
        return
    threshold = runtime.settings().near_duplicate_threshold
    if state["pk"] is None:
        saved, error = runtime.attempt(items.create_item, suite_id, record, threshold)
    else:
        saved, error = runtime.attempt(
            items.update_item, state["pk"], record, state["version"], threshold
        )
    if error is not None:
        _stash_error(error)
        return
    assert saved is not None
    st.session_state[STATE] = {
        "pk": saved.item.id,
        "version": saved.item.version,
        "task": state["task"],
        "values": form_from_record(saved.item.record),
    }
    _write_widgets(st.session_state[STATE]["values"], overwrite=True)
    notice = tr("editor.saved_as", id=saved.item.item_id)
    if saved.near_duplicates:
        similar = ", ".join(f"{d.item_id} ({d.similarity:.2f})" for d in saved.near_duplicates)
        st.session_state[NOTICE] = (
            "warning",
            notice + " " + tr("editor.near_duplicates", items=similar),
        )
    else:
        st.session_state[NOTICE] = ("success", notice)


def _stash_error(error: Exception) -> None:
    if isinstance(error, InvalidInput):
        st.session_state[PROBLEMS] = error.problems
    elif isinstance(error, EditConflict):
        st.session_state[CONFLICT] = {
            "message": error.message(runtime.lang()),
            "current": error.current,
            "attempted": error.attempted,
            "version": error.current_version,
        }
    elif isinstance(error, AppError):
        st.session_state[NOTICE] = ("error", error.message(runtime.lang()))
    else:
        st.session_state[NOTICE] = ("error", str(error))


def submit_for_review() -> None:
    """Button callback: send the open item to review at the version shown."""
    state = st.session_state[STATE]
    row, error = runtime.attempt(review.submit, state["pk"], state["version"])
    if error is not None:
        _stash_error(error)
        return
    assert row is not None
    state["version"] = row.version
    st.session_state[NOTICE] = ("success", tr("editor.submitted", id=row.item_id))


def reload_current() -> None:
    """Button callback after a conflict: discard this user's edit and show the saved version."""
    load(st.session_state[STATE]["pk"])


def problems_for(name: str) -> list[str]:
    return [p.reason for p in st.session_state.get(PROBLEMS, []) if error_root(p.field) == name]


def field_names(task: str) -> set[str]:
    return {
        *COMMON_FIELDS,
        "format",
        *(f.name for f in TASK_FIELDS[task]),
    }


def other_problems(task: str) -> list[str]:
    names = field_names(task)
    return [
        f"{p.field}: {p.reason}"
        for p in st.session_state.get(PROBLEMS, [])
        if error_root(p.field) not in names
    ]


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)
