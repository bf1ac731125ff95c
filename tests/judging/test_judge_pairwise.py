"""parse_pairwise on recorded judge outputs, and position swap (MT-Bench, Zheng et al. 2023):
combine_orders over every pair of verdicts, outcome scores and the summary."""

from __future__ import annotations

import itertools

import pytest

from evalkit.judging.pairwise import OUTCOMES, PairSummary, combine_orders, outcome_score
from evalkit.judging.parse import PAIR_PROBLEMS, PairVerdict, parse_pairwise


def won(winner: str, reason: str | None = None) -> PairVerdict:
    return PairVerdict(winner, reason, None)  # type: ignore[arg-type]


def bad(problem: str, reason: str | None = None) -> PairVerdict:
    return PairVerdict(None, reason, problem)


CASES = [
    # --- English -------------------------------------------------------------------------------
    pytest.param(
        '{"winner": "A", "reason": "A cites the correct statute."}',
        won("a", "A cites the correct statute."),
        id="en-json-as-asked",
    ),
    pytest.param(
        "After comparing both answers with the reference:\n```json\n"
        '{"winner": "B", "reason": "B gives the right deadline."}\n```\nHope this helps.',
        won("b", "B gives the right deadline."),
        id="en-fenced-json-with-prose",
    ),
    pytest.param(
        '{"winner": "tie", "reason": "Both are correct and complete."}',
        won("tie", "Both are correct and complete."),
        id="en-json-tie",
    ),
    pytest.param('{"winner": "Answer A"}', won("a"), id="en-json-answer-a-no-reason"),
    pytest.param(
        '{"winner": "b", "reason": "Shorter but right.",}',
        won("b", "Shorter but right."),
        id="en-json-lowercase-trailing-comma",
    ),
    pytest.param("Winner: A", won("a"), id="en-winner-line"),
    pytest.param("[[B]]", won("b"), id="en-mt-bench-b"),
    pytest.param("[[C]]", won("tie"), id="en-mt-bench-c-is-tie"),
    pytest.param(
        "Answer B is clearly better because it mentions the deadline.\n\n[[B]]",
        won("b", "Answer B is clearly better because it mentions the deadline."),
        id="en-explanation-then-mt-bench",
    ),
    pytest.param("A is better.", won("a", "A is better."), id="en-a-is-better"),
    pytest.param(
        "Both answers are equally good.",
        won("tie", "Both answers are equally good."),
        id="en-equally-good",
    ),
    pytest.param(
        "A is better on accuracy, but B is better on fluency.",
        bad("several verdicts", "A is better on accuracy, but B is better on fluency."),
        id="en-both-named",
    ),
    pytest.param(
        '{"winner": "A or B", "reason": "Hard to choose."}',
        bad("several verdicts", "Hard to choose."),
        id="en-json-hedge",
    ),
    pytest.param(
        '{"winner": "A", "reason": "More complete."}\n\nFinal verdict: [[B]]',
        bad("several verdicts", "More complete."),
        id="en-json-and-marker-disagree",
    ),
    pytest.param("", bad("unreadable output"), id="en-empty"),
    pytest.param(
        "I'm sorry, I can't compare these answers.",
        bad("unreadable output", "I'm sorry, I can't compare these answers."),
        id="en-refusal",
    ),
    pytest.param(
        'Set "winner" to "A" if you prefer answer A, to "B" if you prefer answer B, or to '
        '"tie":\n{"winner": "<A, B or tie>", "reason": "<one sentence>"}',
        bad("several verdicts", "<one sentence>"),
        id="en-repeats-the-prompt",
    ),
    pytest.param('{"winner": "C"}', bad("no verdict"), id="en-json-c-is-not-asked-for"),
    pytest.param(
        '{"winner": null, "reason": "Cannot decide."}',
        bad("no verdict", "Cannot decide."),
        id="en-json-null",
    ),
    pytest.param(
        "<think>Maybe A is better... [[A]]? No.</think>\n"
        '{"winner": "B", "reason": "B is correct."}',
        won("b", "B is correct."),
        id="en-thinking-skipped",
    ),
    pytest.param(
        "Assistant A's answer is better.",
        won("a", "Assistant A's answer is better."),
        id="en-assistant-possessive",
    ),
    pytest.param(
        "A is not better than B; they are a tie.",
        won("tie", "A is not better than B; they are a tie."),
        id="en-negation-is-no-verdict-for-a",
    ),
    # --- Chinese -------------------------------------------------------------------------------
    pytest.param(
        '{"winner": "A", "reason": "答案A正确引用了诉讼时效的规定。"}',
        won("a", "答案A正确引用了诉讼时效的规定。"),
        id="zh-json-chinese-reason",
    ),
    pytest.param(
        "答案A更好，因为它提到了三年的诉讼时效。",
        won("a", "答案A更好，因为它提到了三年的诉讼时效。"),
        id="zh-a-better",
    ),
    pytest.param("平局", won("tie", "平局"), id="zh-tie"),
    pytest.param(
        "两个答案不相上下，都正确。",
        won("tie", "两个答案不相上下，都正确。"),
        id="zh-evenly-matched",
    ),
    pytest.param("B比A好。", won("b", "B比A好。"), id="zh-b-better-than-a"),
    pytest.param(
        "A不如B，B更完整。",
        won("b", "A不如B，B更完整。"),
        id="zh-a-not-as-good-as-b",
    ),
    pytest.param("最终结论：B", won("b"), id="zh-final-verdict-line"),
    pytest.param(
        '{"winner": "平局", "reason": "两者都正确"}',
        won("tie", "两者都正确"),
        id="zh-json-tie-in-chinese",
    ),
    pytest.param(
        '{"winner": "答案B", "reason": "回答B指出了合同无效的情形。"}',
        won("b", "回答B指出了合同无效的情形。"),
        id="zh-json-answer-b",
    ),
    pytest.param(
        "答案A更好。不过答案B更好一些。",
        bad("several verdicts", "答案A更好。不过答案B更好一些。"),
        id="zh-both-named",
    ),
    pytest.param(
        "抱歉，我无法判断哪个答案更好。",
        bad("unreadable output", "抱歉，我无法判断哪个答案更好。"),
        id="zh-refusal",
    ),
    pytest.param(
        '```json\n{"winner": "B", "reason": "回答B指出了合同无效的情形"}\n```',
        won("b", "回答B指出了合同无效的情形"),
        id="zh-fenced-json",
    ),
    pytest.param(
        '{"winner": "A和B", "reason": "都可以"}',
        bad("several verdicts", "都可以"),
        id="zh-json-both",
    ),
    pytest.param("胜者：A", won("a"), id="zh-winner-line"),
    pytest.param(
        '{"winner": "A", "reason": "A更准确"}\n[[A]]',
        won("a", "A更准确"),
        id="zh-json-and-marker-agree",
    ),
    pytest.param(
        "我认为B的回答更好。[[B]]",
        won("b", "我认为B的回答更好。"),
        id="zh-explanation-then-mt-bench",
    ),
    pytest.param(
        '{"winner": "", "reason": "难以判断"}',
        bad("no verdict", "难以判断"),
        id="zh-json-empty-winner",
    ),
]


