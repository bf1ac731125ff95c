"""A run folder as scoring sees it: the manifest, the suites it names, the generations.

Reading checks that each published suite still has the hashes the run recorded (its version
hash, and its content hash), so a run is never scored against items it did not see, nor
against a version whose chain was rewritten since.
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from evalkit.errors import IntegrityError, NotFoundError
from evalkit.files import bad, read_json, read_jsonl, unencodable, validate
from evalkit.scoring.config import ScoringConfig
from evalkit.suite.store import SuiteStore, SuiteVersion

RESULTS_FILE = "results.jsonl"
SUMMARY_FILE = "summary.json"
MANIFEST_FILE = "manifest.json"
SUBSET_FILE = "subset.json"  # the anchor subset a run was limited to, when it was
GENERATIONS_DIR = "generations"


def generations_path(run_dir: Path, model_name: str, suite_ref: str) -> Path:
    """Where a run keeps one model's generations on one suite version."""
    return run_dir / GENERATIONS_DIR / model_name / f"{suite_ref}.jsonl"


class _Record(BaseModel):
    """A record of a run folder, checked for the fields evalkit reads; others pass through."""

    model_config = ConfigDict(extra="allow", strict=True)


class SuiteRecord(_Record):
    name: str
    version: str
    content_hash: str
    version_hash: str | None = None


class ModelRecord(_Record):
    name: str
    kind: str
    stage: str | None = None
    starting_point: str | None = None
    starting_model: str | None = None
    baseline: str | None = None
    path: str | None = None
    fingerprint: str | None = None


class RunConfigRecord(_Record):
    suites_dir: str


class RunManifest(_Record):
    """The fields of a run's manifest.json that scoring and the report read."""

    run_id: str
    config: RunConfigRecord
    suites: list[SuiteRecord] = Field(min_length=1)
    models: list[ModelRecord] = Field(min_length=1)
    started_at: str | None = None
    ended_at: str | None = None
    environment: dict[str, Any] | None = None

    @field_validator("suites", "models")
    @classmethod
    def _unique(cls, v: list[Any]) -> list[Any]:
        names = [r.name if isinstance(r, ModelRecord) else f"{r.name}@{r.version}" for r in v]
        repeated = next((n for n in names if names.count(n) > 1), None)
        if repeated is not None:
            raise ValueError(f"{repeated!r} appears twice")
        return v


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """A run's manifest.json, checked for the shape of what scoring and the report read."""
    path = run_dir / MANIFEST_FILE
    if not path.is_file():
        raise NotFoundError(f"{run_dir}: not a run folder (no {MANIFEST_FILE})")
    data = read_json(path, "run manifest")
    validate(RunManifest, data, path)
    validate(ScoringConfig, recorded_scoring(data), path, prefix="config")
    _check_text(data, str(path))
    return data


def recorded_scoring(manifest: dict[str, Any]) -> dict[str, Any]:
    """The scoring keys a run was configured with (none in runs older than them)."""
    config = manifest.get("config", {})
    return {k: config[k] for k in ScoringConfig.model_fields if k in config}


def load_run(
    run_dir: Path, suites_dir: Path | None
) -> tuple[dict[str, Any], dict[str, SuiteVersion]]:
    """The run's manifest and the suite versions it used, each verified by the store and
    checked against the hashes the run recorded: the version hash (the version and the chain
    before it) where the run recorded one, the content hash in any case (older runs)."""
    manifest = read_manifest(run_dir)
    store = SuiteStore(suites_dir or manifest["config"]["suites_dir"])
    versions = {}
    for k, s in enumerate(manifest["suites"]):
        version = store.load(f"{s['name']}@{s['version']}")
        for key in ("version_hash", "content_hash"):
            recorded, actual = s.get(key), getattr(version.manifest, key)
            if recorded != actual and (recorded is not None or key == "content_hash"):
                raise IntegrityError(
                    f"{run_dir / MANIFEST_FILE}: suites[{k}].{key}: {version.ref} in "
                    f"{store.root} is not the version this run used (hash {actual[:19]}..., "
                    f"run {str(recorded)[:19]}...)"
                )
        versions[version.ref] = version
    return manifest, versions


