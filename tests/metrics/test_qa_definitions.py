"""QA exact match and token F1 against the official scripts (copies in `reference/`).

English: SQuAD v1.1 applied after NFKC, so ours equals the script on NFKC'd text, always.
Chinese: CMRC 2018, equal to the script wherever our documented deviations do not apply,
and each deviation tested on its own.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from reference import cmrc2018, squad_v1_1

from evalkit.metrics.registry import get_metric
from evalkit.suite.items import ITEM_ADAPTER


def qa(answers: list[str], language: str) -> Any:
    return ITEM_ADAPTER.validate_python(
        {
            "id": "x",
            "task": "qa",
            "question": "q",
            "answers": answers,
            "language": language,
            "provenance": {"author": "t"},
        }
    )


def ours(prediction: str, answers: list[str], language: str) -> tuple[float, float]:
    item = qa(answers, language)
    em, f1 = get_metric("exact_match").fn, get_metric("token_f1").fn
    return em(item, prediction), f1(item, prediction)


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


EN_CASES = [
    ("Six years", ["6 years", "six years"]),
    ("the six years", ["six years"]),
    ("six", ["six years"]),
    ("six years ago", ["six years"]),
    ("U.S.", ["US"]),
    ("The U.S. Supreme Court", ["US Supreme Court"]),
    ("an offer", ["offer"]),
    ("A  counter-offer ", ["counter offer"]),
    ("$1,200,000", ["1200000"]),
    ("1,200,000 dollars", ["$1.2 million"]),
    ("Section 5(1)(a)", ["s.5(1)(a)"]),
    ("the the the", ["the"]),
    ("", ["three"]),
    ("Smith v. Jones (1999)", ["Smith v Jones"]),
    ("don't", ["do not"]),
    ("ＵＳ", ["US"]),
    ("twelve (12) months", ["12 months"]),
    ("Théâtre", ["theatre"]),
    ("An Acceptance.", ["acceptance"]),
    ("three three years", ["three years"]),
    ("The Limitation Act 1980, s.5", ["Limitation Act 1980 section 5", "six years"]),
]

# Chinese cases where our definition and CMRC 2018's coincide (no deviation applies).
ZH_CASES = [
    ("三年", ["三年"]),
    ("诉讼时效为三年", ["三年"]),
    ("三年。", ["三年"]),
    ("《民法典》第五百七十七条", ["第五百七十七条"]),
    ("第287条", ["第287条"]),
    ("第287条", ["第288条"]),
    ("依据第287条的规定", ["第287条"]),
    ("12个月", ["12个月"]),
    ("12 个月", ["12个月", "一年"]),  # F1 coincides; EM is a deviation, tested below
    ("iPhone手机", ["iphone"]),
    ("甲公司应当赔偿乙公司损失", ["赔偿损失"]),
    ("不可抗力", ["意外事件", "不可抗力"]),
    ("“定金”", ["定金"]),
    ("违约金：10000元", ["10000元"]),
    ("合同无效", ["合同有效"]),
    ("", ["三年"]),
    ("北京、上海", ["北京"]),
    ("A级", ["a级"]),
    ("3年-5年", ["3年"]),
    ("6 months", ["6 months"]),
    ("（二）项", ["第二项"]),
    ("甲方：张三", ["张三"]),
]


@pytest.mark.parametrize(("prediction", "answers"), EN_CASES)
def test_english_equals_squad_v1_1_after_nfkc(prediction: str, answers: list[str]) -> None:
    pred, refs = nfkc(prediction), [nfkc(a) for a in answers]
    em = squad_v1_1.metric_max_over_ground_truths(squad_v1_1.exact_match_score, pred, refs)
    f1 = squad_v1_1.metric_max_over_ground_truths(squad_v1_1.f1_score, pred, refs)
    got_em, got_f1 = ours(prediction, answers, "en")
    assert got_em == float(em)
    assert got_f1 == pytest.approx(f1)


@pytest.mark.parametrize(("prediction", "answers"), ZH_CASES)
def test_chinese_f1_equals_cmrc2018(prediction: str, answers: list[str]) -> None:
    _, got_f1 = ours(prediction, answers, "zh")
    assert got_f1 == pytest.approx(cmrc2018.calc_f1_score(answers, prediction))


@pytest.mark.parametrize(("prediction", "answers"), [c for c in ZH_CASES if c[0] != "12 个月"])
def test_chinese_em_equals_cmrc2018(prediction: str, answers: list[str]) -> None:
    got_em, _ = ours(prediction, answers, "zh")
    assert got_em == float(cmrc2018.calc_em_score(answers, prediction))


def test_squad_deletes_punctuation_and_keeps_its_quirks() -> None:
    assert ours("U.S.", ["US"], "en") == (1.0, 1.0)  # deleted, not replaced by a space
    assert ours("counter-offer", ["counter offer"], "en") == (0.0, 0.0)
    assert ours("the the", ["a"], "en") == (1.0, 0.0)  # both empty: EM 1, F1 0 as in v1.1


def test_squad_after_nfkc_deviation() -> None:
    assert squad_v1_1.exact_match_score("ＵＳ", "US") is False
    assert ours("ＵＳ", ["US"], "en") == (1.0, 1.0)


@pytest.mark.parametrize(
    ("prediction", "answer", "cmrc", "expected"),
    [
        # EM ignores whitespace
        ("12 个月", "12个月", (0, 1.0), (1.0, 1.0)),
        # ASCII punctuation (not in CMRC's list) is deleted, so not a token
        ("三年.", "三年", (0, 0.8), (1.0, 1.0)),
        # ... CMRC: 三 年 ( 约 ) is 5 tokens; ours: 三 年 约
        ("三年(约)", "三年", (0, 2 * (2 / 5) / (1 + 2 / 5)), (0.0, 2 * (2 / 3) / (1 + 2 / 3))),
        # NFKC: a full-width digit is the digit
        ("３年", "3年", (0, 0.5), (1.0, 1.0)),
        # symbols are deleted too: ￥ (NFKC: ¥, category Sc), %, +
        ("￥100", "100", (0, 0.0), (1.0, 1.0)),
        ("50%", "50", (0, 2 / 3), (1.0, 1.0)),  # CMRC: tokens 50 %
        # the ellipsis, which CMRC lists as "……" and so never matches one character
        ("三年……", "三年", (0, 0.8), (1.0, 1.0)),  # CMRC: tokens 三 年 ……
        # every CJK ideograph is a token, not only U+4E00-U+9FA5
        ("㐀㐁", "㐀", (0, 0.0), (0.0, 2 / 3)),
        # other runs split on whitespace; nltk would split "cannot" into "can not"
        ("cannot", "can", (0, 2 / 3), (0.0, 0.0)),
        # a decimal point between digits is kept, as CMRC keeps every "." ...
        ("3.5亿", "35亿", (0, 0.5), (0.0, 0.5)),
        # ... while thousands separators go
        ("1,000元", "1000元", (0, 0.5), (1.0, 1.0)),
    ],
)
def test_cmrc2018_deviations(
    prediction: str,
    answer: str,
    cmrc: tuple[int, float],
    expected: tuple[float, float],
) -> None:
    reference = (
        cmrc2018.calc_em_score([answer], prediction),
        cmrc2018.calc_f1_score([answer], prediction),
    )
    assert reference == pytest.approx(cmrc)  # what the official script says
    assert ours(prediction, [answer], "zh") == pytest.approx(expected)  # what we say, and why


def test_language_picks_the_definition() -> None:
    # Chinese items by CMRC (character tokens), others by SQuAD (whitespace tokens)
    assert ours("诉讼时效为三年", ["三年"], "zh")[1] == pytest.approx(2 * (2 / 7) / (1 + 2 / 7))
    assert ours("诉讼时效为三年", ["三年"], "en")[1] == 0.0
    assert ours("诉讼时效为三年", ["三年"], "zh-Hans")[1] > 0.0
    assert ours("The Seller", ["seller"], "zh") == (0.0, 2 / 3)  # "the" is a word in CMRC
    # Japanese, also written without spaces, is compared by character too
    assert ours("三年です", ["三年"], "ja")[1] == pytest.approx(2 * (2 / 4) / (1 + 2 / 4))


def test_every_punctuation_and_symbol_character_is_deleted() -> None:
    import sys

    from evalkit.metrics.builtin.qa import cmrc_clean

    everything = "".join(
        chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c))[0] in "PS"
    )
    # NFKC comes first, so a symbol that decomposes into letters leaves them ("™" → "tm")
    assert all(unicodedata.category(ch)[0] not in "PS" for ch in cmrc_clean(everything))
