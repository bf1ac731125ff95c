"""Planning a run: which items, which prompts, which requests, and their cache keys."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from evalkit.backends.base import GenerationRequest, LoglikelihoodRequest, Sampling
from evalkit.cache import cache_key
from evalkit.prompts import Prompt, build_prompts, choose_exemplars
from evalkit.runner.config import RunConfig
from evalkit.runner.fitting import Fit, PromptFitter
from evalkit.runner.models import ModelSpec, chat_template_of
from evalkit.suite.items import ClassificationItem, ItemBase, MCQItem
from evalkit.suite.store import SuiteVersion
from evalkit.templating import render_template

RequestKind = Literal["generate", "loglikelihood"]


@dataclass(frozen=True)
class PlannedRequest:
    """One engine request for one item; `option` is set for log-likelihood requests."""

    item_id: str
    kind: RequestKind
    key: str
    generation: GenerationRequest | None = None
    loglikelihood: LoglikelihoodRequest | None = None
    option: str | None = None


def select_items(
    version: SuiteVersion, config: RunConfig, only: set[str] | None = None
) -> list[ItemBase]:
    """Test items (those in `only`, an anchor subset, when given), filtered by tags, then
    the first `limit`."""
    items = [item for item in version.items if item.split == "test"]
    if only is not None:
        items = [item for item in items if item.id in only]
    if config.tags:
        wanted = set(config.tags)
        items = [item for item in items if wanted & set(item.tags)]
    return items[: config.limit] if config.limit else items


def choice_options(item: ItemBase) -> list[str]:
    """The options a choice item is scored over: MCQ letters or classification labels."""
    if isinstance(item, MCQItem):
        return item.letters
    if isinstance(item, ClassificationItem):
        return list(item.labels)
    return []


def option_continuation(version: SuiteVersion, item: ItemBase, option: str, prompt: Prompt) -> str:
    """The option as the answer would follow the prompt: the suite's target template for base
    prompts (" B" after "Answer:"), the bare option for chat (the assistant turn starts fresh)."""
    if prompt.format == "chat":
        return option
    field = "answer" if isinstance(item, MCQItem) else "label"
    context = {**item.template_context(), field: option}
    return render_template(version.spec.tasks[item.task].target, context)


def engine_identity(model: ModelSpec, backend_name: str) -> str:
    """What besides weights, prompt and sampling decides an output: the engine, the dtype the
    weights run in, and the engine's options (a bfloat16 run must not reuse float32 outputs)."""
    identity = {"backend": backend_name, "dtype": model.dtype, "engine": model.engine}
    return json.dumps(identity, sort_keys=True, ensure_ascii=False)


@dataclass
class Plan:
    """One model's requests on one suite: a prompt per item (None when it could not be made
    to fit), the engine requests, and per item what fitting did or why it failed."""

    prompts: list[Prompt | None]
    requests: list[PlannedRequest]
    fits: dict[str, Fit]  # item id → fitting record, for items fitting changed or refused


def plan_requests(
    model: ModelSpec,
    fingerprint: str,
    backend_name: str,
    version: SuiteVersion,
    items: list[ItemBase],
    config: RunConfig,
    fitter: PromptFitter | None = None,
) -> Plan:
    """Prompts per item and the engine requests (generation and/or option scoring) they need;
    with a `fitter`, each prompt is first made to fit the model's context."""
    prompts: list[Prompt | None] = list(
        build_prompts(
            version.spec,
            items,
            version.items,
            model.effective_prompt_format,
            config.seed,
            config.fewshot,
        )
    )
    engine = engine_identity(model, backend_name)
    planned, fits = [], {}
    for k, item in enumerate(items):
        prompt = prompts[k]
        assert prompt is not None
        options = choice_options(item)
        generate = config.mcq_mode != "loglikelihood" or not options
        score = bool(options) and config.mcq_mode != "generate"
        if fitter is not None:
            fit = _fit(fitter, version, item, prompt, config, generate, score)
            if fit.record or fit.error:
                fits[item.id] = fit
            if fit.prompt is None:
                prompts[k] = None
                continue
            prompt = prompts[k] = fit.prompt
        if generate:
            sampling = Sampling(
                max_new_tokens=config.max_new_tokens,
                temperature=config.temperature,
                top_p=config.top_p,
                seed=config.seed,
                stop=prompt.stop,
            )
            key = cache_key(fingerprint, engine, sampling.as_dict(), prompt.key())
            planned.append(
                PlannedRequest(
                    item.id,
                    "generate",
                    key,
                    GenerationRequest(prompt, sampling, model.adapter),
                )
            )
        if score:
            for option in options:
                continuation = option_continuation(version, item, option, prompt)
                key = cache_key(fingerprint, engine, {"loglikelihood": continuation}, prompt.key())
                request = LoglikelihoodRequest(prompt, continuation, model.adapter)
                planned.append(
                    PlannedRequest(
                        item.id, "loglikelihood", key, loglikelihood=request, option=option
                    )
                )
    return Plan(prompts, planned, fits)


def _fit(
    fitter: PromptFitter,
    version: SuiteVersion,
    item: ItemBase,
    prompt: Prompt,
    config: RunConfig,
    generate: bool,
    score: bool,
) -> Fit:
    """The item's prompt fitted with room for the answer: the new tokens, or the longest
    option continuation."""
    reserve = config.max_new_tokens if generate else 0
    if score:
        longest = max(
            fitter.count.text(option_continuation(version, item, option, prompt))
            for option in choice_options(item)
        )
        reserve = max(reserve, longest)
    return fitter.fit(
        version.spec, item, prompt, reserve, version.items, config.seed, config.fewshot
    )


def template_record(
    model: ModelSpec, version: SuiteVersion, items: list[ItemBase], config: RunConfig
) -> dict:
    """What decides the prompt text, and its hash: suite templates, exemplars, chat template."""
    tasks = sorted({item.task for item in items})
    record: dict = {
        "prompt_format": model.effective_prompt_format,
        "tasks": {t: version.spec.tasks[t].model_dump(mode="json") for t in tasks},
    }
    if model.effective_prompt_format == "base":
        record["exemplars"] = {}
        for task, language in sorted({(item.task, item.language) for item in items}):
            config_k = version.spec.tasks[task].fewshot
            k = config.fewshot if config.fewshot is not None else config_k
            chosen = choose_exemplars(version.items, task, language, k, config.seed)
            record["exemplars"][f"{task}/{language}"] = [e.id for e in chosen]
    else:
        record["chat_template"] = chat_template_of(Path(model.path))
    digest = hashlib.sha256(
        json.dumps(record, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
    return {"sha256": digest, **record}
