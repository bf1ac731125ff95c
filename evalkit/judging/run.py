"""Judging a run: the judge model rates the stored answers, through the engines and the cache.

`judge_run` reads the run folder's generations, plans the judgements (`plan`), answers what
the cache lacks in a worker process of the judge model (the same one every model runs in),
parses each judgement (`parse`, `pairwise`) and writes them beside the generations:
`judgments/<model>/<suite@version>.jsonl`, one line per judged item. The run manifest
records the judge (model, fingerprint, engine, templates and their hashes, settings).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.backends.base import Sampling, get_backend
from evalkit.cache import GenerationCache
from evalkit.errors import UsageError
from evalkit.judging.config import JudgeConfig
from evalkit.judging.pairwise import combine_orders
from evalkit.judging.parse import PairVerdict, parse_pairwise, parse_rubric
from evalkit.judging.plan import JudgeEngine, Judgement, criteria_for, plan_judgements
from evalkit.judging.prompts import template_record
from evalkit.judging.scores import judgments_path
from evalkit.runner.config import RunConfig
from evalkit.runner.engine_process import run_engine
from evalkit.runner.models import ModelSpec, fingerprint_model, resolve_model
from evalkit.runner.plan import engine_identity
from evalkit.scoring.run_folder import (
    MANIFEST_FILE,
    load_run,
    read_generations,
    write_atomically,
)
from evalkit.scoring.summary import choose_baseline
from evalkit.suite.store import SuiteVersion


@dataclass
class JudgeStats:
    requests: int = 0
    cached: int = 0
    failed: int = 0
    seconds: float = 0.0

    def line(self, judge: str) -> str:
        return (
            f"judge {judge}: {self.requests} judgements ({self.cached} cached, "
            f"{self.failed} failed) in {self.seconds:.1f} s"
        )


def judge_model(config: RunConfig) -> ModelSpec:
    """The judge's model spec: a chat model (its prompts go through its chat template)."""
    judge = config.judge
    if judge.model is None:
        raise UsageError("judge.model is not set: name the judge model (judge.model=NAME)")
    spec = resolve_model(judge.model, Path(config.models_dir), "chat")
    if spec.effective_prompt_format != "chat":
        raise UsageError(
            f"judge.model={judge.model!r} is a {spec.kind} model; a judge must be prompted "
            "as a chat model (judge.kind=chat)"
        )
    return spec


def _outputs(
    run_dir: Path, models: list[str], versions: dict[str, SuiteVersion]
) -> dict[tuple[str, str], dict[str, str]]:
    out: dict[tuple[str, str], dict[str, str]] = {}
    for model in models:
        for ref, version in versions.items():
            answers = out.setdefault((model, ref), {})
            for record in read_generations(run_dir, model, version):
                output = record.get("output")
                if isinstance(output, str) and not record.get("error"):
                    answers[record["item_id"]] = output
    return out


