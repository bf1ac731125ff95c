"""Classification: which label an output names.

Labels match as phrases (see `mentions`): Latin labels as whole words, case-insensitively,
with `_`, `-` and spaces interchangeable ("governing law" names `governing_law`;
"grammatically" never names `grammatical`); CJK labels as substrings; the longest of
overlapping labels wins ("不违约" over "违约", "ungrammatical" over "grammatical"). A label
after a negation in the same clause is negated ("not a breach", "不属于违约"), unless the
negation is part of a longer label that matched ("no breach", "不违约"). Explicit
statements ("Label: X", "Answer: X", "类别：X", "属于X", "答案是X") and a label alone on a line
win, the last one first; otherwise only a label named in the opening sentence counts ("This
clause is about termination ..."), not one used in passing in an explanation ("The sentence
is grammatically incorrect. It contains a grammatical error." names no label).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from evalkit.metrics.answers.decide import Grammar, decide
from evalkit.metrics.answers.mentions import (
    compile_phrases,
    find_phrases,
    negated_mentions,
    prepare,
)
from evalkit.metrics.answers.result import EMPTY_OUTPUT, ParsedAnswer, unreadable

GRAMMAR = Grammar(
    cues=re.compile(
        r"\b(?:(?:final|correct|predicted|my|the)\s+)*(?:answer|label|category|class"
        r"|classification|sentiment|intent|type|prediction|verdict|output)s?"
        r"\s*(?:(?:is|are|would\s+be|should\s+be|will\s+be)\b|[:=]|[-–—](?=\s))"
        r"|\b(?:classif(?:y|ied|ies)|categori[sz](?:e|ed|es)|label(?:l?ed|s)?)\s+"
        r"(?:(?:it|this|that|the\s+\w+)\s+)?(?:as|under)\b"
        r"|\bI(?:'d|\s+would)?\s+(?:go\s+with|choose|pick|say)\b"
        r"|(?:\bnot\b|n't\b)[^.;!?\n。；！？]{0,60}?\bbut(?:\s+rather)?\b"
        r"|(?:答案|类别|分类|标签|类型|结果|结论|判断|意图|情感|情绪|倾向|回答)"
        r"(?:应该|应当|应|就)?(?:是|为|:)?"
        r"|属于|判断为|判定为|归为|归类为|分类为|认定为|定性为|应为|构成|而是",
        re.IGNORECASE,
    ),
    filler=re.compile(
        r"(?:[\s*_`\"'“”‘’「」『』【】\[\]()<>:=\-–—]"
        r"|\b(?:the|an?|probably|likely|most|definitely|clearly|certainly|surely|maybe"
        r"|perhaps|possibly|either|is|be|would|should|must|label|category|class)\b"
        r"|大概|大约|可能|应该|应当|应|也许|或许|肯定|显然|就|是|为|一种|一个|属于)*",
        re.IGNORECASE,
    ),
    lone_phrase=True,
)


@lru_cache(maxsize=4096)
def _label_patterns(labels: tuple[str, ...]) -> list[tuple[re.Pattern[str], str]]:
    return compile_phrases(labels)


def parse_label(output: str, labels: Sequence[str]) -> ParsedAnswer:
    """The label (spelled as in `labels`) an output names, or why none is read."""
    if not output.strip():
        return unreadable(EMPTY_OUTPUT)
    text = prepare(output)
    mentions = find_phrases(text, _label_patterns(tuple(labels)))
    return decide(text, mentions, negated_mentions(text, mentions), GRAMMAR)
