"""Bad inputs made here, and what every command must do with them.

Tables of ways a file can be bad, by kind of file (a JSON document, a JSONL file, YAML, a
CSV table), each a function from the good file's bytes to the bad ones; a world of good
inputs (a draft, published suites, a model folder and its config, a scored run) that a
test copies and spoils one file of; and `assert_refused`: a non-zero exit, one located line
naming the bad file, no traceback, and nothing written anywhere.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from drafts import ITEMS, SPEC, snapshot, write_draft
from evalkit.cli import cli

Spoil = Callable[[bytes], bytes]

# The world's drafts end with an item nothing else depends on: a cut last line loses only it.
LAST_ITEM = {
    "id": "m3",
    "task": "mcq",
    "language": "en",
    "provenance": {"author": "li.na"},
    "question": "Is a counter-offer an acceptance?",
    "choices": ["Yes", "No, it rejects the offer"],
    "answer": "B",
}

DEEP = 5000  # far past any parser's recursion limit
NESTED = 150  # parses, but past evalkit's limit of 100
DIGITS = 5000  # past int's 4,300-digit limit
CUT = "invalid JSON|cut short"  # a file cut inside a character says so


def _first_line(data: bytes) -> bytes:
    return data.split(b"\n", 1)[0]


def _cut_last_line(data: bytes) -> bytes:
    body = data.rstrip(b"\n")
    last = body.rfind(b"\n") + 1
    return body[: last + (len(body) - last) // 2]


def _with_line(line: bytes) -> Spoil:
    """The good JSONL file with `line` as its second line."""

    def spoil(data: bytes) -> bytes:
        lines = data.rstrip(b"\n").split(b"\n")
        return b"\n".join([lines[0], line, *lines[1:]]) + b"\n"

    return spoil


def _replace_field(field: str, value: Any, line: int = 0) -> Spoil:
    """A JSONL file (or a JSON object when it has one line) with one field's value changed."""

    def spoil(data: bytes) -> bytes:
        lines = data.rstrip(b"\n").split(b"\n")
        if len(lines) == 1 and not data.lstrip().startswith(b"{"):
            raise AssertionError("not an object")
        records = [json.loads(x) for x in lines] if len(lines) > 1 else [json.loads(data)]
        records[line][field] = value
        return b"\n".join(json.dumps(r, ensure_ascii=False).encode() for r in records) + b"\n"

    return spoil


# --- JSON documents: manifest.json, summary.json, config.json, a JSON import source --------------