@pytest.mark.parametrize(("output", "expected"), CASES)
def test_recorded_outputs(output: str, expected: PairVerdict) -> None:
    got = parse_pairwise(output)
    assert got == expected
    assert (got.winner is None) == (got.problem is not None)
    assert got.problem is None or got.problem in PAIR_PROBLEMS


def test_the_table_is_large_and_bilingual() -> None:
    ids = [str(case.id) for case in CASES]
    assert len(ids) >= 25 and len(set(ids)) == len(ids)
    assert sum(i.startswith("zh-") for i in ids) >= len(ids) * 0.4


# --- position swap ----------------------------------------------------------------------------

STATES = {
    "a": won("a"),
    "b": won("b"),
    "tie": won("tie"),
    "several": bad("several verdicts"),
    "unreadable": bad("unreadable output"),
}
# Rows: the verdict with the candidate as A; columns: with the candidate as B (swapped).
EXPECTED = {
    "a": {"a": "inconsistent", "b": "win", "tie": "inconsistent"},
    "b": {"a": "loss", "b": "inconsistent", "tie": "inconsistent"},
    "tie": {"a": "inconsistent", "b": "inconsistent", "tie": "tie"},
}


@pytest.mark.parametrize(("first", "swapped"), list(itertools.product(STATES, STATES)))
def test_combine_orders(first: str, swapped: str) -> None:
    expected = EXPECTED.get(first, {}).get(swapped, "unparseable")
    assert combine_orders(STATES[first], STATES[swapped]) == expected


def test_all_25_combinations_are_covered() -> None:
    assert len(list(itertools.product(STATES, STATES))) == 25


@pytest.mark.parametrize(
    ("outcome", "score"),
    [("win", 1.0), ("loss", 0.0), ("tie", 0.5), ("inconsistent", 0.5), ("unparseable", None)],
)
def test_outcome_score(outcome: str, score: float | None) -> None:
    assert outcome_score(outcome) == score


def test_an_unknown_outcome_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown pairwise outcome 'draw'"):
        outcome_score("draw")
    with pytest.raises(ValueError, match="unknown"):
        PairSummary.of(["win", "draw"])


def test_summary_counts_and_shares() -> None:
    outcomes = ["win"] * 5 + ["loss"] * 2 + ["tie"] + ["inconsistent"] * 2 + ["unparseable"] * 3
    s = PairSummary.of(outcomes)
    assert (s.win, s.loss, s.tie, s.inconsistent, s.unparseable) == (5, 2, 1, 2, 3)
    assert (s.n, s.parseable) == (13, 10)
    assert s.inconsistent_share == pytest.approx(0.2)
    assert s.mean_score == pytest.approx((5 + 0.5 * 3) / 10)
    parseable = [outcome_score(o) for o in outcomes if outcome_score(o) is not None]
    assert s.mean_score == pytest.approx(sum(parseable) / len(parseable))  # type: ignore[arg-type]


def test_summary_of_nothing_readable() -> None:
    s = PairSummary.of(["unparseable", "unparseable"])
    assert (s.n, s.parseable, s.inconsistent_share, s.mean_score) == (2, 0, None, None)
    assert PairSummary.of([]) == PairSummary()
    assert set(OUTCOMES) == {"win", "loss", "tie", "inconsistent", "unparseable"}


def test_a_judge_with_position_bias_is_inconsistent_not_a_winner() -> None:
    """A judge that always prefers the first answer never makes the candidate win."""
    first, swapped = parse_pairwise("[[A]]"), parse_pairwise("[[A]]")
    assert combine_orders(first, swapped) == "inconsistent"
    assert outcome_score(combine_orders(first, swapped)) == 0.5
