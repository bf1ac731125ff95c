"""The item editor's fields per task type, and the conversion between form values and an
evalkit item record. Plain Python, so the Streamlit page stays thin and this is unit-tested.

Every form value is text (or a bool / a list of dialogue turns); lists are written one entry
per line, objects as JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from evalkit.errors import Problem

FORM = "form"
FieldKind = Literal["area", "optional_area", "lines", "text", "json", "turns"]


@dataclass(frozen=True)
class FormField:
    name: str  # the item field it fills
    kind: FieldKind


TASK_FIELDS: dict[str, tuple[FormField, ...]] = {
    "mcq": (
        FormField("question", "area"),
        FormField("choices", "lines"),
        FormField("answer", "text"),
    ),
    "classification": (
        FormField("text", "area"),
        FormField("labels", "lines"),
        FormField("label", "text"),
    ),
    "extraction": (FormField("text", "area"), FormField("fields", "json")),
    "qa": (
        FormField("question", "area"),
        FormField("context", "optional_area"),
        FormField("answers", "lines"),
    ),
    "generation": (FormField("prompt", "area"), FormField("references", "lines")),
    "dialogue": (FormField("messages", "turns"), FormField("references", "lines")),
}
COMMON_FIELDS = ("id", "language", "answer_language", "split", "tags", "source", "group")
FORMAT_CHOICES = ("", "choice", "regex", "json_schema")
ROLES = ("user", "assistant", "system")
_TAG_SEPARATORS = re.compile(r"[,，、]")


def lines(text: str) -> list[str]:
    """One entry per non-blank line, trimmed."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def error_root(field: str) -> str:
    """Which form field a problem's field path belongs to: `choices[2]` → `choices`,
    `provenance.source` → `source`, `format.pattern` → `format`."""
    root = re.split(r"[.\[]", field, maxsplit=1)[0]
    if root == "provenance":
        return "source"
    return root


def record_from_form(task: str, values: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """Build an item record from form values; problems only for text that cannot even be read
    (invalid JSON). Everything else is left to evalkit's item model to judge."""
    problems: list[Problem] = []
    record: dict[str, Any] = {"id": str(values.get("id", "")).strip(), "task": task}
    record["language"] = str(values.get("language", "")).strip()
    if str(values.get("answer_language", "")).strip():
        record["answer_language"] = str(values["answer_language"]).strip()
    record["split"] = values.get("split") or "test"
    record["tags"] = [t.strip() for t in _TAG_SEPARATORS.split(values.get("tags", "")) if t.strip()]
    if str(values.get("group", "")).strip():
        record["group"] = str(values["group"]).strip()
    record["provenance"] = {}
    if str(values.get("source", "")).strip():
        record["provenance"]["source"] = str(values["source"]).strip()
    for f in TASK_FIELDS[task]:
        raw = values.get(f.name, "")
        if f.kind == "area" or f.kind == "text":
            record[f.name] = raw if f.kind == "area" else str(raw).strip()
        elif f.kind == "optional_area":
            if str(raw).strip():
                record[f.name] = raw
        elif f.kind == "lines":
            record[f.name] = lines(str(raw))
        elif f.kind == "json":
            try:
                record[f.name] = json.loads(raw) if str(raw).strip() else {}
            except json.JSONDecodeError as e:
                problems.append(Problem(FORM, f.name, f"not valid JSON: {e.msg} (line {e.lineno})"))
        elif f.kind == "turns":
            record[f.name] = [{"role": r, "content": c} for r, c in raw or []]
    fmt = values.get("format_kind") or ""
    fmt_value = str(values.get("format_value", ""))
    if fmt == "choice":
        record["format"] = {
            "kind": "choice",
            "choices": lines(fmt_value),
            "case_sensitive": bool(values.get("format_case_sensitive")),
        }
    elif fmt == "regex":
        record["format"] = {"kind": "regex", "pattern": fmt_value.strip()}
    elif fmt == "json_schema":
        try:
            record["format"] = {"kind": "json_schema", "json_schema": json.loads(fmt_value or "{}")}
        except json.JSONDecodeError as e:
            problems.append(Problem(FORM, "format", f"not valid JSON: {e.msg} (line {e.lineno})"))
    return record, problems


def form_from_record(record: dict[str, Any]) -> dict[str, Any]:
    """Form values that show `record` (the inverse of `record_from_form`)."""
    task = record["task"]
    values: dict[str, Any] = {
        "id": record.get("id", ""),
        "language": record.get("language", ""),
        "answer_language": record.get("answer_language", ""),
        "split": record.get("split", "test"),
        "tags": ", ".join(record.get("tags", [])),
        "source": (record.get("provenance") or {}).get("source", ""),
        "group": record.get("group", ""),
    }
    for f in TASK_FIELDS[task]:
        raw = record.get(f.name)
        if f.kind in ("area", "text", "optional_area"):
            values[f.name] = raw or ""
        elif f.kind == "lines":
            values[f.name] = "\n".join(raw or [])
        elif f.kind == "json":
            values[f.name] = json.dumps(raw or {}, ensure_ascii=False, indent=2)
        elif f.kind == "turns":
            values[f.name] = [(m["role"], m["content"]) for m in raw or []]
    fmt = record.get("format") or {}
    values["format_kind"] = fmt.get("kind", "")
    values["format_case_sensitive"] = bool(fmt.get("case_sensitive", False))
    if fmt.get("kind") == "choice":
        values["format_value"] = "\n".join(fmt.get("choices", []))
    elif fmt.get("kind") == "regex":
        values["format_value"] = fmt.get("pattern", "")
    elif fmt.get("kind") == "json_schema":
        values["format_value"] = json.dumps(
            fmt.get("json_schema", {}), ensure_ascii=False, indent=2
        )
    else:
        values["format_value"] = ""
    return values


def empty_form(task: str, language: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": "",
        "language": language,
        "answer_language": "",
        "split": "test",
        "tags": "",
        "source": "",
        "group": "",
        "format_kind": "",
        "format_value": "",
        "format_case_sensitive": False,
    }
    for f in TASK_FIELDS[task]:
        values[f.name] = [("user", "")] if f.kind == "turns" else ""
    return values