JSON_DOCUMENT: dict[str, tuple[Spoil, str]] = {
    "not-utf8": (lambda d: d.replace(b'"', b'"\xff', 1), "not UTF-8"),
    "latin-1": (lambda d: d.replace(b'"', b'"caf\xe9', 1), "UTF-8"),
    "utf-16": (lambda d: d.decode().encode("utf-16"), "not UTF-8"),
    "binary": (lambda d: bytes(range(256)), "not a text file"),
    "truncated": (lambda d: d[: len(d) // 2], CUT),
    "empty": (lambda d: b"", "invalid JSON"),
    "trailing-garbage": (lambda d: d + b"}\n{", "invalid JSON"),
    "nul-in-text": (lambda d: d.replace(b'"', b'"\x00', 1), "invalid JSON|not a text file"),
    "deep": (lambda d: b"[" * DEEP + b"]" * DEEP, "nested more than"),
    "deep-object": (lambda d: b'{"a":' * DEEP + b"1" + b"}" * DEEP, "nested more than"),
    "nested-150": (lambda d: b'{"a": ' + b"[" * NESTED + b"]" * NESTED + b"}", "nested more"),
    "huge-number": (lambda d: b'{"n": ' + b"9" * DIGITS + b"}", "digits"),
    "array": (lambda d: b"[]", "expected"),
    "number": (lambda d: b"42", "expected"),
    "text": (lambda d: b'"text"', "expected"),
    "null": (lambda d: b"null", "expected"),
    "empty-object": (lambda d: b"{}", "expected"),
}

# --- JSONL files: items, generations, results, training data, a JSONL import source -------------

JSONL_FILE: dict[str, tuple[Spoil, str]] = {
    "not-utf8-line": (_with_line(b'{"id": "caf\xe9"}'), "not UTF-8"),
    "utf-16": (lambda d: d.decode().encode("utf-16"), "not UTF-8"),
    "cut-last-line": (_cut_last_line, CUT),
    "cut-short": (lambda d: d[: len(d) - 25], CUT),
    "deep-line": (_with_line(b"[" * DEEP + b"]" * DEEP), "nested more than"),
    "nested-150-line": (_with_line(b'{"a": ' + b"[" * NESTED + b"]" * NESTED + b"}"), "nested"),
    "huge-number-line": (_with_line(b'{"n": ' + b"9" * DIGITS + b"}"), "digits"),
    "array-line": (_with_line(b"[1, 2]"), "expected"),
    "number-line": (_with_line(b"42"), "expected"),
    "text-line": (_with_line(b'"just text"'), "expected"),
    "null-line": (_with_line(b"null"), "expected"),
    "control-char": (_with_line(b'{"id": "a\x01b"}'), "invalid JSON"),
}

# --- YAML: suite.yaml, a mapping, --config, models/NAME.yaml ------------------------------------

_LAUGHS = b"a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + b"".join(
    f"a{k}: &a{k} [{', '.join([f'*a{k - 1}'] * 10)}]\n".encode() for k in range(1, 9)
)

YAML_FILE: dict[str, tuple[Spoil, str]] = {
    "not-utf8": (lambda d: b"# caf\xe9\n" + d, "not UTF-8"),
    "utf-16": (lambda d: d.decode().encode("utf-16"), "not UTF-8"),
    "unclosed-list": (lambda d: d + b"extra: [a, b\n", "invalid YAML"),
    "unclosed-quote": (lambda d: d + b"extra: 'abc\n", "invalid YAML"),
    "bad-indent": (lambda d: b"a: 1\n  b: 2\n" + d, "invalid YAML"),
    "tab-indent": (lambda d: b"a:\n\t- 1\n" + d, "invalid YAML"),
    "two-documents": (lambda d: d + b"---\nb: 2\n", "invalid YAML"),
    "python-tag": (lambda d: d + b"extra: !!python/object/apply:os.system ['true']\n", "YAML"),
    "deep": (lambda d: b"a: " + b"[" * DEEP + b"]" * DEEP + b"\n", "nested more than"),
    "nested-150": (lambda d: b"a: " + b"[" * NESTED + b"]" * NESTED + b"\n", "nested more"),
    "huge-number": (lambda d: b"n: " + b"9" * DIGITS + b"\n", "digits"),
    "alias-bomb": (lambda d: _LAUGHS, "values"),
    "list": (lambda d: b"- a\n- b\n", "expected"),
    "scalar": (lambda d: b"just some text\n", "expected"),
    "binary": (lambda d: bytes(range(256)), "not a text file"),
}

# --- CSV: an import source ----------------------------------------------------------------------

CSV_FILE: dict[str, tuple[Spoil, str]] = {
    "latin-1": (lambda d: d.decode().replace("offer", "offre à", 1).encode("latin-1"), "UTF-8"),
    "utf-16": (lambda d: d.decode().encode("utf-16"), "not UTF-8"),
    "binary": (lambda d: bytes(range(256)), "not a text file"),
    "empty": (lambda d: b"", "no rows"),
    "header-only": (_first_line, "no rows"),
    "huge-cell": (lambda d: d + b'"' + b"x" * 200_000 + b'",a\n', "CSV"),
    "extra-cells": (lambda d: d + b"a,b,c,d,e\n", "columns"),
}


@dataclass
class World:
    """Good inputs of every kind, in one folder: spoil one file, run one command."""

    root: Path

    @property
    def suites(self) -> Path:
        return self.root / "suites"

    @property
    def draft(self) -> Path:
        return self.root / "draft"

    @property
    def version(self) -> Path:
        return self.suites / "mini" / "v1"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def checkpoint(self) -> Path:
        return self.root / "ckpt"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def out(self) -> Path:
        return self.root / "out"


def build_world(root: Path) -> World:
    """Everything a test spoils: built once per session, copied per test."""
    from run_folders import write_run_folder

    from evalkit.scoring import score_run
    from evalkit.suite.draft import read_draft
    from evalkit.suite.store import SuiteStore

    world = World(root)
    write_draft(world.draft, SPEC, [*ITEMS, LAST_ITEM])
    store = SuiteStore(world.suites)
    draft, problems = read_draft(world.draft)
    assert draft is not None, problems
    v1 = store.publish(draft, author="t", changelog="first")
    changed = [{**ITEMS[0], "tags": ["offer"]}, *ITEMS[1:]]
    draft2, _ = read_draft(write_draft(root / "draft2", SPEC, changed))
    assert draft2 is not None
    store.publish(draft2, author="t", changelog="tag m1")
    _write_checkpoint(world.checkpoint)
    world.models.mkdir()
    (world.models / "base.yaml").write_text("path: ../ckpt\nkind: base\n", encoding="utf-8")
    (world.root / "run.yaml").write_text("suite: mini\nmodel: base\n", encoding="utf-8")
    models = [
        {"name": "base", "kind": "base", "stage": "base", "starting_point": None},
        {"name": "chat", "kind": "chat", "stage": "chat", "starting_point": None},
    ]
    answers = {"base": {"m1": "B", "e1": '{"party_a": "北京某公司"}'}, "chat": {}}
    write_run_folder(
        world.run,
        world.suites,
        [v1],
        models,
        lambda model, _v, item, _k: answers[model].get(item.id, "I do not know"),
    )
    score_run(world.run, resamples=100)
    world.out.mkdir()
    (world.root / "train.jsonl").write_text('{"text": "nothing to see"}\n', encoding="utf-8")
    (world.root / "train.txt").write_text("Nothing to see here.\n", encoding="utf-8")
    (world.root / "src.jsonl").write_bytes((world.draft / "items.jsonl").read_bytes())
    (world.root / "src.json").write_text(json.dumps(ITEMS, ensure_ascii=False), encoding="utf-8")
    (world.root / "src.csv").write_text(
        "Q,Ans\nWhat is an offer?,a proposal\nWhat is acceptance?,assent\n", encoding="utf-8"
    )
    (world.root / "map.yaml").write_text(
        "columns: {question: Q, answers: Ans}\ndefaults: {task: qa, language: en, "
        "provenance: {author: li.na}}\n",
        encoding="utf-8",
    )
    return world


def _write_checkpoint(folder: Path) -> None:
    """A model folder evalkit accepts without an engine: configs, a real tokenizer, weights."""
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel

    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "llama"}', encoding="utf-8")
    Tokenizer(WordLevel({"[UNK]": 0, "a": 1}, unk_token="[UNK]")).save(
        str(folder / "tokenizer.json")
    )
    (folder / "tokenizer_config.json").write_text('{"bos_token": "<s>"}', encoding="utf-8")
    (folder / "model.safetensors").write_bytes(b"\0" * 64)


