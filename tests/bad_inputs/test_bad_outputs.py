"""Output paths that cannot or must not be written, for every command that writes: refused in
one line before any work, and nothing written (no file, no folder made on the way)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from badkit import World, assert_refused, invoke, read_only, state

# (what is wrong with the path, how to make it so, what the line says)
Setup = Callable[[World, Path], Path]  # returns the path the command is given


def _exists(world: World, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("precious\n", encoding="utf-8")
    return path


def _is_a_folder(world: World, path: Path) -> Path:
    (path / "inside").mkdir(parents=True)
    return path


def _non_empty_folder(world: World, path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "precious.txt").write_text("keep\n", encoding="utf-8")
    return path


def _under_a_file(world: World, path: Path) -> Path:
    blocker = world.out / "a-file"
    blocker.write_text("I am a file\n", encoding="utf-8")
    return blocker / "sub" / path.name


def _read_only_folder(world: World, path: Path) -> Path:
    folder = world.out / "locked"
    folder.mkdir()
    read_only(folder)
    return folder / path.name


def _read_only_file(world: World, path: Path) -> Path:
    _exists(world, path)
    path.chmod(0o444)
    return path


FILE_OUTPUT: dict[str, tuple[Setup, str]] = {
    "exists": (_exists, "already exists"),
    "is-a-folder": (_is_a_folder, "is a folder"),
    "under-a-file": (_under_a_file, "is a file"),
    "in-a-read-only-folder": (_read_only_folder, "read-only"),
}
FOLDER_OUTPUT: dict[str, tuple[Setup, str]] = {
    "non-empty-folder": (_non_empty_folder, "not empty"),
    "is-a-file": (_exists, "not a folder"),
    "under-a-file": (_under_a_file, "is a file"),
    "in-a-read-only-folder": (_read_only_folder, "read-only"),
}


@pytest.mark.parametrize("case", [*FILE_OUTPUT, "read-only-file-with-force"])
def test_import_out(world: World, case: str) -> None:
    setup, reason = FILE_OUTPUT.get(case, (_read_only_file, "read-only"))
    out = setup(world, world.out / "items.jsonl")
    before = state(world.root)
    force = ["--force"] if case == "read-only-file-with-force" else []
    result = invoke("suite", "import", world.root / "src.jsonl", "-o", out, *force)
    assert_refused(result, out, before, world.root, reason)


@pytest.mark.parametrize(
    ("fmt", "case"),
    [
        *((fmt, case) for fmt in ("jsonl", "parquet") for case in FILE_OUTPUT),
        *((fmt, case) for fmt in ("hf", "draft", "lm-eval", "inspect") for case in FOLDER_OUTPUT),
    ],
)
def test_export_out(world: World, fmt: str, case: str) -> None:
    setup, reason = {**FILE_OUTPUT, **FOLDER_OUTPUT}[case]
    out = setup(world, world.out / f"export-{fmt}")
    before = state(world.root)
    result = invoke(
        "suite", "--suites-dir", world.suites, "export", "mini@v1", "--format", fmt, "--out", out
    )
    assert_refused(result, out, before, world.root, reason)


@pytest.mark.parametrize("case", ["under-a-file", "in-a-read-only-folder"])
def test_publish_into_a_suites_folder_that_cannot_be_written(world: World, case: str) -> None:
    setup, reason = FOLDER_OUTPUT[case]
    suites = setup(world, world.out / "suites")
    before = state(world.root)
    result = invoke(
        "suite", "--suites-dir", suites, "publish", world.draft, "--author", "a", "-m", "x"
    )
    assert_refused(result, suites, before, world.root, reason)


def test_publish_into_a_read_only_suite(world: World) -> None:
    read_only(world.suites)
    before = state(world.root)
    result = invoke(
        "suite", "--suites-dir", world.suites, "publish", world.draft, "--author", "a", "-m", "x"
    )
    assert_refused(result, world.suites, before, world.root, "read-only")


@pytest.mark.parametrize("command", ["score", "report"])
def test_score_and_report_into_a_read_only_run_folder(world: World, command: str) -> None:
    read_only(world.run)
    before = state(world.root)
    result = invoke(command, world.run, "--suites-dir", world.suites)
    assert_refused(result, world.run, before, world.root, "read-only")


@pytest.mark.parametrize(
    ("command", "name"),
    [
        ("score", "results.jsonl"),
        ("score", "summary.json"),
        ("report", "report.html"),
        ("report", "summary.csv"),
        ("report", "summary.md"),
    ],
)
def test_score_and_report_outputs_that_are_folders(world: World, command: str, name: str) -> None:
    path = world.run / name
    path.unlink(missing_ok=True)
    _is_a_folder(world, path)
    before = state(world.root)
    result = invoke(command, world.run, "--suites-dir", world.suites)
    assert_refused(result, path, before, world.root, "is a folder")


def _is_a_file(world: World, path: Path) -> Path:
    path.write_text("a file\n", encoding="utf-8")
    return path


RUN_OUTPUTS: dict[str, tuple[str, Setup, str]] = {
    "out-is-a-file": ("out", _is_a_file, "is a file"),
    "out-under-a-file": ("out", _under_a_file, "is a file"),
    "out-read-only": ("out", _read_only_folder, "read-only"),
    "run-folder-not-empty": ("run_id", _non_empty_folder, "not empty"),
    "cache-is-a-folder": ("cache", _is_a_folder, "is a folder"),
    "cache-under-a-file": ("cache", _under_a_file, "is a file"),
    "cache-read-only-file": ("cache", _read_only_file, "read-only"),
}


@pytest.mark.parametrize("case", RUN_OUTPUTS)
def test_run_outputs(world: World, case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from evalkit.errors import EvalkitError

    def no_engine(*args: object, **kwargs: object) -> None:
        raise EvalkitError("an engine would start here")

    # planning may start the worker early (it loads while prompts are fitted): not here
    monkeypatch.setattr("evalkit.runner.engine_process.EngineProcess.start", lambda self: None)
    monkeypatch.setattr("evalkit.runner.engine_process.EngineProcess.run", no_engine)
    key, setup, reason = RUN_OUTPUTS[case]
    out, run_id, cache = world.out / "runs", "r1", world.out / "cache.sqlite"
    named = setup(world, {"out": out, "run_id": out / run_id, "cache": cache}[key])
    if key == "out":
        out = named
    elif key == "cache":
        cache = named
    before = state(world.root)
    result = invoke(
        "run",
        "suite=mini",
        "model=base",
        f"models_dir={world.models}",
        f"suites_dir={world.suites}",
        f"out={out}",
        f"run_id={run_id}",
        f"cache={cache}",
    )
    assert_refused(result, named, before, world.root, reason)
