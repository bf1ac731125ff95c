"""Every stored answer to one suite version, gathered from scored runs into one matrix.

Item analysis treats each model as a respondent and each test item as a question: the
matrix holds each model's score (0-1, the item's primary metric), its answer (the parsed
choice, or the normalised output of a short-answer item), its format adherence, and, where
the run scored choices by log-likelihood, its probability for each option. A model that
appears in several runs with the same weights (fingerprint) counts once. Only runs of the
exact version (same content hash) are gathered; a run of any other version is refused.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from evalkit.errors import EvalkitError, NotFoundError, UsageError
from evalkit.metrics.builtin.choice import gold_label
from evalkit.scoring.items import CHOICE_TASKS
from evalkit.scoring.run_folder import (
    MANIFEST_FILE,
    SUMMARY_FILE,
    generations_path,
    read_manifest,
    read_results,
)
from evalkit.suite.items import ItemBase
from evalkit.suite.store import SuiteVersion
from evalkit.textnorm import normalize_text

SHORT_ANSWER_TASKS = frozenset({"qa"})  # answers compared as normalised text


@dataclass(frozen=True)
class Respondent:
    """One model as it answered the suite: in which run, under which weights."""

    label: str  # unique in the matrix: the model name, or RUN/MODEL when names clash
    run_id: str
    model: str
    fingerprint: str | None


@dataclass
class ResponseMatrix:
    """Models x test items of one suite version. Missing answers are NaN / None."""

    version: SuiteVersion
    runs: list[Path]
    respondents: list[Respondent]
    items: list[ItemBase]
    scores: np.ndarray  # (models, items), 0-1, NaN where not answered
    formats: np.ndarray  # (models, items) format adherence, NaN where not measured
    answers: list[list[str | None]]  # parsed choice / normalised short answer, else None
    outputs: list[list[str | None]]
    option_probs: dict[str, np.ndarray] = field(default_factory=dict)  # item id → (models, K)

    @property
    def labels(self) -> list[str]:
        return [r.label for r in self.respondents]

    def gold(self, item: ItemBase) -> str | None:
        """The gold answer in the form `answers` holds, when there is one."""
        if item.task in CHOICE_TASKS:
            return gold_label(item)
        if item.task in SHORT_ANSWER_TASKS:
            return normalize_text(item.reference_texts()[0]) if item.reference_texts() else None
        return None


def item_options(item: ItemBase) -> list[str]:
    """The options a choice item offers (letters or labels), in `option_probs` column order."""
    choices = getattr(item, "choices", None)
    if choices is not None:
        return [chr(ord("A") + i) for i in range(len(choices))]
    return list(getattr(item, "labels", []))


def _suite_entry(run_dir: Path, manifest: dict[str, Any], version: SuiteVersion) -> None:
    """Refuse a run that did not run exactly this version."""
    entries = [s for s in manifest["suites"] if s["name"] == version.name]
    ran = ", ".join(f"{s['name']}@{s['version']}" for s in manifest["suites"])
    if not entries:
        raise UsageError(f"{run_dir}: the run has no {version.name} (it ran {ran})")
    for entry in entries:
        if f"{entry['name']}@{entry['version']}" == version.ref:
            if entry["content_hash"] != version.manifest.content_hash:
                raise UsageError(
                    f"{run_dir}: ran a {version.ref} with content hash "
                    f"{entry['content_hash'][:19]}..., not the published "
                    f"{version.manifest.content_hash[:19]}..."
                )
            return
    raise UsageError(f"{run_dir}: ran {ran}, not {version.ref}")


def find_runs(runs_dir: Path, version: SuiteVersion) -> list[Path]:
    """Every scored run folder directly under `runs_dir` that ran exactly this version."""
    if not runs_dir.is_dir():
        raise NotFoundError(f"{runs_dir}: no such runs folder")
    found = []
    for path in sorted(p for p in runs_dir.iterdir() if p.is_dir()):
        if not (path / MANIFEST_FILE).is_file() or not (path / SUMMARY_FILE).is_file():
            continue
        try:
            _suite_entry(path, read_manifest(path), version)
        except EvalkitError:  # another suite, another version, an unreadable manifest: not ours
            continue
        found.append(path)
    if not found:
        raise NotFoundError(
            f"{runs_dir}: no scored run of {version.ref}; run and score one, or name runs "
            "with runs=[...]"
        )
    return found


def _respondents(run_dirs: Sequence[Path], version: SuiteVersion) -> list[tuple[Path, Respondent]]:
    seen: set[str] = set()
    out: list[tuple[Path, Respondent]] = []
    for run_dir in run_dirs:
        if not run_dir.is_dir():
            raise NotFoundError(f"{run_dir}: no such run folder")
        manifest = read_manifest(run_dir)
        _suite_entry(run_dir, manifest, version)
        for model in manifest["models"]:
            # the same weights and prompts (in another run, or under another name in this
            # one, as a sweep's last checkpoint is the finished model): the same answers,
            # counted once; a record without both (hand-written) is told apart by name
            fingerprint, templates = model.get("fingerprint"), model.get("templates")
            named = None if fingerprint and templates else model["name"]
            key = json.dumps([fingerprint or manifest["run_id"], named, templates], sort_keys=True)
            if key in seen:
                continue
            seen.add(key)
            respondent = Respondent(
                model["name"], manifest["run_id"], model["name"], model.get("fingerprint")
            )
            out.append((run_dir, respondent))
    names = [r.model for _, r in out]
    return [
        (d, r if names.count(r.model) == 1 else _relabel(r, f"{r.run_id}/{r.model}"))
        for d, r in out
    ]


def _relabel(r: Respondent, label: str) -> Respondent:
    return Respondent(label, r.run_id, r.model, r.fingerprint)


def _answer(item: ItemBase, row: dict[str, Any]) -> str | None:
    if item.task in CHOICE_TASKS:
        return row.get("answer")
    if item.task in SHORT_ANSWER_TASKS and row.get("output"):
        return normalize_text(row["output"]) or None
    return None


def _softmax(logprobs: list[float]) -> np.ndarray:
    values = np.array(logprobs, dtype=float)
    values = np.exp(values - values.max())
    return values / values.sum()


def gather_responses(
    version: SuiteVersion,
    run_dirs: Sequence[Path],
    rows: dict[Path, list[dict[str, Any]]] | None = None,
) -> ResponseMatrix:
    """The matrix of every model of `run_dirs` on the test items of `version`; `rows`: the
    results.jsonl rows of runs already read (the report's), not read again."""
    if not run_dirs:
        raise UsageError("no runs to analyse: name runs with runs=[...]")
    respondents = _respondents(run_dirs, version)
    items = [i for i in version.items if i.split == "test"]
    column = {item.id: j for j, item in enumerate(items)}
    by_id = {item.id: item for item in items}
    shape = (len(respondents), len(items))
    scores, formats = np.full(shape, math.nan), np.full(shape, math.nan)
    answers: list[list[str | None]] = [[None] * len(items) for _ in respondents]
    outputs: list[list[str | None]] = [[None] * len(items) for _ in respondents]
    option_probs: dict[str, np.ndarray] = {}
    rows_by_run: dict[Path, list[dict[str, Any]]] = dict(rows or {})
    for m, (run_dir, respondent) in enumerate(respondents):
        if run_dir not in rows_by_run:
            rows_by_run[run_dir] = read_results(run_dir)[1]
        for row in rows_by_run[run_dir]:
            if row["model"] != respondent.model or row["suite"] != version.ref:
                continue
            j = column.get(row["item_id"])
            if j is None or row.get("error"):
                continue
            item = items[j]
            if row.get("score") is not None:
                scores[m, j] = row["score"]
            adherence = row["metrics"].get("format_adherence")
            if adherence is not None:
                formats[m, j] = adherence
            answers[m][j] = _answer(item, row)
            outputs[m][j] = row.get("output")
        for item_id, probs in _read_option_probs(run_dir, respondent.model, version, by_id).items():
            if item_id not in option_probs:
                option_probs[item_id] = np.full((len(respondents), len(probs)), math.nan)
            option_probs[item_id][m] = probs
    return ResponseMatrix(
        version,
        list(dict.fromkeys(run_dirs)),
        [r for _, r in respondents],
        items,
        scores,
        formats,
        answers,
        outputs,
        option_probs,
    )


def _read_option_probs(
    run_dir: Path, model: str, version: SuiteVersion, items: dict[str, ItemBase]
) -> dict[str, np.ndarray]:
    """Each option's probability (softmax of the option log-likelihoods), per item, where the
    run scored the item's choices by log-likelihood."""
    out: dict[str, np.ndarray] = {}
    path = generations_path(run_dir, model, version.ref)
    if not path.is_file():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        if '"option_logprobs"' not in line:
            continue
        record = json.loads(line)
        item = items.get(record.get("item_id", ""))
        logprobs = record.get("option_logprobs") or {}
        if item is None or set(item_options(item)) != set(logprobs):
            continue
        out[item.id] = _softmax([logprobs[o]["logprob"] for o in item_options(item)])
    return out
