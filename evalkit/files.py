"""The one boundary where the files a user gives evalkit become values, or one located error.

Every file evalkit reads (items, drafts, mappings, configs, model folders' configs, run
folders, training data) is read here, so that each way a file can be bad (not UTF-8, not
JSON or YAML, cut short, nested thousands deep, a number of 5,000 digits, too large, the wrong
shape) becomes a `Problem` located as `FILE:LINE: FIELD: REASON` and raised as
`ProblemsFound`: never a traceback. (Writing is `evalkit.outputs`: outputs are checked before
work starts and appear whole or not at all.)
"""

from __future__ import annotations

import json
import re
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from evalkit.errors import NotFoundError, Problem, ProblemsFound

MAX_DEPTH = 100  # nesting of lists and objects; no evalkit file needs more than a dozen
MAX_YAML_NODES = 100_000  # values after expanding YAML aliases ("billion laughs")
MAX_YAML_BYTES = 16 << 20
MAX_JSON_BYTES = 1 << 30  # one JSON document (a manifest, a summary, a tokenizer config)
MAX_TEXT_BYTES = 4 << 30  # a text file read whole (a CSV, a training text)
MAX_LINES_BYTES = 64 << 30  # a JSONL file, read line by line
_SNIFF_BYTES = 8192  # how much of a file's start tells text from binary

M = TypeVar("M", bound=BaseModel)
Where = str | Path


def bad(where: Where, reason: str, field: str = "-", exit_code: int | None = None) -> ProblemsFound:
    """One located problem as an error, to raise."""
    return ProblemsFound([Problem(str(where), field, reason)], exit_code=exit_code)


def at(path: Where, line: int | None) -> str:
    """`FILE:LINE`, or `FILE` when the line is not known."""
    return f"{path}:{line}" if line else str(path)


def kind_of(value: Any) -> str:
    """What a parsed value is, in the words of someone who wrote the file."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "an object" if value else "an empty object"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (int, float)):
        return "a number"
    return "null" if value is None else type(value).__name__


# --- bytes and text ---------------------------------------------------------------------------


def _open(path: Path, what: str, max_bytes: int) -> IO[bytes]:
    """Open a regular file for reading, with every reason it cannot be one located."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise NotFoundError(f"{path}: no such {what}") from None
    except OSError as e:
        raise bad(path, f"cannot read: {e.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise bad(path, f"is a folder, not a {what}")
    if not stat.S_ISREG(info.st_mode):
        raise bad(path, f"not a regular file; expected a {what}")
    if info.st_size > max_bytes:
        raise bad(path, f"too large ({info.st_size:,} bytes; at most {max_bytes:,} are read)")
    try:
        return path.open("rb")
    except OSError as e:
        raise bad(path, f"cannot read: {e.strerror}") from None


def read_bytes(path: Path, what: str = "file", max_bytes: int = MAX_TEXT_BYTES) -> bytes:
    with _open(path, what, max_bytes) as f:
        try:
            return f.read(max_bytes + 1)
        except OSError as e:
            raise bad(path, f"cannot read: {e.strerror}") from None


_UTF16_32 = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}


def sniff(head: bytes, path: Where) -> None:
    """Refuse, as one problem, a file that is not text at all or text in another encoding
    (rather than one problem per line of it)."""
    for mark, encoding in _UTF16_32.items():
        if head.startswith(mark):
            raise bad(
                path,
                f"not UTF-8 text: {encoding} (it starts with a byte-order mark); save it as UTF-8",
            )
    nul = head.find(b"\0")
    if nul >= 0:
        raise bad(
            at(path, head.count(b"\n", 0, nul) + 1),
            f"not a text file: binary data (a NUL byte at offset {nul})",
        )