class OptionLogprob(_Record):
    logprob: float


class GenerationRecord(_Record):
    """The fields of a generation record that scoring reads."""

    model_config = ConfigDict(extra="ignore", strict=True)

    item_id: str
    output: str | None = None
    option_logprobs: dict[str, OptionLogprob] | None = None
    error: str | None = None


def _check_text(record: dict[str, Any], where: str, *fields: str) -> None:
    """Text that is copied into evalkit's outputs (results.jsonl, the report) must be writable
    as UTF-8: `fields` of `record`, or all of it."""
    for name in fields or (None,):
        found = unencodable(record.get(name), name) if name else unencodable(record)
        if found:
            raise bad(where, found[1], found[0])


def read_generations(run_dir: Path, model: str, version: SuiteVersion) -> Iterator[dict[str, Any]]:
    """One model's generation records on one suite, each checked for the shape scoring reads
    and to name an item of the suite, once."""
    path = generations_path(run_dir, model, version.ref)
    if not path.is_file():
        raise NotFoundError(f"{path}: generations missing from the run folder")
    _check_complete(run_dir, path, version.ref)
    seen: dict[str, int] = {}
    for line in read_jsonl(path, "generations file"):
        record = line.value
        validate(GenerationRecord, record, line.where)
        item_id = record["item_id"]
        if item_id not in version.by_id:
            raise IntegrityError(f"{line.where}: item {item_id!r} is not in {version.ref}")
        if item_id in seen:
            raise bad(
                line.where, f"item {item_id!r} again (first on line {seen[item_id]})", "item_id"
            )
        seen[item_id] = line.number
        if line.escapes:
            _check_text(record, line.where, "output", "error")
        yield record


def _lines(path: Path) -> int:
    """Non-blank lines of a file, counted without parsing (once per version of the file: a
    scoring worker compares every model's file with the others)."""
    info = path.stat()
    return _count_lines(path, info.st_mtime_ns, info.st_size)


@functools.lru_cache(maxsize=256)
def _count_lines(path: Path, mtime_ns: int, size: int) -> int:
    with path.open("rb") as f:
        return sum(1 for line in f if line.strip())


def _check_complete(run_dir: Path, path: Path, suite_ref: str) -> None:
    """Every model of a run answered the same items of a suite: a generations file with fewer
    lines than another model's on the same suite lost some (a cut at a line's end)."""
    pattern = f"{GENERATIONS_DIR}/*/{glob.escape(suite_ref)}.jsonl"
    others = [(_lines(p), p) for p in run_dir.glob(pattern) if p != path and p.is_file()]
    if not others:
        return
    most, fullest = max(others)
    own = _lines(path)
    if own < most:
        raise bad(
            path,
            f"{own} generations, but {fullest.parent.name} has {most} on {suite_ref}: "
            "the file was cut or lines were removed",
        )


# --- a scored run, as the report reads it -----------------------------------------------------


class Interval(_Record):
    value: float
    low: float
    high: float
    n: int


class Aggregate(_Record):
    model: str
    suite: str
    metrics: dict[str, Interval]

    @field_validator("metrics")
    @classmethod
    def _has_score(cls, v: dict[str, Interval]) -> dict[str, Interval]:
        if "score" not in v:
            raise ValueError("no 'score' among the metrics")
        return v


class TaskAggregate(Aggregate):
    task: str


class TagAggregate(Aggregate):
    tag: str


class LanguageAggregate(Aggregate):
    language: str


class CorpusMetric(Interval):
    model: str
    suite: str
    task: str
    metric: str
    signature: str | None


