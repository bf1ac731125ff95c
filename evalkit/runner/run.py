"""Executing a run: suites × models → generations on disk, with a manifest of what ran."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from evalkit.backends.base import get_backend
from evalkit.cache import GenerationCache
from evalkit.errors import EvalkitError, ImmutableError, UsageError
from evalkit.history.index import RUN_MARKER, run_status
from evalkit.runner.adapters import fingerprint_record
from evalkit.runner.config import RunConfig
from evalkit.runner.engine_groups import check_adapters_supported, engine_groups
from evalkit.runner.engine_process import EngineProcess
from evalkit.runner.environment import environment_record
from evalkit.runner.fitting import PromptFitter, make_fitter
from evalkit.runner.generations import write_generations
from evalkit.runner.models import ModelSpec
from evalkit.runner.plan import (
    Plan,
    PlannedRequest,
    plan_requests,
    select_items,
    template_record,
)
from evalkit.runner.sweeps import resolve_models
from evalkit.scaleout.cluster import check_local_gpus
from evalkit.scaleout.config import check_parallel, parallel_record
from evalkit.scoring import check_settings
from evalkit.scoring.run_folder import MANIFEST_FILE, SUBSET_FILE, generations_path
from evalkit.sensitivity.scores import (
    VariantPlan,
    model_variant_scores,
    plan_variants,
    sensitivity_summary,
    write_sensitivity,
)
from evalkit.sensitivity.variants import check_variants
from evalkit.suite.items import ItemBase
from evalkit.suite.store import SuiteStore, SuiteVersion

if TYPE_CHECKING:
    from evalkit.analysis.subset import AnchorSubset

RUN_MANIFEST = MANIFEST_FILE


@dataclass
class ModelRunStats:
    """What one model's engine pass did, for the summary line and the manifest."""

    items: int = 0
    requests: int = 0
    cached: int = 0
    generated: int = 0  # by this run's engine
    from_other_runs: int = 0  # answered meanwhile by another run sharing the cache
    output_tokens: int = 0
    process_seconds: float = 0.0  # the worker process, start (while planning) to exit
    load_seconds: float = 0.0  # engine start: weights, KV cache, compilation
    generate_seconds: float = 0.0  # the engine calls themselves
    worker_loop_seconds: float = 0.0  # engine calls plus the worker's decoding and cache writes

    fitted: int = 0  # items whose prompt was shortened to fit the context
    errors: int = 0  # items not answered: too long to fit, or their request failed
    shared_engine: list[str] = field(default_factory=list)  # models that ran on its engine

    @property
    def tokens_per_second(self) -> float:
        return self.output_tokens / self.generate_seconds if self.generate_seconds else 0.0

    def line(self, model: str) -> str:
        """The summary line printed after the model has run."""
        text = (
            f"{model}: {self.items} items, {self.requests} requests ({self.cached} cached), "
            f"{self.output_tokens} tokens generated in {self.generate_seconds:.1f} s "
            f"({self.tokens_per_second:.1f} tokens/s; engine start {self.load_seconds:.1f} s)"
        )
        if self.fitted:
            text += f"; {self.fitted} prompts shortened to fit the context"
        if self.errors:
            text += f"; {self.errors} items not answered (see their error in the generations)"
        if self.from_other_runs:
            text += f"; {self.from_other_runs} answered by another run sharing the cache"
        if self.shared_engine:
            text += f"; one engine with {', '.join(self.shared_engine)}"
        return text


@dataclass
class RunResult:
    run_dir: Path
    stats: dict[str, ModelRunStats] = field(default_factory=dict)

    @property
    def item_errors(self) -> int:
        """Items of any model that were not answered."""
        return sum(s.errors for s in self.stats.values())


class ItemsNotAnswered(EvalkitError):
    """The run finished, scored and reported, but some items were not answered."""

    exit_code = 3


