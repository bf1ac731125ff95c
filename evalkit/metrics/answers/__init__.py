"""Reading an answer out of free model output: every clear statement counts, nothing is guessed.

Correctness (accuracy, F1) accepts any clear way of stating an answer, in English or Chinese:
"C", "(C)", "**C**", "C。", "Answer: C", "答案是C", "选C", "I'd go with B", "C is correct",
"选项C正确", or the option's own text ("Counter-offer", "答案是开封"). It never guesses in
the model's favour: an empty output, no answer, several different answers (a repeated
option list, "A and C"), a hedge ("B or C", "B或C") or a negated answer ("not A", "不是A")
is read as no answer, with the reason (`NO_ANSWER_REASONS`) kept for the report.

The rules, in order (details in `mentions`, `decide`, `choice`, `label`):

1. NFKC first: full-width "Ｃ", "（Ｃ）", "：" read as "C", "(C)", ":".
2. Find mentions: letters (not "a"/"A" used as an article, not inside words) and option
   texts, or labels; the longest of overlapping phrases wins; a mention after a negation in
   its clause, or followed by a verdict such as "is wrong"/"错误", is negated.
3. Explicit statements ("answer is X", "答案：X", "选X", "X is correct", "Label: X",
   "属于X", a line holding only a letter) decide; the last one wins.
4. Otherwise the one option named decides (letters over option texts mentioned in passing).
5. An uncertainty word around a single answer ("probably B", "大概是B") keeps that answer;
   alternatives ("maybe B, maybe C") are a hedge.

Format adherence is a separate, strict number (`formats`): the whole output must meet the
item's format spec.
"""

from evalkit.metrics.answers.choice import parse_choice
from evalkit.metrics.answers.formats import follows_format, format_failure
from evalkit.metrics.answers.label import parse_label
from evalkit.metrics.answers.result import (
    EMPTY_OUTPUT,
    HEDGE,
    NEGATED,
    NO_ANSWER,
    NO_ANSWER_REASONS,
    SEVERAL_ANSWERS,
    ParsedAnswer,
)
from evalkit.metrics.answers.structured import extract_json_object, loads_strict

__all__ = [
    "EMPTY_OUTPUT",
    "HEDGE",
    "NEGATED",
    "NO_ANSWER",
    "NO_ANSWER_REASONS",
    "SEVERAL_ANSWERS",
    "ParsedAnswer",
    "extract_json_object",
    "follows_format",
    "format_failure",
    "loads_strict",
    "parse_choice",
    "parse_label",
]