class Tested(_Record):
    """A tested difference, as comparisons and starting points record it."""

    suite: str
    difference: float
    low: float
    high: float
    p_value: float
    p_adjusted: float
    mde: float
    significant: bool
    verdict: str


class Secondary(_Record):
    p_value: float


class Comparison(Tested):
    baseline: str
    candidate: str
    metric: str
    units: int
    secondary: Secondary | None = None


class StartingPoint(Tested):
    model: str
    stage: str
    starting_model: str
    role: str


class Family(_Record):
    correction: str
    alpha: float
    power: float
    comparisons: int
    significant: int
    significant_raw: int


class AnswerCounts(_Record):
    model: str
    suite: str
    task: str
    n: int
    unreadable: int
    share: float
    reasons: dict[str, int]


class SummaryModel(_Record):
    name: str
    kind: str | None
    stage: str | None
    starting_point: str | None
    path: str | None
    fingerprint: str | None


class Summary(_Record):
    """The fields of summary.json that the report reads."""

    run_id: str
    baseline: str
    resamples: int
    seed: int
    headline: str
    clustering: dict[str, str]
    family: Family
    notes: list[str]
    models: list[SummaryModel] = Field(min_length=1)
    suites: list[SuiteRecord]
    by_suite: list[Aggregate]
    by_task: list[TaskAggregate]
    by_tag: list[TagAggregate]
    by_language: list[LanguageAggregate]
    corpus: list[CorpusMetric]
    comparisons: list[Comparison]
    starting_points: list[StartingPoint]
    answers: list[AnswerCounts]


class ResultRow(_Record):
    """The fields of a results.jsonl row that the report reads."""

    model: str
    suite: str
    item_id: str
    task: str
    language: str
    tags: list[str]
    output: str | None
    metrics: dict[str, float | None]
    score: float | None


def scored_files(run_dir: Path) -> tuple[Path, Path]:
    """summary.json and results.jsonl of a scored run, or why there are none."""
    if not run_dir.is_dir():
        raise NotFoundError(f"{run_dir}: no such run folder")
    summary_path, results_path = run_dir / SUMMARY_FILE, run_dir / RESULTS_FILE
    for path in (summary_path, results_path):
        if not path.exists():
            raise NotFoundError(f"{path}: missing; score the run first (evalkit score {run_dir})")
    return summary_path, results_path


def read_results(
    run_dir: Path, versions: dict[str, SuiteVersion] | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """summary.json and the rows of results.jsonl of a scored run, each checked for the shape
    the report reads; with `versions` (from `load_run`), every row must also name a model of
    the summary and an item of the run's suites."""
    summary_path, results_path = scored_files(run_dir)
    summary = read_json(summary_path, "run summary")
    models = {m.name for m in validate(Summary, summary, summary_path).models}
    _check_text(summary, str(summary_path))
    rows = []
    for line in read_jsonl(results_path, "results file"):
        row = validate(ResultRow, line.value, line.where)
        if line.escapes:
            _check_text(line.value, line.where)
        if versions is not None:
            _check_references(row, line.where, models, versions)
        rows.append(line.value)
    return summary, rows


def _check_references(
    row: ResultRow, where: str, models: set[str], versions: dict[str, SuiteVersion]
) -> None:
    if row.model not in models:
        raise bad(where, f"model {row.model!r} is not in the run's summary", "model")
    if row.suite not in versions:
        raise bad(where, f"suite {row.suite!r} is not a suite of the run", "suite")
    if row.item_id not in versions[row.suite].by_id:
        raise bad(where, f"item {row.item_id!r} is not in {row.suite}", "item_id")


def write_atomically(path: Path, lines: Iterator[str]) -> None:
    """Write text to `path` through a temporary file in the same folder, then rename it."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for line in lines:
                f.write(line)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def join_atomically(path: Path, parts: list[Path]) -> None:
    """Write the files `parts`, one after the other, to `path`, atomically."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    shutil.copyfileobj(f, out, 1 << 20)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
