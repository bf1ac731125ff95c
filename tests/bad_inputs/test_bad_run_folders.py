"""A run folder whose manifest, generations, results or summary were cut or edited by hand:
`evalkit score` and `evalkit report` refuse it in one located line (never a KeyError or a
TypeError), and the run folder is left exactly as it was."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from badkit import (
    JSON_DOCUMENT,
    JSONL_FILE,
    Spoil,
    World,
    assert_refused,
    invoke,
    spoil,
    state,
)


def _edit(change: Callable[[Any], None]) -> Spoil:
    """A JSON document changed as a person editing it might."""

    def spoil(data: bytes) -> bytes:
        value = json.loads(data)
        change(value)
        return json.dumps(value, ensure_ascii=False).encode()

    return spoil


def _edit_line(change: Callable[[dict[str, Any]], None], line: int = 0) -> Spoil:
    """A JSONL file with one record changed."""

    def spoil(data: bytes) -> bytes:
        records = [json.loads(x) for x in data.splitlines() if x.strip()]
        change(records[line])
        return b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records)

    return spoil


def _set(path: str, value: Any) -> Callable[[Any], None]:
    """Set (or with ... delete) a value at a dotted path such as models.0.name."""

    def change(doc: Any) -> None:
        *parents, last = path.split(".")
        for key in parents:
            doc = doc[int(key)] if isinstance(doc, list) else doc[key]
        key: Any = int(last) if isinstance(doc, list) else last
        if value is ...:
            del doc[key]
        else:
            doc[key] = value

    return change


def _lose_last_line(data: bytes) -> bytes:
    return b"".join(data.splitlines(keepends=True)[:-1])


def _repeat_first_line(data: bytes) -> bytes:
    return data + data.splitlines(keepends=True)[0]


MANIFEST = {
    **JSON_DOCUMENT,
    "run_id-is-a-number": (_edit(_set("run_id", 5)), "run_id: expected text"),
    "config-is-a-list": (_edit(_set("config", [])), "config: expected an object"),
    "suites_dir-missing": (_edit(_set("config.suites_dir", ...)), "config.suites_dir: missing"),
    "bad-scoring-key": (_edit(_set("config.headline", "median")), "config.headline"),
    "suites-is-an-object": (_edit(_set("suites", {})), "suites: expected a list"),
    "no-suites": (_edit(_set("suites", [])), "suites"),
    "suite-without-hash": (_edit(_set("suites.0.content_hash", ...)), "content_hash: missing"),
    "models-is-text": (_edit(_set("models", "base")), "models: expected a list"),
    "model-without-name": (_edit(_set("models.0.name", ...)), "models[0].name: missing"),
    "model-kind-is-a-list": (_edit(_set("models.0.kind", [])), "models[0].kind"),
    "model-twice": (
        _edit(lambda m: m["models"].append(m["models"][0])),
        "'base' appears twice",
    ),
    "environment-is-a-list": (_edit(_set("environment", [])), "environment"),
    "surrogate": (lambda d: d.replace(b'"run_id": "run"', b'"run_id": "r\\udc80"'), "run_id"),
}

GENERATIONS = {
    **JSONL_FILE,
    "empty": (lambda d: b"", "0 generations"),
    "lost-a-line": (_lose_last_line, "cut"),
    "item-twice": (_repeat_first_line, "again"),
    "item_id-is-a-number": (_edit_line(_set("item_id", 5)), "item_id: expected text"),
    "item_id-missing": (_edit_line(_set("item_id", ...)), "item_id: missing"),
    "unknown-item": (_edit_line(_set("item_id", "zz9")), "'zz9' is not in"),
    "output-is-a-number": (_edit_line(_set("output", 5)), "output: expected text"),
    "output-is-an-object": (_edit_line(_set("output", {"a": 1})), "output: expected text"),
    "logprobs-are-numbers": (
        _edit_line(_set("option_logprobs", {"A": -1.0})),
        "option_logprobs.A: expected an object",
    ),
    "logprob-is-text": (
        _edit_line(_set("option_logprobs", {"A": {"logprob": "low"}})),
        "option_logprobs.A.logprob: expected a number",
    ),
    "error-is-a-number": (_edit_line(_set("error", 3)), "error: expected text"),
    "surrogate-in-output": (
        lambda d: d.replace(b'"output": "B"', b'"output": "B\\ud800"', 1),
        "output: contains",
    ),
}

SUMMARY = {
    **JSON_DOCUMENT,
    "models-is-an-object": (_edit(_set("models", {})), "models: expected a list"),
    "no-models": (_edit(_set("models", [])), "models"),
    "baseline-is-a-number": (_edit(_set("baseline", 5)), "baseline: expected text"),
    "family-missing": (_edit(_set("family", ...)), "family: missing"),
    "score-missing": (_edit(_set("by_suite.0.metrics.score", ...)), "'score'"),
    "interval-is-text": (_edit(_set("by_suite.0.metrics.score", "0.5")), "by_suite[0].metrics"),
    "difference-is-text": (
        _edit(_set("comparisons.0.difference", "big")),
        "comparisons[0].difference: expected a number",
    ),
    "notes-is-text": (_edit(_set("notes", "none")), "notes: expected a list"),
    "surrogate": (lambda d: d.replace(b'"run_id": "run"', b'"run_id": "\\ud800"'), "run_id"),
}

RESULTS = {
    **JSONL_FILE,
    "score-is-text": (_edit_line(_set("score", "high")), "score: expected a number"),
    "metrics-is-a-list": (_edit_line(_set("metrics", [1])), "metrics: expected an object"),
    "tags-is-text": (_edit_line(_set("tags", "a,b")), "tags: expected a list"),
    "model-missing": (_edit_line(_set("model", ...)), "model: missing"),
    "unknown-model": (_edit_line(_set("model", "gpt")), "model 'gpt'"),
    "unknown-suite": (_edit_line(_set("suite", "other@v1")), "suite 'other@v1'"),
    "unknown-item": (_edit_line(_set("item_id", "zz9")), "item 'zz9'"),
    "surrogate-in-output": (
        lambda d: d.replace(b'"output": "B"', b'"output": "\\udfff"', 1),
        "output: contains",
    ),
}


def _command(world: World, command: str) -> list[str | Path]:
    if command == "score":
        return ["score", world.run, "--suites-dir", world.suites, "--resamples", "100"]
    return ["report", world.run, "--suites-dir", world.suites]


@pytest.mark.parametrize("case", MANIFEST)
@pytest.mark.parametrize("command", ["score", "report"])
def test_bad_run_manifest(world: World, case: str, command: str) -> None:
    how, reason = MANIFEST[case]
    path = world.run / "manifest.json"
    spoil(path, how)
    before = state(world.root)
    assert_refused(invoke(*_command(world, command)), path, before, world.root, reason)


@pytest.mark.parametrize("case", GENERATIONS)
def test_bad_generations(world: World, case: str) -> None:
    how, reason = GENERATIONS[case]
    path = world.run / "generations" / "base" / "mini@v1.jsonl"
    spoil(path, how)
    before = state(world.root)
    assert_refused(invoke(*_command(world, "score")), path, before, world.root, reason)


def test_score_with_overrides_reads_the_manifest_first(world: World) -> None:
    path = world.run / "manifest.json"
    spoil(path, JSON_DOCUMENT["truncated"][0])
    before = state(world.root)
    result = invoke(*_command(world, "score"), "correction=bh")
    assert_refused(result, path, before, world.root, "invalid JSON")


@pytest.mark.parametrize("case", SUMMARY)
def test_bad_summary(world: World, case: str) -> None:
    how, reason = SUMMARY[case]
    path = world.run / "summary.json"
    spoil(path, how)
    before = state(world.root)
    assert_refused(invoke(*_command(world, "report")), path, before, world.root, reason)


@pytest.mark.parametrize("case", RESULTS)
def test_bad_results(world: World, case: str) -> None:
    how, reason = RESULTS[case]
    path = world.run / "results.jsonl"
    spoil(path, how)
    before = state(world.root)
    assert_refused(invoke(*_command(world, "report")), path, before, world.root, reason)


def test_the_good_run_scores_and_reports(world: World) -> None:
    assert invoke(*_command(world, "score")).exit_code == 0
    result = invoke(*_command(world, "report"))
    assert result.exit_code == 0, result.output