def copy_world(template: World, root: Path) -> World:
    shutil.copytree(template.root, root, symlinks=True)
    for path in root.rglob("*"):  # published files are read-only; tests spoil them
        if path.is_file():
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return World(root)


def spoil(path: Path, how: Spoil) -> None:
    path.write_bytes(how(path.read_bytes()))


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def state(root: Path) -> tuple[dict[str, bytes], list[str]]:
    """Every file's bytes and every folder under `root`."""
    folders = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_dir())
    return snapshot(root), folders


def assert_refused(
    result: Result,
    named: Path | str,
    before: tuple[dict[str, bytes], list[str]],
    root: Path,
    reason: str = "",
    exit_codes: tuple[int, ...] = (1, 2),
) -> str:
    """A user's mistake: exit 1 or 2, no traceback, exactly one line naming `named` (located:
    it starts with the path, or with "error: " and the path), at most one summary line
    ("error: ..."), `reason` in the located line, and nothing under `root` changed."""
    output = result.output
    exception = result.exception
    assert exception is None or isinstance(exception, SystemExit), (
        f"a traceback: {exception!r}\n{output}"
    )
    assert "Traceback" not in output, output
    assert result.exit_code in exit_codes, f"exit {result.exit_code}\n{output}"
    lines = [line for line in output.splitlines() if line.strip()]
    naming = [line for line in lines if str(named) in line]
    assert len(naming) == 1, f"expected one line naming {named}:\n{output}"
    located = naming[0]
    assert located.startswith((str(named), f"error: {named}")), located
    assert any(r.lower() in located.lower() for r in reason.split("|")), (
        f"{reason!r} not in {located!r}"
    )
    others = [line for line in lines if line != located]
    assert len(others) <= 1 and all(line.startswith("error: ") for line in others), output
    assert state(root) == before, "the command changed files although it failed"
    return located


def read_only(path: Path) -> None:
    path.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)


def writable(path: Path) -> None:
    os.chmod(path, stat.S_IRWXU)
