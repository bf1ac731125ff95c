"""Simulated respondents for item analysis: models of known ability answer a published suite
in which chosen items carry a wrong gold answer (planted), and the truth is known.

Model m knows item j with probability sigmoid(1.7 * (theta_m - b_j)) (a 2PL with a = 1.7);
a model that knows answers the true option, otherwise it guesses uniformly. With log-
likelihood scoring its option probabilities put a weight on the true option that grows with
how well it knows the item.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scoring.synthetic import SPEC as SYNTHETIC

from evalkit.analysis.responses import Respondent, ResponseMatrix
from evalkit.suite.draft import SuiteDraft
from evalkit.suite.items import ITEM_ADAPTER
from evalkit.suite.records import LocatedItem
from evalkit.suite.spec import CoverageGoals
from evalkit.suite.store import SuiteStore, SuiteVersion

LETTERS = "ABCD"
SPEC = SYNTHETIC.model_copy(
    update={
        "name": "planted",
        "description": "Four-choice items, some with a planted wrong gold.",
        "tasks": {"mcq": SYNTHETIC.tasks["mcq"]},
    }
)


@dataclass(frozen=True)
class PlantedSuite:
    version: SuiteVersion
    truth: dict[str, str]  # item id → the true answer
    planted: set[str]  # items whose gold is wrong


def planted_suite(
    root: Path, items: int, planted: int, seed: int = 0, coverage: CoverageGoals | None = None
) -> PlantedSuite:
    """`items` four-choice test items (and three dev items); the first `planted` of a seeded
    shuffle get a gold that is not the true answer. `coverage`: the spec's coverage goals."""
    rng = np.random.default_rng(seed)
    truth = {f"p{k:03d}": LETTERS[int(rng.integers(4))] for k in range(items)}
    chosen = set(rng.permutation(sorted(truth))[:planted].tolist())
    records: list[dict[str, Any]] = []
    for k, (item_id, true) in enumerate(truth.items()):
        gold = LETTERS[(LETTERS.index(true) + 1 + int(rng.integers(3))) % 4]
        records.append(
            {
                "id": item_id,
                "task": "mcq",
                "language": "en" if k % 2 else "zh",
                "question": f"Question number {k} on topic {k * 7919 % 104729}?",
                "choices": [f"option {c} of {k}" for c in LETTERS],
                "answer": gold if item_id in chosen else true,
                "tags": [f"topic-{k % 3}"],
                "provenance": {"author": "t", "source": "original"},
            }
        )
    for d in range(3):  # few-shot exemplars, as the spec asks for (fewshot 3)
        dev = {**records[0], "id": f"dev{d}", "split": "dev", "answer": records[0]["answer"]}
        words = (
            ("river", "north", "south", "east", "west"),
            ("colour", "red", "green", "blue", "grey"),
            ("metal", "iron", "tin", "gold", "lead"),
        )[d]
        dev["question"] = f"Which {words[0]} is meant in exemplar {d * 31 + 7}?"
        records.append({**dev, "choices": list(words[1:])})
    located = tuple(LocatedItem(ITEM_ADAPTER.validate_python(r), "-") for r in records)
    spec = SPEC.model_copy(update={"coverage": coverage})
    version = SuiteStore(root).publish(SuiteDraft(spec, located), author="t", changelog="t")
    return PlantedSuite(version, truth, chosen)


def simulate(
    suite: PlantedSuite, models: int, seed: int, *, loglikelihood: bool = False
) -> ResponseMatrix:
    """The answers of `models` simulated models (abilities spread over N(0.5, 1))."""
    rng = np.random.default_rng(seed)
    items = [i for i in suite.version.items if i.split == "test"]
    theta = np.sort(rng.normal(0.5, 1.0, models))
    b = rng.normal(-0.5, 1.0, len(items))
    know = 1 / (1 + np.exp(-1.7 * (theta[:, None] - b[None, :])))
    scores = np.zeros((models, len(items)))
    answers: list[list[str | None]] = [[None] * len(items) for _ in range(models)]
    probs: dict[str, np.ndarray] = {}
    for j, item in enumerate(items):
        true = suite.truth[item.id]
        gold = item.answer  # type: ignore[attr-defined]
        probs[item.id] = np.zeros((models, 4))
        for m in range(models):
            knows = rng.random() < know[m, j]
            answer = true if knows else LETTERS[int(rng.integers(4))]
            answers[m][j] = answer
            scores[m, j] = float(answer == gold)
            logits = rng.normal(0, 0.5, 4)
            logits[LETTERS.index(true)] += 4 * know[m, j]
            p = np.exp(logits - logits.max())
            probs[item.id][m] = p / p.sum()
            if loglikelihood:
                answers[m][j] = LETTERS[int(np.argmax(p))]
                scores[m, j] = float(answers[m][j] == gold)
    respondents = [Respondent(f"model-{m}", "sim", f"model-{m}", f"fp{m}") for m in range(models)]
    return ResponseMatrix(
        suite.version,
        [],
        respondents,
        items,
        scores,
        np.full(scores.shape, math.nan),
        answers,
        [[a for a in row] for row in answers],
        probs if loglikelihood else {},
    )


def scored_run(
    run: Path, suite: PlantedSuite, names: list[str], seed: int, content_hash: str | None = None
) -> Path:
    """A scored run folder (written without an engine) in which the simulated models `names`
    answer the suite; with `content_hash`, a run of other content, left unscored."""
    from run_folders import write_run_folder
    from scoring.synthetic import model

    from evalkit.scoring import score_run
    from evalkit.suite.items import ItemBase

    matrix = simulate(suite, len(names), seed=seed)
    column = {item.id: j for j, item in enumerate(matrix.items)}

    def output(name: str, version: SuiteVersion, item: ItemBase, k: int) -> str:
        return f"The answer is {matrix.answers[names.index(name)][column[item.id]]}."

    records = [model(n, fingerprint=f"sha256:{n}") for n in names]
    root = suite.version.path.parent.parent
    write_run_folder(run, root, [suite.version], records, output, content_hash=content_hash)
    if content_hash is None:
        score_run(run, root, resamples=100)
    return run


def planted_rates(
    root: Path, models: int, loglikelihood: bool, replications: int, items: int, planted: int
) -> tuple[float, float, float]:
    """Recall, precision and false-flag rate of the flagged suspects over `replications`
    simulated suites (agreement on generated answers, or confident learning on option
    probabilities)."""
    from evalkit.analysis.labels import agreement_suspects, confident_learning_suspects

    found = wrong = missed = 0
    for r in range(replications):
        suite = planted_suite(root / f"r{models}-{loglikelihood}-{r}", items, planted, seed=r)
        matrix = simulate(suite, models, seed=10_000 + r, loglikelihood=loglikelihood)
        method = confident_learning_suspects if loglikelihood else agreement_suspects
        flagged = {s.item_id for s in method(matrix) if s.flagged}
        found += len(flagged & suite.planted)
        wrong += len(flagged - suite.planted)
        missed += len(suite.planted - flagged)
    recall = found / (found + missed)
    precision = found / max(found + wrong, 1)
    return recall, precision, wrong / (replications * (items - planted))
