"""Executing a run: suites × models → generations on disk, with a manifest of what ran."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from evalkit.backends.base import get_backend
from evalkit.cache import GenerationCache
from evalkit.errors import EvalkitError, ImmutableError, UsageError
from evalkit.prompts import Prompt
from evalkit.runner.config import RunConfig
from evalkit.runner.environment import environment_record
from evalkit.runner.models import ModelSpec, fingerprint_model, resolve_model
from evalkit.runner.plan import PlannedRequest, plan_requests, select_items, template_record
from evalkit.runner.worker import prompt_to_json
from evalkit.scoring import check_settings
from evalkit.scoring.run_folder import MANIFEST_FILE, generations_path
from evalkit.suite.store import SuiteStore, SuiteVersion

RUN_MANIFEST = MANIFEST_FILE


@dataclass
class ModelRunStats:
    """What one model's engine pass did, for the summary line and the manifest."""

    items: int = 0
    requests: int = 0
    cached: int = 0
    output_tokens: int = 0
    process_seconds: float = 0.0  # the worker process, start to exit
    load_seconds: float = 0.0  # engine start: weights, KV cache, compilation
    generate_seconds: float = 0.0  # the engine calls themselves
    worker_loop_seconds: float = 0.0  # engine calls plus the worker's decoding and cache writes

    @property
    def tokens_per_second(self) -> float:
        return self.output_tokens / self.generate_seconds if self.generate_seconds else 0.0


@dataclass
class RunResult:
    run_dir: Path
    stats: dict[str, ModelRunStats] = field(default_factory=dict)


def _job_request(p: PlannedRequest) -> dict[str, Any]:
    if p.generation is not None:
        return {
            "kind": "generate",
            "key": p.key,
            "prompt": prompt_to_json(p.generation.prompt),
            "sampling": p.generation.sampling.as_dict(),
        }
    assert p.loglikelihood is not None
    return {
        "kind": "loglikelihood",
        "key": p.key,
        "prompt": prompt_to_json(p.loglikelihood.prompt),
        "continuation": p.loglikelihood.continuation,
    }


def run_engine(
    model: ModelSpec,
    missing: list[PlannedRequest],
    config: RunConfig,
    cache_path: Path,
    work_dir: Path,
) -> tuple[float, dict[str, Any]]:
    """Run `missing` in a fresh worker process; return its wall time and engine description."""
    job = {
        "model": model.model_dump(mode="json"),
        "backend": config.backend,
        "options": {
            "seed": config.seed,
            "base_url": config.base_url,
            "concurrency": config.concurrency,
        },
        "cache": str(cache_path),
        "chunk_size": config.chunk_size,
        "requests": [_job_request(p) for p in missing],
        "describe_out": str(work_dir / f"{model.name}.engine.json"),
        "error_out": str(work_dir / f"{model.name}.error.txt"),
    }
    job_path = work_dir / f"{model.name}.job.json"
    job_path.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
    began = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "evalkit.runner.worker", str(job_path)], check=False
    )
    seconds = time.perf_counter() - began
    if proc.returncode != 0:
        error_file = Path(job["error_out"])
        reason = (
            error_file.read_text(encoding="utf-8")
            if error_file.is_file()
            else (f"worker exited with code {proc.returncode} (see the output above)")
        )
        raise EvalkitError(f"model {model.name!r}: {reason}")
    describe_file = Path(job["describe_out"])
    return seconds, json.loads(describe_file.read_text(encoding="utf-8"))


def _prompt_record(prompt: Prompt) -> dict[str, Any]:
    if prompt.text is not None:
        return {"text": prompt.text}
    return {"messages": [{"role": r, "content": c} for r, c in prompt.messages or ()]}


