"""The answer parser against a broad case table: every rule and the traps the audit found.

Each case asserts both the answer read and, when none is, the reason. English and Chinese
cases are listed separately so that a report can count passes per language.
"""

from __future__ import annotations

import time

import pytest

from evalkit.metrics.answers import (
    EMPTY_OUTPUT,
    HEDGE,
    NEGATED,
    NO_ANSWER,
    NO_ANSWER_REASONS,
    SEVERAL_ANSWERS,
    ParsedAnswer,
    parse_choice,
    parse_label,
)

CONTRACT = ["Offer", "Acceptance", "Counter-offer", "Invitation to treat"]
NOTA = ["Offer", "Acceptance", "Counter-offer", "None of the above"]
YEARS_EN = ["2", "3", "6", "12"]
CAPITALS = ["长安", "南京", "开封", "临安"]  # capital of the Northern Song: C
YEARS_ZH = ["1年", "2年", "3年", "4年"]

BREACH = ["breach", "no breach"]
GRAMMAR = ["grammatical", "ungrammatical"]
CLAUSES = ["governing_law", "termination", "payment", "force_majeure"]
SENTIMENT = ["positive", "negative"]
WEIYUE = ["违约", "不违约"]
CLAUSES_ZH = ["违约", "解除", "付款", "不可抗力"]
QINGGAN = ["正面", "负面"]
XIAOLI = ["有效", "无效"]

# (output, choices, expected letter or None, expected reason or None)
MCQ_EN: list[tuple[str, list[str], str | None, str | None]] = [
    # bare answers
    ("C", CONTRACT, "C", None),
    ("(C)", CONTRACT, "C", None),
    ("**C**", CONTRACT, "C", None),
    ("C.", CONTRACT, "C", None),
    ("C) Counter-offer", CONTRACT, "C", None),
    ("c) Counter-offer", CONTRACT, "C", None),
    ("Option C", CONTRACT, "C", None),
    ("D. Invitation to treat", CONTRACT, "D", None),
    ("**C** — Counter-offer", CONTRACT, "C", None),
    ("b", CONTRACT, "B", None),
    # explicit statements
    ("Answer: C", CONTRACT, "C", None),
    ("answer: c", CONTRACT, "C", None),
    ("The answer is (c).", CONTRACT, "C", None),
    ("The correct option is (C).", CONTRACT, "C", None),
    ("I'd go with B.", CONTRACT, "B", None),
    ("I’d go with B.", CONTRACT, "B", None),
    ("I choose B", CONTRACT, "B", None),
    ("C is correct.", CONTRACT, "C", None),
    ("C is the correct answer because the reply changed the terms.", CONTRACT, "C", None),
    ("The answer is C because Acceptance must mirror the Offer.", CONTRACT, "C", None),
    ("**Answer:** C\n\nExplanation: the offer (A) was not accepted as made.", CONTRACT, "C", None),
    ("The U.S. rule differs; the answer is B.", CONTRACT, "B", None),
    # the last explicit statement wins; negated options lose
    ("At first A seems right, but the reply adds terms. Final answer: C", CONTRACT, "C", None),
    ("Choice A is wrong; the answer is C.", CONTRACT, "C", None),
    ("The answer is C, not A.", CONTRACT, "C", None),
    ("It is not an offer but a counter-offer.", CONTRACT, "C", None),
    # the same answer twice is one answer
    ("C. Counter-offer. The answer is C.", CONTRACT, "C", None),
    # option text
    ("Counter-offer", CONTRACT, "C", None),
    ("It is a counter-offer, because the reply changed the terms.", CONTRACT, "C", None),
    ("A counter-offer.", CONTRACT, "C", None),
    ("The answer is the counter-offer.", CONTRACT, "C", None),
    ("None of the above", NOTA, "D", None),
    ("6", YEARS_EN, "C", None),
    ("The limitation period is 6 years.", YEARS_EN, "C", None),
    ("12", YEARS_EN, "D", None),
    # an explicit letter outside the choices is an answer, and a wrong one
    ("The answer is E.", CONTRACT, "E", None),
    # uncertainty words around one answer: still that answer
    ("Probably B.", CONTRACT, "B", None),
    ("The answer is probably B, but I am not sure.", CONTRACT, "B", None),
    # no guessing
    ("", CONTRACT, None, EMPTY_OUTPUT),
    ("   \n", CONTRACT, None, EMPTY_OUTPUT),
    ("I cannot tell.", CONTRACT, None, NO_ANSWER),
    ("None of the above.", CONTRACT, None, NO_ANSWER),
    ("The answer is a contract.", CONTRACT, None, NO_ANSWER),
    ("CAT", CONTRACT, None, NO_ANSWER),
    ("1.2", YEARS_EN, None, NO_ANSWER),
    ("A is wrong.", CONTRACT, None, NEGATED),
    ("Not A.", CONTRACT, None, NEGATED),
    ("The answer is not A.", CONTRACT, None, NEGATED),
    ("B or C", CONTRACT, None, HEDGE),
    ("Either B or C.", CONTRACT, None, HEDGE),
    ("B/C", CONTRACT, None, HEDGE),
    ("The answer is B or C.", CONTRACT, None, HEDGE),
    ("I think it's B, or maybe C.", CONTRACT, None, HEDGE),
    ("A and C", CONTRACT, None, SEVERAL_ANSWERS),
    ("The answers are A and C.", CONTRACT, None, SEVERAL_ANSWERS),
    ("A. Offer\nB. Acceptance\nC. Counter-offer\nD. Invitation to treat", CONTRACT, None,
     SEVERAL_ANSWERS),
    ("Which is it? A. Offer B. Acceptance C. Counter-offer D. Invitation to treat", CONTRACT,
     None, SEVERAL_ANSWERS),
    ("It is an offer and an acceptance.", CONTRACT, None, SEVERAL_ANSWERS),
    # restating the question and then answering
    ("Which is it? A. Offer B. Acceptance C. Counter-offer D. Invitation to treat\nAnswer: C",
     CONTRACT, "C", None),
]  # fmt: skip

