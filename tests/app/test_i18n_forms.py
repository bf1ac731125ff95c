"""The string table is complete in both languages, and form values round-trip to items."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from annotation_app.forms import (
    TASK_FIELDS,
    empty_form,
    error_root,
    form_from_record,
    record_from_form,
)
from annotation_app.i18n import STRINGS, t
from annotation_app.models import RatingMode, Role, Status
from annotation_app.services.items import validate_record
from annotation_app.services.rating import CHOICES
from annotation_app.ui.rating_admin import ITEMS_ALL, ITEMS_CHOSEN, ITEMS_SAMPLE

APP = Path(__file__).parents[2] / "annotation_app"
_KEY = re.compile(r"""\b(?:tr|t)\(\s*f?["']([a-z_]+\.[a-z_.{}' ]+?)["']""")


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_string_has_both_languages_with_the_same_placeholders() -> None:
    for key, (en, zh) in STRINGS.items():
        assert en.strip() and zh.strip(), key
        assert _placeholders(en) == _placeholders(zh), key


def test_every_key_the_app_uses_exists() -> None:
    dynamic = {
        "role.{": [f"role.{r.value}" for r in Role],
        "status.{": [f"status.{s.value}" for s in Status],
        "field.{f.name}": [f"field.{f.name}" for fs in TASK_FIELDS.values() for f in fs],
    }
    used = set()
    for path in APP.rglob("*.py"):
        for key in _KEY.findall(path.read_text(encoding="utf-8")):
            if "{" in key:
                continue  # f-string keys: checked through `dynamic` and below
            used.add(key)
    for source in APP.rglob("*.py"):
        used |= set(re.findall(r'"(error\.[a-z_]+)"', source.read_text(encoding="utf-8")))
    for keys in dynamic.values():
        used |= set(keys)
    used |= {f"format.{k}" for k in ("none", "choice", "regex", "json_schema")}
    used |= {f"role_turn.{r}" for r in ("user", "assistant", "system")}
    used |= {f"rate.mode.{m.value}" for m in RatingMode} | {"rate.output.a", "rate.output.b"}
    used |= {f"rate.choice.{c.lower()}" for c in CHOICES}
    used |= {f"rate.setup.items.{h}" for h in (ITEMS_ALL, ITEMS_SAMPLE, ITEMS_CHOSEN)}
    assert sorted(used - set(STRINGS)) == []
    assert t("editor.saved_as", "zh", id="q1") == "已保存 q1。"


def test_pages_put_no_literal_text_on_screen() -> None:
    """Every visible string goes through the table: no st.xxx("literal") in the pages."""
    literal = re.compile(
        r"\bst\.(title|header|subheader|caption|info|success|warning|error|button"
        r"|text_input|text_area|selectbox|markdown)\(\s*\"[A-Za-z\u4e00-\u9fff]"
    )
    offenders = [
        f"{p.name}: {m.group(0)}"
        for p in (APP / "views").glob("*.py")
        for m in literal.finditer(p.read_text(encoding="utf-8"))
        # the language picker on the login page is the one bilingual label
        if "Language / 语言" not in p.read_text(encoding="utf-8")[m.start() : m.end() + 40]
    ]
    assert offenders == []


@pytest.mark.parametrize(
    "record",
    [
        {
            "id": "m",
            "task": "mcq",
            "language": "zh",
            "question": "问？",
            "choices": ["甲", "乙"],
            "answer": "B",
            "tags": ["合同", "easy"],
            "provenance": {"author": "a", "source": "原创"},
            "format": {"kind": "choice", "choices": ["A", "B"], "case_sensitive": False},
        },
        {
            "id": "e",
            "task": "extraction",
            "language": "zh",
            "text": "甲方：某公司",
            "fields": {"party_a": "某公司", "amount": None},
            "group": "案卷-2024-017",
            "provenance": {"author": "a"},
            "format": {"kind": "json_schema", "json_schema": {"type": "object"}},
        },
        {
            "id": "d",
            "task": "dialogue",
            "language": "en",
            "split": "dev",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi"},
            ],
            "references": ["Hello."],
            "provenance": {"author": "a"},
        },
        {
            "id": "q",
            "task": "qa",
            "language": "en",
            "question": "When?",
            "context": "In 2020.",
            "answers": ["2020"],
            "provenance": {"author": "a"},
            "format": {"kind": "regex", "pattern": "\\\\d+"},
        },
    ],
)
def test_form_round_trip(record: dict) -> None:  # type: ignore[type-arg]
    values = form_from_record(record)
    back, problems = record_from_form(record["task"], values)
    assert problems == []
    back["provenance"]["author"] = "a"
    assert validate_record(back).model_dump() == validate_record(record).model_dump()


def test_form_problems_point_at_fields() -> None:
    values = {
        **empty_form("extraction", "zh"),
        "text": "x",
        "fields": "{not json",
        "format_kind": "json_schema",
        "format_value": "[1,",
    }
    _, problems = record_from_form("extraction", values)
    assert [(p.field, p.reason.split(":")[0]) for p in problems] == [
        ("fields", "not valid JSON"),
        ("format", "not valid JSON"),
    ]
    assert error_root("choices[2]") == "choices" and error_root("provenance.source") == "source"
    assert error_root("format.pattern") == "format"
    tags, _ = record_from_form("mcq", {**empty_form("mcq", "zh"), "tags": "合同，民法典、 easy"})
    assert tags["tags"] == ["合同", "民法典", "easy"]
