"""Prompt templates: Jinja rendered in a sandbox, with item text passed as data only.

Item text can contain `{{ }}` or `{% %}`; it is only ever a variable's value, never template
source, so it is printed literally. Template source (written by suite authors) runs in an
immutable sandbox that refuses attribute tricks and mutation.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

_ENV = ImmutableSandboxedEnvironment(
    undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False
)
# Jinja's own `tojson` escapes non-ASCII and HTML characters; prompts need JSON as a person
# writes it, Chinese included.
_ENV.filters["json"] = lambda value: json.dumps(value, ensure_ascii=False)


class TemplateError(ValueError):
    """A template that does not parse, or does not render for some item."""


def check_template(source: str) -> None:
    """Raise TemplateError if `source` is not valid Jinja."""
    try:
        _ENV.parse(source)
    except TemplateSyntaxError as e:
        raise TemplateError(f"template syntax error on line {e.lineno}: {e.message}") from None


@lru_cache(maxsize=256)
def _compiled(source: str) -> Template:
    return _ENV.from_string(source)


def render_template(source: str, variables: dict[str, Any]) -> str:
    """Render `source` with `variables` in the sandbox; raise TemplateError on any failure."""
    try:
        return _compiled(source).render(**variables)
    except TemplateSyntaxError as e:
        raise TemplateError(f"template syntax error on line {e.lineno}: {e.message}") from None
    except UndefinedError as e:
        raise TemplateError(f"template uses an undefined variable: {e.message}") from None
    except SecurityError as e:
        raise TemplateError(f"template refused by the sandbox: {e}") from None