MCQ_ZH: list[tuple[str, list[str], str | None, str | None]] = [
    ("C。", CAPITALS, "C", None),
    ("Ｃ", CAPITALS, "C", None),
    ("（Ｃ）", CAPITALS, "C", None),
    ("Ｃ．开封", CAPITALS, "C", None),
    ("选项C", CAPITALS, "C", None),
    ("选C", CAPITALS, "C", None),
    ("答案：C", CAPITALS, "C", None),
    ("答案：（Ｃ）", CAPITALS, "C", None),
    ("答案是C", CAPITALS, "C", None),
    ("答案是Ｃ", CAPITALS, "C", None),
    ("答案为C", CAPITALS, "C", None),
    ("答案选B", CAPITALS, "B", None),
    ("我选B。", CAPITALS, "B", None),
    ("应选C", CAPITALS, "C", None),
    ("故选C。", CAPITALS, "C", None),
    ("正确答案是C", CAPITALS, "C", None),
    ("选项C正确", CAPITALS, "C", None),
    ("答案是C，选C", CAPITALS, "C", None),
    ("答案是开封", CAPITALS, "C", None),
    ("开封", CAPITALS, "C", None),
    ("北宋的都城是开封。", CAPITALS, "C", None),
    ("北宋的都城不是长安，而是开封。", CAPITALS, "C", None),
    ("不是A，而是C", CAPITALS, "C", None),
    ("A项错误，答案是C。", CAPITALS, "C", None),
    ("分析：A项长安是唐朝都城，错误；B项南京不对；故选C。", CAPITALS, "C", None),
    ("我选B，因为A是唐朝的都城", CAPITALS, "B", None),
    ("答案：B\n\n解析：A、C、D均错误。", CAPITALS, "B", None),
    ("大概是B", CAPITALS, "B", None),
    ("答案应该是B吧", CAPITALS, "B", None),
    ("3年", YEARS_ZH, "C", None),
    ("诉讼时效期间为3年。", YEARS_ZH, "C", None),
    ("答案是3年", YEARS_ZH, "C", None),
    ("13年", YEARS_ZH, None, NO_ANSWER),
    ("我不知道", CAPITALS, None, NO_ANSWER),
    ("以上都不对", CAPITALS, None, NO_ANSWER),
    ("不是A", CAPITALS, None, NEGATED),
    ("A错误", CAPITALS, None, NEGATED),
    ("答案不是长安", CAPITALS, None, NEGATED),
    ("A. 长安 | B. 南京 | C. 开封 | D. 临安", CAPITALS, None, SEVERAL_ANSWERS),
    ("A. 长安 B. 南京 C. 开封 D. 临安 …", CAPITALS, None, SEVERAL_ANSWERS),
    ("A、C", CAPITALS, None, SEVERAL_ANSWERS),
    ("答案是A、C", CAPITALS, None, SEVERAL_ANSWERS),
    ("长安和开封", CAPITALS, None, SEVERAL_ANSWERS),
    ("B或C", CAPITALS, None, HEDGE),
    ("可能是B也可能是C", CAPITALS, None, HEDGE),
    ("答案：B或者C", CAPITALS, None, HEDGE),
    ("长安还是开封？", CAPITALS, None, HEDGE),
    # the option list repeated, cut off by the token limit: a letter alone after it is the
    # list starting again, not a choice (SmolLM2-135M-Instruct, general@v1)
    ("A. 长安\nB. 南京\nC. 开封\nD. 临安\n\nA.", CAPITALS, None, SEVERAL_ANSWERS),
    ("A. 长安\nB. 南京\nC. 开封\nD. 临安\n\nA. 长安\nB. 南京\nC.", CAPITALS, None, SEVERAL_ANSWERS),
    # ... but a statement after the list is an answer
    ("A. 长安\nB. 南京\nC. 开封\nD. 临安\n\n答案是C。", CAPITALS, "C", None),
    ("A. 1年\nB. 2年\nC. 3年\nD. 4年\n\nThe answer is C. 3年.", YEARS_ZH, "C", None),
    ("开封\n\nC", CAPITALS, "C", None),
]

