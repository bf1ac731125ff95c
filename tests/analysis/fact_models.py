"""Tiny real models that know invented facts, and a suite that asks them those facts.

Tiny models know nothing, so they are taught: a table of invented countries and their
capitals (English, and one in five in Chinese), of which model k memorises the first
`share[k]` (in a seeded order): a stronger model knows every fact a weaker one knows, and
more. The suite asks each fact as a four-choice item scored by log-likelihood, cloze style:
the prompt is the sentence up to the capital ("The capital of Varnia is") and each option is
scored as its city's name following it (the spec's target template turns the option letter
into the city). The models are trained on exactly those prompt and continuation tokens.

Items everybody knows carry no information; wrong golds are planted among the items that
most models know; the truth of every item is known. Distractors are cities of facts later in
the order, so a model that does not know a fact does not know its distractors either and
guesses without a shared preference (the weaker models' shared training would otherwise
make them agree on a distractor: see `distractors`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evalkit.suite.draft import SuiteDraft
from evalkit.suite.items import ITEM_ADAPTER
from evalkit.suite.records import LocatedItem
from evalkit.suite.spec import SuiteSpec
from evalkit.suite.store import SuiteStore, SuiteVersion

LETTERS = "ABCD"
# The option letter's city, after a space in English and straight after 是 in Chinese.
TARGET = (
    "{% for letter in letters %}{% if letter == answer %}"
    "{{ '' if language == 'zh' else ' ' }}{{ choices[loop.index0] }}"
    "{% endif %}{% endfor %}"
)
SPEC = SuiteSpec.model_validate(
    {
        "name": "capitals",
        "description": "The capitals of invented countries, as four-choice cloze items.",
        "guidelines": "One correct capital per item.",
        "goals": [{"capability": "domain_knowledge", "description": "Knows the capitals."}],
        "tasks": {
            "mcq": {
                "instruction": "",
                "prompt": "{{ question }}",
                "target": TARGET,
                "chat": "{{ question }}",
                "fewshot": 0,
                "metrics": ["accuracy"],
            }
        },
    }
)

_CONSONANTS = "bdfgklmnprstvz"
_VOWELS = "aeiou"
_ZH = "阿巴达卡拉马纳帕萨塔瓦扎尔斯特尼亚多罗兰林诺莫贝维托克里米西"


@dataclass(frozen=True)
class Fact:
    country: str
    city: str
    language: str  # "en" or "zh"

    @property
    def prompt(self) -> str:
        if self.language == "zh":
            return f"{self.country}的首都是"
        return f"The capital of {self.country} is"

    @property
    def continuation(self) -> str:
        return self.city if self.language == "zh" else f" {self.city}"


def invent_facts(n: int, seed: int) -> list[Fact]:
    """`n` facts with distinct invented names, in a seeded order (the order of difficulty)."""
    rng = np.random.default_rng(seed)
    used: set[str] = set()

    def name(language: str, syllables: int, ending: str) -> str:
        while True:
            if language == "zh":
                word = "".join(_ZH[int(i)] for i in rng.integers(len(_ZH), size=syllables))
            else:
                parts = [
                    _CONSONANTS[int(rng.integers(len(_CONSONANTS)))]
                    + _VOWELS[int(rng.integers(len(_VOWELS)))]
                    for _ in range(syllables)
                ]
                word = ("".join(parts) + ending).capitalize()
            if word not in used:
                used.add(word)
                return word

    facts = []
    for k in range(n):
        language = "zh" if k % 5 == 4 else "en"
        country = name(language, 2, "nia") if language == "en" else name(language, 2, "") + "国"
        city = name(language, 2, "r") if language == "en" else name(language, 3, "")
        facts.append(Fact(country, city, language))
    return facts


def distractors(facts: list[Fact], j: int, rng: np.random.Generator) -> list[str]:
    """Three cities of the same language from facts after j in the order (the nearest ones
    before j where too few come after)."""
    language = facts[j].language
    later = [f.city for f in facts[j + 1 :] if f.language == language]
    earlier = [f.city for f in facts[:j] if f.language == language]
    pool = later[:6] if len(later) >= 3 else later + earlier[::-1][: 3 - len(later)]
    return [str(c) for c in rng.permutation(pool)[:3]]


@dataclass(frozen=True)
class FactSuite:
    version: SuiteVersion
    facts: list[Fact]
    truth: dict[str, str]  # item id → the true letter
    planted: set[str]  # items whose gold is a distractor
    fact_of: dict[str, int]  # item id → index in `facts` (its rank in the order)


def fact_suite(root: Path, facts: list[Fact], planted: list[int], seed: int) -> FactSuite:
    """One item per fact (ids in a shuffled order, so no id gives a rank away); the facts at
    the indices `planted` get a distractor as gold. Published to the store at `root`."""
    rng = np.random.default_rng(seed)
    records: list[dict[str, Any]] = []
    truth: dict[str, str] = {}
    fact_of: dict[str, int] = {}
    wrong: set[str] = set()
    ids = rng.permutation(len(facts))
    for j, fact in enumerate(facts):
        item_id = f"f{int(ids[j]):03d}"
        choices = [fact.city, *distractors(facts, j, rng)]
        order = rng.permutation(4)
        choices = [choices[int(i)] for i in order]
        true = LETTERS[choices.index(fact.city)]
        gold = true
        if j in planted:
            gold = LETTERS[(LETTERS.index(true) + 1 + int(rng.integers(3))) % 4]
            wrong.add(item_id)
        truth[item_id], fact_of[item_id] = true, j
        records.append(
            {
                "id": item_id,
                "task": "mcq",
                "language": fact.language,
                "question": fact.prompt,
                "choices": choices,
                "answer": gold,
                "tags": [fact.language],
                "provenance": {"author": "t", "source": "original"},
            }
        )
    records.sort(key=lambda r: r["id"])
    located = tuple(LocatedItem(ITEM_ADAPTER.validate_python(r), "-") for r in records)
    version = SuiteStore(root).publish(SuiteDraft(SPEC, located), author="t", changelog="t")
    return FactSuite(version, facts, truth, wrong, fact_of)


# --- the models -------------------------------------------------------------------------------

ENGINE_OPTIONS = (  # as tests/runner/conftest.py: no torch.compile, the engine core in-process
    "dtype: float32\nengine: {enforce_eager: true}\n"
    "env: {VLLM_ENABLE_V1_MULTIPROCESSING: '0', OMP_NUM_THREADS: '1'}\n"
)


def train_fact_models(
    models_dir: Path, facts: list[Fact], shares: list[float], steps: int, seed: int
) -> dict[str, tuple[float, float]]:
    """Model k (named m{k}) memorises the first round(shares[k] * len(facts)) facts; each gets
    a weights folder and a NAME.yaml in `models_dir`. Returns each model's training seconds
    and final (smoothed) loss."""
    from evalkit.demo.tiny import new_llama, train_tokenizer
    from evalkit.demo.train import Stage, prompt_completion, save, train

    # Prompts and cities apart, twice (BPE's minimum frequency): every city is one token, as
    # the engine tokenises a continuation on its own. Multi-token cities share pieces, and
    # models that never saw a fact would agree on the distractor made of familiar pieces.
    tokenizer = train_tokenizer([f.prompt for f in facts] * 2 + [f.continuation for f in facts] * 2)
    split = [f.city for f in facts if len(tokenizer.tokenize(f.continuation)) != 1]
    if split:
        raise ValueError(f"cities of more than one token: {split}")
    stage = Stage(steps=steps, batch_size=16, learning_rate=3e-3, max_length=64)
    seconds, losses = {}, {}
    for k, share in enumerate(shares):
        name = f"m{k}"
        known = facts[: round(share * len(facts))]
        examples = [prompt_completion(tokenizer, f.prompt, f.continuation, bos=True) for f in known]
        model = new_llama(tokenizer, hidden_size=128, layers=2, max_positions=128, seed=seed + k)
        began = time.perf_counter()
        loss = train(model, examples, stage, seed + k, name, tokenizer.pad_token_id)
        seconds[name] = time.perf_counter() - began
        losses[name] = loss
        save(model, tokenizer, models_dir / f"weights-{name}")
        (models_dir / f"{name}.yaml").write_text(
            f"path: weights-{name}\nkind: base\n" + ENGINE_OPTIONS, encoding="utf-8"
        )
    return {n: (seconds[n], losses[n]) for n in seconds}
