"""parse_rubric on recorded judge outputs: what small and large instruct models write, and on
degenerate ones (a looping judge), which must be read in linear time.

Each case states every field of every criterion (score, reason, problem), on the default
rubric (accuracy, fluency, relevance; 1 to 5) unless it names its own criteria.
"""

from __future__ import annotations

import time

import pytest

from evalkit.judging.parse import (
    RUBRIC_PROBLEMS,
    CriterionScore,
    criterion_labels,
    parse_pairwise,
    parse_rubric,
)
from evalkit.suite.rubric import DEFAULT_CRITERIA, Criterion


def ok(score: int, reason: str | None = None) -> CriterionScore:
    return CriterionScore(score, reason, None)


def bad(problem: str, reason: str | None = None) -> CriterionScore:
    return CriterionScore(None, reason, problem)


UNREADABLE = [bad("unreadable output")] * 3

# (output, [accuracy, fluency, relevance])
CASES = [
    # --- English -------------------------------------------------------------------------------
    pytest.param(
        '{"accuracy": {"score": 4, "reason": "Correct, but omits the notice period."}, '
        '"fluency": {"score": 5, "reason": "Clear and grammatical."}, '
        '"relevance": {"score": 5, "reason": "Answers the question asked."}}',
        [
            ok(4, "Correct, but omits the notice period."),
            ok(5, "Clear and grammatical."),
            ok(5, "Answers the question asked."),
        ],
        id="en-json-as-asked",
    ),
    pytest.param(
        "Here is my evaluation of the answer:\n\n```json\n{\n"
        '  "accuracy": {"score": 3, "reason": "The limitation period is wrong."},\n'
        '  "fluency": {"score": 4, "reason": "Readable."},\n'
        '  "relevance": {"score": 5, "reason": "On topic."}\n}\n```\n\n'
        "Let me know if you need anything else!",
        [ok(3, "The limitation period is wrong."), ok(4, "Readable."), ok(5, "On topic.")],
        id="en-fenced-json-with-prose",
    ),
    pytest.param(
        '{"accuracy": 4, "fluency": 5, "relevance": 4}',
        [ok(4), ok(5), ok(4)],
        id="en-bare-numbers",
    ),
    pytest.param(
        '{"accuracy": 2, "fluency": 4, "relevance": 3, "reason": "States the wrong deadline."}',
        [
            ok(2, "States the wrong deadline."),
            ok(4, "States the wrong deadline."),
            ok(3, "States the wrong deadline."),
        ],
        id="en-bare-numbers-shared-reason",
    ),
    pytest.param(
        '{\n  "accuracy": {"score": 5, "reason": "Matches the reference.",},\n'
        '  "fluency": {"score": 5, "reason": "Fluent.",},\n'
        '  "relevance": {"score": 4, "reason": "Adds an aside.",},\n}',
        [ok(5, "Matches the reference."), ok(5, "Fluent."), ok(4, "Adds an aside.")],
        id="en-trailing-commas",
    ),
    pytest.param(
        "Accuracy: 4/5 - Cites the right statute.\nFluency: 5/5 - Clear.\nRelevance: 4/5",
        [ok(4, "Cites the right statute."), ok(5, "Clear."), ok(4)],
        id="en-lines-slash",
    ),
    pytest.param(
        "accuracy - 4\nfluency - 5\nrelevance - 3",
        [ok(4), ok(5), ok(3)],
        id="en-lines-dash",
    ),
    pytest.param(
        "**Accuracy:** 3\n**Fluency:** 4\n**Relevance:** 5\n\nOverall the answer is fair.",
        [ok(3), ok(4), ok(5)],
        id="en-markdown-bold",
    ),
    pytest.param(
        "| Criterion | Score | Reason |\n|---|---|---|\n| Accuracy | 4 | correct outcome |\n"
        "| Fluency | 5 | clear |\n| Relevance | 4 | slightly long |",
        [ok(4, "correct outcome"), ok(5, "clear"), ok(4, "slightly long")],
        id="en-markdown-table",
    ),
    pytest.param(
        "**Accuracy (1-5):** [[4]]\n**Fluency (1-5):** [[5]]\n**Relevance (1-5):** [[5]]",
        [ok(4), ok(5), ok(5)],
        id="en-mt-bench-brackets",
    ),
    pytest.param(
        "Accuracy: 4 out of 5 (one error)\nFluency: 5 out of 5\nRelevance: 5 out of 5",
        [ok(4, "(one error)"), ok(5), ok(5)],
        id="en-out-of",
    ),
    pytest.param(
        '{"accuracy": {"score": 6, "reason": "Perfect."}, '
        '"fluency": {"score": 0, "reason": "Unreadable."}, '
        '"relevance": {"score": 5, "reason": "Relevant."}}',
        [bad("out of scale", "Perfect."), bad("out of scale", "Unreadable."), ok(5, "Relevant.")],
        id="en-out-of-scale",
    ),
    pytest.param(
        "Accuracy: 8/10\nFluency: 9/10\nRelevance: 10/10",
        [bad("out of scale")] * 3,
        id="en-ten-point-scale",
    ),
    pytest.param(
        "Accuracy: 80%\nFluency: 100%\nRelevance: 4",
        [bad("out of scale"), bad("out of scale"), ok(4)],
        id="en-percentages",
    ),
    pytest.param(
        '{"accuracy": 4.5, "fluency": 5.0, "relevance": "4/5"}',
        [bad("not an integer"), ok(5), ok(4)],
        id="en-half-point-and-integral-float",
    ),
    pytest.param(
        "Accuracy: 3-4 (hard to say)\nFluency: 5\nRelevance: 4",
        [bad("several scores", "(hard to say)"), ok(5), ok(4)],
        id="en-range",
    ),
    pytest.param(
        "Accuracy: 4\nFluency: 5\nRelevance: 5\n\nOn reflection the date is wrong. Accuracy: 3",
        [bad("several scores"), ok(5), ok(5)],
        id="en-two-lines-disagree",
    ),
    pytest.param(
        '{"accuracy": 4, "accuracy": 2, "fluency": 5, "relevance": 5}',
        [bad("several scores"), ok(5), ok(5)],
        id="en-json-key-twice",
    ),
    pytest.param(
        'Accuracy: 2/5\n\n```json\n{"accuracy": 4, "fluency": 5, "relevance": 5}\n```',
        [bad("several scores"), ok(5), ok(5)],
        id="en-prose-contradicts-json",
    ),
    pytest.param(
        "Scores:\nAccuracy: 4/5\nFluency: 5/5\nRelevance: 5/5\n\n"
        '{"accuracy": 4, "fluency": 5, "relevance": 5}',
        [ok(4), ok(5), ok(5)],
        id="en-prose-agrees-with-json",
    ),
    pytest.param(
        '{"accuracy": {"score": 3, "reason": "Misses the limitation period."}, '
        '"fluency": {"score": 4, "reason": "Clear but',
        [ok(3, "Misses the limitation period."), ok(4), bad("no score")],
        id="en-truncated-json",
    ),
    pytest.param(
        '```json\n{"accuracy": {"sco',
        UNREADABLE,
        id="en-truncated-before-any-score",
    ),
    pytest.param("", UNREADABLE, id="en-empty"),
    pytest.param(
        "I'm sorry, but I can't evaluate answers that give legal advice.",
        UNREADABLE,
        id="en-refusal",
    ),
    pytest.param(
        "Reply with only this JSON object, one entry per criterion, and nothing else:\n{\n"
        '"accuracy": {"score": <whole number from 1 to 5>, "reason": "<one sentence>"},\n'
        '"fluency": {"score": <whole number from 1 to 5>, "reason": "<one sentence>"},\n'
        '"relevance": {"score": <whole number from 1 to 5>, "reason": "<one sentence>"}\n}',
        UNREADABLE,
        id="en-repeats-the-prompt",
    ),
    pytest.param(
        '{"accuracy": {"score": 4, "reason": "Right."}, "fluency": {"score": 5, "reason": "Ok."}}',
        [ok(4, "Right."), ok(5, "Ok."), bad("no score")],
        id="en-criterion-missing",
    ),
    pytest.param(
        '{"accuracy": {"score": null, "reason": "Cannot verify the figures."}, '
        '"fluency": {"score": 4}, "relevance": {"score": 4}}',
        [bad("no score", "Cannot verify the figures."), ok(4), ok(4)],
        id="en-null-score",
    ),
    pytest.param(
        '{"accuracy": "excellent", "fluency": true, "relevance": [4, 5]}',
        [bad("not an integer"), bad("not an integer"), bad("several scores")],
        id="en-words-booleans-lists",
    ),
    pytest.param(
        '{"scores": {"Accuracy": 4, "Fluency": 5, "Relevance": 4}, "reason": "Solid answer."}',
        [ok(4, "Solid answer."), ok(5, "Solid answer."), ok(4, "Solid answer.")],
        id="en-wrapped-and-capitalised",
    ),
    pytest.param(
        '{"ACCURACY": {"Score": 5, "Reason": "Exact."}, "Fluency_score": 4, "relevance": 5}',
        [ok(5, "Exact."), ok(4), ok(5)],
        id="en-key-case-and-suffix",
    ),
    pytest.param(
        "<think>\nAccuracy: maybe 3? The answer gets the date right, so 4.\n</think>\n"
        '{"accuracy": 4, "fluency": 5, "relevance": 5}',
        [ok(4), ok(5), ok(5)],
        id="en-thinking-skipped",
    ),
    pytest.param(
        "{'accuracy': 4, 'fluency': 3, 'relevance': 4}",
        [ok(4), ok(3), ok(4)],
        id="en-python-dict",
    ),
    pytest.param(
        '{"accuracy": {"score": 2, "reason": "Wrong court."}}\n'
        '{"fluency": {"score": 4, "reason": "Fine."}}\n'
        '{"relevance": {"score": 5, "reason": "On point."}}',
        [ok(2, "Wrong court."), ok(4, "Fine."), ok(5, "On point.")],
        id="en-one-object-per-line",
    ),
    pytest.param(
        "Overall score: 4/5. The answer is good.",
        UNREADABLE,
        id="en-overall-only",
    ),
    # --- Chinese -------------------------------------------------------------------------------
    pytest.param(
        '{"accuracy": {"score": 4, "reason": "答案正确，但未提及诉讼时效。"}, '
        '"fluency": {"score": 5, "reason": "表达通顺。"}, '
        '"relevance": {"score": 5, "reason": "紧扣问题。"}}',
        [ok(4, "答案正确，但未提及诉讼时效。"), ok(5, "表达通顺。"), ok(5, "紧扣问题。")],
        id="zh-json-chinese-reasons",
    ),
    pytest.param(
        "以下是我的评分：\n```json\n{\n"
        '  "accuracy": {"score": 2, "reason": "引用的法条错误。"},\n'
        '  "fluency": {"score": 4, "reason": "基本通顺。"},\n'
        '  "relevance": {"score": 4, "reason": "回答了问题。"}\n}\n```\n以上。',
        [ok(2, "引用的法条错误。"), ok(4, "基本通顺。"), ok(4, "回答了问题。")],
        id="zh-fenced-json-with-prose",
    ),
    pytest.param(
        "准确性：4分，答案基本正确。\n流畅性：5分\n相关性：3分，有些偏题。",
        [ok(4, "答案基本正确。"), ok(5), ok(3, "有些偏题。")],
        id="zh-lines-fen",
    ),
    pytest.param(
        "准确性：4/5\n流畅性：5/5\n相关性：4/5",
        [ok(4), ok(5), ok(4)],
        id="zh-lines-slash",
    ),
    pytest.param(
        "准确性（accuracy）：3分\n流畅性（fluency）：4分\n相关性（relevance）：4分",
        [ok(3), ok(4), ok(4)],
        id="zh-both-names",
    ),
    pytest.param(
        '{"准确性": {"分数": 4, "理由": "正确"}, "流畅性": {"分数": 5, "理由": "通顺"}, '
        '"相关性": {"分数": 5, "理由": "切题"}}',
        [ok(4, "正确"), ok(5, "通顺"), ok(5, "切题")],
        id="zh-chinese-keys",
    ),
    pytest.param(
        "准确性：8分\n流畅性：9分\n相关性：10分",
        [bad("out of scale")] * 3,
        id="zh-ten-point-scale",
    ),
    pytest.param(
        "准确性：4.5分\n流畅性：5分\n相关性：4分",
        [bad("not an integer"), ok(5), ok(4)],
        id="zh-half-point",
    ),
    pytest.param(
        "准确性：3到4分，部分正确\n流畅性：5分\n相关性：4分",
        [bad("several scores", "部分正确"), ok(5), ok(4)],
        id="zh-range",
    ),
    pytest.param(
        "准确性：4分\n流畅性：5分\n相关性：5分\n\n综合考虑，准确性：3分",
        [bad("several scores"), ok(5), ok(5)],
        id="zh-two-lines-disagree",
    ),
    pytest.param(
        '{"accuracy": {"score": 2, "reason": "引用的法条错误"}, '
        '"fluency": {"score": 4, "reason": "表达',
        [ok(2, "引用的法条错误"), ok(4), bad("no score")],
        id="zh-truncated-json",
    ),
    pytest.param("抱歉，我无法对这个回答进行评价。", UNREADABLE, id="zh-refusal"),
    pytest.param(
        "根据《民法典》第一百八十八条，向人民法院请求保护民事权利的诉讼时效期间为三年。",
        UNREADABLE,
        id="zh-answers-the-question-instead",
    ),
    pytest.param(
        '{"accuracy": {"score": 5, "reason": "完全正确"}, '
        '"fluency": {"score": 5, "reason": "流畅"}}',
        [ok(5, "完全正确"), ok(5, "流畅"), bad("no score")],
        id="zh-criterion-missing",
    ),
    pytest.param(
        '```json\n{\n  "accuracy": {"score": 3, "reason": "遗漏了违约金条款",},\n'
        '  "fluency": {"score": 4, "reason": "通顺",},\n'
        '  "relevance": {"score": 5, "reason": "切题",},\n}\n```',
        [ok(3, "遗漏了违约金条款"), ok(4, "通顺"), ok(5, "切题")],
        id="zh-trailing-commas",
    ),
    pytest.param(
        "| 维度 | 得分 | 理由 |\n|---|---|---|\n| 准确性 | 4 | 基本正确 |\n"
        "| 流畅性 | 5 | 通顺 |\n| 相关性 | 4 | 略有展开 |",
        [ok(4, "基本正确"), ok(5, "通顺"), ok(4, "略有展开")],
        id="zh-markdown-table",
    ),
    pytest.param(
        "**准确性**：5分\n**流畅性**：4分\n**相关性**：5分",
        [ok(5), ok(4), ok(5)],
        id="zh-markdown-bold",
    ),
    pytest.param(
        '{"accuracy": 3, "fluency": 4, "relevance": 4, "理由": "部分正确，遗漏了举证责任。"}',
        [
            ok(3, "部分正确，遗漏了举证责任。"),
            ok(4, "部分正确，遗漏了举证责任。"),
            ok(4, "部分正确，遗漏了举证责任。"),
        ],
        id="zh-shared-reason-key",
    ),
    pytest.param(
        "<think>准确性：3分？不对，答案其实是对的。</think>\n准确性：4分\n流畅性：5分\n相关性：5分",
        [ok(4), ok(5), ok(5)],
        id="zh-thinking-skipped",
    ),
    pytest.param(
        "准确性：４分\n流畅性：５分\n相关性：４分",
        [ok(4), ok(5), ok(4)],
        id="zh-full-width-digits",
    ),
    pytest.param(
        '{"accuracy": {"score": "4分", "reason": "正确"}, "fluency": {"score": "5/5"}, '
        '"relevance": {"score": "3"}}',
        [ok(4, "正确"), ok(5), ok(3)],
        id="zh-scores-as-strings",
    ),
    pytest.param(
        "准确性：0分，完全错误\n流畅性：3分\n相关性：2分",
        [bad("out of scale", "完全错误"), ok(3), ok(2)],
        id="zh-zero-below-scale",
    ),
    pytest.param(
        '{"准确性得分": 4, "流畅性得分": 4, "相关性得分": 5}',
        [ok(4), ok(4), ok(5)],
        id="zh-keys-with-defen-suffix",
    ),
    pytest.param(
        '我的评价如下：{"accuracy": {"score": 4, "reason": "正确"}, '
        '"fluency": {"score": 5, "reason": "流畅"}, "relevance": {"score": 5, "reason": "切题"}}'
        "\n相关性：4分",
        [ok(4, "正确"), ok(5, "流畅"), bad("several scores", "切题")],
        id="zh-prose-after-json-disagrees",
    ),
    pytest.param(
        "总体来看，这个回答不错，我给4分。",
        UNREADABLE,
        id="zh-overall-only",
    ),
]