def check_answered(result: RunResult) -> None:
    """Raise ItemsNotAnswered (exit 3) when any model left items unanswered."""
    if result.item_errors:
        per_model = ", ".join(f"{m} {s.errors}" for m, s in result.stats.items() if s.errors)
        raise ItemsNotAnswered(
            f"{result.item_errors} items were not answered ({per_model}); each has its reason "
            "in the report and in the generations files"
        )


def plan_model(
    model: ModelSpec,
    fingerprint: str,
    versions: list[SuiteVersion],
    config: RunConfig,
    cache: GenerationCache,
    echo: Any,
    subset: AnchorSubset | None = None,
    on_missing: Callable[[], None] = lambda: None,
) -> list[tuple[SuiteVersion, list[ItemBase], Plan]]:
    """The model's plan on every suite, prompts fitted to its context where anything is left
    to generate (a fully cached suite needs no tokenizer); on `subset`'s suite, its anchors
    only. `on_missing` is called before the tokenizer loads, the first time a suite has
    anything left to generate (the run starts the engine then, to load meanwhile)."""
    fitter: PromptFitter | None = None
    per_suite = []
    for version in versions:
        only = set(subset.anchors) if subset and subset.suite == version.ref else None
        items = select_items(version, config, only)
        plan = plan_requests(model, fingerprint, config.backend, version, items, config)
        keys = [p.key for p in plan.requests]
        if len(cache.get_many(keys)) < len(set(keys)):
            on_missing()
            fitter = fitter or make_fitter(model, config.truncate, echo)
            if fitter is not None:
                plan = plan_requests(
                    model, fingerprint, config.backend, version, items, config, fitter
                )
        per_suite.append((version, items, plan))
    return per_suite


def _with_parallel(config: RunConfig, models: list[ModelSpec]) -> list[ModelSpec]:
    """The models with the run's tensor/pipeline parallel sizes, checked before any work."""
    check_parallel(config.engine, config.ray, config.backend)
    if parallel_record(config.engine, config.ray) is None:  # one engine, in this machine
        setting = f"engine.tensor_parallel={config.engine.tensor_parallel}"
        if config.engine.pipeline_parallel > 1:
            setting += f" × engine.pipeline_parallel={config.engine.pipeline_parallel}"
        check_local_gpus(config.engine.gpus_per_replica, setting)
    args = config.engine.engine_args()
    return (
        [m.model_copy(update={"engine": {**m.engine, **args}}) for m in models] if args else models
    )


def _subset(config: RunConfig, versions: list[SuiteVersion]) -> AnchorSubset | None:
    """The run's anchor subset, checked against its suites, or None."""
    if config.subset is None:
        return None
    if config.limit or config.tags:
        raise UsageError(
            f"subset={config.subset}: cannot be combined with limit= or tags= (the estimate "
            "needs every anchor)"
        )
    from evalkit.analysis.subset import subset_for_run

    return subset_for_run(Path(config.subset), versions)


