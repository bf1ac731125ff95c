"""Bulk import: upload CSV/TSV/Excel/JSON/JSONL, preview good rows and located problems, import
the good rows as drafts."""

from __future__ import annotations

import streamlit as st
import yaml
from pydantic import ValidationError

from annotation_app.permissions import Action
from annotation_app.services import imports
from annotation_app.ui import runtime
from annotation_app.ui.runtime import call, tr
from evalkit.suite.importing import ColumnMapping
from evalkit.suite.items import TASK_TYPES

user = runtime.require_page(Action.WRITE)
suite_id = runtime.require_suite()
st.title(tr("import.title"))
st.caption(tr("import.help"))

upload = st.file_uploader(
    tr("import.file"), type=[s.lstrip(".") for s in imports.IMPORT_SUFFIXES], key="import_file"
)
c1, c2, c3 = st.columns(3)
task = c1.selectbox(tr("import.default_task"), ["", *TASK_TYPES], key="import_task")
language = c2.text_input(tr("import.default_language"), key="import_language")
split = c3.selectbox(tr("import.default_split"), ["", "test", "dev"], key="import_split")
mapping_text = st.text_area(
    tr("import.mapping"), key="import_mapping", help=tr("import.mapping.help")
)

if upload is not None and st.button(tr("import.preview"), key="import_preview"):
    try:
        mapping = ColumnMapping.model_validate(yaml.safe_load(mapping_text) or {})
    except (yaml.YAMLError, ValidationError) as e:
        st.error(tr("import.bad_mapping", error=str(e)))
        st.stop()
    defaults = {
        k: v for k, v in {"task": task, "language": language.strip(), "split": split}.items() if v
    }
    mapping = mapping.model_copy(update={"defaults": {**defaults, **mapping.defaults}})
    preview = call(imports.preview_import, suite_id, upload.name, upload.getvalue(), mapping)
    if preview is not None:
        st.session_state["import_preview_result"] = preview

preview = st.session_state.get("import_preview_result")
if preview is not None:
    st.subheader(tr("import.good", n=len(preview.records)))
    st.dataframe(
        [
            {"where": w, "id": r["id"], "task": r["task"], "language": r["language"]}
            for w, r in preview.records
        ],
        hide_index=True,
        width="stretch",
    )
    if preview.problems:
        st.subheader(tr("import.bad", n=len(preview.problems)))
        st.dataframe(
            [{"where": p.where, "field": p.field, "problem": p.reason} for p in preview.problems],
            hide_index=True,
            width="stretch",
        )
    if preview.records and st.button(
        tr("import.commit", n=len(preview.records)), key="import_commit"
    ):
        saved = call(imports.commit_import, suite_id, [r for _, r in preview.records])
        if saved is not None:
            st.session_state.pop("import_preview_result", None)
            st.success(tr("import.done", n=len(saved)))