@pytest.mark.parametrize(("output", "expected"), CASES)
def test_recorded_outputs(output: str, expected: list[CriterionScore]) -> None:
    got = parse_rubric(output, DEFAULT_CRITERIA)
    assert list(got) == [c.name for c in DEFAULT_CRITERIA]
    assert list(got.values()) == expected


def test_the_tables_are_large_and_bilingual() -> None:
    ids = [str(case.id) for case in CASES]
    assert len(ids) >= 40 and len(set(ids)) == len(ids)
    assert sum(i.startswith("zh-") for i in ids) >= len(ids) * 0.4


@pytest.mark.parametrize(("output", "expected"), CASES)
def test_every_problem_is_in_the_vocabulary(output: str, expected: list[CriterionScore]) -> None:
    for score in parse_rubric(output, DEFAULT_CRITERIA).values():
        assert (score.score is None) == (score.problem is not None)
        assert score.problem is None or score.problem in RUBRIC_PROBLEMS


# --- criteria other than the default ----------------------------------------------------------

COMPLETION = Criterion(
    name="task_completion",
    description="Does the answer do the whole task? / 完成度：是否完成了全部任务？",
    scale=(0, 10),
)
TONE = Criterion(name="tone", description="Is the tone professional?", scale=(1, 3))


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        pytest.param(
            "Task completion: 7/10 - misses one step\nTone: 3",
            [ok(7, "misses one step"), ok(3)],
            id="name-with-space-and-own-scale",
        ),
        pytest.param(
            '{"task_completion": {"score": 0, "reason": "Did nothing."}, "tone": 1}',
            [ok(0, "Did nothing."), ok(1)],
            id="zero-is-on-a-0-to-10-scale",
        ),
        pytest.param(
            "完成度：10分\ntone: 4/5",
            [ok(10), bad("out of scale")],
            id="chinese-label-from-description",
        ),
        pytest.param(
            "Task completion: 4/5\nTone: 2/3",
            [bad("out of scale"), ok(2)],
            id="denominator-must-be-the-scale-top",
        ),
    ],
)
def test_own_criteria(output: str, expected: list[CriterionScore]) -> None:
    assert list(parse_rubric(output, [COMPLETION, TONE]).values()) == expected


