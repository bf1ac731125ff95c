"""Planted wrong golds found in real runs: tiny models taught invented facts (fact_models.py)
answer a suite of those facts through evalkit's vLLM engine, with log-likelihood scoring, and
`analyze_suite` reads the stored, scored run.

Planted: a wrong gold on six items that most models know (their truth is known), and items
that every model knows (right for all, so they carry no information). The analysis must put
the wrong golds first among its suspects, naming the true answer, flag the items everybody
knows as uninformative, and rarely flag an untouched item. Precision, recall and the false-
flag rate are printed with the test output.

Slow: on two cores training the models takes ~35 s, and each of the five vLLM workers ~35 s
(mostly engine start); the module ran in 3 min 35 s to 3 min 50 s on a busy machine.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from runner.conftest import requires_vllm

from analysis.fact_models import FactSuite, fact_suite, invent_facts, train_fact_models
from evalkit.analysis.responses import ResponseMatrix, gather_responses
from evalkit.analysis.suite_analysis import SuiteAnalysis, analyze_suite

pytestmark = [pytest.mark.slow, requires_vllm]

FACTS = 60
# Model k memorises the first SHARES[k] of the facts: the first 18 every model knows, the
# last 9 only the strongest. Five models: the fewest for which the analysis judges
# discrimination and fits an IRT model, as it would for a real suite.
SHARES = [0.3, 0.5, 0.7, 0.85, 1.0]
PLANTED = 6
STEPS = 200  # each model memorises its facts well before (final loss < 0.005)
SEED = 0


@dataclass(frozen=True)
class Outcome:
    suite: FactSuite
    matrix: ResponseMatrix
    analysis: SuiteAnalysis
    known_by_all: set[str]  # items of the facts every model was taught
    flagged: set[str]  # items flagged as suspected wrong golds

    @property
    def untouched(self) -> set[str]:
        return set(self.suite.truth) - self.suite.planted

    def rates(self) -> tuple[float, float, float]:
        """Recall and precision of the flagged suspects, and the false-flag rate."""
        found = len(self.flagged & self.suite.planted)
        false = len(self.flagged - self.suite.planted)
        return (
            found / len(self.suite.planted),
            found / max(1, len(self.flagged)),
            false / len(self.untouched),
        )


def _run(root: Path, suite: FactSuite, models_dir: Path) -> Path:
    from evalkit.runner.config import compose_run_config
    from evalkit.runner.run import execute_run
    from evalkit.scoring import score_run

    suites_dir = root / "suites"
    names = ",".join(f"m{k}" for k in range(len(SHARES)))
    config = compose_run_config(
        [
            f"suites_dir={suites_dir}",
            f"models_dir={models_dir}",
            f"out={root / 'reports'}",
            f"cache={root / 'cache.sqlite'}",
            "suite=capitals",
            f"model=[{names}]",
            "backend=vllm",
            "mcq_mode=loglikelihood",
            "baseline=m0",
            "run_id=planted",
        ]
    )
    result = execute_run(config, echo=lambda line: None)
    score_run(result.run_dir, suites_dir, resamples=100)
    return result.run_dir


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    import torch

    root = tmp_path_factory.mktemp("planted-engine")
    facts = invent_facts(FACTS, SEED)
    # Wrong golds go on items that most models know (and not all: those are the uninformative
    # ones): the first 18 facts every model knows, the first 42 three models of five.
    everybody, majority = round(SHARES[0] * FACTS), round(SHARES[len(SHARES) // 2] * FACTS)
    rng = np.random.default_rng(SEED)
    planted = sorted(int(j) for j in rng.choice(np.arange(everybody, majority), PLANTED, False))
    suite = fact_suite(root / "suites", facts, planted, SEED)
    models_dir = root / "models"
    models_dir.mkdir()
    # One thread: with two, a busy second core makes each step ~40 times slower (spinning
    # OpenMP threads); with one, training takes ~5 s per model whatever else runs.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train_fact_models(models_dir, facts, SHARES, STEPS, SEED)
    finally:
        torch.set_num_threads(threads)
    run_dir = _run(root, suite, models_dir)
    analysis = analyze_suite(suite.version, [run_dir], irt_epochs=300)
    return Outcome(
        suite,
        gather_responses(suite.version, [run_dir]),
        analysis,
        {i for i, j in suite.fact_of.items() if j < everybody},
        {s.item_id for s in analysis.suspects if s.flagged},
    )


def test_each_model_knows_what_it_was_taught(outcome: Outcome) -> None:
    """The setup works: a model puts its highest probability on the true capital of every
    fact it was taught, so stronger models (taught more) score higher."""
    suite, matrix = outcome.suite, outcome.matrix
    assert matrix.labels == [f"m{k}" for k in range(len(SHARES))]
    for m, share in enumerate(SHARES):
        taught = [i for i, j in suite.fact_of.items() if j < round(share * FACTS)]
        right = [
            int(np.argmax(matrix.option_probs[i][m])) == "ABCD".index(suite.truth[i])
            for i in taught
        ]
        assert all(right), f"m{m} misses {right.count(False)} of its {len(taught)} facts"
    scores = [outcome.analysis.model_scores[f"m{k}"] for k in range(len(SHARES))]
    assert scores == sorted(scores) and scores[-1] - scores[0] > 0.3


def test_planted_wrong_golds_lead_the_suspects_and_name_the_truth(
    outcome: Outcome, capsys: pytest.CaptureFixture[str]
) -> None:
    suite, analysis = outcome.suite, outcome.analysis
    recall, precision, false_rate = outcome.rates()
    top = [s.item_id for s in analysis.suspects[:PLANTED]]
    others = Counter(
        f["flag"] for s in analysis.items if s.item_id in outcome.untouched for f in s.flags
    )
    with capsys.disabled():
        print(
            f"\nplanted wrong golds, {len(SHARES)} tiny models through vLLM: "
            f"recall {recall:.2f}, precision {precision:.2f}, false-flag rate {false_rate:.3f} "
            f"({len(outcome.flagged)} flagged of {len(suite.truth)} items, "
            f"{len(set(top) & suite.planted)} of the first {PLANTED} suspects planted); "
            f"flags on untouched items: {dict(sorted(others.items()))}"
        )
    # Measured (seeds 0, 1, 2): recall 1.00, 0.83, 1.00; precision 1.00, 1.00, 0.86; the
    # first six suspects were the six planted items each time.
    assert len(set(top) & suite.planted) >= PLANTED - 1
    assert recall >= 5 / 6
    assert precision >= 0.75
    # Ranked or not, every planted item is a suspect, and names the true capital.
    assert suite.planted <= {s.item_id for s in analysis.suspects}
    for suspect in analysis.suspects:
        if suspect.item_id in suite.planted:
            assert suspect.method == "confident_learning"
            assert suspect.suspected == suite.truth[suspect.item_id]


def test_untouched_items_are_rarely_flagged(outcome: Outcome) -> None:
    _, _, false_rate = outcome.rates()
    assert false_rate <= 0.05  # measured 0, 0 and 1 of 54 (seeds 0, 1, 2)
    # No item whose gold is right and that most models know is suspected at all.
    fact_of = outcome.suite.fact_of
    majority = round(SHARES[len(SHARES) // 2] * FACTS)
    suspects = {s.item_id for s in outcome.analysis.suspects}
    assert not {i for i in outcome.untouched & suspects if fact_of[i] < majority}


def test_items_every_model_knows_carry_no_information(outcome: Outcome) -> None:
    flags = {s.item_id: [f["flag"] for f in s.flags] for s in outcome.analysis.items}
    assert len(outcome.known_by_all) == round(SHARES[0] * FACTS)
    for item_id in outcome.known_by_all:
        assert flags[item_id] == ["no_information"], (item_id, flags[item_id])
    # Every planted item is flagged: a suspected wrong gold, no information (all wrong), or
    # negative discrimination (a weak model guessed the planted gold, the strong ones knew).
    assert all(flags[i] for i in outcome.suite.planted)