def execute_run(config: RunConfig, echo: Any = click.echo) -> RunResult:
    """Plan, generate what is not cached, and record everything under out/run_id."""
    started = datetime.now(timezone.utc)
    get_backend(config.backend)  # an unknown backend fails before any work
    store = SuiteStore(config.suites_dir)
    versions = [store.load(ref) for ref in config.suite]
    subset = _subset(config, versions)
    models = [
        spec
        for ref in config.model
        for spec in resolve_models(ref, Path(config.models_dir), config.kind)
    ]
    names = [m.name for m in models]
    if len(set(names)) != len(names):
        raise UsageError(
            f"two models share a name ({', '.join(names)}); give each a config in "
            f"{config.models_dir}/NAME.yaml"
        )
    check_adapters_supported(models, config.backend)
    if config.prompts.variants > 1:
        check_variants(versions, config.prompts.variants, "prompts.variants")
    if config.dtype != "auto":
        models = [m.model_copy(update={"dtype": config.dtype}) for m in models]
    models = _with_parallel(config, models)
    if config.judge.model is not None:  # a judge that cannot load fails before generation
        from evalkit.judging.run import judge_model

        judge_model(config)
    check_settings(  # scoring settings that a bad value would only break after generation
        [m.model_dump() for m in models],
        {v.ref: v for v in versions},
        config.scoring_only(),
        config.baseline,
    )
    run_id = config.run_id or started.strftime("%Y%m%d-%H%M%S")
    run_dir = Path(config.out) / run_id
    if run_dir.is_dir() and run_status(run_dir) == "incomplete":
        # a run killed midway: its generations are in the cache; this run completes it
        echo(f"{run_dir}: replacing an incomplete run folder (killed before it finished)")
        shutil.rmtree(run_dir)
    if run_dir.exists():
        raise ImmutableError(f"{run_dir}: run folder exists; choose another run_id=")
    run_dir.mkdir(parents=True)
    (run_dir / RUN_MARKER).write_text(f"{run_id} {started.isoformat()}\n", encoding="utf-8")
    work_dir = Path(tempfile.mkdtemp(prefix="work-", dir=run_dir))
    try:
        if subset is not None:
            text = json.dumps(subset.as_dict(), ensure_ascii=False, indent=1) + "\n"
            (run_dir / SUBSET_FILE).write_text(text, encoding="utf-8")
        return _run_models(
            config, versions, models, run_dir, work_dir, started, run_id, echo, subset
        )
    except BaseException:
        # Generated outputs are safe in the cache; a failed run leaves no half-written folder
        # behind, so the same run_id can be used again.
        shutil.rmtree(run_dir, ignore_errors=True)
        raise


@dataclass
class _ModelWork:
    """One model's part of a run: its fingerprints, plan, and what the cache lacks."""

    model: ModelSpec
    fingerprints: dict[str, str]
    per_suite: list[tuple[SuiteVersion, list[ItemBase], Plan]]
    missing: list[PlannedRequest]
    stats: ModelRunStats
    engine: dict[str, Any] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    variants: list[VariantPlan] = field(default_factory=list)  # prompts.variants > 1

    @property
    def planned(self) -> list[PlannedRequest]:
        own = [p for _, _, plan in self.per_suite for p in plan.requests]
        return own + [p for v in self.variants for p in v.plan.requests]


def _plan_work(
    model: ModelSpec,
    versions: list[SuiteVersion],
    config: RunConfig,
    cache: GenerationCache,
    echo: Any,
    subset: AnchorSubset | None,
    engine: EngineProcess,
) -> _ModelWork:
    adapter = Path(model.adapter) if model.adapter is not None else None
    fingerprints = fingerprint_record(Path(model.path), adapter, cache.file_digest)
    per_suite = plan_model(
        model, fingerprints["fingerprint"], versions, config, cache, echo, subset, engine.start
    )
    work = _ModelWork(model, fingerprints, per_suite, [], ModelRunStats())
    if config.prompts.variants > 1:
        work.variants = plan_variants(model, fingerprints["fingerprint"], config, per_suite)
    planned = work.planned
    cached = cache.get_many([p.key for p in planned])
    work.missing = list({p.key: p for p in planned if p.key not in cached}.values())
    work.stats.items = sum(len(items) for _, items, _ in per_suite)
    work.stats.requests = len(planned)
    work.stats.cached = len(planned) - len(work.missing)
    work.engine = {"engine": config.backend, "started": False}
    return work