def write_generations(
    path: Path,
    version: SuiteVersion,
    items: list[Any],
    prompts: list[Prompt],
    planned: list[PlannedRequest],
    results: dict[str, Any],
) -> None:
    """One line per item: prompt, raw output, tokens, latency, option log-likelihoods."""
    by_item: dict[str, list[PlannedRequest]] = {}
    for p in planned:
        by_item.setdefault(p.item_id, []).append(p)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for item, prompt in zip(items, prompts, strict=True):
            row: dict[str, Any] = {
                "suite": version.ref,
                "item_id": item.id,
                "task": item.task,
                "prompt": _prompt_record(prompt),
            }
            for p in by_item.get(item.id, []):
                value = results[p.key]
                if p.kind == "generate":
                    row["output"] = value["text"]
                    row["prompt_tokens"] = value["prompt_tokens"]
                    row["output_tokens"] = value["output_tokens"]
                    row["finish_reason"] = value["finish_reason"]
                    row["output_token_ids"] = value.get("token_ids", [])
                    row["seconds"] = round(value["seconds"], 6)
                else:
                    row.setdefault("option_logprobs", {})[p.option] = value
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def execute_run(config: RunConfig, echo: Any = click.echo) -> RunResult:
    """Plan, generate what is not cached, and record everything under out/run_id."""
    started = datetime.now(timezone.utc)
    get_backend(config.backend)  # an unknown backend fails before any work
    store = SuiteStore(config.suites_dir)
    versions = [store.load(ref) for ref in config.suite]
    models = [resolve_model(ref, Path(config.models_dir), config.kind) for ref in config.model]
    names = [m.name for m in models]
    if len(set(names)) != len(names):
        raise UsageError(
            f"two models share a name ({', '.join(names)}); give each a config in "
            f"{config.models_dir}/NAME.yaml"
        )
    if config.dtype != "auto":
        models = [m.model_copy(update={"dtype": config.dtype}) for m in models]
    check_settings(  # scoring settings that a bad value would only break after generation
        [m.model_dump() for m in models],
        {v.ref: v for v in versions},
        config.scoring_only(),
        config.baseline,
    )
    run_id = config.run_id or started.strftime("%Y%m%d-%H%M%S")
    run_dir = Path(config.out) / run_id
    if run_dir.exists():
        raise ImmutableError(f"{run_dir}: run folder exists; choose another run_id=")
    run_dir.mkdir(parents=True)
    work_dir = Path(tempfile.mkdtemp(prefix="work-", dir=run_dir))
    try:
        return _run_models(config, versions, models, run_dir, work_dir, started, run_id, echo)
    except BaseException:
        # Generated outputs are safe in the cache; a failed run leaves no half-written folder
        # behind, so the same run_id can be used again.
        shutil.rmtree(run_dir, ignore_errors=True)
        raise


def _run_models(
    config: RunConfig,
    versions: list[SuiteVersion],
    models: list[ModelSpec],
    run_dir: Path,
    work_dir: Path,
    started: datetime,
    run_id: str,
    echo: Any,
) -> RunResult:
    cache_path = Path(config.cache) if config.cache else run_dir / "cache.sqlite"
    result = RunResult(run_dir)
    model_records = []
    with GenerationCache(cache_path) as cache:
        for model in models:
            fingerprint = fingerprint_model(Path(model.path), cache.file_digest)
            stats = ModelRunStats()
            per_suite = []
            for version in versions:
                items = select_items(version, config)
                prompts, planned = plan_requests(
                    model, fingerprint, config.backend, version, items, config
                )
                per_suite.append((version, items, prompts, planned))
                stats.items += len(items)
                stats.requests += len(planned)
            all_planned = [p for *_, planned in per_suite for p in planned]
            cached = cache.get_many([p.key for p in all_planned])
            missing = list({p.key: p for p in all_planned if p.key not in cached}.values())
            stats.cached = stats.requests - len(missing)
            engine: dict[str, Any] = {"engine": config.backend, "started": False}
            if missing:
                stats.process_seconds, engine = run_engine(
                    model, missing, config, cache_path, work_dir
                )
                stats.load_seconds = engine.pop("load_seconds")
                stats.generate_seconds = engine.pop("generate_seconds")
                stats.worker_loop_seconds = engine.pop("worker_loop_seconds")
                engine["started"] = True
            results = cache.get_many([p.key for p in all_planned])
            templates = {}
            for version, items, prompts, planned in per_suite:
                write_generations(
                    generations_path(run_dir, model.name, version.ref),
                    version,
                    items,
                    prompts,
                    planned,
                    results,
                )
                template = template_record(model, version, items, config)
                templates[version.ref] = template
                digest = template["sha256"][:12]
                echo(f"{model.name} × {version.ref}: prompt template sha256:{digest}")
            stats.output_tokens = sum(
                results[p.key]["output_tokens"] for p in missing if p.kind == "generate"
            )
            result.stats[model.name] = stats
            echo(
                f"{model.name}: {stats.items} items, {stats.requests} requests "
                f"({stats.cached} cached), {stats.output_tokens} tokens generated in "
                f"{stats.generate_seconds:.1f} s ({stats.tokens_per_second:.1f} tokens/s; "
                f"engine start {stats.load_seconds:.1f} s)"
            )
            model_records.append(
                {
                    **model.model_dump(mode="json"),
                    "stage": model.stage,
                    "prompt_format": model.effective_prompt_format,
                    "fingerprint": fingerprint,
                    "engine": engine,
                    "templates": templates,
                    "stats": {**asdict(stats), "tokens_per_second": stats.tokens_per_second},
                }
            )
    shutil.rmtree(work_dir)
    manifest = {
        "run_id": run_id,
        "started_at": started.isoformat(timespec="seconds"),
        "ended_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "config": config.model_dump(mode="json"),
        "suites": [
            {"name": v.name, "version": v.version, "content_hash": v.manifest.content_hash}
            for v in versions
        ],
        "models": model_records,
        "environment": environment_record(),
    }
    (run_dir / RUN_MANIFEST).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    echo(f"wrote {run_dir}")
    return result