# (output, labels, expected label or None, expected reason or None)
LABEL_EN: list[tuple[str, list[str], str | None, str | None]] = [
    ("breach", BREACH, "breach", None),
    ("No breach.", BREACH, "no breach", None),
    ("There is no breach.", BREACH, "no breach", None),
    ("This is not a breach.", BREACH, None, NEGATED),
    ("breach or no breach", BREACH, None, HEDGE),
    ("The sentence is ungrammatical.", GRAMMAR, "ungrammatical", None),
    ("Label: ungrammatical", GRAMMAR, "ungrammatical", None),
    ("The sentence is grammatically incorrect.", GRAMMAR, None, NO_ANSWER),
    ("The sentence isn't grammatical.", GRAMMAR, None, NEGATED),
    ("The sentence is not grammatical.", GRAMMAR, None, NEGATED),
    ("Governing law", CLAUSES, "governing_law", None),
    ("governing-law", CLAUSES, "governing_law", None),
    ("Governing_Law.", CLAUSES, "governing_law", None),
    ("**force majeure**", CLAUSES, "force_majeure", None),
    ("It is about payment terms", CLAUSES, "payment", None),
    ("law", CLAUSES, None, NO_ANSWER),
    ("Termination, or possibly payment.", CLAUSES, None, HEDGE),
    ("termination and payment", CLAUSES, None, SEVERAL_ANSWERS),
    ("Category: termination. It mentions payment only in passing.", CLAUSES, "termination", None),
    ("Not termination; the label is payment.", CLAUSES, "payment", None),
    ("It is a non-payment clause.", CLAUSES, None, NEGATED),
    ("Sentiment: negative", SENTIMENT, "negative", None),
    ("positive", SENTIMENT, "positive", None),
    ("Positive, not negative.", SENTIMENT, "positive", None),
    ("The review is not positive.", SENTIMENT, None, NEGATED),
    # the opening sentence answers; a label used later, in the explanation, is in passing
    ("Positive. Although the ending was negative.", SENTIMENT, "positive", None),
    ("There is no doubt the review is positive.", SENTIMENT, "positive", None),
    # a label used in passing in the explanation is not an answer (SmolLM2-135M, general@v1)
    (
        "The sentence is grammatically incorrect in standard written English. It is a classic "
        "example of a grammatical error called a non-restrictive clause.",
        GRAMMAR,
        None,
        NO_ANSWER,
    ),
    (
        "This clause is about termination of the contract. Payment is elsewhere.",
        CLAUSES,
        "termination",
        None,
    ),
    (
        "Either party may end the agreement on notice.\n**termination**",
        CLAUSES,
        "termination",
        None,
    ),
    ("grammatical\nungrammatical", GRAMMAR, None, SEVERAL_ANSWERS),
    ("I don't know.", SENTIMENT, None, NO_ANSWER),
    ("", SENTIMENT, None, EMPTY_OUTPUT),
]

