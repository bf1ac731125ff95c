"""The reader (`evalkit.files`) and the writer (`evalkit.outputs`) on their own: every way a
file can be bad is one located `Problem`; an output appears whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import BaseModel

from evalkit.errors import NotFoundError, ProblemsFound, UsageError
from evalkit.files import (
    jsonl_lines,
    parse_json,
    parse_yaml,
    read_jsonl,
    read_text,
    too_deep,
    unencodable,
    validate,
)
from evalkit.outputs import atomic_output, check_output


def _problem(error: pytest.ExceptionInfo[ProblemsFound]) -> str:
    assert len(error.value.problems) == 1
    return str(error.value.problems[0])


def test_undecodable_byte_is_located_by_line_and_offset(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_bytes(b"ok\nstill ok\nbad \xff here\n")
    with pytest.raises(ProblemsFound) as e:
        read_text(path)
    reason = "not UTF-8 text (invalid start byte: byte 0xff at offset 16)"
    assert _problem(e) == f"{path}:3: -: {reason}"


def test_a_bom_is_dropped_and_utf16_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_bytes("\ufeffhello".encode())
    assert read_text(path) == "hello"
    path.write_bytes("a\nb\nc\n".encode("utf-16"))
    with pytest.raises(ProblemsFound, match="UTF-16"):
        read_text(path)


def test_size_limit_folders_fifos_and_missing_files(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("0123456789", encoding="utf-8")
    with pytest.raises(ProblemsFound, match="too large"):
        read_text(path, max_bytes=5)
    with pytest.raises(ProblemsFound, match="is a folder"):
        read_text(tmp_path)
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(ProblemsFound, match="not a regular file"):
        read_text(tmp_path / "fifo")
    with pytest.raises(NotFoundError, match="no such config file"):
        read_text(tmp_path / "nope.yaml", "config file")


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ('{"a":\n  [1,\n  2', 3, "invalid JSON"),
        ("[" * 3000 + "]" * 3000, None, "nested more than 100"),
        ('{"a": ' + "[" * 101 + "]" * 101 + "}", None, "nested more than 100"),
        ('{\n"n":\n' + "1" * 5000 + "}", 3, "a number of 5,000 digits"),
    ],
)
def test_json_problems(text: str, line: int | None, reason: str) -> None:
    with pytest.raises(ProblemsFound) as e:
        parse_json(text, "f.json")
    assert _problem(e).startswith(f"f.json{':' + str(line) if line else ''}: -: {reason}")


def test_jsonl_reports_every_bad_line_or_stops_at_the_first(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(b'{"a": 1}\n\n{"a": \n\xff\n  \n[1]\r\n')
    lines = list(jsonl_lines(path))
    assert [(x.number, x.problem is None) for x in lines] == [
        (1, True),
        (3, False),
        (4, False),
        (6, True),
    ]
    with pytest.raises(ProblemsFound, match=r"x\.jsonl:3: -: invalid JSON"):
        list(read_jsonl(path))


def test_yaml_numbers_dates_aliases_and_tags() -> None:
    assert parse_yaml("a: 1e-3\nb: 2024-01-02\nc: 1.5\n", "c.yaml") == {
        "a": 0.001,
        "b": "2024-01-02",
        "c": 1.5,
    }
    pairs = zip("abcdef", "bcdefg", strict=True)
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{k}: &{k} [{', '.join([f'*{p}'] * 10)}]\n" for p, k in pairs
    )
    with pytest.raises(ProblemsFound, match="more than 100,000 values"):
        parse_yaml(laughs, "c.yaml")
    with pytest.raises(ProblemsFound, match=r"c\.yaml:1: -: invalid YAML"):
        parse_yaml("a: !!python/name:os.system\n", "c.yaml")
    with pytest.raises(ProblemsFound, match=r"c\.yaml:2: -: invalid YAML"):
        parse_yaml("a: 1\n  b: 2\n", "c.yaml")


class _Pair(BaseModel):
    name: str
    size: int


@pytest.mark.parametrize(
    ("value", "lines"),
    [
        ({}, ["w: -: expected an object with name, size, got an empty object"]),
        ([1], ["w: -: expected an object with name, size, got a list"]),
        ({"name": 5, "size": "x"}, ["w: name: expected text, got a number", "w: size: "]),
    ],
)
def test_validate_says_what_shape_was_expected(value: object, lines: list[str]) -> None:
    with pytest.raises(ProblemsFound) as e:
        validate(_Pair, value, "w")
    got = [str(p) for p in e.value.problems]
    assert len(got) == len(lines)
    assert all(g.startswith(x) for g, x in zip(got, lines, strict=True))


def test_too_deep_and_unencodable() -> None:
    assert too_deep([[[1]]], limit=3) is None and too_deep([[[[1]]]], limit=3)
    assert unencodable({"a": ["ok", {"b": "x\ud800"}]}) == (
        "a[1].b",
        "contains '\\ud800' at character 1, which cannot be written as UTF-8 (a lone surrogate)",
    )
    assert unencodable({"a": "合同 \U0001f600"}) is None


def test_atomic_output_leaves_nothing_behind_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "new" / "deeper" / "out.jsonl"
    with pytest.raises(RuntimeError), atomic_output(target) as staging:
        staging.write_text("half", encoding="utf-8")
        raise RuntimeError("failed midway")
    assert list(tmp_path.iterdir()) == []
    with atomic_output(target) as staging:
        staging.write_text("whole", encoding="utf-8")
    assert target.read_text(encoding="utf-8") == "whole"
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.jsonl"]


def test_atomic_output_of_a_folder_replaces_an_empty_one(tmp_path: Path) -> None:
    target = tmp_path / "ds"
    target.mkdir()
    with atomic_output(target) as staging:
        staging.mkdir()
        (staging / "a.txt").write_text("a", encoding="utf-8")
    assert (target / "a.txt").is_file() and len(list(tmp_path.iterdir())) == 1


def test_check_output_refuses_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    cases = {
        tmp_path / "file": "already exists",
        tmp_path: "is a folder",
        tmp_path / "file" / "a" / "b.jsonl": "is a file, not a folder",
    }
    for path, reason in cases.items():
        with pytest.raises(UsageError, match=reason) as e:
            check_output(path)
        assert "\n" not in str(e.value) and str(e.value).startswith(str(path))
