"""Prompt templates run sandboxed; item text is data, never template code."""

from __future__ import annotations

import pytest

from evalkit.templating import TemplateError, check_template, render_template


def test_item_text_with_jinja_syntax_is_printed_literally() -> None:
    hostile = "{{ 7 * 7 }} {% for x in range(3) %}loop{% endfor %} {{ ''.__class__ }}"
    assert render_template("Q: {{ question }}", {"question": hostile}) == f"Q: {hostile}"


def test_sandbox_refuses_attribute_escapes_in_template_source() -> None:
    with pytest.raises(TemplateError, match="sandbox"):
        render_template("{{ ''.__class__.__mro__[1].__subclasses__() }}", {})


def test_sandbox_refuses_mutation() -> None:
    with pytest.raises(TemplateError, match="sandbox"):
        render_template("{% set _ = choices.append('E') %}{{ choices }}", {"choices": ["A"]})


def test_undefined_variable_and_syntax_errors() -> None:
    with pytest.raises(TemplateError, match="'questoin' is undefined"):
        render_template("{{ questoin }}", {"question": "q"})
    with pytest.raises(TemplateError, match="syntax error on line 2"):
        check_template("ok\n{% if %}")


def test_json_filter_keeps_chinese() -> None:
    assert render_template("{{ f | json }}", {"f": {"甲方": "张三"}}) == '{"甲方": "张三"}'