def decode(data: bytes, path: Where, first_line: int = 1, offset: int = 0) -> str:
    """UTF-8 text (a leading byte-order mark dropped); an undecodable byte is located by line
    and by its offset in the file (`offset`: where `data` starts in it)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = first_line + data.count(b"\n", 0, e.start)
        if e.reason == "unexpected end of data" and not data[e.start :].strip(
            bytes(range(128, 256))
        ):
            reason = "not UTF-8 text (it ends inside a character: cut short, or another encoding)"
            raise bad(at(path, line), reason) from None
        byte = data[e.start]
        raise bad(
            at(path, line),
            f"not UTF-8 text ({e.reason}: byte 0x{byte:02x} at offset {offset + e.start})",
        ) from None
    return text.removeprefix("\ufeff") if first_line == 1 else text


def read_text(path: Path, what: str = "file", max_bytes: int = MAX_TEXT_BYTES) -> str:
    """A whole file as UTF-8 text."""
    data = read_bytes(path, what, max_bytes)
    sniff(data[:_SNIFF_BYTES], path)
    return decode(data, path)


# --- structure limits -------------------------------------------------------------------------


def too_deep(value: Any, limit: int = MAX_DEPTH, max_nodes: int | None = None) -> str | None:
    """Why a parsed value is too deep or (with `max_nodes`) too large, or None."""
    stack = [(value, 1)]
    nodes = 0
    while stack:
        current, depth = stack.pop()
        children = current.values() if isinstance(current, dict) else current
        if depth > limit:
            return f"nested more than {limit} levels deep"
        nodes += len(children)
        if max_nodes is not None and nodes > max_nodes:
            return f"more than {max_nodes:,} values (after expanding aliases)"
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return None


_LONG_NUMBER = re.compile(r"\d{1000,}")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _number_problem(text: str, where: Where, line: int | None, error: ValueError) -> ProblemsFound:
    match = _LONG_NUMBER.search(text)
    digits = len(match.group()) if match else 0
    if match and line is None:
        line = text.count("\n", 0, match.start()) + 1
    if "digits" in str(error):
        most = getattr(sys, "get_int_max_str_digits", lambda: 4300)()
        return bad(at(where, line), f"a number of {digits:,} digits; at most {most:,} are read")
    return bad(at(where, line), f"unreadable value: {error}")


# --- JSON -------------------------------------------------------------------------------------


def parse_json(text: str, path: Where, line: int | None = None) -> Any:
    """One JSON value. `line`: the text is that line of `path` (JSONL); otherwise the error's
    own line in the document is reported."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        where = at(path, line or e.lineno)
        message = e.msg.removesuffix(" at")  # "Invalid control character at"
        raise bad(where, f"invalid JSON: {message} at column {e.colno}") from None
    except RecursionError:
        raise bad(at(path, line), f"nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as e:  # a number longer than int's max_str_digits
        raise _number_problem(text, path, line, e) from None
    if isinstance(value, (dict, list)) and text.count("[") + text.count("{") > MAX_DEPTH:
        reason = too_deep(value)
        if reason:
            raise bad(at(path, line), reason)
    return value


def read_json(path: Path, what: str = "file", max_bytes: int = MAX_JSON_BYTES) -> Any:
    """A whole file as one JSON value."""
    return parse_json(read_text(path, what, max_bytes), path)


@dataclass(frozen=True)
class Line:
    """One non-blank line of a JSONL file: its value, or why it could not be read."""

    where: str  # FILE:LINE
    number: int
    value: Any = None
    problem: Problem | None = None
    escapes: bool = False  # the line has "\\ud800"-like escapes: it may hold a lone surrogate


def jsonl_lines(path: Path, what: str = "file", max_bytes: int = MAX_LINES_BYTES) -> Iterator[Line]:
    """Every non-blank line of a JSONL file, parsed; a bad line is a `Line` with a problem,
    so that a caller can report every bad line at once."""
    with _open(path, what, max_bytes) as f:
        sniff(f.peek(_SNIFF_BYTES)[:_SNIFF_BYTES] if hasattr(f, "peek") else b"", path)
        offset = 0
        for number, raw in enumerate(f, start=1):
            where = f"{path}:{number}"
            try:
                text = decode(raw, path, number, offset).rstrip("\r\n")
                if number == 1:
                    text = text.removeprefix("\ufeff")
                if text.strip():
                    escapes = _SURROGATE_ESCAPE.search(text) is not None
                    yield Line(where, number, parse_json(text, path, number), escapes=escapes)
            except ProblemsFound as e:
                yield Line(where, number, problem=e.problems[0])
            offset += len(raw)


def read_jsonl(path: Path, what: str = "file", max_bytes: int = MAX_LINES_BYTES) -> Iterator[Line]:
    """Every non-blank line of a JSONL file, parsed; the first bad line raises."""
    for line in jsonl_lines(path, what, max_bytes):
        if line.problem is not None:
            raise ProblemsFound([line.problem])
        yield line


# --- YAML -------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """YAML as evalkit reads it: safe types, 1e-3 is a number (as in YAML 1.2 and OmegaConf),
    and dates stay text."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def parse_yaml(text: str, path: Where) -> Any:
    """One YAML document, with safe types only."""
    try:
        value = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        context = f" ({e.context})" if e.context else ""
        raise bad(
            at(path, mark.line + 1 if mark else None), f"invalid YAML: {e.problem}{context}"
        ) from None
    except yaml.YAMLError as e:
        raise bad(path, f"invalid YAML: {e}") from None
    except RecursionError:
        raise bad(path, f"nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as e:  # a 5,000-digit number, a date out of range
        raise _number_problem(text, path, None, e) from None
    if isinstance(value, (dict, list)):
        reason = too_deep(value, MAX_DEPTH, MAX_YAML_NODES)
        if reason:
            raise bad(path, reason)
    return value


def read_yaml(path: Path, what: str = "file", max_bytes: int = MAX_YAML_BYTES) -> Any:
    """A whole file as one YAML document."""
    return parse_yaml(read_text(path, what, max_bytes), path)


# --- shapes -----------------------------------------------------------------------------------


def expect_object(value: Any, where: Where, field: str = "-", empty_ok: bool = True) -> dict:
    """`value` if it is a JSON/YAML object, else "expected an object, got a list" at `where`."""
    if not isinstance(value, dict) or (not value and not empty_ok):
        raise bad(where, f"expected an object, got {kind_of(value)}", field)
    return value


def field_path(loc: tuple[int | str, ...]) -> str:
    """`a.b[2].c` for a pydantic error location."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "-"


TYPE_ERRORS = {
    "string_type": "text",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "list_type": "a list",
    "none_required": "null",
}


def _short(value: Any, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def describe_error(error: ErrorDetails) -> str:
    """A pydantic error in the words of someone who wrote the file."""
    kind, value = error["type"], error.get("input")
    if kind == "missing":
        return "missing"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind in TYPE_ERRORS:
        return f"expected {TYPE_ERRORS[kind]}, got {kind_of(value)}"
    if kind == "too_short":
        least = error.get("ctx", {}).get("min_length")
        got = len(value) if isinstance(value, (list, dict, str)) else "fewer"
        return f"expected at least {least} entries, got {got}"
    if kind == "literal_error":
        return f"expected {error.get('ctx', {}).get('expected')}, got {_short(value)}"
    message = str(error["msg"]).removeprefix("Value error, ")
    return message[:1].lower() + message[1:]


def problems_from_validation(
    error: ValidationError, where: Where | Callable[[tuple[int | str, ...]], str], prefix: str = ""
) -> list[Problem]:
    """One Problem per pydantic error; `where` may map an error's location to a line."""
    problems = []
    for err in error.errors(include_url=False):
        loc = err["loc"]
        field = field_path(loc)
        if prefix:
            field = prefix if field == "-" else f"{prefix}.{field}".replace(".[", "[")
        located = where(loc) if callable(where) else str(where)
        problems.append(Problem(located, field, describe_error(err)))
    return problems


def validate(
    model: type[M], value: Any, where: Where, prefix: str = "", exit_code: int | None = None
) -> M:
    """`value` as a `model`, or every way it is the wrong shape, located at `where`.

    An empty object, a list or a number where the model's object belongs is one problem, not
    one per missing field.
    """
    required = [name for name, f in model.model_fields.items() if f.is_required()]
    if not isinstance(value, dict) or (not value and required):
        names = ", ".join(required[:4]) + (", ..." if len(required) > 4 else "")
        expected = f"an object with {names}" if required else "an object"
        raise bad(where, f"expected {expected}, got {kind_of(value)}", prefix or "-", exit_code)
    try:
        return model.model_validate(value)
    except ValidationError as e:
        problems = problems_from_validation(e, where, prefix)
        raise ProblemsFound(problems, exit_code=exit_code) from None


def unencodable(value: Any, path: str = "") -> tuple[str, str] | None:
    """(field path, reason) of the first string in `value` that cannot be written as UTF-8
    (a lone surrogate such as JSON's "\\ud800"), or None."""
    if isinstance(value, str):
        if value.isascii():  # a flag lookup: most text is checked in no time
            return None
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as e:
            char = value[e.start]
            return path or "-", (
                f"contains {char!r} at character {e.start}, which cannot be written as UTF-8 "
                "(a lone surrogate)"
            )
        return None
    if isinstance(value, BaseModel):
        value = {name: getattr(value, name) for name in type(value).model_fields}
    if isinstance(value, dict):
        for key, v in value.items():
            found = unencodable(key, path) or unencodable(v, f"{path}.{key}" if path else key)
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for k, v in enumerate(value):
            found = unencodable(v, f"{path}[{k}]")
            if found:
                return found
    return None
