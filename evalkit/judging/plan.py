"""Which judgements a run needs: one rubric request per model × open-ended item, and two
pairwise requests (both orders) per candidate × item against the reference model.

A judgement is a generation request of the judge model, cached exactly like a model's
answers (judge fingerprint, engine, sampling, prompt), so re-judging a run, or re-scoring it,
costs no judge call.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from evalkit.backends.base import GenerationRequest, Sampling
from evalkit.cache import cache_key
from evalkit.judging.prompts import pairwise_prompt, rubric_prompt
from evalkit.judging.schemas import pairwise_schema, rubric_schema
from evalkit.runner.plan import PlannedRequest
from evalkit.suite.items import ItemBase
from evalkit.suite.rubric import Criterion
from evalkit.suite.store import SuiteVersion

JudgementKind = Literal["rubric", "pairwise"]


@dataclass(frozen=True)
class Judgement:
    """One judge request: what is judged, and the engine request that judges it."""

    model: str  # the judged (candidate) model
    suite: str
    item_id: str
    kind: JudgementKind
    request: PlannedRequest
    order: int = 0  # pairwise: 0 with the candidate as A, 1 with the candidate as B
    reference: str | None = None  # pairwise: the model compared with


@dataclass(frozen=True)
class JudgeEngine:
    """What identifies the judge's outputs in the cache."""

    fingerprint: str
    identity: str  # engine, dtype, engine options (evalkit.runner.plan.engine_identity)
    sampling: Sampling
    structured: bool = True  # constrain outputs to the expected JSON (evalkit.judging.schemas)

    def rubric_schema(self, criteria: list[Criterion]) -> str:
        return rubric_schema(criteria, self.sampling.max_new_tokens)

    def pairwise_schema(self) -> str:
        return pairwise_schema(self.sampling.max_new_tokens)

    def planned(self, item_id: str, prompt: Any, schema: str) -> PlannedRequest:
        sampling = replace(self.sampling, json_schema=schema if self.structured else None)
        key = cache_key(self.fingerprint, self.identity, sampling.as_dict(), prompt.key())
        return PlannedRequest(item_id, "generate", key, GenerationRequest(prompt, sampling))


def criteria_for(version: SuiteVersion, item: ItemBase) -> list[Criterion]:
    """The rubric criteria that rate this item (none: the item is not judged)."""
    return version.spec.effective_rubric.for_task(item.task)


def plan_judgements(
    versions: dict[str, SuiteVersion],
    outputs: dict[tuple[str, str], dict[str, str]],  # (model, suite) → item id → output
    engine: JudgeEngine,
    rubric: bool,
    reference: str | None,
) -> list[Judgement]:
    """Rubric judgements of every answered open-ended item, and pairwise ones against
    `reference` (None: no pairwise judging)."""
    out: list[Judgement] = []
    models = sorted({model for model, _ in outputs})
    for ref, version in versions.items():
        for item in version.items:
            criteria = criteria_for(version, item)
            if item.split != "test" or not criteria:
                continue
            answers = {m: outputs.get((m, ref), {}).get(item.id) for m in models}
            for model, answer in answers.items():
                if answer is None:
                    continue
                if rubric:
                    prompt = rubric_prompt(item, answer, criteria)
                    request = engine.planned(item.id, prompt, engine.rubric_schema(criteria))
                    out.append(Judgement(model, ref, item.id, "rubric", request))
                base = answers.get(reference) if reference else None
                if reference is None or model == reference or base is None:
                    continue
                for order, (a, b) in enumerate(((answer, base), (base, answer))):
                    prompt = pairwise_prompt(item, a, b, criteria)
                    request = engine.planned(item.id, prompt, engine.pairwise_schema())
                    out.append(
                        Judgement(model, ref, item.id, "pairwise", request, order, reference)
                    )
    return out