def _run_group(group: list[_ModelWork], engine: EngineProcess) -> None:
    """One engine for the group's models that have anything left to generate (started
    already where planning found work)."""
    todo = [w for w in group if w.missing]
    if not todo:
        return
    done = engine.run([(w.model, w.missing) for w in todo])
    load_seconds = done.describe.pop("load_seconds", 0.0)
    names = [w.model.name for w in todo]
    for w in todo:
        w.failed = done.errors
        w.engine = {**done.describe, "started": True}
        if len(todo) > 1:  # a base model and LoRA adapters on one engine
            w.engine["shared_by"] = names
            w.stats.shared_engine = names
        timing = done.timings.get(w.model.name, {})
        w.stats.process_seconds = done.seconds
        w.stats.load_seconds = load_seconds
        w.stats.generate_seconds = timing.get("generate_seconds", 0.0)
        w.stats.worker_loop_seconds = timing.get("worker_loop_seconds", 0.0)
        w.stats.generated = int(timing.get("generated", 0))
        w.stats.from_other_runs = int(timing.get("from_other_runs", 0))


def _finish_work(
    w: _ModelWork, config: RunConfig, results: dict[str, Any], run_dir: Path, echo: Any
) -> dict[str, Any]:
    """Write the model's generations (`results`: its planned requests' cached results) and
    return its manifest record."""
    model, stats = w.model, w.stats
    templates = {}
    for version, items, plan in w.per_suite:
        stats.errors += write_generations(
            generations_path(run_dir, model.name, version.ref),
            version,
            items,
            plan,
            results,
            w.failed,
        )
        stats.fitted += sum(1 for fit in plan.fits.values() if fit.prompt is not None)
        template = template_record(model, version, items, config)
        templates[version.ref] = template
        echo(f"{model.name} × {version.ref}: prompt template sha256:{template['sha256'][:12]}")
    stats.output_tokens = sum(
        results[p.key]["output_tokens"]
        for p in w.missing
        if p.kind == "generate" and p.key in results
    )
    echo(stats.line(model.name))
    return {
        **model.model_dump(mode="json"),
        "stage": model.stage,
        "prompt_format": model.effective_prompt_format,
        **w.fingerprints,
        "engine": w.engine,
        "templates": templates,
        "stats": {**asdict(stats), "tokens_per_second": stats.tokens_per_second},
    }


def _run_models(
    config: RunConfig,
    versions: list[SuiteVersion],
    models: list[ModelSpec],
    run_dir: Path,
    work_dir: Path,
    started: datetime,
    run_id: str,
    echo: Any,
    subset: AnchorSubset | None,
) -> RunResult:
    cache_path = Path(config.cache) if config.cache else run_dir / "cache.sqlite"
    result = RunResult(run_dir)
    records: dict[str, dict[str, Any]] = {}
    variant_scores = {}
    with GenerationCache(cache_path) as cache:
        for indices in engine_groups(models, config.backend):
            # The engine loads in its own process while this one plans and fits the prompts.
            with EngineProcess([models[i] for i in indices], config, cache_path, work_dir) as e:
                group = [
                    _plan_work(models[i], versions, config, cache, echo, subset, e) for i in indices
                ]
                if len(group) > 1:
                    names = ", ".join(w.model.name for w in group)
                    base = Path(models[indices[0]].path)
                    echo(f"one engine for {names} (LoRA adapters on {base})")
                _run_group(group, e)
            for w in group:
                results = cache.get_many([p.key for p in w.planned])
                records[w.model.name] = _finish_work(w, config, results, run_dir, echo)
                result.stats[w.model.name] = w.stats
                if w.variants:
                    variant_scores[w.model.name] = model_variant_scores(
                        w.per_suite, w.variants, results, config
                    )
    if variant_scores:
        k = config.prompts.variants
        write_sensitivity(run_dir, sensitivity_summary(variant_scores, versions, k))
    model_records = [records[m.name] for m in models]
    shutil.rmtree(work_dir)
    manifest = {
        "run_id": run_id,
        "started_at": started.isoformat(timespec="seconds"),
        "ended_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "config": config.model_dump(mode="json"),
        "suites": [v.run_record() for v in versions],
        "models": model_records,
        "environment": environment_record(),
    }
    (run_dir / RUN_MANIFEST).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    echo(f"wrote {run_dir}")
    return result