LABEL_ZH: list[tuple[str, list[str], str | None, str | None]] = [
    ("违约", WEIYUE, "违约", None),
    ("不违约", WEIYUE, "不违约", None),
    ("不违约。", WEIYUE, "不违约", None),
    ("属于违约", WEIYUE, "违约", None),
    ("答案是不违约", WEIYUE, "不违约", None),
    ("类别：违约", WEIYUE, "违约", None),
    ("不属于违约", WEIYUE, None, NEGATED),
    ("违约还是不违约", WEIYUE, None, HEDGE),
    ("不可抗力", CLAUSES_ZH, "不可抗力", None),
    ("属于不可抗力条款", CLAUSES_ZH, "不可抗力", None),
    ("该条款属于付款条款，不属于违约条款。", CLAUSES_ZH, "付款", None),
    ("付款和违约", CLAUSES_ZH, None, SEVERAL_ANSWERS),
    ("没有违约", CLAUSES_ZH, None, NEGATED),
    ("并非违约", CLAUSES_ZH, None, NEGATED),
    ("非违约", CLAUSES_ZH, None, NEGATED),
    ("无违约", CLAUSES_ZH, None, NEGATED),
    ("情感：负面", QINGGAN, "负面", None),
    ("这条评论非常正面", QINGGAN, "正面", None),
    ("毫无疑问是负面", QINGGAN, "负面", None),
    ("不是正面的", QINGGAN, None, NEGATED),
    ("正面或负面", QINGGAN, None, HEDGE),
    ("正面，也可能是负面", QINGGAN, None, HEDGE),
    ("合同无效", XIAOLI, "无效", None),
    ("合同并非无效", XIAOLI, None, NEGATED),
    ("答案：governing_law", CLAUSES, "governing_law", None),
    ("该条款为 governing law 条款", CLAUSES, "governing_law", None),
    ("不确定", QINGGAN, None, NO_ANSWER),
    ("", QINGGAN, None, EMPTY_OUTPUT),
    ("乙方逾期交货三十日，甲方可以主张权利。\n违约", WEIYUE, "违约", None),
    ("该句语法错误。这是一个常见的不可抗力条款。", CLAUSES_ZH, None, NO_ANSWER),
    ("正面\n负面", QINGGAN, None, SEVERAL_ANSWERS),
]


def _check(result: ParsedAnswer, value: str | None, reason: str | None) -> None:
    assert (result.value, result.reason) == (value, reason)
    assert result.readable is (value is not None)


@pytest.mark.parametrize(("output", "choices", "value", "reason"), MCQ_EN)
def test_choice_en(output: str, choices: list[str], value: str | None, reason: str | None) -> None:
    _check(parse_choice(output, choices), value, reason)


@pytest.mark.parametrize(("output", "choices", "value", "reason"), MCQ_ZH)
def test_choice_zh(output: str, choices: list[str], value: str | None, reason: str | None) -> None:
    _check(parse_choice(output, choices), value, reason)


@pytest.mark.parametrize(("output", "labels", "value", "reason"), LABEL_EN)
def test_label_en(output: str, labels: list[str], value: str | None, reason: str | None) -> None:
    _check(parse_label(output, labels), value, reason)


@pytest.mark.parametrize(("output", "labels", "value", "reason"), LABEL_ZH)
def test_label_zh(output: str, labels: list[str], value: str | None, reason: str | None) -> None:
    _check(parse_label(output, labels), value, reason)


def test_reasons_are_a_small_fixed_set() -> None:
    assert set(NO_ANSWER_REASONS) == {EMPTY_OUTPUT, NO_ANSWER, SEVERAL_ANSWERS, HEDGE, NEGATED}
    cases = MCQ_EN + MCQ_ZH + LABEL_EN + LABEL_ZH
    assert {reason for *_, reason in cases} - {None} == set(NO_ANSWER_REASONS)


def test_parsed_answer_holds_a_value_or_a_known_reason() -> None:
    assert ParsedAnswer("C", None).readable
    assert not ParsedAnswer(None, HEDGE).readable
    for value, reason in [("C", HEDGE), (None, None), (None, "guessed")]:
        with pytest.raises(ValueError):
            ParsedAnswer(value, reason)


def test_label_spelled_as_in_the_label_list() -> None:
    assert parse_label("GOVERNING LAW", CLAUSES).value == "governing_law"
    assert parse_label("Counter Offer", ["Counter-Offer", "Offer"]).value == "Counter-Offer"


def test_long_outputs_parse_in_linear_time() -> None:
    text = ("The offer was made, but not accepted; " * 3000) + "Answer: C"
    began = time.perf_counter()
    assert parse_choice(text, CONTRACT).value == "C"
    assert parse_label(text * 2, BREACH).reason == NO_ANSWER
    assert time.perf_counter() - began < 5.0  # about 0.1 s here; generous for a loaded machine