def test_labels_come_from_the_name_and_the_description() -> None:
    assert criterion_labels(DEFAULT_CRITERIA[0]) == ("accuracy", "准确性")
    assert criterion_labels(COMPLETION) == ("task_completion", "task completion", "完成度")
    assert criterion_labels(TONE) == ("tone",)


def test_a_word_containing_the_name_is_not_the_name() -> None:
    got = parse_rubric("Inaccuracy: 2\nfluency: 4\nrelevance: 4", DEFAULT_CRITERIA)
    assert got["accuracy"] == bad("no score")


# --- degenerate outputs: a looping judge, runs of whitespace -------------------------------------

SPACES = " " * 30_000
DEGENERATE = [
    '{"accuracy": ' * 5_000,  # nested deeper than json's recursion limit
    "accuracy" + SPACES + "-" + SPACES,
    "accuracy: 4 a" + SPACES + "b",
    "winner" + SPACES + "is" + SPACES + "x",
    "A" + SPACES + "比" + SPACES + "B" + SPACES,
    "accuracy: " + "9" * 5_000,
    "Accuracy: 4/5\n" * 5_000,
]


@pytest.mark.parametrize("output", DEGENERATE, ids=range(len(DEGENERATE)))
def test_degenerate_outputs_are_read_in_linear_time(output: str) -> None:
    start = time.perf_counter()
    scores = parse_rubric(output, DEFAULT_CRITERIA)
    parse_pairwise(output)
    assert time.perf_counter() - start < 2.0
    assert all(s.problem is None or s.problem in RUBRIC_PROBLEMS for s in scores.values())