def judge_run(run_dir: Path, config: RunConfig, echo: Any = print) -> JudgeStats:
    """Judge a run's open-ended answers with `config.judge`; write judgments and record the
    judge in the run manifest."""
    judge = config.judge
    spec = judge_model(config)
    backend = judge.backend or config.backend
    get_backend(backend)
    manifest, versions = load_run(run_dir, Path(config.suites_dir))
    models = [m["name"] for m in manifest["models"]]
    reference = None
    if judge.pairwise:
        reference = judge.reference or choose_baseline(manifest["models"], config.baseline)
        if reference not in models:
            raise UsageError(
                f"judge.reference={reference!r} is not a model of this run ({', '.join(models)})"
            )
    outputs = _outputs(run_dir, models, versions)
    cache_path = Path(config.cache) if config.cache else run_dir / "cache.sqlite"
    stats = JudgeStats()
    with GenerationCache(cache_path) as cache:
        sampling = Sampling(max_new_tokens=judge.max_new_tokens, seed=config.seed)
        engine = JudgeEngine(
            fingerprint_model(Path(spec.path), cache.file_digest),
            engine_identity(spec, backend),
            sampling,
            judge.structured,
        )
        judgements = plan_judgements(versions, outputs, engine, judge.rubric, reference)
        keys = [j.request.key for j in judgements]
        cached = cache.get_many(keys)
        missing = list(
            {j.request.key: j.request for j in judgements if j.request.key not in cached}.values()
        )
        stats.requests, stats.cached = len(judgements), len(judgements) - len(missing)
        engine_record: dict[str, Any] = {"engine": backend, "started": False}
        failed: dict[str, str] = {}
        if missing:
            work = Path(tempfile.mkdtemp(prefix=".judge-", dir=run_dir))
            try:
                done = run_engine(
                    [(spec, missing)],
                    config.model_copy(update={"backend": backend}),
                    cache_path,
                    work,
                )
            finally:
                shutil.rmtree(work, ignore_errors=True)
            engine_record = {**done.describe, **done.timings.get(spec.name, {}), "started": True}
            failed, stats.seconds = done.errors, done.seconds
        results = cache.get_many(keys)
    stats.failed = sum(1 for k in set(keys) if k not in results)
    _write_judgments(run_dir, versions, judgements, results, failed)
    _record_judge(run_dir, spec, config.judge, reference, engine, engine_record, stats)
    echo(stats.line(spec.name))
    return stats


def _parsed(j: Judgement, versions: dict[str, SuiteVersion], text: str) -> dict[str, Any]:
    if j.kind == "rubric":
        item = versions[j.suite].by_id[j.item_id]
        scores = parse_rubric(text, criteria_for(versions[j.suite], item))
        return {name: vars(score) for name, score in scores.items()}
    return vars(parse_pairwise(text))


def _write_judgments(
    run_dir: Path,
    versions: dict[str, SuiteVersion],
    judgements: list[Judgement],
    results: dict[str, Any],
    failed: dict[str, str],
) -> None:
    """One line per judged item: the rubric judgement, and the pairwise one (both orders)."""
    rows: dict[tuple[str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
    for j in judgements:
        row = rows[j.model, j.suite].setdefault(j.item_id, {"item_id": j.item_id})
        result = results.get(j.request.key)
        error = None if result else f"the judge failed: {failed.get(j.request.key)}"
        text = result["text"] if result else None
        parsed = _parsed(j, versions, text) if text is not None else None
        if j.kind == "rubric":
            row["rubric"] = {"output": text, "scores": parsed, "error": error}
            continue
        pair = row.setdefault(
            "pairwise",
            {"reference": j.reference, "outputs": [None, None], "verdicts": [None, None]},
        )
        pair["outputs"][j.order] = text
        pair["verdicts"][j.order] = parsed
        if error:
            pair["error"] = error
    for (model, suite), items in rows.items():
        for row in items.values():
            pair = row.get("pairwise")
            if pair is not None:
                verdicts = [
                    PairVerdict(**v) if v else PairVerdict(None, None, "no output")
                    for v in pair["verdicts"]
                ]
                pair["outcome"] = combine_orders(verdicts[0], verdicts[1])
        path = judgments_path(run_dir, model, suite)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(
            path, (json.dumps(row, ensure_ascii=False) + "\n" for row in items.values())
        )


def _record_judge(
    run_dir: Path,
    spec: ModelSpec,
    judge: JudgeConfig,
    reference: str | None,
    engine: JudgeEngine,
    engine_record: dict[str, Any],
    stats: JudgeStats,
) -> None:
    """Add the judge to the run manifest (what judged, with which templates)."""
    path = run_dir / MANIFEST_FILE
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["judge"] = {
        "model": spec.model_dump(mode="json"),
        "fingerprint": engine.fingerprint,
        "settings": judge.model_dump(mode="json"),
        "reference": reference,
        "sampling": engine.sampling.as_dict(),
        "templates": template_record(),
        "engine": engine_record,
        "stats": vars(stats),
    }
    write_atomically(path, iter([json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"]))
