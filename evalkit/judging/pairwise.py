"""Pairwise judging with position swap (MT-Bench, Zheng et al. 2023): each pair is judged
twice, first with the candidate's answer as A and the reference model's as B, then swapped.

LLM judges favour one position; a verdict counts only when it survives the swap. From the
candidate's side: a win when both orders prefer it (first "a", swapped "b"), a loss when both
prefer the reference, a tie when both say tie; any other pair of readable verdicts is
"inconsistent" and scores as a tie; a pair with an unreadable verdict is "unparseable" and
has no score.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from evalkit.judging.parse import PairVerdict

Outcome = Literal["win", "loss", "tie", "inconsistent", "unparseable"]
OUTCOMES: tuple[Outcome, ...] = ("win", "loss", "tie", "inconsistent", "unparseable")

_SCORES: dict[str, float | None] = {
    "win": 1.0,
    "loss": 0.0,
    "tie": 0.5,
    "inconsistent": 0.5,
    "unparseable": None,
}
# The candidate's result of one order: in the first it is A, in the swapped order B.
_FIRST: dict[str, Outcome] = {"a": "win", "b": "loss", "tie": "tie"}
_SWAPPED: dict[str, Outcome] = {"a": "loss", "b": "win", "tie": "tie"}


def combine_orders(first: PairVerdict, swapped: PairVerdict) -> Outcome:
    """The candidate's outcome from the verdicts of both orders (candidate as A, then as B)."""
    if first.winner is None or swapped.winner is None:
        return "unparseable"
    outcome = _FIRST[first.winner]
    return outcome if outcome == _SWAPPED[swapped.winner] else "inconsistent"


def outcome_score(outcome: str) -> float | None:
    """The outcome as an item metric: win 1, tie or inconsistent 0.5, loss 0, unparseable None."""
    if outcome not in _SCORES:
        raise ValueError(f"unknown pairwise outcome {outcome!r}; known: {', '.join(OUTCOMES)}")
    return _SCORES[outcome]


@dataclass(frozen=True)
class PairSummary:
    """How one candidate fared against the reference over many pairs."""

    win: int = 0
    loss: int = 0
    tie: int = 0
    inconsistent: int = 0
    unparseable: int = 0

    @classmethod
    def of(cls, outcomes: Iterable[str]) -> PairSummary:
        counts = Counter(outcomes)
        unknown = sorted(set(counts) - set(OUTCOMES))
        if unknown:
            raise ValueError(f"unknown pairwise outcome(s) {unknown}; known: {', '.join(OUTCOMES)}")
        return cls(**{name: counts[name] for name in OUTCOMES})

    @property
    def n(self) -> int:
        """All pairs, unparseable ones included."""
        return self.parseable + self.unparseable

    @property
    def parseable(self) -> int:
        return self.win + self.loss + self.tie + self.inconsistent

    @property
    def inconsistent_share(self) -> float | None:
        """Order-inconsistent pairs among the parseable ones (None: no parseable pair)."""
        return self.inconsistent / self.parseable if self.parseable else None

    @property
    def mean_score(self) -> float | None:
        """The mean outcome score over parseable pairs (None: no parseable pair)."""
        if not self.parseable:
            return None
        return (self.win + 0.5 * (self.tie + self.inconsistent)) / self.parseable
