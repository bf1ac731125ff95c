"""`evalkit run` with a bad --config, a bad models/NAME.yaml or a corrupt model folder: refused
in one located line before any engine starts, with no run folder left behind. A model folder
whose path has spaces or brackets is not bad: it runs (up to the engine, here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from badkit import (
    JSON_DOCUMENT,
    YAML_FILE,
    Spoil,
    World,
    assert_refused,
    invoke,
    spoil,
    state,
)
from click.testing import Result

ENGINE = "an engine would start here"


@pytest.fixture(autouse=True)
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    from evalkit.errors import EvalkitError

    def refuse(*args: object, **kwargs: object) -> None:
        raise EvalkitError(ENGINE)

    # planning may start the worker early (it loads while prompts are fitted): not here
    monkeypatch.setattr("evalkit.runner.engine_process.EngineProcess.start", lambda self: None)
    monkeypatch.setattr("evalkit.runner.engine_process.EngineProcess.run", refuse)


def _run(world: World, *extra: str | Path) -> Result:
    return invoke(
        "run",
        f"models_dir={world.models}",
        f"suites_dir={world.suites}",
        f"out={world.out / 'runs'}",
        "run_id=r1",
        f"cache={world.out / 'cache.sqlite'}",
        *extra,
    )


def test_the_good_world_runs_up_to_the_engine(world: World) -> None:
    result = _run(world, "suite=mini", "model=base")
    assert result.exit_code == 1 and ENGINE in result.output, result.output
    assert not (world.out / "runs" / "r1").exists()


CONFIGS: dict[str, tuple[Spoil, str]] = {
    **YAML_FILE,
    "unknown-key": (lambda d: d + b"sede: 1\n", "unknown key 'sede'"),
    "seed-is-text": (lambda d: d + b"seed: lots\n", "seed="),
    "suite-is-an-object": (lambda d: d.replace(b"suite: mini", b"suite: {a: 1}"), "suite="),
    "surrogate": (lambda d: d + b'tags: ["r\\ud800"]\n', "tags[0]: contains"),
}


@pytest.mark.parametrize("case", CONFIGS)
def test_bad_config_file(world: World, case: str) -> None:
    how, reason = CONFIGS[case]
    config = world.root / "run.yaml"
    spoil(config, how)
    before = state(world.root)
    result = _run(world, "--config", config)
    assert_refused(result, config, before, world.root, reason)


MODEL_CONFIGS: dict[str, tuple[Spoil, str]] = {
    **YAML_FILE,
    "kind-is-a-number": (lambda d: d.replace(b"kind: base", b"kind: 5"), "kind"),
    "path-is-a-list": (lambda d: d.replace(b"path: ../ckpt", b"path: [a, b]"), "path"),
    "path-has-a-nul": (lambda d: d.replace(b"path: ../ckpt", b'path: "a\\0b"'), "NUL"),
    "sft-without-start": (lambda d: d.replace(b"kind: base", b"kind: sft"), "starting_point"),
    "unknown-field": (lambda d: d + b"dtyp: float32\n", "dtyp: unknown field"),
}


@pytest.mark.parametrize("case", MODEL_CONFIGS)
def test_bad_model_config(world: World, case: str) -> None:
    how, reason = MODEL_CONFIGS[case]
    config = world.models / "base.yaml"
    spoil(config, how)
    before = state(world.root)
    result = _run(world, "suite=mini", "model=base")
    assert_refused(result, config, before, world.root, reason)


CHECKPOINT_JSON = {
    **{
        f"config.json-{k}": ("config.json", how, r)
        for k, (how, r) in JSON_DOCUMENT.items()
        if k != "empty-object"  # {}: left to the engine, which may infer the architecture
    },
    **{
        f"tokenizer_config.json-{k}": ("tokenizer_config.json", how, r)
        for k, (how, r) in JSON_DOCUMENT.items()
        if k != "empty-object"  # {}: a tokenizer config without a template is a base model's
    },
    "tokenizer.json-truncated": ("tokenizer.json", JSON_DOCUMENT["truncated"][0], "invalid JSON"),
    "tokenizer.json-array": ("tokenizer.json", JSON_DOCUMENT["array"][0], "expected"),
    "tokenizer.json-not-a-tokenizer": ("tokenizer.json", lambda d: b'{"model": 1}', "tokenizer"),
    "config.json-text_config-list": (
        "config.json",
        lambda d: b'{"text_config": [1]}',
        "text_config: expected an object",
    ),
    "chat_template-is-a-number": (
        "tokenizer_config.json",
        lambda d: b'{"chat_template": 5}',
        "chat_template",
    ),
    "chat_template-bad-jinja": (
        "tokenizer_config.json",
        lambda d: b'{"chat_template": "{% for m in messages %}{{ m.content }}"}',
        "Jinja",
    ),
    "chat_template-list-without-names": (
        "tokenizer_config.json",
        lambda d: b'{"chat_template": [{"template": "x"}]}',
        "chat_template",
    ),
}
CHECKPOINT_FILES = {
    **CHECKPOINT_JSON,
    "chat_template.jinja-latin-1": (
        "chat_template.jinja",
        lambda d: b"{{ messages }} caf\xe9",
        "not UTF-8",
    ),
    "chat_template.jinja-bad-jinja": (
        "chat_template.jinja",
        lambda d: b"{{ messages }\n",
        "Jinja",
    ),
    "chat_template.jinja-utf-16": (
        "chat_template.jinja",
        lambda d: "{{ messages }}".encode("utf-16"),
        "UTF-16",
    ),
}


@pytest.mark.parametrize("case", CHECKPOINT_FILES)
@pytest.mark.parametrize("how", ["config", "folder"])
def test_corrupt_model_folder(world: World, case: str, how: str) -> None:
    name, spoiler, reason = CHECKPOINT_FILES[case]
    path = world.checkpoint / name
    if not path.exists():
        path.write_bytes(b"")
    spoil(path, spoiler)
    before = state(world.root)
    model = "base" if how == "config" else str(world.checkpoint)
    result = _run(world, "suite=mini", f"model={model}")
    assert_refused(result, path, before, world.root, reason)


@pytest.mark.parametrize("folder", ["my model", "ckpt [2]", "模型 (v1)", "a'b\"c", "[draft]"])
def test_model_folders_with_spaces_and_brackets_run(world: World, folder: str) -> None:
    path = world.root / "m" / folder
    path.parent.mkdir()
    world.checkpoint.rename(path)
    quoted = json.dumps(str(path))  # KEY=VALUE values are YAML: quote what YAML would parse
    result = _run(world, "suite=mini", f"model={quoted}")
    assert result.exit_code == 1 and ENGINE in result.output, result.output
    assert "Traceback" not in result.output
